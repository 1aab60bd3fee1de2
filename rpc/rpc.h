/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rpc: ttrpc (containerd's RPC protocol) in C: frame codec, envelope codec, an event-loop
 * server with parked calls, a blocking client, and the transports (unix, vsock, virtio-serial
 * and, client side only, hybrid vsock).
 *
 * Contract:
 *  - Wire format exactly as containerd/ttrpc: 10-byte big-endian header, data <= 4 MiB,
 *    odd and strictly increasing client stream ids, unary Request/Response only.
 *  - Server: runs on one ev_loop. A handler must, before it returns, either reply
 *    (rpc_call_reply*) or park the call (rpc_call_park). A parked call is completed later
 *    by its holder with rpc_call_reply*, or cancelled by the server (connection gone,
 *    timeout_nano expired, shutdown): then the server calls the holder's cancel callback,
 *    after which the holder must forget the call. A call is freed by the reply; never touch
 *    it afterwards.
 *  - A reply may drop its connection (a peer that stopped reading), which cancels that
 *    connection's other parked calls (never the one being answered) re-entrantly: a holder
 *    completing several calls must pop them off its list one at a time, never walk a list
 *    with a saved next pointer.
 *  - Every resource a peer can grow is bounded (struct rpc_limits). Accepted sockets get a
 *    2 MiB kernel send buffer (SO_SNDBUF 1 MiB) so that a 1 MiB reply leaves in one write;
 *    the limits count the agent's own queue behind it.
 */
#pragma once

#include "common/common.h"

#include <protobuf-c/protobuf-c.h>
#include <sys/socket.h>

/* ---- frames ------------------------------------------------------------------------ */

#define TTRPC_HEADER_LEN 10
#define TTRPC_MAX_DATA	 (4u << 20) /* messageLengthMax in containerd/ttrpc */

enum ttrpc_type {
	TTRPC_REQUEST = 1,
	TTRPC_RESPONSE = 2,
	TTRPC_DATA = 3,
};

enum ttrpc_flags {
	TTRPC_FLAG_REMOTE_CLOSED = 0x1,
	TTRPC_FLAG_REMOTE_OPEN = 0x2,
	TTRPC_FLAG_NO_DATA = 0x4,
};

struct ttrpc_header {
	uint32_t length;
	uint32_t stream_id;
	uint8_t type;
	uint8_t flags;
};

void ttrpc_header_encode(uint8_t out[TTRPC_HEADER_LEN], const struct ttrpc_header *h);
void ttrpc_header_decode(const uint8_t in[TTRPC_HEADER_LEN], struct ttrpc_header *h);

/* Called for each complete frame. For a frame whose length exceeds the parser's maximum,
 * body is NULL (its data is being discarded). A negative return stops the parser and is
 * returned by ttrpc_parser_feed(). */
typedef int (*ttrpc_frame_cb)(void *data, const struct ttrpc_header *h, const uint8_t *body);

/* Incremental frame parser: survives frames split at any byte. Frames fully inside one
 * feed() chunk are passed without copying. */
struct ttrpc_parser {
	uint32_t max;
	struct ttrpc_header hdr;
	uint8_t hbuf[TTRPC_HEADER_LEN];
	size_t hlen;   /* header bytes gathered */
	uint8_t *body; /* partial body being gathered */
	size_t body_have;
	size_t discard; /* bytes of an oversized body still to skip */
};

void ttrpc_parser_init(struct ttrpc_parser *p, uint32_t max);
void ttrpc_parser_reset(struct ttrpc_parser *p);
int ttrpc_parser_feed(struct ttrpc_parser *p, const uint8_t *buf, size_t len, ttrpc_frame_cb cb,
		      void *data);
/* True while a frame is partially received (its memory is held). */
bool ttrpc_parser_mid_frame(const struct ttrpc_parser *p);

/* Appends header + data. -EMSGSIZE when len exceeds TTRPC_MAX_DATA. */
int ttrpc_frame_append(struct bytebuf *out, uint32_t stream_id, uint8_t type, uint8_t flags,
		       const void *data, size_t len);

/* ---- envelope: ttrpc.Request / ttrpc.Response / google.rpc.Status ------------------------ */

struct ttrpc_slice {
	const uint8_t *ptr;
	size_t len;
};

struct ttrpc_request {
	struct ttrpc_slice service, method, payload;
	int64_t timeout_nano;
	size_t n_metadata;
};

struct ttrpc_response {
	bool has_status;
	int32_t code;
	struct ttrpc_slice message;
	struct ttrpc_slice payload;
};

/* Decoders point into buf (no copies); unknown fields are skipped. -EBADMSG when malformed. */
int ttrpc_request_decode(const uint8_t *buf, size_t len, struct ttrpc_request *req);
int ttrpc_response_decode(const uint8_t *buf, size_t len, struct ttrpc_response *resp);

/* Appends a whole Response frame. OK responses carry the empty status (0a 00) as
 * containerd/ttrpc does; error responses carry no payload. */
int ttrpc_response_frame_append(struct bytebuf *out, uint32_t stream_id, int32_t code,
				const char *message, const ProtobufCMessage *payload);
int ttrpc_request_frame_append(struct bytebuf *out, uint32_t stream_id, const char *service,
			       const char *method, const uint8_t *payload, size_t payload_len,
			       int64_t timeout_nano);

/* Bulk bytes without a copy: an OK Response frame whose payload is a message with one bytes
 * field set (ReadStreamResponse.data) is built around n bytes already in place. The prefix
 * (frame header, status, payload and field keys and lengths) takes prefix_len(field, n)
 * bytes right before them; it never grows when n shrinks, so room reserved for the largest n
 * fits any smaller one. The frame is byte for byte what ttrpc_response_frame_append()
 * makes of the same message. prefix: -EMSGSIZE when the frame would exceed TTRPC_MAX_DATA. */
size_t ttrpc_bytes_frame_prefix_len(uint32_t field, size_t n);
int ttrpc_bytes_frame_prefix(uint8_t *p, uint32_t stream_id, uint32_t field, size_t n);
/* Decodes a message in place: ret points at the bytes of field (the last occurrence; empty
 * when absent), every other field is skipped. -EBADMSG when malformed or when field is not
 * length-delimited. */
int ttrpc_bytes_field_decode(const uint8_t *buf, size_t len, uint32_t field,
			     struct ttrpc_slice *ret);

/* ---- addresses and transports ------------------------------------------------------------ */

enum rpc_addr_kind {
	RPC_ADDR_UNIX,	 /* unix:///path, unix://@abstract */
	RPC_ADDR_VSOCK,	 /* vsock://CID:PORT, CID -1 = any */
	RPC_ADDR_SERIAL, /* serial:///dev/virtio-ports/NAME (server side) */
	RPC_ADDR_HVSOCK, /* hvsock:///path/vmm.sock:PORT (client side, hybrid vsock) */
};

struct rpc_addr {
	enum rpc_addr_kind kind;
	char path[108];
	uint32_t cid;
	uint32_t port;
};

/* Parses the four forms; a bare absolute path means unix. -EINVAL names nothing: callers
 * print the string they passed. */
int rpc_addr_parse(const char *s, struct rpc_addr *ret);
/* A listening, non-blocking, close-on-exec socket for a unix or vsock address: the agent's
 * other vsock services (log port, debug console) listen the way the rpc server does. */
int rpc_addr_listen(const struct rpc_addr *a);

/* ---- server --------------------------------------------------------------------------------- */

struct rpc_server;
struct rpc_call;

typedef void (*rpc_handler)(struct rpc_call *call, void *request);

struct rpc_method {
	const char *name;
	const ProtobufCMessageDescriptor *input; /* NULL: the request payload is ignored */
	rpc_handler handler;			 /* NULL: answered UNIMPLEMENTED */
};

struct rpc_service {
	const char *name;
	const struct rpc_method *methods;
	size_t n_methods;
};

struct rpc_limits {
	unsigned max_connections;
	unsigned max_inflight; /* calls per connection, parked ones included */
	size_t output_pause;   /* queued reply bytes at which we stop reading a connection */
	size_t output_max;     /* queued reply bytes at which the connection is dropped */
};

extern const struct rpc_limits rpc_default_limits;

int rpc_server_new(struct ev_loop *loop, const struct rpc_limits *limits, void *userdata,
		   struct rpc_server **ret);
void rpc_server_free(struct rpc_server *s);
/* The service table must outlive the server. */
int rpc_server_add_service(struct rpc_server *s, const struct rpc_service *svc);
int rpc_server_listen(struct rpc_server *s, const char *addr);
/* Serves an already connected stream socket (socket activation, tests). Takes the fd. */
int rpc_server_adopt_fd(struct rpc_server *s, int fd);
/* Drops every connection (parked calls are cancelled) and stops listening. */
void rpc_server_shutdown(struct rpc_server *s);
unsigned rpc_server_connections(const struct rpc_server *s);

/* Access control (both hooks optional, one data pointer). accept: called with the peer
 * address of each accepted socket (not for virtio-serial ports, which have no peer); false
 * closes it at once, and the hook logs whom it refused. allow: called for each request
 * after its method is found and before its payload is decoded; false answers
 * PERMISSION_DENIED naming the method. */
typedef bool (*rpc_accept_fn)(const struct sockaddr *peer, socklen_t len, void *data);
typedef bool (*rpc_allow_fn)(const char *service, const char *method, void *data);
void rpc_server_set_access(struct rpc_server *s, rpc_accept_fn accept, rpc_allow_fn allow,
			   void *data);

void *rpc_call_userdata(const struct rpc_call *call);
const char *rpc_call_method(const struct rpc_call *call);
/* CLOCK_MONOTONIC deadline from timeout_nano, 0 = none. */
uint64_t rpc_call_deadline(const struct rpc_call *call);

void rpc_call_reply(struct rpc_call *call, const ProtobufCMessage *response);
void rpc_call_reply_error(struct rpc_call *call, int code, const char *fmt, ...) _printf_(3, 4);
/* Status from errno_to_rpc_code(err); the message is formatted with errno = err (%m works). */
void rpc_call_reply_errno(struct rpc_call *call, int err, const char *fmt, ...) _printf_(3, 4);

/* Replies with bulk bytes without copying them: an OK response whose payload message has only
 * the bytes field `field` set (ReadStreamResponse.data = 1), its bytes read by fill straight
 * into the connection's output queue. fill(buf, max, data) returns how many bytes it put in
 * buf (0: the empty message) or -errno. Returns the count sent, after which the call is gone;
 * or -errno (fill's, -ENOMEM, -EMSGSIZE when max does not fit a frame, -ECONNRESET when the
 * connection died inside the handler), with nothing sent and the call still open, to be
 * parked or answered. Queue limits apply as to any reply. */
typedef ssize_t (*rpc_fill_fn)(void *buf, size_t max, void *data);
ssize_t rpc_call_reply_bytes(struct rpc_call *call, uint32_t field, size_t max, rpc_fill_fn fill,
			     void *data);
/* A fill that is one read(2) of the fd data points to (EINTR retried). */
ssize_t rpc_fill_read(void *buf, size_t max, void *data);

/* The same from a pipe (a container's stdout), whose only reader the caller must be: up to max
 * of the bytes it holds (FIONREAD) are promised in the frame, then moved from the pipe to the
 * socket by splice(2) without passing through user space, as far as the socket takes them
 * (the rest is read into the queue). Used when nothing is queued before the reply and the
 * connection is a socket; otherwise, and for an empty pipe (EOF, -EAGAIN), it is
 * rpc_call_reply_bytes() with read(2). Same returns. */
ssize_t rpc_call_reply_pipe(struct rpc_call *call, uint32_t field, size_t max, int pipefd);

typedef void (*rpc_cancel_cb)(struct rpc_call *call, void *data);
void rpc_call_park(struct rpc_call *call, rpc_cancel_cb cancel, void *data);

/* ---- client (blocking; for emberctl, tests and benchmarks) --------------------------------- */

struct rpc_client;

struct rpc_status {
	int code;
	char message[512];
};

int rpc_client_connect(const char *addr, int timeout_ms, struct rpc_client **ret);
void rpc_client_free(struct rpc_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct rpc_client *, rpc_client_free)
int rpc_client_fd(const struct rpc_client *c);

/* One unary call. Returns < 0 on a transport failure; 0 when a response arrived: then
 * st->code says whether it succeeded, and on success *response holds the decoded reply
 * (free with protobuf_c_message_free_unpacked). timeout_ns 0 = none (also sent as
 * timeout_nano). */
int rpc_client_call(struct rpc_client *c, const char *service, const char *method,
		    const ProtobufCMessage *request,
		    const ProtobufCMessageDescriptor *response_desc, ProtobufCMessage **response,
		    uint64_t timeout_ns, struct rpc_status *st);
/* The same without decoding: *reply points at the response's protobuf bytes inside the
 * client's buffer, valid until the next call or recv on c (bulk replies decoded in place,
 * e.g. with ttrpc_bytes_field_decode()). */
int rpc_client_call_raw(struct rpc_client *c, const char *service, const char *method,
			const ProtobufCMessage *request, uint64_t timeout_ns, struct rpc_status *st,
			struct ttrpc_slice *reply);

/* Pipelining: send without waiting, then receive responses in arrival order. The received
 * payload points into the client's buffer until the next recv. */
int rpc_client_send(struct rpc_client *c, const char *service, const char *method,
		    const uint8_t *payload, size_t len, int64_t timeout_nano, uint32_t *stream_id);
int rpc_client_flush(struct rpc_client *c);
int rpc_client_recv(struct rpc_client *c, uint32_t *stream_id, struct rpc_status *st,
		    struct ttrpc_slice *payload);
/* True when a whole frame is already buffered: recv will not block (poll would not say so). */
bool rpc_client_has_frame(const struct rpc_client *c);
