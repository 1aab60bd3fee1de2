/* SPDX-License-Identifier: Apache-2.0 */
#include "transport.h"

#include <poll.h>

#define READ_CHUNK (64 * 1024)

struct rpc_client {
	int fd;
	uint32_t next_stream;
	struct bytebuf out;
	struct bytebuf in;
	size_t frame_len; /* length of the frame returned by the last recv, consumed next time */
};

int rpc_client_connect(const char *addr, int timeout_ms, struct rpc_client **ret)
{
	struct rpc_addr a;
	int r = rpc_addr_parse(addr, &a);
	if (r < 0)
		return r;
	struct rpc_client *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = transport_connect(&a, timeout_ms);
	if (c->fd < 0) {
		r = c->fd;
		free(c);
		return r;
	}
	c->next_stream = 1;
	*ret = c;
	return 0;
}

void rpc_client_free(struct rpc_client *c)
{
	if (!c)
		return;
	safe_close(c->fd);
	bytebuf_free(&c->out);
	bytebuf_free(&c->in);
	free(c);
}

int rpc_client_fd(const struct rpc_client *c)
{
	return c->fd;
}

int rpc_client_send(struct rpc_client *c, const char *service, const char *method,
		    const uint8_t *payload, size_t len, int64_t timeout_nano, uint32_t *stream_id)
{
	uint32_t id = c->next_stream;
	int r =
	    ttrpc_request_frame_append(&c->out, id, service, method, payload, len, timeout_nano);
	if (r < 0)
		return r;
	c->next_stream += 2;
	if (stream_id)
		*stream_id = id;
	return 0;
}

int rpc_client_flush(struct rpc_client *c)
{
	int r = loop_write(c->fd, c->out.data + c->out.head, bytebuf_used(&c->out));
	bytebuf_consume(&c->out, bytebuf_used(&c->out));
	return r;
}

int rpc_client_recv(struct rpc_client *c, uint32_t *stream_id, struct rpc_status *st,
		    struct ttrpc_slice *payload)
{
	bytebuf_consume(&c->in, c->frame_len);
	c->frame_len = 0;
	for (;;) {
		size_t have = bytebuf_used(&c->in);
		if (have >= TTRPC_HEADER_LEN) {
			struct ttrpc_header h;
			ttrpc_header_decode(c->in.data + c->in.head, &h);
			if (h.length > TTRPC_MAX_DATA)
				return -EMSGSIZE;
			if (have >= TTRPC_HEADER_LEN + h.length) {
				const uint8_t *body = c->in.data + c->in.head + TTRPC_HEADER_LEN;
				c->frame_len = TTRPC_HEADER_LEN + h.length;
				if (h.type != TTRPC_RESPONSE) {
					bytebuf_consume(&c->in, c->frame_len);
					c->frame_len = 0;
					continue;
				}
				struct ttrpc_response resp;
				if (ttrpc_response_decode(body, h.length, &resp) < 0)
					return -EBADMSG;
				*stream_id = h.stream_id;
				st->code = resp.code;
				size_t ml = MIN(resp.message.len, sizeof(st->message) - 1);
				if (ml)
					memcpy(st->message, resp.message.ptr, ml);
				st->message[ml] = '\0';
				if (payload)
					*payload = resp.payload;
				return 0;
			}
		}
		/* The rest of a large frame in one read where the socket has it. */
		size_t want = READ_CHUNK;
		if (have >= TTRPC_HEADER_LEN) {
			struct ttrpc_header h;
			ttrpc_header_decode(c->in.data + c->in.head, &h);
			want = MAX(want, TTRPC_HEADER_LEN + h.length - have);
		}
		uint8_t *p = bytebuf_reserve(&c->in, want);
		if (!p)
			return -ENOMEM;
		ssize_t n = read(c->fd, p, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ECONNRESET;
		c->in.len += (size_t)n;
	}
}

bool rpc_client_has_frame(const struct rpc_client *c)
{
	size_t have = bytebuf_used(&c->in) - c->frame_len;
	if (have < TTRPC_HEADER_LEN)
		return false;
	struct ttrpc_header h;
	ttrpc_header_decode(c->in.data + c->in.head + c->frame_len, &h);
	return have - TTRPC_HEADER_LEN >= h.length;
}

int rpc_client_call_raw(struct rpc_client *c, const char *service, const char *method,
			const ProtobufCMessage *request, uint64_t timeout_ns, struct rpc_status *st,
			struct ttrpc_slice *reply)
{
	_cleanup_free_ uint8_t *payload = NULL;
	size_t len = 0;
	uint32_t id, got;
	int r;

	if (request) {
		len = protobuf_c_message_get_packed_size(request);
		payload = malloc(len ? len : 1);
		if (!payload)
			return -ENOMEM;
		protobuf_c_message_pack(request, payload);
	}
	r = rpc_client_send(c, service, method, payload, len, (int64_t)timeout_ns, &id);
	if (r < 0)
		return r;
	r = rpc_client_flush(c);
	if (r < 0)
		return r;

	uint64_t deadline = timeout_ns ? now_monotonic_ns() + timeout_ns : 0;
	for (;;) {
		if (deadline && !rpc_client_has_frame(c)) {
			uint64_t now = now_monotonic_ns();
			if (now >= deadline)
				return -ETIMEDOUT;
			struct pollfd p = {.fd = c->fd, .events = POLLIN};
			r = poll(&p, 1, (int)((deadline - now) / NSEC_PER_MSEC) + 1);
			if (r < 0 && errno != EINTR)
				return -errno;
			if (r == 0)
				continue;
		}
		r = rpc_client_recv(c, &got, st, reply);
		if (r < 0)
			return r;
		if (got != id)
			continue; /* a late reply to an abandoned call */
		return 0;
	}
}

int rpc_client_call(struct rpc_client *c, const char *service, const char *method,
		    const ProtobufCMessage *request,
		    const ProtobufCMessageDescriptor *response_desc, ProtobufCMessage **response,
		    uint64_t timeout_ns, struct rpc_status *st)
{
	struct ttrpc_slice pl;
	int r = rpc_client_call_raw(c, service, method, request, timeout_ns, st, &pl);
	if (r < 0)
		return r;
	if (st->code == RPC_OK && response_desc && response) {
		*response = protobuf_c_message_unpack(response_desc, NULL, pl.len, pl.ptr);
		if (!*response)
			return -EBADMSG;
	}
	return 0;
}
