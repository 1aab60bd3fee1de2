/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"

#include <sys/epoll.h>

#define EV_BATCH 64

struct ev_loop {
	int epfd;
	bool quit;
	int exit_code;
	/* Events of the batch being dispatched; ev_io_stop() clears matching entries so a
	 * watcher stopped by an earlier callback of the batch is never called. */
	struct epoll_event *batch;
	int batch_n;
	/* Binary min-heap of armed timers, by deadline. */
	struct ev_timer **heap;
	size_t heap_len, heap_cap;
};

int ev_loop_new(struct ev_loop **ret)
{
	struct ev_loop *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		int r = -errno;
		free(l);
		return r;
	}
	*ret = l;
	return 0;
}

void ev_loop_free(struct ev_loop *l)
{
	if (!l)
		return;
	safe_close(l->epfd);
	free(l->heap);
	free(l);
}

int ev_io_start(struct ev_loop *l, struct ev_io *io, int fd, uint32_t events, ev_io_cb cb,
		void *data)
{
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -errno;
	io->fd = fd;
	io->events = events;
	io->cb = cb;
	io->data = data;
	io->active = true;
	return 0;
}

int ev_io_modify(struct ev_loop *l, struct ev_io *io, uint32_t events)
{
	if (!io->active)
		return -EINVAL;
	if (io->events == events)
		return 0;
	struct epoll_event ev = {.events = events, .data.ptr = io};
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0)
		return -errno;
	io->events = events;
	return 0;
}

void ev_io_stop(struct ev_loop *l, struct ev_io *io)
{
	if (!io->active)
		return;
	/* The fd may already be closed by its owner; EBADF/ENOENT are fine then. */
	(void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
	io->active = false;
	for (int i = 0; i < l->batch_n; i++)
		if (l->batch[i].data.ptr == io)
			l->batch[i].data.ptr = NULL;
}

/* ---- timers ---- */

void ev_timer_init(struct ev_timer *t)
{
	memset(t, 0, sizeof(*t));
	t->heap_index = SIZE_MAX;
}

static void heap_swap(struct ev_loop *l, size_t a, size_t b)
{
	struct ev_timer *t = l->heap[a];
	l->heap[a] = l->heap[b];
	l->heap[b] = t;
	l->heap[a]->heap_index = a;
	l->heap[b]->heap_index = b;
}

static void heap_up(struct ev_loop *l, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (l->heap[p]->deadline_ns <= l->heap[i]->deadline_ns)
			break;
		heap_swap(l, i, p);
		i = p;
	}
}

static void heap_down(struct ev_loop *l, size_t i)
{
	for (;;) {
		size_t c = 2 * i + 1, m = i;
		if (c < l->heap_len && l->heap[c]->deadline_ns < l->heap[m]->deadline_ns)
			m = c;
		if (c + 1 < l->heap_len && l->heap[c + 1]->deadline_ns < l->heap[m]->deadline_ns)
			m = c + 1;
		if (m == i)
			return;
		heap_swap(l, i, m);
		i = m;
	}
}

void ev_timer_stop(struct ev_loop *l, struct ev_timer *t)
{
	size_t i = t->heap_index;
	if (i == SIZE_MAX)
		return;
	t->heap_index = SIZE_MAX;
	l->heap_len--;
	if (i == l->heap_len)
		return;
	l->heap[i] = l->heap[l->heap_len];
	l->heap[i]->heap_index = i;
	heap_down(l, i);
	heap_up(l, i);
}

int ev_timer_start(struct ev_loop *l, struct ev_timer *t, uint64_t deadline_ns, ev_timer_cb cb,
		   void *data)
{
	ev_timer_stop(l, t);
	if (l->heap_len == l->heap_cap) {
		size_t cap = l->heap_cap ? l->heap_cap * 2 : 16;
		struct ev_timer **h = realloc(l->heap, cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		l->heap = h;
		l->heap_cap = cap;
	}
	t->deadline_ns = deadline_ns;
	t->cb = cb;
	t->data = data;
	t->heap_index = l->heap_len;
	l->heap[l->heap_len++] = t;
	heap_up(l, t->heap_index);
	return 0;
}

static int next_timeout_ms(struct ev_loop *l)
{
	if (l->heap_len == 0)
		return -1;
	uint64_t now = now_monotonic_ns(), d = l->heap[0]->deadline_ns;
	if (d <= now)
		return 0;
	/* Round up so we never wake just before the deadline and spin. */
	uint64_t ms = (d - now + NSEC_PER_MSEC - 1) / NSEC_PER_MSEC;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

static void run_timers(struct ev_loop *l)
{
	uint64_t now = now_monotonic_ns();
	while (l->heap_len > 0 && l->heap[0]->deadline_ns <= now && !l->quit) {
		struct ev_timer *t = l->heap[0];
		ev_timer_stop(l, t);
		t->cb(l, t);
	}
}

void ev_loop_exit(struct ev_loop *l, int code)
{
	l->quit = true;
	l->exit_code = code;
}

int ev_loop_run(struct ev_loop *l)
{
	struct epoll_event events[EV_BATCH];

	l->quit = false;
	while (!l->quit) {
		int n = epoll_wait(l->epfd, events, EV_BATCH, next_timeout_ms(l));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		l->batch = events;
		l->batch_n = n;
		for (int i = 0; i < n && !l->quit; i++) {
			struct ev_io *io = events[i].data.ptr;
			if (io)
				io->cb(l, io, events[i].events);
		}
		l->batch = NULL;
		l->batch_n = 0;
		run_timers(l);
	}
	return l->exit_code;
}
