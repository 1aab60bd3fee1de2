/* SPDX-License-Identifier: Apache-2.0 */
/* Links: listing, lookup, and UpdateInterface's configuration sequence. */
#include "internal.h"

#include <linux/if.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

DEFINE_TRIVIAL_CLEANUP_FUNC(struct rtnl_link *, rtnl_link_put)
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cache *, nl_cache_free)

static void link_from_rtnl(struct rtnl_link *l, struct net_link *out)
{
	struct nl_addr *a = rtnl_link_get_addr(l);
	const char *name = rtnl_link_get_name(l), *kind = rtnl_link_get_type(l);

	memset(out, 0, sizeof(*out));
	out->ifindex = rtnl_link_get_ifindex(l);
	snprintf(out->name, sizeof(out->name), "%s", name ? name : "");
	if (a) {
		out->hwaddr_len = MIN((size_t)nl_addr_get_len(a), sizeof(out->hwaddr));
		memcpy(out->hwaddr, nl_addr_get_binary_addr(a), out->hwaddr_len);
	}
	out->mtu = rtnl_link_get_mtu(l);
	out->flags = rtnl_link_get_flags(l);
	snprintf(out->kind, sizeof(out->kind), "%s", kind ? kind : "");
}

static int cmp_ifindex(const void *a, const void *b)
{
	const struct net_link *x = a, *y = b;
	return (x->ifindex > y->ifindex) - (x->ifindex < y->ifindex);
}

int netlink_links(struct netlink *nl, struct net_link **ret, size_t *n, struct net_err *err)
{
	_cleanup_(nl_cache_freep) struct nl_cache *cache = NULL;
	int r;

	nlw_begin(nl);
	r = nlw_errno(nl, rtnl_link_alloc_cache(nl->sk, AF_UNSPEC, &cache));
	if (r < 0)
		return nlw_fail(nl, err, r, "list links");
	size_t count = (size_t)nl_cache_nitems(cache), i = 0;
	_cleanup_free_ struct net_link *links = calloc(count ? count : 1, sizeof(*links));
	if (!links)
		return nlw_fail(NULL, err, -ENOMEM, "list links");
	for (struct nl_object *o = nl_cache_get_first(cache); o && i < count;
	     o = nl_cache_get_next(o))
		link_from_rtnl((struct rtnl_link *)o, &links[i++]);
	qsort(links, i, sizeof(*links), cmp_ifindex);
	*ret = TAKE_PTR(links);
	*n = i;
	return 0;
}

int netlink_link_by_mac(struct netlink *nl, const uint8_t mac[NET_MAC_LEN], struct net_link *ret,
			struct net_err *err)
{
	_cleanup_free_ struct net_link *links = NULL;
	size_t n;
	char m[3 * NET_HWADDR_MAX];
	int r;

	/* The kernel cannot filter a link dump by address: dump and compare. */
	r = netlink_links(nl, &links, &n, err);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		if (links[i].hwaddr_len == NET_MAC_LEN &&
		    memcmp(links[i].hwaddr, mac, NET_MAC_LEN) == 0) {
			*ret = links[i];
			return 0;
		}
	net_hwaddr_format(mac, NET_MAC_LEN, m, sizeof(m));
	return nlw_fail(NULL, err, -ENOENT, "no link has MAC address %s", m);
}

int netlink_link_by_name(struct netlink *nl, const char *name, struct net_link *ret,
			 struct net_err *err)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *l = NULL;
	int r;

	if (!net_ifname_valid(name))
		return nlw_fail(NULL, err, -EINVAL, "invalid link name '%s'", name ? name : "");
	nlw_begin(nl);
	r = nlw_errno(nl, rtnl_link_get_kernel(nl->sk, 0, name, &l));
	if (r == -ENODEV || r == -ENOENT)
		return nlw_fail(NULL, err, -ENOENT, "no link named '%s'", name);
	if (r < 0)
		return nlw_fail(nl, err, r, "look up link '%s'", name);
	link_from_rtnl(l, ret);
	return 0;
}

int nlw_ifindex(struct netlink *nl, const char *name, struct net_err *err)
{
	struct net_link l;
	int r = netlink_link_by_name(nl, name, &l, err);
	return r < 0 ? r : l.ifindex;
}

/* One RTM_NEWLINK (libnl falls back to RTM_SETLINK) changing only what `changes` holds. */
static int link_change(struct netlink *nl, int ifindex, struct rtnl_link *changes)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *orig = rtnl_link_alloc();

	if (!orig)
		return -ENOMEM;
	rtnl_link_set_ifindex(orig, ifindex);
	nlw_begin(nl);
	return nlw_errno(nl, rtnl_link_change(nl->sk, orig, changes, 0));
}

static int link_set_flags(struct netlink *nl, const struct net_link *l, unsigned set,
			  unsigned clear, struct net_err *err)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *c = rtnl_link_alloc();
	if (!c)
		return nlw_fail(NULL, err, -ENOMEM, "link '%s'", l->name);
	if (set)
		rtnl_link_set_flags(c, set);
	if (clear)
		rtnl_link_unset_flags(c, clear);
	int r = link_change(nl, l->ifindex, c);
	if (r < 0)
		return nlw_fail(nl, err, r, "link '%s': set %s%s%s", l->name,
				set & IFF_UP	 ? "up"
				: clear & IFF_UP ? "down"
						 : "flags",
				set & IFF_NOARP ? ", arp off" : "",
				clear & IFF_NOARP ? ", arp on" : "");
	return 0;
}

static int link_set_name(struct netlink *nl, const struct net_link *l, const char *name,
			 struct net_err *err)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *c = rtnl_link_alloc();
	if (!c)
		return nlw_fail(NULL, err, -ENOMEM, "link '%s'", l->name);
	rtnl_link_set_name(c, name);
	int r = link_change(nl, l->ifindex, c);
	if (r < 0)
		return nlw_fail(nl, err, r, "rename link '%s' to '%s'", l->name, name);
	return 0;
}

static int link_set_mtu(struct netlink *nl, const struct net_link *l, uint32_t mtu,
			struct net_err *err)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *c = rtnl_link_alloc();
	if (!c)
		return nlw_fail(NULL, err, -ENOMEM, "link '%s'", l->name);
	rtnl_link_set_mtu(c, mtu);
	int r = link_change(nl, l->ifindex, c);
	if (r < 0)
		return nlw_fail(nl, err, r, "link '%s': set MTU %u", l->name, mtu);
	return 0;
}

static int link_set_mac(struct netlink *nl, const struct net_link *l, const uint8_t *mac,
			struct net_err *err)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *c = rtnl_link_alloc();
	_cleanup_(nl_addr_putp) struct nl_addr *a = nl_addr_build(AF_LLC, mac, NET_MAC_LEN);
	char m[3 * NET_MAC_LEN];

	net_hwaddr_format(mac, NET_MAC_LEN, m, sizeof(m));
	if (!c || !a)
		return nlw_fail(NULL, err, -ENOMEM, "link '%s'", l->name);
	rtnl_link_set_addr(c, a);
	int r = link_change(nl, l->ifindex, c);
	if (r < 0)
		return nlw_fail(nl, err, r, "link '%s': set MAC address %s", l->name, m);
	return 0;
}

int netlink_link_ensure_up(struct netlink *nl, const char *name, struct net_err *err)
{
	struct net_link l;
	int r = netlink_link_by_name(nl, name, &l, err);
	if (r < 0)
		return r;
	if (l.flags & IFF_UP)
		return 0;
	r = link_set_flags(nl, &l, IFF_UP, 0, err);
	return r < 0 ? r : 1;
}

static int link_refresh(struct netlink *nl, struct net_link *l, struct net_err *err)
{
	_cleanup_(rtnl_link_putp) struct rtnl_link *k = NULL;
	nlw_begin(nl);
	int r = nlw_errno(nl, rtnl_link_get_kernel(nl->sk, l->ifindex, NULL, &k));
	if (r < 0)
		return nlw_fail(nl, err, r, "read back link %d ('%s')", l->ifindex, l->name);
	link_from_rtnl(k, l);
	return 0;
}

/* The name a displaced link holds while the target takes its name: Kata's "<name>_temp",
 * shortened so that it stays a valid name (Kata's fails for names over 10 characters). */
static void temp_name(const char *name, char out[NET_IFNAME_MAX])
{
	snprintf(out, NET_IFNAME_MAX, "%.*s_temp", NET_IFNAME_MAX - 1 - 5, name);
}

int netlink_iface_configure(struct netlink *nl, const struct net_iface_config *c,
			    struct net_link *result, struct net_err *err)
{
	const char *want = c->name && *c->name ? c->name : NULL;
	struct net_link target, other;
	_cleanup_free_ struct net_ip *addrs = NULL; /* before any goto undo */
	size_t n_addrs = 0;
	bool displaced = false, was_up;
	int skipped = 0;
	char mac[3 * NET_MAC_LEN], old_name[NET_IFNAME_MAX], tmp[NET_IFNAME_MAX];
	int r;

	if (want && !net_ifname_valid(want))
		return nlw_fail(NULL, err, -EINVAL, "invalid interface name '%s'", want);
	if (!c->mac && !want)
		return nlw_fail(NULL, err, -EINVAL,
				"interface has neither a MAC address nor a name");
	if (c->mac)
		net_hwaddr_format(c->mac, NET_MAC_LEN, mac, sizeof(mac));

	/* 1. The link: by MAC; else the one at the device path, else by name; then it takes
	 * the MAC (VFIO NICs, VM templating). */
	r = c->mac ? netlink_link_by_mac(nl, c->mac, &target, err) : -ENOENT;
	if (r == -ENOENT && c->ifname)
		r = netlink_link_by_name(nl, c->ifname, &target, err);
	if (r == -ENOENT && want) {
		r = netlink_link_by_name(nl, want, &target, err);
		if (r == -ENOENT && c->mac)
			return nlw_fail(NULL, err, -ENOENT,
					"no link has MAC address %s or name '%s'", mac, want);
	}
	if (r < 0)
		return r;
	snprintf(old_name, sizeof(old_name), "%s", target.name);
	was_up = target.flags & IFF_UP;

	/* 2. Down while it changes: renames need it, and nothing half-configured is used. */
	if (target.flags & IFF_UP) {
		r = link_set_flags(nl, &target, 0, IFF_UP, err);
		if (r < 0)
			return r;
	}
	if (c->mac &&
	    (target.hwaddr_len != NET_MAC_LEN || memcmp(target.hwaddr, c->mac, NET_MAC_LEN) != 0)) {
		r = link_set_mac(nl, &target, c->mac, err);
		if (r < 0)
			goto undo;
	}

	/* 3. Addresses. IPv6 ones are skipped where IPv6 is disabled: the kernel would refuse
	 * them (EACCES), and a guest booted with ipv6.disable=1 must still get its IPv4. */
	addrs = calloc(c->n_addrs ? c->n_addrs : 1, sizeof(*addrs));
	if (!addrs) {
		r = nlw_fail(NULL, err, -ENOMEM, "link '%s'", target.name);
		goto undo;
	}
	for (size_t i = 0; i < c->n_addrs; i++) {
		if (c->addrs[i].family == AF_INET6 && !net_ipv6_enabled(target.name))
			skipped++;
		else
			addrs[n_addrs++] = c->addrs[i];
	}
	r = nlw_link_set_addrs(nl, &target, addrs, n_addrs, err);
	if (r < 0)
		goto undo;

	/* 4. Another link holding the name steps aside. */
	if (want && !streq(want, target.name)) {
		r = netlink_link_by_name(nl, want, &other, NULL);
		if (r >= 0 && other.ifindex != target.ifindex) {
			temp_name(want, tmp);
			if (other.flags & IFF_UP) {
				r = link_set_flags(nl, &other, 0, IFF_UP, err);
				if (r < 0)
					goto undo;
			}
			r = link_set_name(nl, &other, tmp, err);
			if (r < 0)
				goto undo;
			snprintf(other.name, sizeof(other.name), "%s", tmp);
			displaced = true;
		}
		/* 5. The target takes the name. */
		r = link_set_name(nl, &target, want, err);
		if (r < 0)
			goto undo;
		snprintf(target.name, sizeof(target.name), "%s", want);
	}

	/* 6. MTU, ARP, up. */
	if (c->mtu && c->mtu != target.mtu) {
		r = link_set_mtu(nl, &target, c->mtu, err);
		if (r < 0)
			goto undo;
	}
	r = link_set_flags(nl, &target, IFF_UP | (c->noarp ? IFF_NOARP : 0),
			   c->noarp ? 0 : IFF_NOARP, err);
	if (r < 0)
		goto undo;

	/* 7. The displaced link takes the target's old name and comes up (as in Kata). */
	if (displaced) {
		r = link_set_name(nl, &other, old_name, err);
		if (r >= 0) {
			snprintf(other.name, sizeof(other.name), "%s", old_name);
			r = link_set_flags(nl, &other, IFF_UP, 0, err);
		}
		if (r < 0)
			return r;
	}
	*result = target;
	r = link_refresh(nl, result, err);
	return r < 0 ? r : skipped;

undo:
	/* Best effort, so that a failed update leaves the links usable: the displaced link
	 * gets the target's old name when the target already took its name, else its own name
	 * back (no "<name>_temp" left behind), and a link that was up is up again. The error
	 * reported is the original one. */
	if (displaced) {
		bool took = streq(target.name, want);
		if (link_set_name(nl, &other, took ? old_name : want, NULL) >= 0 && took)
			(void)link_set_flags(nl, &other, IFF_UP, 0, NULL);
	}
	if (was_up)
		(void)link_set_flags(nl, &target, IFF_UP, 0, NULL);
	return r;
}
