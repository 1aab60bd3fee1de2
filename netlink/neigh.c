/* SPDX-License-Identifier: Apache-2.0 */
/* Neighbours (ARP / NDP entries): AddARPNeighbors. */
#include "internal.h"

#include <netlink/route/neighbour.h>

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_neigh *, rtnl_neigh_put)

int netlink_neigh_replace(struct netlink *nl, const struct net_neigh *ng, struct net_err *err)
{
	_cleanup_(rtnl_neigh_putp) struct rtnl_neigh *n = rtnl_neigh_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *dst = nlw_addr_from_ip(&ng->dst);
	_cleanup_(nl_addr_putp) struct nl_addr *ll = NULL;
	char ip[64], mac[3 * NET_HWADDR_MAX];
	int ifindex, r;

	net_ip_format(&ng->dst, false, ip, sizeof(ip));
	net_hwaddr_format(ng->lladdr, ng->lladdr_len, mac, sizeof(mac));
	if (!n || !dst)
		return nlw_fail(NULL, err, -ENOMEM, "neighbour %s", ip);
	ifindex = nlw_ifindex(nl, ng->device, NULL);
	if (ifindex < 0)
		return nlw_fail(NULL, err, ifindex, "neighbour %s: no link named '%s'", ip,
				ng->device);
	rtnl_neigh_set_ifindex(n, ifindex);
	rtnl_neigh_set_family(n, ng->dst.family);
	/* A neighbour is a host: the address goes in without a prefix length. */
	nl_addr_set_prefixlen(dst, (int)net_ip_len(ng->dst.family) * 8);
	if (rtnl_neigh_set_dst(n, dst) < 0)
		return nlw_fail(NULL, err, -EINVAL, "neighbour %s", ip);
	if (ng->lladdr_len) {
		ll = nl_addr_build(AF_LLC, ng->lladdr, ng->lladdr_len);
		if (!ll)
			return nlw_fail(NULL, err, -ENOMEM, "neighbour %s", ip);
		rtnl_neigh_set_lladdr(n, ll);
	}
	rtnl_neigh_set_state(n, ng->state);
	if (ng->flags)
		rtnl_neigh_set_flags(n, ng->flags);
	nlw_begin(nl);
	r = nlw_errno(nl, rtnl_neigh_add(nl->sk, n, NLM_F_CREATE | NLM_F_REPLACE));
	if (r < 0)
		return nlw_fail(nl, err, r, "neighbour %s%s%s dev %s", ip, mac[0] ? " lladdr " : "",
				mac, ng->device);
	return 0;
}
