/* SPDX-License-Identifier: Apache-2.0 */
#define LOG_SUBSYSTEM "rpc"
#include "transport.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#define READ_CHUNK	 (64 * 1024)
#define SERIAL_REOPEN_NS (100 * NSEC_PER_MSEC)
#define MAX_NAME_LEN	 256
#define SOCK_SNDBUF	 (1 << 20) /* the kernel doubles it for its bookkeeping */

const struct rpc_limits rpc_default_limits = {
    .max_connections = 64,
    .max_inflight = 1024,
    .output_pause = 1u << 20,
    .output_max = 16u << 20,
};

struct rpc_listener {
	struct list_head node;
	struct rpc_server *server;
	struct rpc_addr addr;
	int fd;
	struct ev_io io;
	struct ev_timer reopen; /* serial: retry opening the port */
	struct rpc_conn *conn;	/* serial: the one logical connection */
};

struct rpc_conn {
	struct list_head node;
	struct rpc_server *server;
	struct rpc_listener *serial; /* set for a virtio-serial port */
	int fd;
	struct ev_io io;
	struct ttrpc_parser parser;
	struct bytebuf out;
	struct list_head calls;
	unsigned n_calls;
	uint32_t last_stream;
	unsigned id;
	bool dispatching; /* inside the read callback: flush and close happen at its end */
	bool dead;
	bool paused;
	bool no_splice; /* the transport refused splice(2) once: copy from then on */
};

struct rpc_call {
	struct list_head node;
	struct rpc_conn *conn;
	const struct rpc_service *service;
	const struct rpc_method *method;
	uint32_t stream_id;
	ProtobufCMessage *request;
	uint64_t deadline;
	struct ev_timer timer;
	rpc_cancel_cb cancel;
	void *cancel_data;
	bool in_handler, parked, replied;
};

struct rpc_server {
	struct ev_loop *loop;
	struct rpc_limits limits;
	void *userdata;
	const struct rpc_service **services;
	size_t n_services;
	struct list_head listeners;
	struct list_head conns;
	unsigned n_conns;
	unsigned next_conn_id;
	rpc_accept_fn accept;
	rpc_allow_fn allow;
	void *access_data;
};

static void conn_close(struct rpc_conn *c);
static void conn_cancel_calls(struct rpc_conn *c);
static bool conn_flush(struct rpc_conn *c);

/* ---- calls ---- */

void *rpc_call_userdata(const struct rpc_call *call)
{
	return call->conn->server->userdata;
}

const char *rpc_call_method(const struct rpc_call *call)
{
	return call->method->name;
}

uint64_t rpc_call_deadline(const struct rpc_call *call)
{
	return call->deadline;
}

static void call_free(struct rpc_call *call)
{
	if (call->request)
		protobuf_c_message_free_unpacked(call->request, NULL);
	free(call);
}

/* Takes the call off its connection before its reply is queued: a reply that drops the
 * connection then cancels the other calls, never the one being answered (whose holder is
 * busy answering it). */
static void call_unlink(struct rpc_call *call)
{
	struct rpc_conn *c = call->conn;
	call->replied = true;
	ev_timer_stop(c->server->loop, &call->timer);
	list_del(&call->node);
	c->n_calls--;
}

/* Frees an unlinked call unless its handler is still running. */
static void call_release(struct rpc_call *call)
{
	if (!call->in_handler)
		call_free(call);
}

static void call_finish(struct rpc_call *call)
{
	if (call->replied)
		return; /* already finished, e.g. with its connection inside its handler */
	call_unlink(call);
	call_release(call);
}

/* After a frame was queued: send what the socket takes, then drop a peer that stopped reading. */
static void queued_reply(struct rpc_conn *c)
{
	if (conn_flush(c) && bytebuf_used(&c->out) > c->server->limits.output_max) {
		/* The peer stopped reading while its calls kept completing. */
		log_warn("conn %u: %zu reply bytes queued, peer is not reading: dropping it", c->id,
			 bytebuf_used(&c->out));
		conn_close(c);
	}
}

static void send_response(struct rpc_conn *c, uint32_t stream_id, int code, const char *msg,
			  const ProtobufCMessage *payload)
{
	if (c->dead)
		return;
	int r = ttrpc_response_frame_append(&c->out, stream_id, code, msg, payload);
	if (r == -EMSGSIZE) {
		log_error("conn %u: reply on stream %u exceeds %u bytes", c->id, stream_id,
			  TTRPC_MAX_DATA);
		r = ttrpc_response_frame_append(&c->out, stream_id, RPC_RESOURCE_EXHAUSTED,
						"reply exceeds the 4 MiB message limit", NULL);
	}
	if (r < 0) {
		log_error_errno(r, "conn %u: cannot queue reply: %m", c->id);
		conn_close(c);
		return;
	}
	queued_reply(c);
}

static void reply_verror(struct rpc_conn *c, uint32_t stream_id, int code, int err, const char *fmt,
			 va_list ap)
{
	char msg[1024];
	errno = abs(err);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	log_debug("conn %u: stream %u: %s: %s", c->id, stream_id, rpc_code_name(code), msg);
	send_response(c, stream_id, code, msg, NULL);
}

_printf_(4, 5) static void reply_error(struct rpc_conn *c, uint32_t stream_id, int code,
				       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	reply_verror(c, stream_id, code, 0, fmt, ap);
	va_end(ap);
}

void rpc_call_reply(struct rpc_call *call, const ProtobufCMessage *response)
{
	if (call->replied)
		return;
	call_unlink(call);
	send_response(call->conn, call->stream_id, RPC_OK, NULL, response);
	call_release(call);
}

ssize_t rpc_call_reply_bytes(struct rpc_call *call, uint32_t field, size_t max, rpc_fill_fn fill,
			     void *data)
{
	struct rpc_conn *c = call->conn;
	if (call->replied)
		return -EALREADY;
	if (c->dead)
		return -ECONNRESET;
	/* The bytes land in the output queue after room for the longest prefix... */
	size_t room = ttrpc_bytes_frame_prefix_len(field, max);
	if (room - TTRPC_HEADER_LEN + max > TTRPC_MAX_DATA)
		return -EMSGSIZE;
	uint8_t *p = bytebuf_reserve(&c->out, room + max);
	if (!p)
		return -ENOMEM;
	ssize_t n = fill(p + room, max, data);
	if (n < 0)
		return n;
	if ((size_t)n > max)
		return -EOVERFLOW; /* a fill that broke its contract: nothing is sent */
	/* ...and a shorter count may need a shorter prefix: the frame must follow the queued
	 * bytes without a gap. An empty queue just starts later; otherwise the bytes move down,
	 * which takes a count below 16 KiB (one byte less per varint) for reads up to 2 MiB. */
	size_t pre = ttrpc_bytes_frame_prefix_len(field, (size_t)n);
	if (pre < room) {
		if (bytebuf_used(&c->out) == 0)
			c->out.head = c->out.len = (size_t)(p - c->out.data) + room - pre;
		else
			memmove(p + pre, p + room, (size_t)n);
		p = c->out.data + c->out.len;
	}
	/* Cannot fail: the frame for max was checked to fit. */
	(void)ttrpc_bytes_frame_prefix(p, call->stream_id, field, (size_t)n);
	c->out.len += pre + (size_t)n;
	call_unlink(call);
	queued_reply(c);
	call_release(call);
	return n;
}

ssize_t rpc_fill_read(void *buf, size_t max, void *data)
{
	const int *fd = data;
	ssize_t n;
	do
		n = read(*fd, buf, max);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/* Reads n bytes the pipe is known to hold into the queue. False when the connection had to go:
 * the frame in flight promised them. */
static bool pipe_to_queue(struct rpc_conn *c, int pipefd, size_t n)
{
	uint8_t *p = n ? bytebuf_reserve(&c->out, n) : NULL;
	if (n && !p) {
		log_error("conn %u: no memory for %zu reply bytes: dropping it", c->id, n);
		conn_close(c);
		return false;
	}
	while (n > 0) {
		ssize_t k = rpc_fill_read(p, n, &pipefd);
		if (k <= 0) { /* cannot happen to the pipe's only reader */
			log_error(
			    "conn %u: the pipe gave %zd where %zu bytes were due: dropping it",
			    c->id, k, n);
			conn_close(c);
			return false;
		}
		c->out.len += (size_t)k;
		p += k;
		n -= (size_t)k;
	}
	return true;
}

/* Moves n bytes the pipe is known to hold to the socket, by splice(2) while the socket takes
 * them; the rest waits in the queue. */
static bool splice_to_conn(struct rpc_conn *c, int pipefd, size_t n)
{
	while (n > 0) {
		ssize_t k = splice(pipefd, NULL, c->fd, NULL, n, SPLICE_F_NONBLOCK);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			if (k < 0 && (errno == EINVAL || errno == EOPNOTSUPP))
				c->no_splice = true;
			break; /* EAGAIN: the socket is full; other errors meet the next flush */
		}
		n -= (size_t)k;
	}
	return pipe_to_queue(c, pipefd, n);
}

ssize_t rpc_call_reply_pipe(struct rpc_call *call, uint32_t field, size_t max, int pipefd)
{
	struct rpc_conn *c = call->conn;
	int avail = 0;
	if (call->replied)
		return -EALREADY;
	if (c->dead)
		return -ECONNRESET;
	/* Only at the head of the queue (else the bytes would overtake queued replies), on a
	 * socket (a virtio-serial port keeps the copy), and with bytes there: EOF, EAGAIN and
	 * errors come from read(2) on the copying path. */
	if (bytebuf_used(&c->out) > 0 || c->serial || c->no_splice ||
	    ioctl(pipefd, FIONREAD, &avail) < 0 || avail <= 0)
		return rpc_call_reply_bytes(call, field, max, rpc_fill_read, &pipefd);
	size_t n = MIN((size_t)avail, max), plen = ttrpc_bytes_frame_prefix_len(field, n);
	uint8_t prefix[32];
	if (plen > sizeof(prefix) ||
	    ttrpc_bytes_frame_prefix(prefix, call->stream_id, field, n) < 0)
		return rpc_call_reply_bytes(call, field, max, rpc_fill_read, &pipefd);
	/* Committed: the call is answered even if the connection dies on the way. */
	call_unlink(call);
	ssize_t w;
	do
		w = write(c->fd, prefix, plen);
	while (w < 0 && errno == EINTR);
	size_t done = w > 0 ? (size_t)w : 0;
	if (w < 0 && errno != EAGAIN) {
		log_debug_errno(errno, "conn %u: write: %m", c->id);
		conn_close(c);
	} else if (done == plen) {
		if (splice_to_conn(c, pipefd, n))
			queued_reply(c);
	} else if (bytebuf_append(&c->out, prefix + done, plen - done) < 0) {
		log_error("conn %u: no memory for a reply: dropping it", c->id);
		conn_close(c);
	} else if (pipe_to_queue(c, pipefd, n)) {
		queued_reply(c); /* the socket was full: the whole frame waits */
	}
	call_release(call);
	return (ssize_t)n;
}

void rpc_call_reply_error(struct rpc_call *call, int code, const char *fmt, ...)
{
	va_list ap;
	if (call->replied)
		return;
	call_unlink(call);
	va_start(ap, fmt);
	reply_verror(call->conn, call->stream_id, code, 0, fmt, ap);
	va_end(ap);
	call_release(call);
}

void rpc_call_reply_errno(struct rpc_call *call, int err, const char *fmt, ...)
{
	va_list ap;
	if (call->replied)
		return;
	call_unlink(call);
	va_start(ap, fmt);
	reply_verror(call->conn, call->stream_id, errno_to_rpc_code(err), err, fmt, ap);
	va_end(ap);
	call_release(call);
}

static void call_deadline_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct rpc_call *call = t->data;
	if (call->cancel)
		call->cancel(call, call->cancel_data);
	rpc_call_reply_error(call, RPC_DEADLINE_EXCEEDED, "%s/%s: deadline exceeded",
			     call->service->name, call->method->name);
}

void rpc_call_park(struct rpc_call *call, rpc_cancel_cb cancel, void *data)
{
	call->parked = true;
	call->cancel = cancel;
	call->cancel_data = data;
	if (call->deadline) {
		int r = ev_timer_start(call->conn->server->loop, &call->timer, call->deadline,
				       call_deadline_cb, call);
		if (r < 0)
			log_warn_errno(r, "cannot arm deadline of %s: %m", call->method->name);
	}
}

/* ---- dispatch ---- */

static bool slice_eq(struct ttrpc_slice s, const char *str)
{
	return strlen(str) == s.len && memcmp(s.ptr, str, s.len) == 0;
}

static const struct rpc_service *find_service(struct rpc_server *s, struct ttrpc_slice name)
{
	for (size_t i = 0; i < s->n_services; i++)
		if (slice_eq(name, s->services[i]->name))
			return s->services[i];
	return NULL;
}

static const struct rpc_method *find_method(const struct rpc_service *svc, struct ttrpc_slice name)
{
	for (size_t i = 0; i < svc->n_methods; i++)
		if (slice_eq(name, svc->methods[i].name))
			return &svc->methods[i];
	return NULL;
}

/* Names from the wire are printed bounded and with non-printable bytes replaced. */
static void slice_printable(struct ttrpc_slice s, char *out, size_t outsz)
{
	size_t n = MIN(s.len, outsz - 1);
	for (size_t i = 0; i < n; i++)
		out[i] = s.ptr[i] >= 0x20 && s.ptr[i] < 0x7f ? (char)s.ptr[i] : '?';
	out[n] = '\0';
}

static void dispatch_request(struct rpc_conn *c, const struct ttrpc_header *h, const uint8_t *body)
{
	struct rpc_server *s = c->server;
	struct ttrpc_request req;
	char name[MAX_NAME_LEN];

	if (h->flags & TTRPC_FLAG_REMOTE_OPEN) {
		reply_error(c, h->stream_id, RPC_UNIMPLEMENTED,
			    "streaming calls are not supported: every agent RPC is unary");
		return;
	}
	if (ttrpc_request_decode(body, h->length, &req) < 0) {
		reply_error(c, h->stream_id, RPC_INVALID_ARGUMENT,
			    "cannot decode the ttrpc.Request envelope");
		return;
	}
	const struct rpc_service *svc = find_service(s, req.service);
	if (!svc) {
		slice_printable(req.service, name, sizeof(name));
		reply_error(c, h->stream_id, RPC_UNIMPLEMENTED, "unknown service '%s'", name);
		return;
	}
	const struct rpc_method *m = find_method(svc, req.method);
	if (!m) {
		slice_printable(req.method, name, sizeof(name));
		reply_error(c, h->stream_id, RPC_UNIMPLEMENTED, "unknown method '%s/%s'", svc->name,
			    name);
		return;
	}
	if (s->allow && !s->allow(svc->name, m->name, s->access_data)) {
		log_warn("conn %u: %s/%s denied by policy", c->id, svc->name, m->name);
		reply_error(c, h->stream_id, RPC_PERMISSION_DENIED,
			    "%s is blocked by the agent policy", m->name);
		return;
	}
	if (!m->handler) {
		reply_error(c, h->stream_id, RPC_UNIMPLEMENTED,
			    "/%s/%s is not implemented by ember (see docs/compatibility.md)",
			    svc->name, m->name);
		return;
	}
	if (c->n_calls >= s->limits.max_inflight) {
		reply_error(c, h->stream_id, RPC_RESOURCE_EXHAUSTED,
			    "too many calls in flight on this connection (limit %u)",
			    s->limits.max_inflight);
		return;
	}

	ProtobufCMessage *msg = NULL;
	if (m->input) {
		msg = protobuf_c_message_unpack(m->input, NULL, req.payload.len, req.payload.ptr);
		if (!msg) {
			reply_error(c, h->stream_id, RPC_INVALID_ARGUMENT,
				    "%s/%s: payload does not decode as %s", svc->name, m->name,
				    m->input->name);
			return;
		}
	}
	struct rpc_call *call = calloc(1, sizeof(*call));
	if (!call) {
		if (msg)
			protobuf_c_message_free_unpacked(msg, NULL);
		reply_error(c, h->stream_id, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	call->conn = c;
	call->service = svc;
	call->method = m;
	call->stream_id = h->stream_id;
	call->request = msg;
	ev_timer_init(&call->timer);
	if (req.timeout_nano > 0)
		call->deadline = now_monotonic_ns() + (uint64_t)req.timeout_nano;
	list_add_tail(&c->calls, &call->node);
	c->n_calls++;

	log_trace("conn %u: stream %u: %s/%s", c->id, h->stream_id, svc->name, m->name);
	call->in_handler = true;
	m->handler(call, msg);
	call->in_handler = false;
	if (call->replied) {
		call_free(call);
	} else if (!call->parked) {
		log_error("%s/%s neither replied nor parked", svc->name, m->name);
		rpc_call_reply_error(call, RPC_INTERNAL, "%s/%s: handler bug", svc->name, m->name);
	}
}

static struct rpc_call *find_call(struct rpc_conn *c, uint32_t stream_id)
{
	struct list_head *pos;
	LIST_FOREACH (pos, &c->calls) {
		struct rpc_call *call = list_entry(pos, struct rpc_call, node);
		if (call->stream_id == stream_id)
			return call;
	}
	return NULL;
}

static int on_frame(void *data, const struct ttrpc_header *h, const uint8_t *body)
{
	struct rpc_conn *c = data;

	if (c->dead)
		return -ECONNRESET;
	if (!body) {
		reply_error(c, h->stream_id, RPC_RESOURCE_EXHAUSTED,
			    "message length %u exceed maximum message size of %u", h->length,
			    TTRPC_MAX_DATA);
		return 0;
	}
	switch (h->type) {
	case TTRPC_REQUEST:
		/* Stream id rules of containerd/ttrpc's server. */
		if (h->stream_id % 2 == 0) {
			reply_error(c, h->stream_id, RPC_INVALID_ARGUMENT,
				    "StreamID must be odd for client initiated streams");
			return 0;
		}
		if (c->serial && h->stream_id == 1 && c->last_stream > 0) {
			/* A virtio-serial port does not always show the guest a hang-up
			 * between two host clients; every ttrpc client starts at stream 1,
			 * so stream 1 again means a new client: the old one's parked calls
			 * can never be answered. */
			log_debug("conn %u: stream 1 again: a new host client", c->id);
			conn_cancel_calls(c);
			c->last_stream = 0;
		}
		if (h->stream_id <= c->last_stream) {
			reply_error(c, h->stream_id, RPC_INVALID_ARGUMENT,
				    "StreamID cannot be re-used and must increment");
			return 0;
		}
		c->last_stream = h->stream_id;
		dispatch_request(c, h, body);
		return 0;
	case TTRPC_DATA:
		/* No agent RPC streams; data for a live unary call is dropped, like a data
		 * frame for a stream that is gone is answered. */
		if (!find_call(c, h->stream_id))
			reply_error(c, h->stream_id, RPC_INVALID_ARGUMENT,
				    "StreamID is no longer active");
		return 0;
	default:
		/* Responses from a client and unknown types are ignored, for forward
		 * compatibility (PROTOCOL.md). */
		log_debug("conn %u: ignoring message type %u on stream %u", c->id, h->type,
			  h->stream_id);
		return 0;
	}
}

/* ---- connections ---- */

static void conn_update_events(struct rpc_conn *c)
{
	size_t queued = bytebuf_used(&c->out);
	if (!c->paused && queued >= c->server->limits.output_pause) {
		c->paused = true;
		log_debug("conn %u: %zu bytes queued, pausing reads", c->id, queued);
	} else if (c->paused && queued <= c->server->limits.output_pause / 2) {
		c->paused = false;
	}
	uint32_t ev = (c->paused ? 0 : EPOLLIN) | (queued ? EPOLLOUT : 0);
	int r = ev_io_modify(c->server->loop, &c->io, ev);
	if (r < 0)
		log_warn_errno(r, "conn %u: epoll: %m", c->id);
}

/* False when the connection is gone (a write failed): then c may be freed already. */
static bool conn_flush(struct rpc_conn *c)
{
	if (c->dead)
		return false;
	if (c->dispatching)
		return true;
	while (bytebuf_used(&c->out) > 0) {
		ssize_t n = write(c->fd, c->out.data + c->out.head, bytebuf_used(&c->out));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			log_debug_errno(errno, "conn %u: write: %m", c->id);
			conn_close(c);
			return false;
		}
		bytebuf_consume(&c->out, (size_t)n);
	}
	conn_update_events(c);
	return true;
}

static void conn_free(struct rpc_conn *c)
{
	ttrpc_parser_reset(&c->parser);
	bytebuf_free(&c->out);
	free(c);
}

static void serial_reopen_cb(struct ev_loop *loop, struct ev_timer *t);

/* Parked calls die with their client: their holders forget them. */
static void conn_cancel_calls(struct rpc_conn *c)
{
	while (!list_empty(&c->calls)) {
		struct rpc_call *call = list_entry(c->calls.next, struct rpc_call, node);
		if (call->cancel)
			call->cancel(call, call->cancel_data);
		call_finish(call);
	}
}

static void conn_close(struct rpc_conn *c)
{
	struct rpc_server *s = c->server;

	if (!c->dead) {
		c->dead = true;
		conn_cancel_calls(c);
		ev_io_stop(s->loop, &c->io);
		c->fd = safe_close(c->fd);
		list_del(&c->node);
		s->n_conns--;
		log_debug("conn %u closed", c->id);
		if (c->serial) {
			c->serial->conn = NULL;
			ev_timer_start(s->loop, &c->serial->reopen,
				       now_monotonic_ns() + SERIAL_REOPEN_NS, serial_reopen_cb,
				       c->serial);
		}
	}
	if (!c->dispatching)
		conn_free(c);
}

static void conn_io_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents)
{
	struct rpc_conn *c = io->data;
	uint8_t buf[READ_CHUNK];

	c->dispatching = true;
	if (revents & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
		ssize_t n = read(c->fd, buf, sizeof(buf));
		if (n > 0) {
			int r = ttrpc_parser_feed(&c->parser, buf, (size_t)n, on_frame, c);
			if (r < 0 && !c->dead) {
				log_warn_errno(r, "conn %u: %m", c->id);
				conn_close(c);
			}
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			conn_close(c);
		}
	}
	c->dispatching = false;
	if (c->dead)
		conn_free(c);
	else
		conn_flush(c);
}

/* A ReadStdout reply is up to 1 MiB. In the default 208 KiB a unix socket takes it in several
 * writes, each after the peer has drained some and epoll said so again: a wake-up of both
 * sides per 200 KiB. With SOCK_SNDBUF a whole reply goes in one write. The bytes count only
 * while the peer has not read them, and the output queue's limits stay as they are. Root may
 * exceed net.core.wmem_max (SO_SNDBUFFORCE); otherwise the kernel caps the value. Best
 * effort: vsock keeps its own buffer accounting. */
static void socket_grow_sndbuf(int fd)
{
	int v = SOCK_SNDBUF;
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

static int conn_new(struct rpc_server *s, int fd, struct rpc_listener *serial)
{
	struct rpc_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->server = s;
	c->fd = fd;
	c->serial = serial;
	c->id = ++s->next_conn_id;
	list_init(&c->calls);
	ttrpc_parser_init(&c->parser, TTRPC_MAX_DATA);
	if (!serial)
		socket_grow_sndbuf(fd);
	int r = ev_io_start(s->loop, &c->io, fd, EPOLLIN, conn_io_cb, c);
	if (r < 0) {
		free(c);
		return r;
	}
	list_add_tail(&s->conns, &c->node);
	s->n_conns++;
	if (serial)
		serial->conn = c;
	log_debug("conn %u opened", c->id);
	return 0;
}

/* ---- listeners ---- */

static void listener_accept_cb(struct ev_loop *loop _unused_, struct ev_io *io,
			       uint32_t revents _unused_)
{
	struct rpc_listener *l = io->data;
	struct rpc_server *s = l->server;
	struct sockaddr_storage peer;
	socklen_t peer_len = sizeof(peer);

	int fd = accept4(l->fd, (struct sockaddr *)&peer, &peer_len, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
			log_warn_errno(errno, "accept on %s: %m", l->addr.path);
		return;
	}
	if (s->accept && !s->accept((struct sockaddr *)&peer, peer_len, s->access_data)) {
		close(fd); /* the filter logged whom it refused */
		return;
	}
	if (s->n_conns >= s->limits.max_connections) {
		log_warn("refusing a connection: %u connections open (limit)", s->n_conns);
		close(fd);
		return;
	}
	int r = conn_new(s, fd, NULL);
	if (r < 0) {
		log_error_errno(r, "cannot set up a connection: %m");
		close(fd);
	}
}

static void serial_reopen_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct rpc_listener *l = t->data;
	struct rpc_server *s = l->server;

	int fd = open(l->addr.path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	int r = fd < 0 ? -errno : conn_new(s, fd, l);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		log_debug_errno(r, "cannot open %s: %m", l->addr.path);
		ev_timer_start(s->loop, &l->reopen, now_monotonic_ns() + SERIAL_REOPEN_NS,
			       serial_reopen_cb, l);
	}
}

int rpc_server_listen(struct rpc_server *s, const char *addr)
{
	struct rpc_listener *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->server = s;
	l->fd = -1;
	ev_timer_init(&l->reopen);
	int r = rpc_addr_parse(addr, &l->addr);
	if (r < 0)
		goto fail;
	if (l->addr.kind == RPC_ADDR_SERIAL) {
		/* A virtio-serial port is one byte stream, not a listener: when the host end
		 * closes, reads see EOF/HUP and we reopen it for the next host connection. */
		int fd = open(l->addr.path, O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			r = -errno;
			goto fail;
		}
		r = conn_new(s, fd, l);
		if (r < 0) {
			close(fd);
			goto fail;
		}
	} else if (l->addr.kind == RPC_ADDR_HVSOCK) {
		r = -EOPNOTSUPP; /* the VMM end of hybrid vsock is the host's business */
		goto fail;
	} else {
		l->fd = transport_listen(&l->addr);
		if (l->fd < 0) {
			r = l->fd;
			goto fail;
		}
		r = ev_io_start(s->loop, &l->io, l->fd, EPOLLIN, listener_accept_cb, l);
		if (r < 0)
			goto fail;
	}
	list_add_tail(&s->listeners, &l->node);
	return 0;
fail:
	safe_close(l->fd);
	free(l);
	return r;
}

int rpc_addr_listen(const struct rpc_addr *a)
{
	return transport_listen(a);
}

int rpc_server_adopt_fd(struct rpc_server *s, int fd)
{
	int r = fd_nonblock(fd, true);
	if (r >= 0)
		r = conn_new(s, fd, NULL);
	if (r < 0)
		close(fd);
	return r;
}

/* ---- server ---- */

int rpc_server_new(struct ev_loop *loop, const struct rpc_limits *limits, void *userdata,
		   struct rpc_server **ret)
{
	struct rpc_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->loop = loop;
	s->limits = limits ? *limits : rpc_default_limits;
	s->userdata = userdata;
	list_init(&s->listeners);
	list_init(&s->conns);
	*ret = s;
	return 0;
}

int rpc_server_add_service(struct rpc_server *s, const struct rpc_service *svc)
{
	const struct rpc_service **v = realloc(s->services, (s->n_services + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	v[s->n_services++] = svc;
	s->services = v;
	return 0;
}

void rpc_server_set_access(struct rpc_server *s, rpc_accept_fn accept, rpc_allow_fn allow,
			   void *data)
{
	s->accept = accept;
	s->allow = allow;
	s->access_data = data;
}

unsigned rpc_server_connections(const struct rpc_server *s)
{
	return s->n_conns;
}

void rpc_server_shutdown(struct rpc_server *s)
{
	while (!list_empty(&s->listeners)) {
		struct rpc_listener *l = list_entry(s->listeners.next, struct rpc_listener, node);
		list_del(&l->node);
		ev_timer_stop(s->loop, &l->reopen);
		if (l->conn)
			l->conn->serial = NULL;
		if (l->fd >= 0) {
			ev_io_stop(s->loop, &l->io);
			close(l->fd);
			if (l->addr.kind == RPC_ADDR_UNIX && l->addr.path[0] == '/')
				(void)unlink(l->addr.path);
		}
		free(l);
	}
	while (!list_empty(&s->conns)) {
		struct rpc_conn *c = list_entry(s->conns.next, struct rpc_conn, node);
		/* One non-blocking attempt to send what is queued: a peer that does not read
		 * must not hold up shutdown. */
		if (!c->dead && bytebuf_used(&c->out) > 0)
			(void)!write(c->fd, c->out.data + c->out.head, bytebuf_used(&c->out));
		conn_close(c);
	}
}

void rpc_server_free(struct rpc_server *s)
{
	if (!s)
		return;
	rpc_server_shutdown(s);
	free(s->services);
	free(s);
}
