/* SPDX-License-Identifier: Apache-2.0 */
/* Routes: UpdateRoutes' replace and ListRoutes' dump. */
#include "internal.h"

#include <linux/rtnetlink.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_route *, rtnl_route_put)

void net_route_describe(const struct net_route *r, char *buf, size_t n)
{
	char dst[64] = "default", gw[64], src[64];
	size_t w;

	if (r->dst.prefixlen || !net_ip_is_zero(&r->dst))
		net_ip_format(&r->dst, true, dst, sizeof(dst));
	w = (size_t)snprintf(buf, n, "%s%s", r->dst.family == AF_INET6 ? "inet6 " : "", dst);
	if (r->gateway.family && w < n && net_ip_format(&r->gateway, false, gw, sizeof(gw)) >= 0)
		w += (size_t)snprintf(buf + w, n - w, " via %s", gw);
	if (r->device[0] && w < n)
		w += (size_t)snprintf(buf + w, n - w, " dev %s", r->device);
	if (r->src.family && w < n && net_ip_format(&r->src, true, src, sizeof(src)) >= 0)
		w += (size_t)snprintf(buf + w, n - w, " from %s", src);
	if (r->prefsrc.family && w < n && net_ip_format(&r->prefsrc, false, src, sizeof(src)) >= 0)
		snprintf(buf + w, n - w, " src %s", src);
}

static int route_set_addr(int (*set)(struct rtnl_route *, struct nl_addr *), struct rtnl_route *rt,
			  const struct net_ip *ip)
{
	_cleanup_(nl_addr_putp) struct nl_addr *a = nlw_addr_from_ip(ip);
	if (!a)
		return -ENOMEM;
	return set(rt, a) < 0 ? -EINVAL : 0;
}

int netlink_route_replace(struct netlink *nl, const struct net_route *r, struct net_err *err)
{
	_cleanup_(rtnl_route_putp) struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	char what[256];
	int ifindex = 0, k;

	net_route_describe(r, what, sizeof(what));
	if (!rt || !nh) {
		rtnl_route_nh_free(nh);
		return nlw_fail(NULL, err, -ENOMEM, "route %s", what);
	}
	rtnl_route_add_nexthop(rt, nh); /* rt owns nh now */
	if (r->device[0]) {
		ifindex = nlw_ifindex(nl, r->device, NULL);
		if (ifindex < 0)
			return nlw_fail(NULL, err, ifindex == -ENOENT ? -ENOENT : ifindex,
					"route %s: no link named '%s'", what, r->device);
		rtnl_route_nh_set_ifindex(nh, ifindex);
	}
	if (r->gateway.family) {
		_cleanup_(nl_addr_putp) struct nl_addr *gw = nlw_addr_from_ip(&r->gateway);
		if (!gw)
			return nlw_fail(NULL, err, -ENOMEM, "route %s", what);
		rtnl_route_nh_set_gateway(nh, gw); /* takes its own reference */
	}
	rtnl_route_set_family(rt, (uint8_t)r->dst.family);
	rtnl_route_set_table(rt, RT_TABLE_MAIN);
	rtnl_route_set_type(rt, RTN_UNICAST);
	rtnl_route_set_protocol(rt, RTPROT_BOOT);
	rtnl_route_set_scope(rt, r->scope);
	if (r->flags)
		rtnl_route_set_flags(rt, r->flags);
	if (r->mtu && rtnl_route_set_metric(rt, RTAX_MTU, r->mtu) < 0)
		return nlw_fail(NULL, err, -EINVAL, "route %s: MTU %u", what, r->mtu);
	if ((k = route_set_addr(rtnl_route_set_dst, rt, &r->dst)) < 0 ||
	    (r->src.family && (k = route_set_addr(rtnl_route_set_src, rt, &r->src)) < 0) ||
	    (r->prefsrc.family &&
	     (k = route_set_addr(rtnl_route_set_pref_src, rt, &r->prefsrc)) < 0))
		return nlw_fail(NULL, err, k, "route %s: address family mismatch", what);

	nlw_begin(nl);
	k = nlw_errno(nl, rtnl_route_add(nl->sk, rt, NLM_F_REPLACE));
	if (k < 0)
		return nlw_fail(nl, err, k, "route %s", what);
	return 0;
}

struct route_list {
	uint32_t table;
	struct net_route *v;
	size_t n, cap;
};

static int route_collect(struct nlmsghdr *h, void *data)
{
	struct route_list *l = data;
	_cleanup_(rtnl_route_putp) struct rtnl_route *rt = NULL;
	struct net_route r = {0};

	if (h->nlmsg_type != RTM_NEWROUTE)
		return 0;
	if (rtnl_route_parse(h, &rt) < 0)
		return 0; /* a route libnl cannot represent is not one we report */
	int family = rtnl_route_get_family(rt);
	if ((family != AF_INET && family != AF_INET6) || rtnl_route_get_table(rt) != l->table)
		return 0;
	r.table = rtnl_route_get_table(rt);
	r.scope = rtnl_route_get_scope(rt);
	r.protocol = rtnl_route_get_protocol(rt);
	r.type = rtnl_route_get_type(rt);
	r.flags = rtnl_route_get_flags(rt);
	if (nlw_addr_to_ip(rtnl_route_get_dst(rt), &r.dst) < 0) {
		/* No RTA_DST: the default route. */
		r.dst.family = family;
		r.dst.prefixlen = 0;
	}
	if (rtnl_route_get_src(rt))
		(void)nlw_addr_to_ip(rtnl_route_get_src(rt), &r.src);
	if (rtnl_route_get_pref_src(rt)) {
		(void)nlw_addr_to_ip(rtnl_route_get_pref_src(rt), &r.prefsrc);
		r.prefsrc.prefixlen = (uint8_t)(net_ip_len(r.prefsrc.family) * 8);
	}
	uint32_t mtu;
	if (rtnl_route_get_metric(rt, RTAX_MTU, &mtu) == 0)
		r.mtu = mtu;
	if (rtnl_route_get_nnexthops(rt) >= 1) {
		/* A multipath route reports its first hop, as Kata does (RTA_OIF/RTA_GATEWAY). */
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(rt, 0);
		r.ifindex = rtnl_route_nh_get_ifindex(nh);
		if (rtnl_route_nh_get_gateway(nh)) {
			(void)nlw_addr_to_ip(rtnl_route_nh_get_gateway(nh), &r.gateway);
			r.gateway.prefixlen = (uint8_t)(net_ip_len(r.gateway.family) * 8);
		}
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		struct net_route *v = reallocarray(l->v, cap, sizeof(*v));
		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = r;
	return 0;
}

int netlink_routes(struct netlink *nl, uint32_t table, struct net_route **ret, size_t *n,
		   struct net_err *err)
{
	struct route_list l = {.table = table};
	_cleanup_free_ struct net_link *links = NULL;
	size_t nlinks;
	int r;

	r = nlw_dump(nl, RTM_GETROUTE, AF_UNSPEC, route_collect, &l);
	if (r < 0) {
		free(l.v);
		return nlw_fail(nl, err, r, "list routes");
	}
	r = netlink_links(nl, &links, &nlinks, err);
	if (r < 0) {
		free(l.v);
		return r;
	}
	for (size_t i = 0; i < l.n; i++)
		for (size_t k = 0; k < nlinks; k++)
			if (links[k].ifindex == l.v[i].ifindex) {
				memcpy(l.v[i].device, links[k].name, sizeof(l.v[i].device));
				break;
			}
	*ret = l.v;
	*n = l.n;
	return 0;
}
