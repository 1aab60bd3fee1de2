/* SPDX-License-Identifier: Apache-2.0 */
/* Private to netlink/: the connection and the libnl error boundary. The nlw_ prefix keeps
 * these apart from libnl's own nl_ names in the static link. */
#pragma once

#include "net.h"

#include <sys/socket.h>
#include <netlink/netlink.h> /* before the other libnl headers, which assume it */
#include <netlink/addr.h>

struct netlink {
	struct nl_sock *sk;
	int kernel_err;	  /* -errno of the last NLMSG_ERROR the kernel sent, 0 when none */
	char extack[160]; /* its extended-ack message, "" when none */
};

/* Call before each libnl operation: forgets the previous kernel error. */
static inline void nlw_begin(struct netlink *nl)
{
	nl->kernel_err = 0;
	nl->extack[0] = '\0';
}

/* The -errno for a libnl return value r (>= 0: success, 0 returned). */
int nlw_errno(struct netlink *nl, int r);
/* Formats "<what>: <strerror(r)>[ (kernel: <extack>)]" into err; returns r. */
int nlw_fail(struct netlink *nl, struct net_err *err, int r, const char *fmt, ...) _printf_(4, 5);

/* An nl_addr of ip (with its prefix length); NULL on ENOMEM. */
struct nl_addr *nlw_addr_from_ip(const struct net_ip *ip);
/* ip from an nl_addr (family AF_INET/AF_INET6); -EAFNOSUPPORT for other families. */
int nlw_addr_to_ip(struct nl_addr *a, struct net_ip *ip);
/* The ifindex of a link by name via RTM_GETLINK; -ENOENT naming it. */
int nlw_ifindex(struct netlink *nl, const char *name, struct net_err *err);

/* Dumps (NLM_F_DUMP) one RTM_GET* request, calling fn for each reply message; a negative
 * return of fn stops and is returned. No libnl cache: a cache merges objects with equal
 * keys, and two links' fe80::/64 routes of equal metric would become one. */
int nlw_dump(struct netlink *nl, int type, int family, int (*fn)(struct nlmsghdr *h, void *data),
	     void *data);
/* Makes the link's addresses exactly addrs: deletes the others, adds these with replace. */
int nlw_link_set_addrs(struct netlink *nl, const struct net_link *l, const struct net_ip *addrs,
		       size_t n, struct net_err *err);

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_addr *, nl_addr_put)
