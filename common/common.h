/* SPDX-License-Identifier: Apache-2.0 */
/*
 * common: the code every ember binary shares.
 *
 * Contract:
 *  - Functions return >= 0 on success and -errno on failure. Nothing here
 *    logs an error it also returns.
 *  - Every fd created here is O_CLOEXEC.
 *  - The event loop is single-threaded: all callbacks run on the thread
 *    that called ev_loop_run(); no function here may be called from
 *    another thread except log_*.
 */
#pragma once

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef __GLIBC__
#include "libc-compat.h" /* musl: the guest binaries' libc */
#endif

/* ---- process contract between ember-init and ember-agent ---------------------- */

/* The agent exits with this status after DestroySandbox: init powers the VM off instead of
 * restarting the agent. Any other exit of the agent is a crash that init restarts. */
#define EMBER_EXIT_SANDBOX_DESTROYED 100

/* ---- small language helpers ------------------------------------------------ */

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define _unused_       __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_     __attribute__((noreturn))
#define likely(x)      __builtin_expect(!!(x), 1)
#define unlikely(x)    __builtin_expect(!!(x), 0)
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
#define STRLEN(s)			(sizeof(s) - 1)

static inline bool streq(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

static inline const char *startswith(const char *s, const char *prefix)
{
	size_t l = strlen(prefix);
	return strncmp(s, prefix, l) == 0 ? s + l : NULL;
}

/* ---- ownership ------------------------------------------------------------ */

#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}

static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}

static inline void fclosep(FILE **f)
{
	if (*f)
		fclose(*f);
}

#define _cleanup_free_	 _cleanup_(freep)
#define _cleanup_close_	 _cleanup_(closep)
#define _cleanup_fclose_ _cleanup_(fclosep)

#define TAKE_PTR(p)                                                                                \
	({                                                                                         \
		__typeof__(p) _p = (p);                                                            \
		(p) = NULL;                                                                        \
		_p;                                                                                \
	})
#define TAKE_FD(fd)                                                                                \
	({                                                                                         \
		int _fd = (fd);                                                                    \
		(fd) = -1;                                                                         \
		_fd;                                                                               \
	})

/* Defines name##p(type **) calling func(*p) when non-NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)                                                    \
	static inline void func##p(type *p)                                                        \
	{                                                                                          \
		if (*p)                                                                            \
			func(*p);                                                                  \
	}

/* close() that preserves errno and returns -1, for `fd = safe_close(fd)`. */
int safe_close(int fd);

/* ---- intrusive doubly linked list ------------------------------------------ */

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)                                                                       \
	{                                                                                          \
		&(name), &(name)                                                                   \
	}

static inline void list_init(struct list_head *h)
{
	h->next = h->prev = h;
}

static inline bool list_empty(const struct list_head *h)
{
	return h->next == h;
}

static inline void list_add_tail(struct list_head *h, struct list_head *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static inline void list_del(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = n;
}

#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define LIST_FOREACH(pos, head)	      for (pos = (head)->next; pos != (head); pos = pos->next)
#define LIST_FOREACH_SAFE(pos, tmp, head)                                                          \
	for (pos = (head)->next, tmp = pos->next; pos != (head); pos = tmp, tmp = pos->next)

/* ---- byte buffer ------------------------------------------------------------ */

/* A growable byte queue: data[head, len) holds unconsumed bytes. */
struct bytebuf {
	uint8_t *data;
	size_t head;
	size_t len;
	size_t cap;
};

size_t bytebuf_used(const struct bytebuf *b);
/* Makes room for n more bytes and returns where to write them. NULL = ENOMEM. */
uint8_t *bytebuf_reserve(struct bytebuf *b, size_t n);
int bytebuf_append(struct bytebuf *b, const void *p, size_t n);
void bytebuf_consume(struct bytebuf *b, size_t n);
void bytebuf_free(struct bytebuf *b);

/* ---- errors and rpc status codes -------------------------------------------- */

/* google.rpc.Code values, as carried in google.rpc.Status.code. */
enum rpc_code {
	RPC_OK = 0,
	RPC_CANCELLED = 1,
	RPC_UNKNOWN = 2,
	RPC_INVALID_ARGUMENT = 3,
	RPC_DEADLINE_EXCEEDED = 4,
	RPC_NOT_FOUND = 5,
	RPC_ALREADY_EXISTS = 6,
	RPC_PERMISSION_DENIED = 7,
	RPC_RESOURCE_EXHAUSTED = 8,
	RPC_FAILED_PRECONDITION = 9,
	RPC_ABORTED = 10,
	RPC_OUT_OF_RANGE = 11,
	RPC_UNIMPLEMENTED = 12,
	RPC_INTERNAL = 13,
	RPC_UNAVAILABLE = 14,
	RPC_DATA_LOSS = 15,
	RPC_UNAUTHENTICATED = 16,
};

/* Formats a message naming what failed into err (for an RPC reply) and returns r, so that
 * `return errbuf_printf(err, errsz, -EINVAL, "bad '%s'", x);` reports and fails in one go. */
int errbuf_printf(char *err, size_t errsz, int r, const char *fmt, ...) _printf_(4, 5);

/* The one errno -> status table. err may be positive or negative. */
enum rpc_code errno_to_rpc_code(int err);
/* "NOT_FOUND" etc; "UNKNOWN_CODE(n)" style text is never returned: unknown -> "UNKNOWN". */
const char *rpc_code_name(int code);
/* Parses "NOT_FOUND" or "5"; -EINVAL when neither. */
int rpc_code_from_name(const char *s);

/* ---- logging ------------------------------------------------------------------ */

enum log_level {
	LOG_LEVEL_CRITICAL = 0,
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARN,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_TRACE,
};

enum log_format {
	LOG_FORMAT_TEXT, /* "[  12.345] name: level subsystem: msg", ms since boot */
	LOG_FORMAT_JSON, /* Kata/slog JSON lines */
};

/* name: the program ("ember-agent"); source: Kata's "source" field ("agent"). */
void log_setup(const char *name, const char *source, enum log_format format);
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
void log_set_fd(int fd);
/* Log sink: when set, every formatted line (newline included, at most 4 KiB) goes to fn
 * instead of the log fd; NULL restores the fd. The agent's log port uses it to stream lines
 * to the host. fn runs on the logging thread, must not block and must not log. */
typedef void (*log_sink_fn)(const char *line, size_t len, void *data);
void log_set_sink(log_sink_fn fn, void *data);
/* Emits an already formatted line (e.g. one relayed from ember-init) like log_internal()
 * emits its own: to the sink when set, else with one write() to the log fd. */
void log_write_line(const char *line, size_t len);
/* Parses Kata's level names (critical/fatal/panic, error, warn/warning, info, debug, trace). */
int log_level_from_name(const char *s);
const char *log_level_name(enum log_level level);
int log_format_from_name(const char *s);

/* Returns -abs(err) (or 0 when err is 0) so callers can `return log_..._errno()`. errno is set
 * to abs(err) while formatting so that %m names it. */
int log_internal(enum log_level level, int err, const char *subsystem, const char *fmt, ...)
    _printf_(4, 5);

#ifndef LOG_SUBSYSTEM
#define LOG_SUBSYSTEM "root"
#endif

#define log_full_errno(level, err, ...)                                                            \
	({                                                                                         \
		int _l = (level), _e = (err);                                                      \
		_l <= (int)log_get_level() ? log_internal(_l, _e, LOG_SUBSYSTEM, __VA_ARGS__)      \
					   : -abs(_e);                                             \
	})
#define log_critical(...)	  log_full_errno(LOG_LEVEL_CRITICAL, 0, __VA_ARGS__)
#define log_error(...)		  log_full_errno(LOG_LEVEL_ERROR, 0, __VA_ARGS__)
#define log_warn(...)		  log_full_errno(LOG_LEVEL_WARN, 0, __VA_ARGS__)
#define log_info(...)		  log_full_errno(LOG_LEVEL_INFO, 0, __VA_ARGS__)
#define log_debug(...)		  log_full_errno(LOG_LEVEL_DEBUG, 0, __VA_ARGS__)
#define log_trace(...)		  log_full_errno(LOG_LEVEL_TRACE, 0, __VA_ARGS__)
#define log_error_errno(err, ...) log_full_errno(LOG_LEVEL_ERROR, err, __VA_ARGS__)
#define log_warn_errno(err, ...)  log_full_errno(LOG_LEVEL_WARN, err, __VA_ARGS__)
#define log_info_errno(err, ...)  log_full_errno(LOG_LEVEL_INFO, err, __VA_ARGS__)
#define log_debug_errno(err, ...) log_full_errno(LOG_LEVEL_DEBUG, err, __VA_ARGS__)

/* ---- time ------------------------------------------------------------------------ */

uint64_t now_monotonic_ns(void);
uint64_t now_boottime_ns(void);
#define NSEC_PER_SEC  1000000000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_USEC 1000ULL

/* ---- event loop ------------------------------------------------------------------- */

struct ev_loop;
struct ev_io;
struct ev_timer;

typedef void (*ev_io_cb)(struct ev_loop *loop, struct ev_io *io, uint32_t revents);
typedef void (*ev_timer_cb)(struct ev_loop *loop, struct ev_timer *t);

/* Embedded in its owner; the loop never allocates or frees watchers. */
struct ev_io {
	int fd;
	uint32_t events;
	ev_io_cb cb;
	void *data;
	bool active;
};

struct ev_timer {
	uint64_t deadline_ns; /* CLOCK_MONOTONIC */
	ev_timer_cb cb;
	void *data;
	size_t heap_index; /* SIZE_MAX when not armed */
};

int ev_loop_new(struct ev_loop **ret);
void ev_loop_free(struct ev_loop *loop);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct ev_loop *, ev_loop_free)

/* Registers fd for the EPOLL* events. The watcher must stay valid until ev_io_stop().
 * Stopping a watcher from any callback is safe, including one whose event is pending
 * in the same batch: it will not be called. */
int ev_io_start(struct ev_loop *loop, struct ev_io *io, int fd, uint32_t events, ev_io_cb cb,
		void *data);
int ev_io_modify(struct ev_loop *loop, struct ev_io *io, uint32_t events);
void ev_io_stop(struct ev_loop *loop, struct ev_io *io);

void ev_timer_init(struct ev_timer *t);
/* Arms (or re-arms) t for the absolute CLOCK_MONOTONIC deadline. */
int ev_timer_start(struct ev_loop *loop, struct ev_timer *t, uint64_t deadline_ns, ev_timer_cb cb,
		   void *data);
void ev_timer_stop(struct ev_loop *loop, struct ev_timer *t);
static inline bool ev_timer_armed(const struct ev_timer *t)
{
	return t->heap_index != SIZE_MAX;
}

/* Runs until ev_loop_exit(); returns the code passed to it. */
int ev_loop_run(struct ev_loop *loop);
void ev_loop_exit(struct ev_loop *loop, int code);

/* ---- kernel command line --------------------------------------------------------- */

/* Splits a command line into words the way the kernel does: whitespace separates words,
 * double quotes group (and are removed). Calls fn(key, value-or-NULL, data) for each
 * word; stops and returns fn's value when it is negative. */
int cmdline_foreach(const char *line, int (*fn)(const char *key, const char *value, void *data),
		    void *data);
/* Reads /proc/cmdline (or $EMBER_CMDLINE_FILE when set, for tests). */
int cmdline_read(char **ret);

/* Kata's boolean rule: true/false, yes/no, on/off, or a number (!= 0 is true). */
int parse_bool(const char *s);
/* Decimal (or 0x hex) unsigned with range check; -EINVAL / -ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
int parse_u32(const char *s, uint32_t *ret);
int parse_i64(const char *s, int64_t *ret);

/* ---- small fs helpers -------------------------------------------------------------- */

/* Reads at most max bytes of a file (NUL terminated); -EFBIG when larger. */
int read_file(const char *path, size_t max, char **ret, size_t *ret_len);
/* Writes s (no newline added) with one write(); for sysfs/procfs/cgroupfs files. */
int write_file(const char *path, const char *s);
int mkdir_p(const char *path, mode_t mode);
/* Removes path and what is below it without crossing into other filesystems: a mount point
 * below is left (-EBUSY reported, the rest still removed); symlinks are not followed. */
int rm_rf_same_fs(const char *path);
/* Full write/read loops on a blocking fd (EINTR-safe). */
int loop_write(int fd, const void *buf, size_t len);
ssize_t loop_read(int fd, void *buf, size_t len);
int fd_nonblock(int fd, bool nonblock);
