/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Stdio RPCs (reference §6.3): ReadStdout/ReadStderr are one read of up to len bytes,
 * parked until at least one byte or EOF (empty data); WriteStdin writes all the data
 * (parked while the pipe is full) and returns the count; CloseStdin; TtyWinResize.
 * Nothing is buffered in the agent: the pipe (or pty) is the buffer, so a peer that does
 * not read holds the process, never the agent's memory. A pipe's bytes move to the socket
 * by splice(2) (rpc_call_reply_pipe); a pty's are read into their reply frame in the output
 * queue: no buffer and no copy in the agent per call.
 */
#define LOG_SUBSYSTEM "io"
#include "sandbox.h"
#include "google/protobuf/empty.pb-c.h"

#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <termios.h>

/* ReadStreamResponse { bytes data = 1; } (agent.proto) */
#define READ_STREAM_DATA_FIELD 1

void stream_init(struct process *p, struct stream *s, int fd, const char *name)
{
	s->proc = p;
	s->fd = fd;
	s->name = name;
	s->eof = fd < 0;
	list_init(&s->readers);
	s->io.active = false;
}

/* EOF: empty data */
static void reply_eof(struct rpc_call *call)
{
	Grpc__ReadStreamResponse resp = GRPC__READ_STREAM_RESPONSE__INIT;
	rpc_call_reply(call, &resp.base);
}

/* Without a tty, the stream is a pipe the agent alone reads (agent/container/stdio.c). */
static ssize_t reply_read(struct process *p, struct stream *s, struct rpc_call *call, uint32_t len)
{
	if (!p->tty)
		return rpc_call_reply_pipe(call, READ_STREAM_DATA_FIELD, len, s->fd);
	return rpc_call_reply_bytes(call, READ_STREAM_DATA_FIELD, len, rpc_fill_read, &s->fd);
}

/* One read for the call, straight into its reply. Returns 1 when answered, 0 when nothing is
 * there yet. */
static int stream_try_read(struct process *p, struct stream *s, struct rpc_call *call, uint32_t len)
{
	if (s->eof) {
		reply_eof(call);
		return 1;
	}
	ssize_t n = reply_read(p, s, call, len);
	if (n > 0)
		return 1;
	/* EIO: the pty's slave side is closed everywhere, the pty equivalent of EOF. */
	if (n == 0 || n == -EIO) {
		s->eof = true;
		if (n == -EIO)
			reply_eof(call);
		return 1;
	}
	if (n == -EAGAIN) {
		if (p->drained) { /* reaped and the drain window is over: an orphan holds it */
			reply_eof(call);
			return 1;
		}
		return 0;
	}
	rpc_call_reply_errno(call, (int)-n, "read %s of process '%s': %m", s->name, p->exec_id);
	return 1;
}

static void stream_update_watch(struct process *p, struct stream *s);

static void stream_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct stream *s = io->data;
	struct process *p = s->proc;
	/* One read per readiness for the first reader; the next one waits for more data
	 * (or takes the EOF at once). */
	while (!list_empty(&s->readers)) {
		struct parked *r = list_entry(s->readers.next, struct parked, node);
		if (stream_try_read(p, s, r->call, r->len) == 0)
			break;
		list_del(&r->node);
		free(r);
		if (!s->eof)
			break;
	}
	stream_update_watch(p, s);
}

static void stream_update_watch(struct process *p, struct stream *s)
{
	bool want = !list_empty(&s->readers) && !s->eof && s->fd >= 0;
	if (want && !s->io.active) {
		if (ev_io_start(p->sb->loop, &s->io, s->fd, EPOLLIN, stream_cb, s) < 0)
			log_warn("cannot watch %s of process %d", s->name, (int)p->pid);
	} else if (!want && s->io.active) {
		ev_io_stop(p->sb->loop, &s->io);
	}
}

void stream_flush_readers(struct process *p, struct stream *s, bool final)
{
	/* Each reader gets one more read: data if there is some, EOF otherwise. */
	while (!list_empty(&s->readers)) {
		struct parked *r = list_entry(s->readers.next, struct parked, node);
		if (stream_try_read(p, s, r->call, r->len) == 0) {
			if (!final && !p->drained)
				break; /* stays first in line */
			reply_eof(r->call);
		}
		list_del(&r->node);
		free(r);
	}
	stream_update_watch(p, s);
}

static void reader_cancel(struct rpc_call *call _unused_, void *data)
{
	struct parked *r = data;
	list_del(&r->node);
	stream_update_watch(r->proc, r->stream);
	free(r);
}

static void read_stream(struct rpc_call *call, Grpc__ReadStreamRequest *req, bool err)
{
	struct sandbox *sb = sandbox_of(call);
	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "the sandbox is being destroyed");
		return;
	}
	struct process *p = process_lookup_or_reply(call, req->container_id, req->exec_id);
	if (!p)
		return;
	if (req->len == 0) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "read of len 0: nothing to read");
		return;
	}
	uint32_t len = MIN(req->len, SANDBOX_READ_MAX);
	struct stream *s = err ? &p->err : &p->out;
	/* With a tty, stderr is not used: the pty carries everything (Kata). */
	if (list_empty(&s->readers) && stream_try_read(p, s, call, len))
		return;
	struct parked *r = parked_new(call, p, PARKED_READ);
	if (!r)
		return;
	r->stream = s;
	r->len = len;
	list_add_tail(&s->readers, &r->node);
	rpc_call_park(call, reader_cancel, r);
	stream_update_watch(p, s);
}

void svc_read_stdout(struct rpc_call *call, void *request)
{
	read_stream(call, request, false);
}

void svc_read_stderr(struct rpc_call *call, void *request)
{
	read_stream(call, request, true);
}

/* ---- stdin ---- */

static void stdin_update_watch(struct process *p);

void stdin_close(struct process *p)
{
	if (p->stdin_closed)
		return;
	p->stdin_closed = true;
	p->stdin_close_pending = false;
	if (p->stdin_io.active)
		ev_io_stop(p->sb->loop, &p->stdin_io);
	if (p->tty) {
		/* The master also carries the output: closing it would cut stdout. End of
		 * input on a terminal is VEOF at the start of a line. */
		static const char eot[] = "\n\x04";
		(void)!write(p->stdin_fd, eot, 2);
		(void)!write(p->stdin_fd, eot + 1, 1);
		return;
	}
	p->stdin_fd = safe_close(p->stdin_fd);
}

void stdin_fail_writers(struct process *p, int code, const char *msg)
{
	while (!list_empty(&p->writers)) {
		struct parked *w = list_entry(p->writers.next, struct parked, node);
		list_del(&w->node);
		if (w->done > 0) {
			Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;
			resp.len = (uint32_t)w->done;
			rpc_call_reply(w->call, &resp.base);
		} else {
			rpc_call_reply_error(w->call, code, "stdin of process '%s': %s", p->exec_id,
					     msg);
		}
		free(w);
	}
	stdin_update_watch(p);
}

/* Writes as much as the pipe takes. 1: done (replied), 0: pipe full. */
static int stdin_try_write(struct process *p, struct parked *w)
{
	while (w->done < w->size) {
		ssize_t n = write(p->stdin_fd, w->data + w->done, w->size - w->done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0) {
			rpc_call_reply_errno(w->call, errno == EPIPE ? ESHUTDOWN : errno,
					     "write to stdin of process '%s': %s", p->exec_id,
					     errno == EPIPE ? "the process closed its stdin"
							    : strerror(errno));
			return 1;
		}
		w->done += (size_t)n;
	}
	Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;
	resp.len = (uint32_t)w->done;
	rpc_call_reply(w->call, &resp.base);
	return 1;
}

static void stdin_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct process *p = io->data;
	while (!list_empty(&p->writers)) {
		struct parked *w = list_entry(p->writers.next, struct parked, node);
		if (stdin_try_write(p, w) == 0)
			break;
		list_del(&w->node);
		free(w);
	}
	if (list_empty(&p->writers) && p->stdin_close_pending)
		stdin_close(p);
	stdin_update_watch(p);
}

static void stdin_update_watch(struct process *p)
{
	bool want = !list_empty(&p->writers) && p->stdin_fd >= 0 && !p->stdin_closed;
	if (want && !p->stdin_io.active) {
		if (ev_io_start(p->sb->loop, &p->stdin_io, p->stdin_fd, EPOLLOUT, stdin_cb, p) < 0)
			log_warn("cannot watch stdin of process %d", (int)p->pid);
	} else if (!want && p->stdin_io.active) {
		ev_io_stop(p->sb->loop, &p->stdin_io);
	}
}

static void writer_cancel(struct rpc_call *call _unused_, void *data)
{
	struct parked *w = data;
	struct process *p = w->proc;
	list_del(&w->node);
	free(w);
	stdin_update_watch(p);
}

void svc_write_stdin(struct rpc_call *call, void *request)
{
	Grpc__WriteStreamRequest *req = request;
	struct sandbox *sb = sandbox_of(call);
	if (sb->destroying) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "the sandbox is being destroyed");
		return;
	}
	struct process *p = process_lookup_or_reply(call, req->container_id, req->exec_id);
	if (!p)
		return;
	if (p->stdin_closed || p->stdin_close_pending || p->stdin_fd < 0) {
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION,
				     "stdin of process '%s' is closed", p->exec_id);
		return;
	}
	if (req->data.len == 0) {
		/* runtime-rs sends empty data to close stdin */
		Grpc__WriteStreamResponse resp = GRPC__WRITE_STREAM_RESPONSE__INIT;
		if (list_empty(&p->writers))
			stdin_close(p);
		else
			p->stdin_close_pending = true;
		rpc_call_reply(call, &resp.base);
		return;
	}
	struct parked *w = parked_new(call, p, PARKED_WRITE);
	if (!w)
		return;
	w->data = req->data.data; /* the request lives as long as the call */
	w->size = req->data.len;
	if (list_empty(&p->writers) && stdin_try_write(p, w)) {
		free(w);
		return;
	}
	list_add_tail(&p->writers, &w->node);
	rpc_call_park(call, writer_cancel, w);
	stdin_update_watch(p);
}

void svc_close_stdin(struct rpc_call *call, void *request)
{
	Grpc__CloseStdinRequest *req = request;
	struct process *p = process_lookup_or_reply(call, req->container_id, req->exec_id);
	if (!p)
		return;
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	if (list_empty(&p->writers))
		stdin_close(p);
	else
		p->stdin_close_pending = true; /* after the queued writes */
	rpc_call_reply(call, &empty.base);
}

void svc_tty_win_resize(struct rpc_call *call, void *request)
{
	Grpc__TtyWinResizeRequest *req = request;
	struct process *p = process_lookup_or_reply(call, req->container_id, req->exec_id);
	if (!p)
		return;
	if (!p->tty || p->out.fd < 0) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE, "no tty");
		return;
	}
	if (req->row > UINT16_MAX || req->column > UINT16_MAX) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "window size %ux%u out of range",
				     req->row, req->column);
		return;
	}
	struct winsize ws = {.ws_row = (unsigned short)req->row,
			     .ws_col = (unsigned short)req->column};
	if (ioctl(p->out.fd, TIOCSWINSZ, &ws) < 0) {
		rpc_call_reply_errno(call, errno, "resize tty of process '%s': %m", p->exec_id);
		return;
	}
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &empty.base);
}
