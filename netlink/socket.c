/* SPDX-License-Identifier: Apache-2.0 */
/* The rtnetlink connection and the boundary where libnl's error space becomes -errno. */
#include "internal.h"

#include <linux/netlink.h>
#include <netlink/errno.h>
#include <netlink/handlers.h>
#include <netlink/msg.h>
#include <netlink/route/rtnl.h>
#include <netlink/socket.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* libnl folds the kernel's errno into -NLE_* (nl_syserr2nlerr) and maps everything it does
 * not know, ENETUNREACH included, to NLE_FAILURE. The kernel's own errno is kept by
 * nlw_on_error(); this table only covers errors libnl raises itself. */
static int nle_to_errno(int nle)
{
	switch (abs(nle)) {
	case NLE_SUCCESS:
		return 0;
	case NLE_INTR:
	case NLE_DUMP_INTR:
		return EINTR;
	case NLE_BAD_SOCK:
		return EBADF;
	case NLE_AGAIN:
		return EAGAIN;
	case NLE_NOMEM:
		return ENOMEM;
	case NLE_EXIST:
		return EEXIST;
	case NLE_INVAL:
	case NLE_MISSING_ATTR:
	case NLE_AF_MISMATCH:
	case NLE_OBJ_MISMATCH:
	case NLE_PARSE_ERR:
		return EINVAL;
	case NLE_RANGE:
	case NLE_ATTRSIZE:
		return ERANGE;
	case NLE_MSGSIZE:
	case NLE_MSG_OVERFLOW:
	case NLE_MSG_TRUNC:
		return EMSGSIZE;
	case NLE_OPNOTSUPP:
	case NLE_SRCRT_NOSUPPORT:
	case NLE_MSGTYPE_NOSUPPORT:
		return EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:
		return EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:
	case NLE_NOATTR:
	case NLE_NOCACHE:
	case NLE_PKTLOC_FILE:
		return ENOENT;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TOOSHORT:
		return EPROTO;
	case NLE_NOADDR:
		return EADDRNOTAVAIL;
	case NLE_BUSY:
		return EBUSY;
	case NLE_PROTO_MISMATCH:
		return EPROTONOSUPPORT;
	case NLE_NOACCESS:
		return EACCES;
	case NLE_PERM:
	case NLE_IMMUTABLE:
		return EPERM;
	case NLE_NODEV:
		return ENODEV;
	default:
		return EIO;
	}
}

int nlw_errno(struct netlink *nl, int r)
{
	if (r >= 0)
		return 0;
	if (nl && nl->kernel_err)
		return nl->kernel_err;
	return -nle_to_errno(r);
}

int nlw_fail(struct netlink *nl, struct net_err *err, int r, const char *fmt, ...)
{
	va_list ap;
	size_t w;

	if (!err)
		return r;
	va_start(ap, fmt);
	int k = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	w = k < 0 ? 0 : MIN((size_t)k, sizeof(err->msg) - 1);
	snprintf(err->msg + w, sizeof(err->msg) - w, ": %s%s%s%s", strerror(-r),
		 nl && nl->extack[0] ? " (kernel: " : "", nl ? nl->extack : "",
		 nl && nl->extack[0] ? ")" : "");
	return r;
}

/* Keeps the kernel's errno and its extended-ack text (NLMSGERR_ATTR_MSG, e.g. "Nexthop has
 * invalid gateway"), then lets libnl fail the operation as usual. The nlmsgerr sits right
 * after its netlink header in the received datagram, and the TLVs follow the echoed request
 * header (the request body is not echoed: NETLINK_CAP_ACK). */
static int nlw_on_error(struct sockaddr_nl *nla _unused_, struct nlmsgerr *e, void *arg)
{
	struct netlink *nl = arg;
	const struct nlmsghdr *h = (const struct nlmsghdr *)((const char *)e - NLMSG_HDRLEN);

	nl->kernel_err = e->error < 0 ? e->error : -e->error;
	nl->extack[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || h->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return NL_STOP;
	size_t off = sizeof(*e);
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len > NLMSG_HDRLEN ? e->msg.nlmsg_len - NLMSG_HDRLEN : 0;
	size_t total = h->nlmsg_len - NLMSG_HDRLEN;
	const char *p = (const char *)e + off, *end = (const char *)e + total;
	while (p + sizeof(struct nlattr) <= end) {
		const struct nlattr *a = (const struct nlattr *)p;
		if (a->nla_len < sizeof(*a) || p + a->nla_len > end)
			break;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			const char *s = p + NLA_HDRLEN;
			size_t len = strnlen(s, a->nla_len - NLA_HDRLEN);
			len = MIN(len, sizeof(nl->extack) - 1);
			for (size_t i = 0; i < len; i++)
				nl->extack[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
			nl->extack[len] = '\0';
			break;
		}
		p += NLA_ALIGN(a->nla_len);
	}
	return NL_STOP;
}

int netlink_open(struct netlink **ret, struct net_err *err)
{
	_cleanup_free_ struct netlink *nl = calloc(1, sizeof(*nl));
	int one = 1, r;

	if (!nl)
		return nlw_fail(NULL, err, -ENOMEM, "rtnetlink");
	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return nlw_fail(NULL, err, -ENOMEM, "rtnetlink");
	r = nl_socket_modify_err_cb(nl->sk, NL_CB_CUSTOM, nlw_on_error, nl);
	if (r >= 0)
		r = nl_connect(nl->sk, NETLINK_ROUTE); /* SOCK_CLOEXEC since libnl 3.2.26 */
	if (r < 0) {
		nl_socket_free(nl->sk);
		return nlw_fail(NULL, err, -nle_to_errno(r), "rtnetlink socket");
	}
	/* Best effort: kernels without extended acks still report the errno. */
	int fd = nl_socket_get_fd(nl->sk);
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	*ret = TAKE_PTR(nl);
	return 0;
}

void netlink_close(struct netlink *nl)
{
	if (!nl)
		return;
	nl_socket_free(nl->sk); /* closes the fd */
	free(nl);
}

struct nl_addr *nlw_addr_from_ip(const struct net_ip *ip)
{
	struct nl_addr *a = nl_addr_build(ip->family, ip->addr, net_ip_len(ip->family));
	if (a)
		nl_addr_set_prefixlen(a, ip->prefixlen);
	return a;
}

int nlw_addr_to_ip(struct nl_addr *a, struct net_ip *ip)
{
	int family = a ? nl_addr_get_family(a) : 0;
	size_t len = net_ip_len(family);

	if (!len || nl_addr_get_len(a) != len)
		return -EAFNOSUPPORT;
	memset(ip, 0, sizeof(*ip));
	ip->family = family;
	memcpy(ip->addr, nl_addr_get_binary_addr(a), len);
	ip->prefixlen = (uint8_t)nl_addr_get_prefixlen(a);
	return 0;
}

struct dump_ctx {
	int (*fn)(struct nlmsghdr *h, void *data);
	void *data;
	int err;
};

static int dump_valid(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *ctx = arg;
	ctx->err = ctx->fn(nlmsg_hdr(msg), ctx->data);
	return ctx->err < 0 ? NL_STOP : NL_OK;
}

int nlw_dump(struct netlink *nl, int type, int family, int (*fn)(struct nlmsghdr *h, void *data),
	     void *data)
{
	struct dump_ctx ctx = {fn, data, 0};
	struct nl_cb *sk_cb = nl_socket_get_cb(nl->sk);
	struct nl_cb *cb = sk_cb ? nl_cb_clone(sk_cb) : NULL;
	int r;

	nl_cb_put(sk_cb);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_valid, &ctx);
	nlw_begin(nl);
	r = nl_rtgen_request(nl->sk, type, family, NLM_F_DUMP);
	if (r >= 0)
		r = nl_recvmsgs(nl->sk, cb);
	nl_cb_put(cb);
	if (ctx.err < 0)
		return ctx.err;
	return nlw_errno(nl, r);
}
