/* SPDX-License-Identifier: Apache-2.0 */
#include "rpc.h"

void ttrpc_header_encode(uint8_t out[TTRPC_HEADER_LEN], const struct ttrpc_header *h)
{
	out[0] = (uint8_t)(h->length >> 24);
	out[1] = (uint8_t)(h->length >> 16);
	out[2] = (uint8_t)(h->length >> 8);
	out[3] = (uint8_t)h->length;
	out[4] = (uint8_t)(h->stream_id >> 24);
	out[5] = (uint8_t)(h->stream_id >> 16);
	out[6] = (uint8_t)(h->stream_id >> 8);
	out[7] = (uint8_t)h->stream_id;
	out[8] = h->type;
	out[9] = h->flags;
}

void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h)
{
	h->length = (uint32_t)in[0] << 24 | (uint32_t)in[1] << 16 | (uint32_t)in[2] << 8 | in[3];
	h->stream_id = (uint32_t)in[4] << 24 | (uint32_t)in[5] << 16 | (uint32_t)in[6] << 8 | in[7];
	h->type = in[8];
	h->flags = in[9];
}

void ttrpc_parser_init(struct ttrpc_parser *p, uint32_t max)
{
	memset(p, 0, sizeof(*p));
	p->max = max;
}

void ttrpc_parser_reset(struct ttrpc_parser *p)
{
	free(p->body);
	ttrpc_parser_init(p, p->max);
}

bool ttrpc_parser_mid_frame(const struct ttrpc_parser *p)
{
	return p->hlen > 0 || p->discard > 0;
}

int ttrpc_parser_feed(struct ttrpc_parser *p, const uint8_t *buf, size_t len, ttrpc_frame_cb cb,
		      void *data)
{
	int r;

	while (len > 0) {
		if (p->discard > 0) {
			size_t n = MIN(p->discard, len);
			p->discard -= n;
			buf += n;
			len -= n;
			continue;
		}
		if (p->hlen < TTRPC_HEADER_LEN) {
			/* Fast path: a whole frame in the chunk is handed over in place. */
			if (p->hlen == 0 && len >= TTRPC_HEADER_LEN) {
				ttrpc_header_decode(buf, &p->hdr);
				if (p->hdr.length <= p->max &&
				    len - TTRPC_HEADER_LEN >= p->hdr.length) {
					r = cb(data, &p->hdr, buf + TTRPC_HEADER_LEN);
					if (r < 0)
						return r;
					buf += TTRPC_HEADER_LEN + p->hdr.length;
					len -= TTRPC_HEADER_LEN + p->hdr.length;
					continue;
				}
			}
			size_t n = MIN(TTRPC_HEADER_LEN - p->hlen, len);
			memcpy(p->hbuf + p->hlen, buf, n);
			p->hlen += n;
			buf += n;
			len -= n;
			if (p->hlen < TTRPC_HEADER_LEN)
				return 0;
			ttrpc_header_decode(p->hbuf, &p->hdr);
			if (p->hdr.length > p->max) {
				/* Like containerd/ttrpc: skip the body, report it, keep the
				 * connection. Only the header is ever held. */
				p->discard = p->hdr.length;
				p->hlen = 0;
				r = cb(data, &p->hdr, NULL);
				if (r < 0)
					return r;
				continue;
			}
			if (p->hdr.length == 0) {
				p->hlen = 0;
				r = cb(data, &p->hdr, (const uint8_t *)"");
				if (r < 0)
					return r;
				continue;
			}
			p->body = malloc(p->hdr.length);
			if (!p->body)
				return -ENOMEM;
			p->body_have = 0;
		}
		size_t n = MIN(p->hdr.length - p->body_have, len);
		memcpy(p->body + p->body_have, buf, n);
		p->body_have += n;
		buf += n;
		len -= n;
		if (p->body_have == p->hdr.length) {
			uint8_t *body = TAKE_PTR(p->body);
			p->hlen = 0;
			p->body_have = 0;
			r = cb(data, &p->hdr, body);
			free(body);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

int ttrpc_frame_append(struct bytebuf *out, uint32_t stream_id, uint8_t type, uint8_t flags,
		       const void *data, size_t len)
{
	if (len > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	uint8_t *p = bytebuf_reserve(out, TTRPC_HEADER_LEN + len);
	if (!p)
		return -ENOMEM;
	struct ttrpc_header h = {(uint32_t)len, stream_id, type, flags};
	ttrpc_header_encode(p, &h);
	if (len)
		memcpy(p + TTRPC_HEADER_LEN, data, len);
	out->len += TTRPC_HEADER_LEN + len;
	return 0;
}
