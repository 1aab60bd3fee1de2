/* SPDX-License-Identifier: Apache-2.0 */
/*
 * netlink: links, addresses, routes and neighbours of the caller's network namespace over
 * rtnetlink, on libnl-3 / libnl-route-3, plus the pure parsers for the text forms the Kata
 * protocol uses (addresses, prefix lengths, CIDRs, MACs, PCI paths).
 *
 * Contract:
 *  - Every function returns >= 0 on success and -errno on failure. libnl's -NLE_* codes are
 *    translated here; when the kernel answered the request with an error, that errno is
 *    returned unchanged (libnl would fold most of them into NLE_FAILURE), together with the
 *    kernel's extended-ack text when it gave one.
 *  - On failure, *err (when not NULL) holds one line naming the link, address or route and
 *    the operation that failed. Nothing here logs: the caller reports err->msg once.
 *  - Operations are synchronous request/acknowledge exchanges with the kernel, which answers
 *    at once: they never wait for an event. Waiting for a link to appear is the caller's
 *    job, with the non-blocking multicast socket of netlink_link_watch_open() in its loop.
 *  - Every socket is close-on-exec. A struct netlink is not shared between threads.
 *
 * The header is net.h, not netlink.h: <netlink/netlink.h> is libnl's own, and the module's
 * users have both include trees on their path.
 */
#pragma once

#include "common/common.h"

#define NET_IFNAME_MAX 16 /* IFNAMSIZ: 15 characters and the NUL */
#define NET_HWADDR_MAX 32 /* MAX_ADDR_LEN */
#define NET_MAC_LEN    6

struct net_err {
	char msg[512];
};

/* An IPv4 or IPv6 address with a prefix length. family 0 means "none". */
struct net_ip {
	int family; /* AF_INET, AF_INET6 or 0 */
	uint8_t prefixlen;
	uint8_t addr[16];
};

/* ---- parsing and formatting (pure) ------------------------------------------------------ */

/* Address bytes of a family: 4, 16, or 0 for anything else. */
size_t net_ip_len(int family);
/* "10.0.0.1" or "fd00::1": the prefix length becomes the full length. -EINVAL otherwise. */
int net_ip_parse(const char *s, struct net_ip *ret);
/* A prefix length in decimal ("24") for the family: digits only, 0..32 or 0..128. */
int net_prefixlen_parse(const char *s, int family, uint8_t *ret);
/* "10.0.0.0/8", "fd00::/64", or a bare address (a host prefix). Host bits may be set:
 * see net_ip_has_host_bits(). */
int net_cidr_parse(const char *s, struct net_ip *ret);
bool net_ip_has_host_bits(const struct net_ip *ip);
bool net_ip_is_zero(const struct net_ip *ip);
/* "10.0.0.1" (with_prefix false) or "10.0.0.1/24". -ENOSPC when n is too small. */
int net_ip_format(const struct net_ip *ip, bool with_prefix, char *buf, size_t n);
/* An Ethernet MAC "aa:bb:cc:dd:ee:ff" (hex, either case, two digits per octet). */
int net_mac_parse(const char *s, uint8_t mac[NET_MAC_LEN]);
/* Lower-case "aa:bb:.." of any length; "" for len 0. */
void net_hwaddr_format(const uint8_t *addr, size_t len, char *buf, size_t n);
/* A link name the kernel accepts: 1..15 bytes, no '/', ':' or whitespace, not "." or "..". */
bool net_ifname_valid(const char *s);
/* A CCW bus id, the devicePath of a NIC on s390x: "0.0.0001" (cssid.ssid.devno). PCI paths
 * are uevent/'s pci_path_parse(). */
bool net_ccw_id_valid(const char *s);

/* ---- the rtnetlink connection --------------------------------------------------------------- */

struct netlink;

int netlink_open(struct netlink **ret, struct net_err *err);
void netlink_close(struct netlink *nl);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct netlink *, netlink_close)

/* ---- links and addresses ------------------------------------------------------------------ */

struct net_link {
	int ifindex;
	char name[NET_IFNAME_MAX];
	uint8_t hwaddr[NET_HWADDR_MAX];
	size_t hwaddr_len;
	uint32_t mtu;
	unsigned flags; /* IFF_* */
	char kind[32];	/* IFLA_INFO_KIND ("veth", ...), "" when the link has none */
};

struct net_addr {
	int ifindex;
	struct net_ip ip;
};

/* All links, in ifindex order. free() the array. */
int netlink_links(struct netlink *nl, struct net_link **ret, size_t *n, struct net_err *err);
/* All addresses of the family (AF_UNSPEC: v4 and v6), in the kernel's order. */
int netlink_addrs(struct netlink *nl, int family, struct net_addr **ret, size_t *n,
		  struct net_err *err);
/* -ENOENT (naming the MAC or name in err) when no link matches. */
int netlink_link_by_mac(struct netlink *nl, const uint8_t mac[NET_MAC_LEN], struct net_link *ret,
			struct net_err *err);
int netlink_link_by_name(struct netlink *nl, const char *name, struct net_link *ret,
			 struct net_err *err);
/* Sets IFF_UP when it is not set. Returns 1 when it changed the link, 0 when it was up. */
int netlink_link_ensure_up(struct netlink *nl, const char *name, struct net_err *err);

/* What UpdateInterface asks for (Kata's semantics, reference §5):
 *  - the link is the one with the MAC; when no link has it, the one found by devicePath
 *    (`ifname`; a VFIO NIC keeps its own MAC) or else the one called `name`, which then
 *    gets the MAC (VM templating); -ENOENT when none exists;
 *  - it is set down; its addresses become exactly `addrs` (others deleted, these added with
 *    replace semantics);
 *  - when another link holds `name`, that link is set down and renamed aside, the target
 *    takes `name`, and the other link gets the target's old name and is set up;
 *  - MTU (0 keeps it), ARP (IFF_NOARP when noarp) and finally IFF_UP.
 * IPv6 addresses are skipped when IPv6 is disabled on the link (Kata skips them when it is
 * disabled globally). *result is the link afterwards. Returns the number of IPv6 addresses
 * skipped. */
struct net_iface_config {
	const uint8_t *mac; /* NET_MAC_LEN bytes, or NULL: find the link by name */
	const char *ifname; /* the link a devicePath led to, tried after the MAC; NULL: none */
	const char *name;   /* "" or NULL: keep the current name */
	uint32_t mtu;
	bool noarp;
	const struct net_ip *addrs;
	size_t n_addrs;
};
int netlink_iface_configure(struct netlink *nl, const struct net_iface_config *c,
			    struct net_link *result, struct net_err *err);

/* ---- routes --------------------------------------------------------------------------------- */

struct net_route {
	struct net_ip dst;	     /* family always set; prefixlen 0 = default route */
	struct net_ip gateway;	     /* family 0: none */
	struct net_ip src;	     /* RTA_SRC (source prefix); family 0: none */
	struct net_ip prefsrc;	     /* RTA_PREFSRC (preferred source address); family 0: none */
	char device[NET_IFNAME_MAX]; /* "" = no output device */
	int ifindex; /* filled by netlink_routes; ignored by netlink_route_replace */
	uint32_t table;
	uint8_t scope, protocol, type;
	uint32_t flags; /* rtm_flags (RTNH_F_ONLINK ...) */
	uint32_t mtu;	/* RTAX_MTU, 0 = none */
};

/* RTM_NEWROUTE with replace semantics in the main table, type unicast, protocol boot, with
 * the route's scope, flags, MTU, source and gateway, out of `device` (looked up by name:
 * -ENOENT naming it). */
int netlink_route_replace(struct netlink *nl, const struct net_route *r, struct net_err *err);
/* The IPv4 and IPv6 routes of one table (RT_TABLE_MAIN = 254), device names resolved. */
int netlink_routes(struct netlink *nl, uint32_t table, struct net_route **ret, size_t *n,
		   struct net_err *err);
/* "10.0.0.0/8 via 10.0.0.1 dev eth0" for messages. */
void net_route_describe(const struct net_route *r, char *buf, size_t n);

/* ---- neighbours --------------------------------------------------------------------------- */

struct net_neigh {
	struct net_ip dst;
	char device[NET_IFNAME_MAX];
	uint8_t lladdr[NET_HWADDR_MAX];
	size_t lladdr_len; /* 0: none */
	uint16_t state;	   /* NUD_* */
	uint8_t flags;	   /* NTF_* */
};

/* RTM_NEWNEIGH with create + replace on `device` (looked up by name). */
int netlink_neigh_replace(struct netlink *nl, const struct net_neigh *ng, struct net_err *err);

/* ---- link events ------------------------------------------------------------------------------
 */

/* A non-blocking NETLINK_ROUTE socket subscribed to RTNLGRP_LINK, for an event loop. */
int netlink_link_watch_open(void);
/* Reads what is pending (a bounded amount per call; the socket stays readable when more is
 * left). Returns 1 when a link appeared or changed, or events were lost (the caller must
 * look again), 0 when nothing relevant arrived, -errno on a socket error. */
int netlink_link_watch_drain(int fd);

/* ---- sysctl -------------------------------------------------------------------------------------
 */

/* Whether IPv6 is usable on the link: /proc/sys/net/ipv6/conf/<name>/disable_ipv6 (or
 * .../all/ when name is NULL) reads 0. False when IPv6 is absent from the kernel. */
bool net_ipv6_enabled(const char *ifname);
