/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"

size_t bytebuf_used(const struct bytebuf *b)
{
	return b->len - b->head;
}

uint8_t *bytebuf_reserve(struct bytebuf *b, size_t n)
{
	if (b->head > 0 && b->head == b->len)
		b->head = b->len = 0;
	if (b->cap - b->len >= n)
		return b->data + b->len;
	/* Compact before growing: a queue that drains keeps its memory flat. */
	if (b->head > 0) {
		memmove(b->data, b->data + b->head, b->len - b->head);
		b->len -= b->head;
		b->head = 0;
		if (b->cap - b->len >= n)
			return b->data + b->len;
	}
	size_t want = b->len + n, cap = b->cap ? b->cap : 4096;
	while (cap < want) {
		if (cap > SIZE_MAX / 2)
			return NULL;
		cap *= 2;
	}
	uint8_t *p = realloc(b->data, cap);
	if (!p)
		return NULL;
	b->data = p;
	b->cap = cap;
	return b->data + b->len;
}

int bytebuf_append(struct bytebuf *b, const void *p, size_t n)
{
	uint8_t *dst = bytebuf_reserve(b, n);
	if (!dst)
		return -ENOMEM;
	memcpy(dst, p, n);
	b->len += n;
	return 0;
}

void bytebuf_consume(struct bytebuf *b, size_t n)
{
	b->head += n;
	if (b->head >= b->len)
		b->head = b->len = 0;
}

void bytebuf_free(struct bytebuf *b)
{
	free(b->data);
	*b = (struct bytebuf){0};
}
