/* SPDX-License-Identifier: Apache-2.0 */
#include "transport.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/vm_sockets.h>

int rpc_addr_parse(const char *s, struct rpc_addr *a)
{
	const char *rest;

	memset(a, 0, sizeof(*a));
	if (s[0] == '/') {
		a->kind = RPC_ADDR_UNIX;
		rest = s;
	} else if ((rest = startswith(s, "unix://"))) {
		a->kind = RPC_ADDR_UNIX;
	} else if ((rest = startswith(s, "serial://"))) {
		a->kind = RPC_ADDR_SERIAL;
	} else if ((rest = startswith(s, "vsock://"))) {
		a->kind = RPC_ADDR_VSOCK;
		const char *colon = strrchr(rest, ':');
		if (!colon || colon == rest)
			return -EINVAL;
		char cid[16];
		if ((size_t)(colon - rest) >= sizeof(cid))
			return -EINVAL;
		memcpy(cid, rest, (size_t)(colon - rest));
		cid[colon - rest] = '\0';
		if (streq(cid, "-1") || streq(cid, "any"))
			a->cid = VMADDR_CID_ANY;
		else if (parse_u32(cid, &a->cid) < 0)
			return -EINVAL;
		if (parse_u32(colon + 1, &a->port) < 0)
			return -EINVAL;
		return 0;
	} else if ((rest = startswith(s, "hvsock://"))) {
		a->kind = RPC_ADDR_HVSOCK;
		const char *colon = strrchr(rest, ':');
		if (!colon || colon == rest || parse_u32(colon + 1, &a->port) < 0)
			return -EINVAL;
		if ((size_t)(colon - rest) >= sizeof(a->path))
			return -ENAMETOOLONG;
		memcpy(a->path, rest, (size_t)(colon - rest));
		return a->path[0] == '/' ? 0 : -EINVAL;
	} else {
		return -EINVAL;
	}
	if (!*rest)
		return -EINVAL;
	if (strlen(rest) >= sizeof(a->path))
		return -ENAMETOOLONG;
	strcpy(a->path, rest);
	return 0;
}

static socklen_t unix_sockaddr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	size_t l = strlen(path);
	memcpy(sun->sun_path, path, l);
	if (path[0] == '@') /* abstract namespace, as ttrpc-rust's unix://@name */
		sun->sun_path[0] = '\0';
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + l + (path[0] == '@' ? 0 : 1));
}

int transport_listen(const struct rpc_addr *a)
{
	_cleanup_close_ int fd = -1;

	if (a->kind == RPC_ADDR_UNIX) {
		/* A path shows up at bind(), before listen(): whoever waits for the file (a
		 * supervisor, the tests) could connect in between and be refused. So the socket
		 * is bound under a temporary name and renamed into place once it listens. */
		char tmp[sizeof(a->path) + 8];
		bool named = a->path[0] != '@';
		if (named && (size_t)snprintf(tmp, sizeof(tmp), "%s.new", a->path) >=
				 sizeof(((struct sockaddr_un *)0)->sun_path))
			named = false; /* no room for the suffix: bind in place */
		struct sockaddr_un sun;
		socklen_t sl = unix_sockaddr(named ? tmp : a->path, &sun);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (a->path[0] != '@')
			(void)unlink(named ? tmp : a->path); /* a stale socket */
		if (bind(fd, (struct sockaddr *)&sun, sl) < 0)
			return -errno;
		if (listen(fd, 64) < 0 || (named && rename(tmp, a->path) < 0)) {
			int r = -errno;
			if (named)
				(void)unlink(tmp);
			return r;
		}
		return TAKE_FD(fd);
	} else if (a->kind == RPC_ADDR_VSOCK) {
		struct sockaddr_vm svm = {
		    .svm_family = AF_VSOCK,
		    .svm_cid = a->cid,
		    .svm_port = a->port,
		};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (fd < 0)
			return -errno;
		if (bind(fd, (struct sockaddr *)&svm, sizeof(svm)) < 0)
			return -errno;
	} else {
		return -EOPNOTSUPP;
	}
	if (listen(fd, 64) < 0)
		return -errno;
	return TAKE_FD(fd);
}

static int connect_timeout(int fd, const struct sockaddr *sa, socklen_t sl, int timeout_ms)
{
	int r = fd_nonblock(fd, true);
	if (r < 0)
		return r;
	if (connect(fd, sa, sl) < 0) {
		if (errno != EINPROGRESS)
			return -errno;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		r = poll(&p, 1, timeout_ms);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) < 0)
			return -errno;
		if (err)
			return -err;
	}
	return fd_nonblock(fd, false);
}

/* Hybrid vsock (Firecracker, Cloud Hypervisor): the VMM's unix socket forwards to the guest
 * port after "CONNECT <port>\n" is answered with a line starting "OK". */
static int hvsock_handshake(int fd, uint32_t port, int timeout_ms)
{
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	int r = loop_write(fd, line, (size_t)n);
	if (r < 0)
		return r;
	/* Read byte by byte: nothing after the newline belongs to the handshake. */
	size_t len = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		r = poll(&p, 1, timeout_ms);
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		char c;
		ssize_t k = read(fd, &c, 1);
		if (k < 0)
			return -errno;
		if (k == 0)
			return -ECONNRESET;
		if (c == '\n')
			break;
		if (len + 1 >= sizeof(line))
			return -EPROTO;
		line[len++] = c;
	}
	line[len] = '\0';
	return startswith(line, "OK") ? 0 : -ECONNREFUSED;
}

int transport_connect(const struct rpc_addr *a, int timeout_ms)
{
	_cleanup_close_ int fd = -1;
	int r;

	switch (a->kind) {
	case RPC_ADDR_UNIX:
	case RPC_ADDR_SERIAL: /* the host end of a virtio-serial port is a unix socket */
	case RPC_ADDR_HVSOCK: {
		struct sockaddr_un sun;
		socklen_t sl = unix_sockaddr(a->path, &sun);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		r = connect_timeout(fd, (struct sockaddr *)&sun, sl, timeout_ms);
		if (r < 0)
			return r;
		if (a->kind == RPC_ADDR_HVSOCK) {
			r = hvsock_handshake(fd, a->port, timeout_ms);
			if (r < 0)
				return r;
		}
		break;
	}
	case RPC_ADDR_VSOCK: {
		struct sockaddr_vm svm = {
		    .svm_family = AF_VSOCK,
		    .svm_cid = a->cid,
		    .svm_port = a->port,
		};
		fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		r = connect_timeout(fd, (struct sockaddr *)&svm, sizeof(svm), timeout_ms);
		if (r < 0)
			return r;
		break;
	}
	default:
		return -EINVAL;
	}
	return TAKE_FD(fd);
}
