/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"

#include <time.h>

static struct {
	const char *name;
	const char *source;
	enum log_format format;
	enum log_level level;
	int fd;
	log_sink_fn sink;
	void *sink_data;
} log_cfg = {
    .name = "ember",
    .source = "ember",
    .format = LOG_FORMAT_TEXT,
    .level = LOG_LEVEL_INFO,
    .fd = STDERR_FILENO,
};

static const char *const level_names[] = {
    [LOG_LEVEL_CRITICAL] = "critical", [LOG_LEVEL_ERROR] = "error", [LOG_LEVEL_WARN] = "warning",
    [LOG_LEVEL_INFO] = "info",	       [LOG_LEVEL_DEBUG] = "debug", [LOG_LEVEL_TRACE] = "trace",
};

void log_setup(const char *name, const char *source, enum log_format format)
{
	log_cfg.name = name;
	log_cfg.source = source;
	log_cfg.format = format;
}

void log_set_level(enum log_level level)
{
	log_cfg.level = level;
}

enum log_level log_get_level(void)
{
	return log_cfg.level;
}

void log_set_fd(int fd)
{
	log_cfg.fd = fd;
}

void log_set_sink(log_sink_fn fn, void *data)
{
	log_cfg.sink_data = data;
	log_cfg.sink = fn;
}

void log_write_line(const char *line, size_t len)
{
	if (log_cfg.sink) {
		log_cfg.sink(line, len, log_cfg.sink_data);
		return;
	}
	ssize_t r = write(log_cfg.fd, line, len);
	(void)r;
}

const char *log_level_name(enum log_level level)
{
	return (size_t)level < ARRAY_SIZE(level_names) ? level_names[level] : "info";
}

int log_level_from_name(const char *s)
{
	static const struct {
		const char *name;
		enum log_level level;
	} names[] = {
	    {"critical", LOG_LEVEL_CRITICAL}, {"fatal", LOG_LEVEL_CRITICAL},
	    {"panic", LOG_LEVEL_CRITICAL},    {"error", LOG_LEVEL_ERROR},
	    {"warn", LOG_LEVEL_WARN},	      {"warning", LOG_LEVEL_WARN},
	    {"info", LOG_LEVEL_INFO},	      {"debug", LOG_LEVEL_DEBUG},
	    {"trace", LOG_LEVEL_TRACE},
	};
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcasecmp(s, names[i].name) == 0)
			return names[i].level;
	return -EINVAL;
}

int log_format_from_name(const char *s)
{
	if (streq(s, "json"))
		return LOG_FORMAT_JSON;
	if (streq(s, "text"))
		return LOG_FORMAT_TEXT;
	return -EINVAL;
}

uint64_t now_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

uint64_t now_boottime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

struct sbuf {
	char *p;
	size_t len, cap;
};

static void sb_putc(struct sbuf *b, char c)
{
	if (b->len + 1 < b->cap)
		b->p[b->len++] = c;
}

static void sb_puts(struct sbuf *b, const char *s)
{
	while (*s)
		sb_putc(b, *s++);
}

_printf_(2, 3) static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = MIN(b->len + (size_t)n, b->cap - 1);
}

/* JSON string escaping (RFC 8259): quote, backslash and control characters. */
static void sb_json_str(struct sbuf *b, const char *s)
{
	sb_putc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			sb_putc(b, '\\');
			sb_putc(b, (char)c);
		} else if (c == '\n') {
			sb_puts(b, "\\n");
		} else if (c == '\t') {
			sb_puts(b, "\\t");
		} else if (c < 0x20 || c == 0x7f) {
			sb_printf(b, "\\u%04x", c);
		} else {
			sb_putc(b, (char)c);
		}
	}
	sb_putc(b, '"');
}

int log_internal(enum log_level level, int err, const char *subsystem, const char *fmt, ...)
{
	int saved_errno = errno;
	char msg[2048], line[4096];
	va_list ap;

	errno = abs(err);
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	struct sbuf b = {line, 0, sizeof(line) - 1};
	if (log_cfg.format == LOG_FORMAT_JSON) {
		struct timespec ts;
		struct tm tm;
		char tbuf[40];
		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		strftime(tbuf, sizeof(tbuf), "%Y-%m-%dT%H:%M:%S", &tm);
		sb_puts(&b, "{\"msg\":");
		sb_json_str(&b, msg);
		sb_printf(&b,
			  ",\"level\":\"%s\",\"ts\":\"%s.%09ldZ\",\"name\":\"%s\",\"pid\":\"%d\","
			  "\"source\":\"%s\",\"subsystem\":",
			  level == LOG_LEVEL_WARN ? "WARN" : level_names[level], tbuf, ts.tv_nsec,
			  log_cfg.name, (int)getpid(), log_cfg.source);
		sb_json_str(&b, subsystem);
		sb_putc(&b, '}');
		/* slog prints upper-case levels; fix the case in place. */
		for (char *p = strstr(line, "\"level\":\"") + 9; *p && *p != '"'; p++)
			*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	} else {
		uint64_t t = now_boottime_ns();
		sb_printf(&b, "[%6llu.%03llu] %s: %s %s: %s",
			  (unsigned long long)(t / NSEC_PER_SEC),
			  (unsigned long long)(t % NSEC_PER_SEC / NSEC_PER_MSEC), log_cfg.name,
			  level_names[level], subsystem, msg);
	}
	line[b.len++] = '\n';
	/* One write per line so concurrent writers (init and agent on one console) never
	 * interleave within a line. */
	log_write_line(line, b.len);
	errno = saved_errno;
	return -abs(err);
}
