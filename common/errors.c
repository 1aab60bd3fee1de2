/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"

/* The single errno -> google.rpc.Code table. Handlers return -errno and the rpc layer
 * turns it into a status here, so every module agrees on what a failure means to the
 * host runtime. */
enum rpc_code errno_to_rpc_code(int err)
{
	switch (abs(err)) {
	case 0:
		return RPC_OK;
	case EINVAL:
	case ENAMETOOLONG:
	case EBADMSG:
	case ELOOP:
	case EXDEV:
	case ENOTDIR:
	case EISDIR:
	case EDOM:
		return RPC_INVALID_ARGUMENT;
	case ENOENT:
	case ESRCH:
	case ENODEV:
	case ENXIO:
		return RPC_NOT_FOUND;
	case EEXIST:
	case EADDRINUSE:
		return RPC_ALREADY_EXISTS;
	case EPERM:
	case EACCES:
	case EROFS:
		return RPC_PERMISSION_DENIED;
	case ENOMEM:
	case ENOSPC:
	case EMFILE:
	case ENFILE:
	case EAGAIN:
	case EMSGSIZE:
	case E2BIG:
	case EDQUOT:
		return RPC_RESOURCE_EXHAUSTED;
	case EBUSY:
	case ENOTEMPTY:
	case ENOTTY:
	case EPIPE:
	case ENOTCONN:
	case ECHILD:
	case ENOMEDIUM:
		return RPC_FAILED_PRECONDITION;
	case ETIMEDOUT:
	case ETIME:
		return RPC_DEADLINE_EXCEEDED;
	case ECANCELED:
		return RPC_CANCELLED;
	case ERANGE:
	case EOVERFLOW:
		return RPC_OUT_OF_RANGE;
	case ENOSYS:
	case EOPNOTSUPP:
	case EPROTONOSUPPORT:
	case EAFNOSUPPORT:
		return RPC_UNIMPLEMENTED;
	case ECONNRESET:
	case ECONNREFUSED:
	case EHOSTUNREACH:
	case ESHUTDOWN:
		return RPC_UNAVAILABLE;
	case EIO:
		return RPC_DATA_LOSS;
	default:
		return RPC_INTERNAL;
	}
}

static const char *const code_names[] = {
    [RPC_OK] = "OK",
    [RPC_CANCELLED] = "CANCELLED",
    [RPC_UNKNOWN] = "UNKNOWN",
    [RPC_INVALID_ARGUMENT] = "INVALID_ARGUMENT",
    [RPC_DEADLINE_EXCEEDED] = "DEADLINE_EXCEEDED",
    [RPC_NOT_FOUND] = "NOT_FOUND",
    [RPC_ALREADY_EXISTS] = "ALREADY_EXISTS",
    [RPC_PERMISSION_DENIED] = "PERMISSION_DENIED",
    [RPC_RESOURCE_EXHAUSTED] = "RESOURCE_EXHAUSTED",
    [RPC_FAILED_PRECONDITION] = "FAILED_PRECONDITION",
    [RPC_ABORTED] = "ABORTED",
    [RPC_OUT_OF_RANGE] = "OUT_OF_RANGE",
    [RPC_UNIMPLEMENTED] = "UNIMPLEMENTED",
    [RPC_INTERNAL] = "INTERNAL",
    [RPC_UNAVAILABLE] = "UNAVAILABLE",
    [RPC_DATA_LOSS] = "DATA_LOSS",
    [RPC_UNAUTHENTICATED] = "UNAUTHENTICATED",
};

const char *rpc_code_name(int code)
{
	if (code < 0 || (size_t)code >= ARRAY_SIZE(code_names))
		return "UNKNOWN";
	return code_names[code];
}

int rpc_code_from_name(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(code_names); i++)
		if (streq(s, code_names[i]))
			return (int)i;
	uint32_t v;
	if (parse_u32(s, &v) >= 0 && v < ARRAY_SIZE(code_names))
		return (int)v;
	return -EINVAL;
}

int safe_close(int fd)
{
	if (fd >= 0) {
		int saved = errno;
		close(fd);
		errno = saved;
	}
	return -1;
}

int errbuf_printf(char *err, size_t errsz, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errsz, fmt, ap);
	va_end(ap);
	return r;
}
