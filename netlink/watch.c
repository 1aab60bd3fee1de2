/* SPDX-License-Identifier: Apache-2.0 */
/* Link events for the event loop: plain sockets, no libnl (it would read blocking). */
#include "net.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

int netlink_link_watch_open(void)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK, .nl_groups = RTMGRP_LINK};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

int netlink_link_watch_drain(int fd)
{
	/* Aligned for struct nlmsghdr. Event messages are small; 32 reads per call keep one
	 * burst of events from holding the loop, and level triggering brings us back. */
	_Alignas(struct nlmsghdr) char buf[8192];
	bool changed = false;

	for (int i = 0; i < 32; i++) {
		ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			if (errno == ENOBUFS) {
				/* The socket overflowed: events were lost, so look again. */
				changed = true;
				continue;
			}
			return -errno;
		}
		for (size_t off = 0; off + sizeof(struct nlmsghdr) <= (size_t)n;) {
			const struct nlmsghdr *h = (const struct nlmsghdr *)(buf + off);
			if (h->nlmsg_len < sizeof(*h) || off + h->nlmsg_len > (size_t)n)
				break;
			if (h->nlmsg_type == RTM_NEWLINK)
				changed = true;
			off += NLMSG_ALIGN(h->nlmsg_len);
		}
	}
	return changed;
}
