/* SPDX-License-Identifier: Apache-2.0 */
/* Interface addresses. */
#include "internal.h"

#include <netlink/cache.h>
#include <netlink/route/addr.h>

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_addr *, rtnl_addr_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)

int netlink_addrs(struct netlink *nl, int family, struct net_addr **ret, size_t *n,
		  struct net_err *err)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	int r;

	nlw_begin(nl);
	r = nlw_errno(nl, rtnl_addr_alloc_cache(nl->sk, &cache));
	if (r < 0)
		return nlw_fail(nl, err, r, "list addresses");
	size_t count = (size_t)nl_cache_nitems(cache), i = 0;
	_cleanup_free_ struct net_addr *addrs = calloc(count ? count : 1, sizeof(*addrs));
	if (!addrs)
		return nlw_fail(NULL, err, -ENOMEM, "list addresses");
	for (struct nl_object *o = nl_cache_get_first(cache); o && i < count;
	     o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;
		if (family != AF_UNSPEC && rtnl_addr_get_family(a) != family)
			continue;
		if (nlw_addr_to_ip(rtnl_addr_get_local(a), &addrs[i].ip) < 0)
			continue;
		addrs[i].ip.prefixlen = (uint8_t)rtnl_addr_get_prefixlen(a);
		addrs[i].ifindex = rtnl_addr_get_ifindex(a);
		i++;
	}
	*ret = TAKE_PTR(addrs);
	*n = i;
	return 0;
}

static bool ip_equal(const struct net_ip *a, const struct net_ip *b)
{
	return a->family == b->family && a->prefixlen == b->prefixlen &&
	       memcmp(a->addr, b->addr, net_ip_len(a->family)) == 0;
}

static struct rtnl_addr *addr_new(int ifindex, const struct net_ip *ip)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *a = rtnl_addr_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *local = nlw_addr_from_ip(ip);

	if (!a || !local || rtnl_addr_set_local(a, local) < 0)
		return NULL;
	rtnl_addr_set_ifindex(a, ifindex);
	rtnl_addr_set_prefixlen(a, ip->prefixlen);
	return TAKE_PTR(a);
}

static int addr_delete(struct netlink *nl, const struct net_link *l, const struct net_ip *ip,
		       struct net_err *err)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *a = addr_new(l->ifindex, ip);
	char s[64];
	int r;

	net_ip_format(ip, true, s, sizeof(s));
	if (!a)
		return nlw_fail(NULL, err, -ENOMEM, "link '%s': delete address %s", l->name, s);
	nlw_begin(nl);
	r = nlw_errno(nl, rtnl_addr_delete(nl->sk, a, 0));
	/* Deleting an IPv4 primary address takes its secondaries with it. */
	if (r == -EADDRNOTAVAIL || r == -ENOENT)
		return 0;
	if (r < 0)
		return nlw_fail(nl, err, r, "link '%s': delete address %s", l->name, s);
	return 0;
}

static int addr_replace(struct netlink *nl, const struct net_link *l, const struct net_ip *ip,
			struct net_err *err)
{
	_cleanup_(rtnl_addr_putp) struct rtnl_addr *a = addr_new(l->ifindex, ip);
	char s[64];
	int r;

	net_ip_format(ip, true, s, sizeof(s));
	if (!a)
		return nlw_fail(NULL, err, -ENOMEM, "link '%s': add address %s", l->name, s);
	/* Like `ip addr add A/N brd +`: the broadcast address of the subnet, except for /31 and
	 * /32, which have none (RFC 3021). */
	if (ip->family == AF_INET && ip->prefixlen < 31) {
		struct net_ip brd = *ip;
		uint32_t v;
		memcpy(&v, brd.addr, 4);
		v = htonl(ntohl(v) | (0xffffffffu >> ip->prefixlen));
		memcpy(brd.addr, &v, 4);
		brd.prefixlen = 32;
		_cleanup_(nl_addr_putp) struct nl_addr *b = nlw_addr_from_ip(&brd);
		if (!b || rtnl_addr_set_broadcast(a, b) < 0)
			return nlw_fail(NULL, err, -ENOMEM, "link '%s': add address %s", l->name,
					s);
	}
	nlw_begin(nl);
	r = nlw_errno(nl, rtnl_addr_add(nl->sk, a, NLM_F_REPLACE));
	if (r < 0)
		return nlw_fail(nl, err, r, "link '%s': add address %s", l->name, s);
	return 0;
}

int nlw_link_set_addrs(struct netlink *nl, const struct net_link *l, const struct net_ip *addrs,
		       size_t n, struct net_err *err)
{
	_cleanup_free_ struct net_addr *cur = NULL;
	size_t ncur;
	int r;

	r = netlink_addrs(nl, AF_UNSPEC, &cur, &ncur, err);
	if (r < 0)
		return r;
	/* Kata deletes every address of the link and adds the requested ones; keeping those
	 * that are requested anyway has the same result without dropping them for a moment. */
	for (size_t i = 0; i < ncur; i++) {
		bool wanted = false;
		if (cur[i].ifindex != l->ifindex)
			continue;
		for (size_t k = 0; k < n && !wanted; k++)
			wanted = ip_equal(&cur[i].ip, &addrs[k]);
		if (!wanted && (r = addr_delete(nl, l, &cur[i].ip, err)) < 0)
			return r;
	}
	for (size_t k = 0; k < n; k++)
		if ((r = addr_replace(nl, l, &addrs[k], err)) < 0)
			return r;
	return 0;
}

bool net_ipv6_enabled(const char *ifname)
{
	char path[128];
	_cleanup_free_ char *v = NULL;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 ifname && *ifname ? ifname : "all");
	if (read_file(path, 64, &v, NULL) < 0)
		return false;
	return v[0] == '0';
}
