/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Hand-written codec for the ttrpc envelope (request.proto of containerd/ttrpc and
 * google.rpc.Status). The envelope is decoded on every call, so it points into the frame
 * instead of allocating, and the reply payload is packed straight into the output queue.
 */
#include "rpc.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct pb_reader {
	const uint8_t *p, *end;
};

static int pb_varint(struct pb_reader *r, uint64_t *ret)
{
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -EBADMSG;
		uint8_t b = *r->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*ret = v;
			return 0;
		}
	}
	return -EBADMSG;
}

static int pb_bytes(struct pb_reader *r, struct ttrpc_slice *ret)
{
	uint64_t n;
	if (pb_varint(r, &n) < 0 || n > (uint64_t)(r->end - r->p))
		return -EBADMSG;
	ret->ptr = r->p;
	ret->len = (size_t)n;
	r->p += n;
	return 0;
}

static int pb_skip(struct pb_reader *r, unsigned wt)
{
	uint64_t v;
	struct ttrpc_slice s;
	switch (wt) {
	case WT_VARINT:
		return pb_varint(r, &v);
	case WT_I64:
		if (r->end - r->p < 8)
			return -EBADMSG;
		r->p += 8;
		return 0;
	case WT_LEN:
		return pb_bytes(r, &s);
	case WT_I32:
		if (r->end - r->p < 4)
			return -EBADMSG;
		r->p += 4;
		return 0;
	default: /* groups are not valid proto3 */
		return -EBADMSG;
	}
}

/* Reads the next key: 0 at the end, 1 with field and wire type set. */
static int pb_key(struct pb_reader *r, uint32_t *field, unsigned *wt)
{
	if (r->p >= r->end)
		return 0;
	uint64_t k;
	if (pb_varint(r, &k) < 0 || (k >> 3) == 0 || (k >> 3) > UINT32_MAX)
		return -EBADMSG;
	*field = (uint32_t)(k >> 3);
	*wt = (unsigned)(k & 7);
	return 1;
}

int ttrpc_request_decode(const uint8_t *buf, size_t len, struct ttrpc_request *req)
{
	struct pb_reader r = {buf, buf + len};
	uint32_t field;
	unsigned wt;
	int k;

	memset(req, 0, sizeof(*req));
	while ((k = pb_key(&r, &field, &wt)) > 0) {
		struct ttrpc_slice s;
		uint64_t v;
		switch (field) {
		case 1:
		case 2:
		case 3:
		case 5:
			if (wt != WT_LEN || pb_bytes(&r, &s) < 0)
				return -EBADMSG;
			if (field == 1)
				req->service = s;
			else if (field == 2)
				req->method = s;
			else if (field == 3)
				req->payload = s;
			else
				req->n_metadata++;
			break;
		case 4:
			if (wt != WT_VARINT || pb_varint(&r, &v) < 0)
				return -EBADMSG;
			req->timeout_nano = (int64_t)v;
			break;
		default:
			if (pb_skip(&r, wt) < 0)
				return -EBADMSG;
		}
	}
	return k;
}

static int status_decode(struct ttrpc_slice s, struct ttrpc_response *resp)
{
	struct pb_reader r = {s.ptr, s.ptr + s.len};
	uint32_t field;
	unsigned wt;
	int k;
	while ((k = pb_key(&r, &field, &wt)) > 0) {
		uint64_t v;
		if (field == 1 && wt == WT_VARINT) {
			if (pb_varint(&r, &v) < 0)
				return -EBADMSG;
			resp->code = (int32_t)v;
		} else if (field == 2 && wt == WT_LEN) {
			if (pb_bytes(&r, &resp->message) < 0)
				return -EBADMSG;
		} else if (pb_skip(&r, wt) < 0) {
			return -EBADMSG;
		}
	}
	return k;
}

int ttrpc_response_decode(const uint8_t *buf, size_t len, struct ttrpc_response *resp)
{
	struct pb_reader r = {buf, buf + len};
	uint32_t field;
	unsigned wt;
	int k;

	memset(resp, 0, sizeof(*resp));
	while ((k = pb_key(&r, &field, &wt)) > 0) {
		struct ttrpc_slice s;
		if ((field == 1 || field == 2) && wt == WT_LEN) {
			if (pb_bytes(&r, &s) < 0)
				return -EBADMSG;
			if (field == 2) {
				resp->payload = s;
			} else {
				resp->has_status = true;
				if (status_decode(s, resp) < 0)
					return -EBADMSG;
			}
		} else if (pb_skip(&r, wt) < 0) {
			return -EBADMSG;
		}
	}
	return k;
}

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *put_varint(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

static uint8_t *put_bytes(uint8_t *p, uint8_t tag, const void *data, size_t len)
{
	*p++ = tag;
	p = put_varint(p, len);
	memcpy(p, data, len);
	return p + len;
}

int ttrpc_response_frame_append(struct bytebuf *out, uint32_t stream_id, int32_t code,
				const char *message, const ProtobufCMessage *payload)
{
	size_t mlen = code != 0 && message ? strlen(message) : 0;
	size_t plen = code == 0 && payload ? protobuf_c_message_get_packed_size(payload) : 0;
	/* Status { code = 1 (varint), message = 2 } */
	size_t slen = (code ? 1 + varint_len((uint64_t)(int64_t)code) : 0) +
		      (mlen ? 1 + varint_len(mlen) + mlen : 0);
	size_t total = 1 + varint_len(slen) + slen + (plen ? 1 + varint_len(plen) + plen : 0);
	if (total > TTRPC_MAX_DATA)
		return -EMSGSIZE;

	uint8_t *p = bytebuf_reserve(out, TTRPC_HEADER_LEN + total);
	if (!p)
		return -ENOMEM;
	struct ttrpc_header h = {(uint32_t)total, stream_id, TTRPC_RESPONSE, 0};
	ttrpc_header_encode(p, &h);
	uint8_t *q = p + TTRPC_HEADER_LEN;
	*q++ = 0x0a;
	q = put_varint(q, slen);
	if (code) {
		*q++ = 0x08;
		/* int32 negatives are sign-extended to 10 bytes, as protobuf does. */
		q = put_varint(q, (uint64_t)(int64_t)code);
	}
	if (mlen)
		q = put_bytes(q, 0x12, message, mlen);
	if (plen) {
		*q++ = 0x12;
		q = put_varint(q, plen);
		q += protobuf_c_message_pack(payload, q);
	}
	out->len += (size_t)(q - p);
	return 0;
}

/* Response { status = 1: {}, payload = 2: { field: bytes } } around n bytes. Proto3 leaves an
 * empty bytes field out, so with n = 0 the payload is the empty message, which is itself
 * left out, as ttrpc_response_frame_append() does. */
static size_t bytes_payload_len(uint32_t field, size_t n)
{
	return n ? varint_len((uint64_t)field << 3 | WT_LEN) + varint_len(n) + n : 0;
}

size_t ttrpc_bytes_frame_prefix_len(uint32_t field, size_t n)
{
	size_t plen = bytes_payload_len(field, n);
	return TTRPC_HEADER_LEN + 2 + (plen ? 1 + varint_len(plen) + plen - n : 0);
}

int ttrpc_bytes_frame_prefix(uint8_t *p, uint32_t stream_id, uint32_t field, size_t n)
{
	size_t plen = bytes_payload_len(field, n);
	size_t total = 2 + (plen ? 1 + varint_len(plen) + plen : 0);
	if (total > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	struct ttrpc_header h = {(uint32_t)total, stream_id, TTRPC_RESPONSE, 0};
	ttrpc_header_encode(p, &h);
	uint8_t *q = p + TTRPC_HEADER_LEN;
	*q++ = 0x0a; /* the empty status of an OK response */
	*q++ = 0x00;
	if (plen) {
		*q++ = 0x12;
		q = put_varint(q, plen);
		q = put_varint(q, (uint64_t)field << 3 | WT_LEN);
		put_varint(q, n);
	}
	return 0;
}

int ttrpc_bytes_field_decode(const uint8_t *buf, size_t len, uint32_t field,
			     struct ttrpc_slice *ret)
{
	struct pb_reader r = {buf, buf + len};
	uint32_t f;
	unsigned wt;
	int k;

	*ret = (struct ttrpc_slice){(const uint8_t *)"", 0};
	while ((k = pb_key(&r, &f, &wt)) > 0) {
		if (f == field) {
			/* Last one wins, as for any non-repeated field. */
			if (wt != WT_LEN || pb_bytes(&r, ret) < 0)
				return -EBADMSG;
		} else if (pb_skip(&r, wt) < 0) {
			return -EBADMSG;
		}
	}
	return k;
}

int ttrpc_request_frame_append(struct bytebuf *out, uint32_t stream_id, const char *service,
			       const char *method, const uint8_t *payload, size_t payload_len,
			       int64_t timeout_nano)
{
	size_t sl = strlen(service), ml = strlen(method);
	size_t total = 1 + varint_len(sl) + sl + 1 + varint_len(ml) + ml +
		       (payload_len ? 1 + varint_len(payload_len) + payload_len : 0) +
		       (timeout_nano ? 1 + varint_len((uint64_t)timeout_nano) : 0);
	if (total > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	uint8_t *p = bytebuf_reserve(out, TTRPC_HEADER_LEN + total);
	if (!p)
		return -ENOMEM;
	struct ttrpc_header h = {(uint32_t)total, stream_id, TTRPC_REQUEST, 0};
	ttrpc_header_encode(p, &h);
	uint8_t *q = p + TTRPC_HEADER_LEN;
	q = put_bytes(q, 0x0a, service, sl);
	q = put_bytes(q, 0x12, method, ml);
	if (payload_len)
		q = put_bytes(q, 0x1a, payload, payload_len);
	if (timeout_nano) {
		*q++ = 0x20;
		q = put_varint(q, (uint64_t)timeout_nano);
	}
	out->len += (size_t)(q - p);
	return 0;
}
