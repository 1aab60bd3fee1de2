/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log port (agent.log_vport=N): the agent's log lines, in Kata's JSON form, streamed to
 * the one host peer connected to vsock port N.
 *
 * Kata writes its logs into a pipe that a task copies to the socket, so a host that never
 * connects stalls the logger once the pipe is full (and with it every RPC that logs). Here
 * lines go into a bounded ring instead: they are written straight to the non-blocking
 * socket when it has room, kept (oldest dropped first, and counted) when it has not, and
 * replayed when a host connects. Nothing ever waits for the host.
 *
 * The sink may run on any thread that logs, so the ring and the socket fd it writes to are
 * guarded by a mutex; everything else belongs to the event loop. The connection is watched
 * edge-triggered for EPOLLOUT: the sink writes directly, and the loop only needs to hear when
 * a full socket drains.
 *
 * ember-init's log relay: init passes the read end of a pipe as EMBER_INIT_LOG_FD. Each line
 * init writes there (newline-terminated, one write() of at most 4 KiB, already in its final
 * form) is emitted like one of ours: to the log port when it is on, else to our log fd.
 */
#define LOG_SUBSYSTEM "logport"
#include "guest.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/un.h>
#include <time.h>

#define PENDING_MAX   8192 /* > one log line (4 KiB) or one relayed init line */
#define INIT_LINE_MAX 4096

struct logport {
	struct agent *agent;
	struct rpc_addr addr;
	int listen_fd;
	struct ev_io listen_io;
	int conn_fd;
	struct ev_io conn_io;
	int init_fd;
	struct ev_io init_io;
	char init_buf[INIT_LINE_MAX + 1];
	size_t init_len;
	bool sink_installed;

	/* Shared with the sink, under lock. */
	pthread_mutex_t lock;
	int out_fd;		   /* conn_fd while the peer is writable, -1 otherwise */
	bool broken;		   /* a write failed: the loop closes the connection */
	struct bytebuf ring;	   /* whole lines not yet sent, at most LOGPORT_RING_MAX bytes */
	char pending[PENDING_MAX]; /* the unsent rest of a partially written line */
	size_t pending_off, pending_len;
	uint64_t dropped; /* lines dropped since the last notice */
};

/* The notice has the shape of our JSON lines; it cannot go through log_*(), which would
 * call back into the sink while its lock is held. */
static size_t format_drop_notice(char *buf, size_t sz, uint64_t dropped)
{
	struct timespec ts;
	struct tm tm;
	char t[40];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
	int n = snprintf(buf, sz,
			 "{\"msg\":\"%llu log lines dropped: the host did not read them and the "
			 "%u KiB log ring was full\",\"level\":\"WARN\",\"ts\":\"%s.%09ldZ\","
			 "\"name\":\"ember-agent\",\"pid\":\"%d\",\"source\":\"agent\","
			 "\"subsystem\":\"logport\"}\n",
			 (unsigned long long)dropped, LOGPORT_RING_MAX / 1024, t, ts.tv_nsec,
			 (int)getpid());
	return n > 0 ? MIN((size_t)n, sz - 1) : 0;
}

static void drop_oldest_locked(struct logport *lp)
{
	size_t used = bytebuf_used(&lp->ring);
	const uint8_t *start = lp->ring.data + lp->ring.head;
	const uint8_t *nl = memchr(start, '\n', used);
	bytebuf_consume(&lp->ring, nl ? (size_t)(nl - start) + 1 : used);
	lp->dropped++;
}

/* Returns false when the peer is gone. */
static bool write_locked(struct logport *lp, const void *p, size_t len, size_t *done)
{
	for (;;) {
		ssize_t n = write(lp->out_fd, p, len);
		if (n >= 0) {
			*done = (size_t)n;
			return true;
		}
		if (errno == EINTR)
			continue;
		*done = 0;
		if (errno == EAGAIN)
			return true;
		lp->out_fd = -1;
		lp->broken = true;
		return false;
	}
}

/* Sends what the socket takes: the rest of a partially sent line, then the drop notice,
 * then the ring. Stops at the first short write. */
static void flush_locked(struct logport *lp)
{
	size_t n;
	while (lp->out_fd >= 0) {
		if (lp->pending_off < lp->pending_len) {
			size_t want = lp->pending_len - lp->pending_off;
			if (!write_locked(lp, lp->pending + lp->pending_off, want, &n))
				return;
			lp->pending_off += n;
			if (n < want)
				return;
			continue;
		}
		if (lp->dropped > 0) {
			lp->pending_len =
			    format_drop_notice(lp->pending, sizeof(lp->pending), lp->dropped);
			lp->pending_off = 0;
			lp->dropped = 0;
			continue;
		}
		size_t used = bytebuf_used(&lp->ring);
		if (used == 0)
			return;
		const uint8_t *start = lp->ring.data + lp->ring.head;
		if (!write_locked(lp, start, used, &n))
			return;
		if (n == used) {
			bytebuf_consume(&lp->ring, n);
			return;
		}
		/* A line cut by a short write must be finished before anything else (a drop
		 * notice) is sent, and must not be dropped from the ring half sent: its rest
		 * moves to pending. */
		size_t rest = 0;
		if (n > 0 && start[n - 1] != '\n') {
			const uint8_t *nl = memchr(start + n, '\n', used - n);
			rest = nl ? (size_t)(nl - (start + n)) + 1 : used - n;
			rest = MIN(rest, sizeof(lp->pending));
			memcpy(lp->pending, start + n, rest);
			lp->pending_off = 0;
			lp->pending_len = rest;
		}
		bytebuf_consume(&lp->ring, n + rest);
		return;
	}
}

static void push_locked(struct logport *lp, const char *line, size_t len)
{
	if (len > LOGPORT_RING_MAX) {
		lp->dropped++;
		return;
	}
	while (bytebuf_used(&lp->ring) + len > LOGPORT_RING_MAX)
		drop_oldest_locked(lp);
	if (bytebuf_append(&lp->ring, line, len) < 0)
		lp->dropped++;
}

static void log_sink(const char *line, size_t len, void *data)
{
	struct logport *lp = data;
	pthread_mutex_lock(&lp->lock);
	push_locked(lp, line, len);
	flush_locked(lp);
	pthread_mutex_unlock(&lp->lock);
}

/* ---- the host connection (event loop) ---- */

static void listen_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents);

static void conn_close(struct logport *lp)
{
	struct ev_loop *loop = lp->agent->loop;

	pthread_mutex_lock(&lp->lock);
	lp->out_fd = -1;
	lp->broken = false;
	/* A new peer must not start mid-line. */
	lp->pending_off = lp->pending_len = 0;
	pthread_mutex_unlock(&lp->lock);
	ev_io_stop(loop, &lp->conn_io);
	lp->conn_fd = safe_close(lp->conn_fd);
	int r = ev_io_start(loop, &lp->listen_io, lp->listen_fd, EPOLLIN, listen_cb, lp);
	if (r < 0)
		log_error_errno(r, "cannot accept log port peers any more: %m");
	log_info("log port peer disconnected; keeping lines for the next one");
}

static void conn_cb(struct ev_loop *loop _unused_, struct ev_io *io _unused_, uint32_t revents)
{
	struct logport *lp = io->data;
	bool gone = revents & (EPOLLHUP | EPOLLERR);

	if (revents & EPOLLIN) {
		/* The host has nothing to say; drain (edge-triggered: until EAGAIN). EOF only
		 * means it shut down its sending side, as `socat - ...` does: keep streaming. */
		char buf[512];
		ssize_t n;
		while ((n = read(lp->conn_fd, buf, sizeof(buf))) > 0)
			;
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			gone = true;
	}
	pthread_mutex_lock(&lp->lock);
	if (!gone)
		flush_locked(lp);
	gone = gone || lp->broken;
	pthread_mutex_unlock(&lp->lock);
	if (gone)
		conn_close(lp);
}

static void listen_cb(struct ev_loop *loop, struct ev_io *io _unused_, uint32_t revents _unused_)
{
	struct logport *lp = io->data;
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);

	int fd =
	    accept4(lp->listen_fd, (struct sockaddr *)&peer, &plen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn_errno(errno, "log port accept: %m");
		return;
	}
	if (!guest_peer_allowed(lp->agent->guest, (struct sockaddr *)&peer, plen, "log port")) {
		close(fd);
		return;
	}
	int r = ev_io_start(loop, &lp->conn_io, fd, EPOLLIN | EPOLLOUT | EPOLLET, conn_cb, lp);
	if (r < 0) {
		log_error_errno(r, "log port: cannot watch the peer: %m");
		close(fd);
		return;
	}
	lp->conn_fd = fd;
	/* One peer at a time: the next waits in the backlog until this one leaves. */
	ev_io_stop(loop, &lp->listen_io);
	log_info("log port peer connected");
	pthread_mutex_lock(&lp->lock);
	lp->out_fd = fd;
	flush_locked(lp);
	pthread_mutex_unlock(&lp->lock);
}

/* ---- ember-init's lines ---- */

static void init_stop(struct logport *lp)
{
	ev_io_stop(lp->agent->loop, &lp->init_io);
	lp->init_fd = safe_close(lp->init_fd);
}

static void init_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct logport *lp = io->data;

	/* One read per wakeup: init cannot starve the rpc connections. */
	ssize_t n = read(lp->init_fd, lp->init_buf + lp->init_len, INIT_LINE_MAX - lp->init_len);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warn_errno(errno, "ember-init's log pipe: %m; no longer relaying it");
		init_stop(lp);
		return;
	}
	lp->init_len += (size_t)n;
	char *start = lp->init_buf, *end = lp->init_buf + lp->init_len, *nl;
	while ((nl = memchr(start, '\n', (size_t)(end - start)))) {
		log_write_line(start, (size_t)(nl - start) + 1);
		start = nl + 1;
	}
	lp->init_len = (size_t)(end - start);
	memmove(lp->init_buf, start, lp->init_len);
	/* A line longer than the contract allows, or cut by EOF, still goes out whole-lined. */
	if (lp->init_len == INIT_LINE_MAX || (n == 0 && lp->init_len > 0)) {
		lp->init_buf[lp->init_len] = '\n';
		log_write_line(lp->init_buf, lp->init_len + 1);
		lp->init_len = 0;
	}
	if (n == 0) {
		log_info("ember-init closed its log pipe");
		init_stop(lp);
	}
}

/* ---- set-up ---- */

void logport_free(struct logport *lp)
{
	if (!lp)
		return;
	struct ev_loop *loop = lp->agent->loop;
	if (lp->sink_installed) {
		log_set_sink(NULL, NULL);
		/* One last non-blocking attempt: lines of the shutdown itself. */
		pthread_mutex_lock(&lp->lock);
		flush_locked(lp);
		pthread_mutex_unlock(&lp->lock);
	}
	ev_io_stop(loop, &lp->conn_io);
	safe_close(lp->conn_fd);
	ev_io_stop(loop, &lp->listen_io);
	if (lp->listen_fd >= 0) {
		close(lp->listen_fd);
		if (lp->addr.kind == RPC_ADDR_UNIX && lp->addr.path[0] == '/')
			(void)unlink(lp->addr.path);
	}
	init_stop(lp);
	bytebuf_free(&lp->ring);
	pthread_mutex_destroy(&lp->lock);
	free(lp);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct logport *, logport_free)

int logport_start(struct agent *a, const char *addr, int init_fd, struct logport **ret)
{
	_cleanup_close_ int ifd = init_fd;
	_cleanup_(logport_freep) struct logport *lp = calloc(1, sizeof(*lp));
	int r;

	if (!lp)
		return -ENOMEM;
	lp->agent = a;
	lp->listen_fd = lp->conn_fd = lp->init_fd = lp->out_fd = -1;
	pthread_mutex_init(&lp->lock, NULL);

	if (addr) {
		r = rpc_addr_parse(addr, &lp->addr);
		if (r < 0)
			return r;
		if (lp->addr.kind != RPC_ADDR_UNIX && lp->addr.kind != RPC_ADDR_VSOCK)
			return -EOPNOTSUPP;
		lp->listen_fd = rpc_addr_listen(&lp->addr);
		if (lp->listen_fd < 0)
			return lp->listen_fd;
		r = ev_io_start(a->loop, &lp->listen_io, lp->listen_fd, EPOLLIN, listen_cb, lp);
		if (r < 0)
			return r;
	}
	if (ifd >= 0) {
		r = fd_nonblock(ifd, true);
		if (r < 0)
			return r;
		r = ev_io_start(a->loop, &lp->init_io, ifd, EPOLLIN, init_cb, lp);
		if (r < 0)
			return r;
		lp->init_fd = TAKE_FD(ifd);
	}
	if (addr) {
		/* The host side parses Kata's JSON lines, whatever --log-format says. */
		log_setup("ember-agent", "agent", LOG_FORMAT_JSON);
		log_set_sink(log_sink, lp);
		lp->sink_installed = true;
	}
	*ret = TAKE_PTR(lp);
	return 0;
}
