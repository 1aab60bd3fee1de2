/* SPDX-License-Identifier: Apache-2.0 */
/*
 * grpc.AgentService networking: UpdateInterface, UpdateRoutes, ListInterfaces, ListRoutes and
 * AddARPNeighbors. Requests are validated completely before anything changes, so a bad
 * value is reported as INVALID_ARGUMENT naming it and the guest is left as it was; then the
 * netlink module does the work (reference §5 for Kata's semantics).
 */
#define LOG_SUBSYSTEM "network"
#include "svc-network.h"
#include "agent.pb-c.h"
#include "netlink/net.h"
#include "uevent/uevent.h"

#include <linux/if.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/epoll.h>
#include <sys/socket.h>

/* Bounds on what one request may ask for. Each item is a kernel round trip on the loop
 * (~10-50 us), so these keep one call from holding the loop for long; real pods use a
 * handful of each. */
#define MAX_IFACE_ADDRS 256
#define MAX_ROUTES	4096
#define MAX_NEIGHBOURS	4096
#define MAX_NIC_WAITS	64

#define MSG_MAX 512

_printf_(3, 4) static int bad(char *msg, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, MSG_MAX, fmt, ap);
	va_end(ap);
	return r;
}

/* Errors whose cause is the state of the guest's network rather than the request or the
 * agent: a gateway not on any subnet, an address not configured, a link down. */
static int net_rpc_code(int r)
{
	switch (-r) {
	case ENETUNREACH:
	case ENETDOWN:
	case EHOSTUNREACH:
	case EADDRNOTAVAIL:
		return RPC_FAILED_PRECONDITION;
	default:
		return errno_to_rpc_code(r);
	}
}

static Types__IPFamily family_to_pb(int family)
{
	return family == AF_INET6 ? TYPES__IPFAMILY__v6 : TYPES__IPFAMILY__v4;
}

/* ---- UpdateInterface --------------------------------------------------------------------- */

struct iface_req {
	const Types__Interface *pb;
	uint8_t mac[NET_MAC_LEN];
	bool has_mac;
	char ifname[NET_IFNAME_MAX]; /* the netdev at devicePath, "" when not known */
	struct net_ip *addrs;
	size_t n_addrs;
};

static void iface_req_done(struct iface_req *ir)
{
	free(ir->addrs);
	ir->addrs = NULL;
}

/* "aa:bb:cc:dd:ee:ff" or "'eth0'" for messages: how the request names its link. */
static const char *iface_label(const struct iface_req *ir, char *buf, size_t n)
{
	if (ir->has_mac)
		snprintf(buf, n, "%s", ir->pb->hwaddr);
	else
		snprintf(buf, n, "'%s'", ir->pb->name);
	return buf;
}

static int iface_parse(const Types__Interface *i, struct iface_req *ir, char *msg)
{
	const char *who = i->name[0] ? i->name : i->hwaddr; /* for messages */

	*ir = (struct iface_req){.pb = i};

	if (i->hwaddr[0]) {
		if (net_mac_parse(i->hwaddr, ir->mac) < 0)
			return bad(msg, -EINVAL, "invalid hwAddr '%s': expected aa:bb:cc:dd:ee:ff",
				   i->hwaddr);
		ir->has_mac = true;
	}
	if (i->name[0] && !net_ifname_valid(i->name))
		return bad(msg, -EINVAL,
			   "invalid interface name '%s': 1 to 15 characters, no '/', ':' or spaces",
			   i->name);
	if (!ir->has_mac && !i->name[0])
		return bad(msg, -EINVAL, "interface has neither hwAddr nor name");
	if (i->mtu > INT32_MAX)
		return bad(msg, -EINVAL, "interface %s: invalid mtu %llu", who,
			   (unsigned long long)i->mtu);
	struct pci_path pci;
	if (i->devicepath[0] && pci_path_parse(i->devicepath, &pci) < 0 &&
	    !net_ccw_id_valid(i->devicepath))
		return bad(msg, -EINVAL,
			   "interface %s: invalid devicePath '%s': expected a PCI path like 02/00 "
			   "or a CCW id like 0.0.0001",
			   who, i->devicepath);
	if (i->n_ipaddresses > MAX_IFACE_ADDRS)
		return bad(msg, -E2BIG, "interface %s: %zu addresses, the limit is %u", who,
			   i->n_ipaddresses, MAX_IFACE_ADDRS);
	ir->addrs = calloc(i->n_ipaddresses ? i->n_ipaddresses : 1, sizeof(*ir->addrs));
	if (!ir->addrs)
		return bad(msg, -ENOMEM, "out of memory");
	for (size_t k = 0; k < i->n_ipaddresses; k++) {
		const Types__IPAddress *a = i->ipaddresses[k];
		struct net_ip *ip = &ir->addrs[k];
		if (net_ip_parse(a->address, ip) < 0)
			return bad(msg, -EINVAL, "interface %s: invalid IP address '%s'", who,
				   a->address);
		if (!a->mask[0])
			return bad(msg, -EINVAL,
				   "interface %s: address %s has no mask (prefix length)", who,
				   a->address);
		if (net_prefixlen_parse(a->mask, ip->family, &ip->prefixlen) < 0)
			return bad(
			    msg, -EINVAL,
			    "interface %s: invalid mask '%s' for address %s: a prefix length "
			    "0-%zu",
			    who, a->mask, a->address, net_ip_len(ip->family) * 8);
		ir->n_addrs++;
	}
	return 0;
}

/* Configures the link and replies. The reply is the interface as it now is: its name, MAC
 * and MTU read back from the kernel, the addresses applied, and the request's other
 * fields. */
static void iface_apply(struct rpc_call *call, struct iface_req *ir)
{
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	const Types__Interface *i = ir->pb;
	struct net_iface_config cfg = {
	    .mac = ir->has_mac ? ir->mac : NULL,
	    .ifname = ir->ifname[0] ? ir->ifname : NULL,
	    .name = i->name,
	    .mtu = (uint32_t)i->mtu,
	    .noarp = (i->raw_flags & IFF_NOARP) != 0,
	    .addrs = ir->addrs,
	    .n_addrs = ir->n_addrs,
	};
	struct net_link link;
	struct net_err err;
	char label[64];
	int r;

	r = netlink_open(&nl, &err);
	if (r >= 0)
		r = netlink_iface_configure(nl, &cfg, &link, &err);
	if (r < 0) {
		log_warn("update interface %s: %s", iface_label(ir, label, sizeof(label)), err.msg);
		rpc_call_reply_error(call, net_rpc_code(r), "update interface: %s", err.msg);
		return;
	}
	if (r > 0)
		log_warn("interface %s: %d IPv6 address(es) skipped: IPv6 is disabled on it",
			 link.name, r);

	Types__Interface out = TYPES__INTERFACE__INIT;
	_cleanup_free_ Types__IPAddress *ipa = calloc(ir->n_addrs + 1, sizeof(*ipa));
	_cleanup_free_ Types__IPAddress **ipp = calloc(ir->n_addrs + 1, sizeof(*ipp));
	_cleanup_free_ char *text = calloc(ir->n_addrs + 1, 2 * 64);
	char mac[3 * NET_HWADDR_MAX];
	if (!ipa || !ipp || !text) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	net_hwaddr_format(link.hwaddr, link.hwaddr_len, mac, sizeof(mac));
	out.device = i->device;
	out.name = link.name;
	out.mtu = link.mtu;
	out.hwaddr = mac;
	out.devicepath = i->devicepath;
	out.type = i->type[0] ? i->type : link.kind;
	out.raw_flags = i->raw_flags;
	for (size_t k = 0; k < ir->n_addrs; k++) {
		const struct net_ip *ip = &ir->addrs[k];
		if (ip->family == AF_INET6 && r > 0 && !net_ipv6_enabled(link.name))
			continue;
		char *addr = text + k * 128, *mask = addr + 64;
		types__ipaddress__init(&ipa[out.n_ipaddresses]);
		net_ip_format(ip, false, addr, 64);
		snprintf(mask, 64, "%u", ip->prefixlen);
		ipa[out.n_ipaddresses].family = family_to_pb(ip->family);
		ipa[out.n_ipaddresses].address = addr;
		ipa[out.n_ipaddresses].mask = mask;
		ipp[out.n_ipaddresses] = &ipa[out.n_ipaddresses];
		out.n_ipaddresses++;
	}
	out.ipaddresses = ipp;
	log_info("interface %s (%s): %zu address(es), mtu %u, up", link.name, mac,
		 out.n_ipaddresses, link.mtu);
	rpc_call_reply(call, &out.base);
}

/* Whether the requested link exists yet: -ENOENT when not, another -errno on failure. */
static int iface_present(const struct iface_req *ir, struct net_err *err)
{
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	struct net_link l;
	int r = netlink_open(&nl, err);
	if (r < 0)
		return r;
	if (ir->has_mac)
		return netlink_link_by_mac(nl, ir->mac, &l, err);
	return netlink_link_by_name(nl, ir->pb->name, &l, err);
}

/* A call waiting for a hotplugged NIC: for its uevent under the PCI path (uw), or, when the
 * path does not resolve here, for a link with its MAC (the link watch and timer). */
struct nic_wait {
	struct list_head node;
	struct agent_network *net;
	struct rpc_call *call;
	struct iface_req ir; /* points into the call's request, which lives while it is parked */
	struct ev_timer timer;
	struct uevent_waiter *uw;
};

static void watch_stop_if_idle(struct agent_network *net)
{
	if (net->n_nic_waits || net->watch_fd < 0)
		return;
	ev_io_stop(net->agent->loop, &net->watch_io);
	net->watch_fd = safe_close(net->watch_fd);
}

static void nic_wait_free(struct nic_wait *w)
{
	struct agent_network *net = w->net;
	if (w->uw)
		uevent_wait_cancel(w->uw);
	list_del(&w->node);
	net->n_nic_waits--;
	ev_timer_stop(net->agent->loop, &w->timer);
	iface_req_done(&w->ir);
	free(w);
	watch_stop_if_idle(net);
}

static void nic_wait_cancel(struct rpc_call *call _unused_, void *data)
{
	nic_wait_free(data);
}

static void nic_wait_timeout(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct nic_wait *w = t->data;
	struct rpc_call *call = w->call;
	char label[64];

	iface_label(&w->ir, label, sizeof(label));
	log_warn("interface %s (devicePath %s) did not appear within %llu ms", label,
		 w->ir.pb->devicepath, (unsigned long long)w->net->agent->cfg.hotplug_timeout_ms);
	rpc_call_reply_error(call, RPC_DEADLINE_EXCEEDED,
			     "update interface: the NIC %s (devicePath %s) did not appear within "
			     "%llu ms",
			     label, w->ir.pb->devicepath,
			     (unsigned long long)w->net->agent->cfg.hotplug_timeout_ms);
	nic_wait_free(w);
}

static void nic_wait_check_all(struct agent_network *net)
{
	struct list_head *pos, *tmp;

	LIST_FOREACH_SAFE (pos, tmp, &net->nic_waits) {
		struct nic_wait *w = list_entry(pos, struct nic_wait, node);
		struct net_err err;
		int r = iface_present(&w->ir, &err);
		if (r == -ENOENT)
			continue;
		struct rpc_call *call = w->call;
		struct iface_req ir = w->ir;
		w->ir.addrs = NULL; /* moved to ir */
		nic_wait_free(w);
		if (r < 0)
			rpc_call_reply_error(call, net_rpc_code(r), "update interface: %s",
					     err.msg);
		else
			iface_apply(call, &ir);
		iface_req_done(&ir);
	}
}

static void watch_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct agent_network *net = io->data;
	int r = netlink_link_watch_drain(io->fd);
	if (r < 0) {
		/* Not fatal for the waiters: their timers still end them. */
		log_warn_errno(r, "link event socket: %m");
		ev_io_stop(net->agent->loop, &net->watch_io);
		net->watch_fd = safe_close(net->watch_fd);
		return;
	}
	if (r > 0)
		nic_wait_check_all(net);
}

static int watch_start(struct agent_network *net)
{
	if (net->watch_fd >= 0)
		return 0;
	int fd = netlink_link_watch_open();
	if (fd < 0)
		return fd;
	int r = ev_io_start(net->agent->loop, &net->watch_io, fd, EPOLLIN, watch_cb, net);
	if (r < 0) {
		close(fd);
		return r;
	}
	net->watch_fd = fd;
	return 0;
}

static void nic_uevent_cb(void *data, int r, const struct uevent_device *dev)
{
	struct nic_wait *w = data;
	struct rpc_call *call = w->call;
	struct iface_req ir = w->ir;

	w->uw = NULL;	    /* the listener freed it */
	w->ir.addrs = NULL; /* moved to ir */
	if (r == -ETIMEDOUT)
		log_warn("no NIC appeared at devicePath %s within %llu ms", ir.pb->devicepath,
			 (unsigned long long)w->net->agent->cfg.hotplug_timeout_ms);
	if (r == -ETIMEDOUT)
		rpc_call_reply_error(call, RPC_DEADLINE_EXCEEDED,
				     "update interface: no NIC appeared at devicePath %s within "
				     "%llu ms",
				     ir.pb->devicepath,
				     (unsigned long long)w->net->agent->cfg.hotplug_timeout_ms);
	else if (r < 0)
		rpc_call_reply_errno(call, r, "update interface: waiting for devicePath %s: %m",
				     ir.pb->devicepath);
	nic_wait_free(w);
	if (r >= 0) {
		snprintf(ir.ifname, sizeof(ir.ifname), "%.*s", NET_IFNAME_MAX - 1, dev->interface);
		iface_apply(call, &ir);
	}
	iface_req_done(&ir);
}

/* Kata's wait_for_pci_net_interface(): the netdev below the PCI device at devicePath, through
 * the shared uevent listener. Returns 1 when it took the call (answered or parked it), 0 when
 * the path does not resolve here (no such bridges, a CCW id, no listener): the caller then
 * waits for the MAC instead. */
static int nic_wait_uevent(struct agent_network *net, struct rpc_call *call, struct iface_req *ir)
{
	struct agent *a = net->agent;
	_cleanup_free_ char *devpath = NULL, *esc = NULL, *regex = NULL;
	struct uevent_device dev;
	struct pci_path pci;
	int r;

	if (!a->uevents || pci_path_parse(ir->pb->devicepath, &pci) < 0 ||
	    pci_path_to_devpath(uevent_listener_sysfs(a->uevents), &pci, &devpath) < 0)
		return 0;
	/* virtio-net: <pci>/virtioN/net/<if>; a VFIO NIC's driver: <pci>/net/<if>. */
	if (uevent_regex_escape(devpath, &esc) < 0 ||
	    asprintf(&regex, "^%s/(virtio[0-9]+/)?net/[^/]+$", esc) < 0) {
		regex = NULL;
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return 1;
	}
	struct nic_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return 1;
	}
	struct uevent_match m = {
	    .subsystem = "net", .devpath_regex = regex, .need_interface = true};
	r = uevent_wait(a->uevents, &m, a->cfg.hotplug_timeout_ms, nic_uevent_cb, w, &w->uw, &dev);
	if (r != 0) {
		free(w);
		if (r < 0) {
			rpc_call_reply_errno(call, r,
					     "update interface: cannot wait for devicePath "
					     "%s: %m",
					     ir->pb->devicepath);
			return 1;
		}
		snprintf(ir->ifname, sizeof(ir->ifname), "%.*s", NET_IFNAME_MAX - 1, dev.interface);
		iface_apply(call, ir);
		return 1;
	}
	w->net = net;
	w->call = call;
	w->ir = *ir;
	ir->addrs = NULL; /* moved to w */
	ev_timer_init(&w->timer);
	list_add_tail(&net->nic_waits, &w->node);
	net->n_nic_waits++;
	log_info("waiting up to %llu ms for the NIC at devicePath %s (%s)",
		 (unsigned long long)a->cfg.hotplug_timeout_ms, ir->pb->devicepath, devpath);
	rpc_call_park(call, nic_wait_cancel, w);
	return 1;
}

void agent_update_interface(struct rpc_call *call, void *request)
{
	Grpc__UpdateInterfaceRequest *req = request;
	struct agent *a = rpc_call_userdata(call);
	struct agent_network *net = a->network;
	struct iface_req ir;
	struct net_err err;
	char msg[MSG_MAX];
	int r;

	if (!req->interface) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "empty update interface request");
		return;
	}
	r = iface_parse(req->interface, &ir, msg);
	if (r < 0) {
		iface_req_done(&ir);
		rpc_call_reply_errno(call, r, "update interface: %s", msg);
		return;
	}
	if (!req->interface->devicepath[0]) {
		iface_apply(call, &ir);
		iface_req_done(&ir);
		return;
	}
	if (net->n_nic_waits >= MAX_NIC_WAITS) {
		iface_req_done(&ir);
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED,
				     "update interface: %u calls already wait for NICs",
				     net->n_nic_waits);
		return;
	}
	if (nic_wait_uevent(net, call, &ir)) {
		iface_req_done(&ir);
		return;
	}

	/* A hotplugged NIC may not have appeared yet. Subscribe before looking, so that a
	 * link appearing in between is not missed. */
	r = watch_start(net);
	if (r < 0) {
		iface_req_done(&ir);
		rpc_call_reply_errno(call, r, "update interface: cannot watch for links: %m");
		return;
	}
	r = iface_present(&ir, &err);
	if (r != -ENOENT) {
		if (r < 0)
			rpc_call_reply_error(call, net_rpc_code(r), "update interface: %s",
					     err.msg);
		else
			iface_apply(call, &ir);
		iface_req_done(&ir);
		watch_stop_if_idle(net);
		return;
	}
	struct nic_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		iface_req_done(&ir);
		watch_stop_if_idle(net);
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	w->net = net;
	w->call = call;
	w->ir = ir;
	ev_timer_init(&w->timer);
	list_add_tail(&net->nic_waits, &w->node);
	net->n_nic_waits++;
	r = ev_timer_start(a->loop, &w->timer,
			   now_monotonic_ns() + a->cfg.hotplug_timeout_ms * NSEC_PER_MSEC,
			   nic_wait_timeout, w);
	if (r < 0) {
		nic_wait_free(w);
		rpc_call_reply_errno(call, r, "update interface: cannot arm the hotplug timer: %m");
		return;
	}
	log_info("waiting up to %llu ms for the NIC at devicePath %s",
		 (unsigned long long)a->cfg.hotplug_timeout_ms, req->interface->devicepath);
	rpc_call_park(call, nic_wait_cancel, w);
}

/* ---- ListInterfaces ------------------------------------------------------------------------ */

void agent_list_interfaces(struct rpc_call *call, void *request _unused_)
{
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	_cleanup_free_ struct net_link *links = NULL;
	_cleanup_free_ struct net_addr *addrs = NULL;
	size_t nlinks = 0, naddrs = 0;
	struct net_err err;
	int r;

	r = netlink_open(&nl, &err);
	if (r >= 0)
		r = netlink_links(nl, &links, &nlinks, &err);
	if (r >= 0)
		r = netlink_addrs(nl, AF_UNSPEC, &addrs, &naddrs, &err);
	if (r < 0) {
		log_warn("list interfaces: %s", err.msg);
		rpc_call_reply_error(call, net_rpc_code(r), "list interfaces: %s", err.msg);
		return;
	}

	_cleanup_free_ Types__Interface *ifs = calloc(nlinks + 1, sizeof(*ifs));
	_cleanup_free_ Types__Interface **ifp = calloc(nlinks + 1, sizeof(*ifp));
	_cleanup_free_ Types__IPAddress *ipa = calloc(naddrs + 1, sizeof(*ipa));
	_cleanup_free_ Types__IPAddress **ipp = calloc(naddrs + 1, sizeof(*ipp));
	_cleanup_free_ char *macs = calloc(nlinks + 1, 3 * NET_HWADDR_MAX);
	_cleanup_free_ char *text = calloc(naddrs + 1, 2 * 64);
	if (!ifs || !ifp || !ipa || !ipp || !macs || !text) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	size_t used = 0;
	for (size_t i = 0; i < nlinks; i++) {
		Types__Interface *it = &ifs[i];
		char *mac = macs + i * 3 * NET_HWADDR_MAX;
		types__interface__init(it);
		net_hwaddr_format(links[i].hwaddr, links[i].hwaddr_len, mac, 3 * NET_HWADDR_MAX);
		it->name = links[i].name;
		it->hwaddr = mac;
		it->mtu = links[i].mtu;
		it->type = links[i].kind;
		it->raw_flags = links[i].flags;
		/* Each link's addresses are a contiguous run of ipp. */
		it->ipaddresses = ipp + used;
		for (size_t k = 0; k < naddrs; k++) {
			if (addrs[k].ifindex != links[i].ifindex)
				continue;
			char *addr = text + used * 128, *mask = addr + 64;
			types__ipaddress__init(&ipa[used]);
			net_ip_format(&addrs[k].ip, false, addr, 64);
			snprintf(mask, 64, "%u", addrs[k].ip.prefixlen);
			ipa[used].family = family_to_pb(addrs[k].ip.family);
			ipa[used].address = addr;
			ipa[used].mask = mask;
			ipp[used] = &ipa[used];
			used++;
			it->n_ipaddresses++;
		}
		ifp[i] = it;
	}
	Grpc__Interfaces resp = GRPC__INTERFACES__INIT;
	resp.n_interfaces = nlinks;
	resp.interfaces = ifp;
	rpc_call_reply(call, &resp.base);
}

/* ---- routes ------------------------------------------------------------------------------------
 */

static int route_parse(const Types__Route *pb, struct net_route *r, char *msg)
{
	int family = 0;

	memset(r, 0, sizeof(*r));
	/* The family comes from the addresses; the family field only decides for a default
	 * route with neither gateway nor source (older runtimes did not set it). */
	if (pb->gateway[0]) {
		if (strchr(pb->gateway, '/') || net_ip_parse(pb->gateway, &r->gateway) < 0)
			return bad(msg, -EINVAL, "route '%s': invalid gateway '%s'", pb->dest,
				   pb->gateway);
		family = r->gateway.family;
	}
	if (pb->dest[0]) {
		if (net_cidr_parse(pb->dest, &r->dst) < 0)
			return bad(msg, -EINVAL,
				   "invalid route dest '%s': expected an address or "
				   "a CIDR like 10.0.0.0/8",
				   pb->dest);
		/* The kernel refuses an IPv4 prefix with host bits and masks an IPv6 one;
		 * say so before anything changed. */
		if (r->dst.family == AF_INET && net_ip_has_host_bits(&r->dst))
			return bad(msg, -EINVAL, "route dest '%s' has host bits set beyond /%u",
				   pb->dest, r->dst.prefixlen);
		if (family && family != r->dst.family)
			return bad(msg, -EINVAL, "route '%s': gateway %s is of another family",
				   pb->dest, pb->gateway);
		family = r->dst.family;
	}
	if (pb->source[0]) {
		struct net_ip s;
		if (net_cidr_parse(pb->source, &s) < 0)
			return bad(msg, -EINVAL, "route '%s': invalid source '%s'", pb->dest,
				   pb->source);
		if (family && family != s.family)
			return bad(msg, -EINVAL, "route '%s': source %s is of another family",
				   pb->dest, pb->source);
		family = s.family;
		/* A bare address is the preferred source (what the runtime's netlink.Route.Src
		 * means); "a/n" with n > 0 is a source prefix, as in Kata. */
		if (strchr(pb->source, '/') && s.prefixlen > 0) {
			r->src = s;
		} else {
			r->prefsrc = s;
			r->prefsrc.prefixlen = (uint8_t)(net_ip_len(s.family) * 8);
		}
	}
	if (!family) {
		if (pb->family != TYPES__IPFAMILY__v4 && pb->family != TYPES__IPFAMILY__v6)
			return bad(msg, -EINVAL, "route '%s': invalid family %d", pb->dest,
				   (int)pb->family);
		family = pb->family == TYPES__IPFAMILY__v6 ? AF_INET6 : AF_INET;
	}
	if (!pb->dest[0]) {
		r->dst.family = family; /* default route: 0.0.0.0/0 or ::/0 */
		r->dst.prefixlen = 0;
	}
	if (pb->device[0] && !net_ifname_valid(pb->device))
		return bad(msg, -EINVAL, "route '%s': invalid device name '%s'", pb->dest,
			   pb->device);
	if (!pb->device[0] && !pb->gateway[0])
		return bad(msg, -EINVAL, "route '%s' has neither a device nor a gateway", pb->dest);
	if (pb->scope > 255)
		return bad(msg, -EINVAL, "route '%s': invalid scope %u", pb->dest, pb->scope);
	snprintf(r->device, sizeof(r->device), "%s", pb->device);
	r->scope = (uint8_t)pb->scope;
	r->flags = pb->flags;
	r->mtu = pb->mtu;
	r->table = RT_TABLE_MAIN;
	return 0;
}

/* Fills a Grpc__Routes with the main table; the arrays are freed by routes_reply_free. */
struct routes_reply {
	Grpc__Routes msg;
	struct net_route *routes;
	Types__Route *rt;
	Types__Route **rtp;
	char *text;
};

static void routes_reply_free(struct routes_reply *rr)
{
	free(rr->routes);
	free(rr->rt);
	free(rr->rtp);
	free(rr->text);
}

static int routes_reply_fill(struct netlink *nl, struct routes_reply *rr, struct net_err *err)
{
	size_t n;
	int r;

	*rr = (struct routes_reply){.msg = GRPC__ROUTES__INIT};
	r = netlink_routes(nl, RT_TABLE_MAIN, &rr->routes, &n, err);
	if (r < 0)
		return r;
	rr->rt = calloc(n + 1, sizeof(*rr->rt));
	rr->rtp = calloc(n + 1, sizeof(*rr->rtp));
	rr->text = calloc(n + 1, 3 * 64);
	if (!rr->rt || !rr->rtp || !rr->text) {
		snprintf(err->msg, sizeof(err->msg), "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct net_route *nr = &rr->routes[i];
		Types__Route *t = &rr->rt[i];
		char *dst = rr->text + i * 192, *gw = dst + 64, *src = gw + 64;
		types__route__init(t);
		/* "" for a default route, as UpdateRoutes takes it; Kata reports "0.0.0.0" (and
		 * "::1" for IPv6) for every route with a gateway, losing its destination. */
		if (nr->dst.prefixlen > 0)
			net_ip_format(&nr->dst, true, dst, 64);
		if (nr->gateway.family)
			net_ip_format(&nr->gateway, false, gw, 64);
		if (nr->src.family)
			net_ip_format(&nr->src, true, src, 64);
		else if (nr->prefsrc.family)
			net_ip_format(&nr->prefsrc, false, src, 64);
		t->dest = dst;
		t->gateway = gw;
		t->source = src;
		t->device = (char *)nr->device;
		t->scope = nr->scope;
		t->family = family_to_pb(nr->dst.family);
		/* Only the flags a route is created with; the kernel's state flags (linkdown,
		 * dead, offload) would be refused if fed back to UpdateRoutes. */
		t->flags = nr->flags & (RTNH_F_ONLINK | RTNH_F_PERVASIVE);
		t->mtu = nr->mtu;
		rr->rtp[i] = t;
	}
	rr->msg.n_routes = n;
	rr->msg.routes = rr->rtp;
	return 0;
}

void agent_list_routes(struct rpc_call *call, void *request _unused_)
{
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	_cleanup_(routes_reply_free) struct routes_reply rr = {0};
	struct net_err err;
	int r = netlink_open(&nl, &err);
	if (r >= 0)
		r = routes_reply_fill(nl, &rr, &err);
	if (r < 0) {
		log_warn("list routes: %s", err.msg);
		rpc_call_reply_error(call, net_rpc_code(r), "list routes: %s", err.msg);
		return;
	}
	rpc_call_reply(call, &rr.msg.base);
}

void agent_update_routes(struct rpc_call *call, void *request)
{
	Grpc__UpdateRoutesRequest *req = request;
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	_cleanup_(routes_reply_free) struct routes_reply rr = {0};
	_cleanup_free_ struct net_route *routes = NULL;
	struct net_err err;
	char msg[MSG_MAX];
	size_t n;
	int r;

	if (!req->routes) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "empty update routes request");
		return;
	}
	n = req->routes->n_routes;
	if (n > MAX_ROUTES) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED,
				     "update routes: %zu routes, the limit is %u", n, MAX_ROUTES);
		return;
	}
	routes = calloc(n + 1, sizeof(*routes));
	if (!routes) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		r = route_parse(req->routes->routes[i], &routes[i], msg);
		if (r < 0) {
			rpc_call_reply_errno(call, r, "update routes: %s", msg);
			return;
		}
	}
	r = netlink_open(&nl, &err);
	if (r < 0)
		goto fail;
	/* Device routes first: a gateway must be reachable through one when its route is
	 * added. Existing routes stay (current Kata; the old Go agent flushed them). */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			if ((routes[i].gateway.family != 0) != (pass == 1))
				continue;
			r = netlink_route_replace(nl, &routes[i], &err);
			if (r == -EEXIST)
				continue;
			if (r < 0)
				goto fail;
		}
	log_info("%zu route(s) updated", n);
	r = routes_reply_fill(nl, &rr, &err);
	if (r < 0)
		goto fail;
	rpc_call_reply(call, &rr.msg.base);
	return;
fail:
	log_warn("update routes: %s", err.msg);
	rpc_call_reply_error(call, net_rpc_code(r), "update routes: %s", err.msg);
}

/* ---- AddARPNeighbors ----------------------------------------------------------------------------
 */

static int neigh_parse(const Types__ARPNeighbor *pb, struct net_neigh *ng, char *msg)
{
	memset(ng, 0, sizeof(*ng));
	if (!pb->toipaddress || !pb->toipaddress->address[0])
		return bad(msg, -EINVAL, "neighbour on '%s' has no toIPAddress", pb->device);
	const char *ip = pb->toipaddress->address;
	if (net_ip_parse(ip, &ng->dst) < 0)
		return bad(msg, -EINVAL, "neighbour: invalid IP address '%s'", ip);
	if (!net_ifname_valid(pb->device))
		return bad(msg, -EINVAL, "neighbour %s: invalid device name '%s'", ip, pb->device);
	snprintf(ng->device, sizeof(ng->device), "%s", pb->device);
	if (pb->lladdr[0]) {
		if (net_mac_parse(pb->lladdr, ng->lladdr) < 0)
			return bad(msg, -EINVAL, "neighbour %s: invalid lladdr '%s'", ip,
				   pb->lladdr);
		ng->lladdr_len = NET_MAC_LEN;
	}
	/* Kata: state 0 means a permanent entry, the one the runtime always wants. */
	if (pb->state < 0 || pb->state > 0xffff)
		return bad(msg, -EINVAL, "neighbour %s: invalid state %d", ip, pb->state);
	ng->state = pb->state ? (uint16_t)pb->state : NUD_PERMANENT;
	if (pb->flags < 0 || pb->flags > 0xff)
		return bad(msg, -EINVAL, "neighbour %s: invalid flags %d", ip, pb->flags);
	ng->flags = (uint8_t)pb->flags;
	return 0;
}

void agent_add_arp_neighbors(struct rpc_call *call, void *request)
{
	Grpc__AddARPNeighborsRequest *req = request;
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	_cleanup_free_ struct net_neigh *ngs = NULL;
	struct net_err err;
	char msg[MSG_MAX];
	size_t n;
	int r;

	if (!req->neighbors) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "empty add arp neighbours request");
		return;
	}
	n = req->neighbors->n_arpneighbors;
	if (n > MAX_NEIGHBOURS) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED,
				     "add arp neighbours: %zu neighbours, the limit is %u", n,
				     MAX_NEIGHBOURS);
		return;
	}
	ngs = calloc(n + 1, sizeof(*ngs));
	if (!ngs) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return;
	}
	for (size_t i = 0; i < n; i++) {
		r = neigh_parse(req->neighbors->arpneighbors[i], &ngs[i], msg);
		if (r < 0) {
			rpc_call_reply_errno(call, r, "add arp neighbours: %s", msg);
			return;
		}
	}
	r = netlink_open(&nl, &err);
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = netlink_neigh_replace(nl, &ngs[i], &err);
	if (r < 0) {
		log_warn("add arp neighbours: %s", err.msg);
		rpc_call_reply_error(call, net_rpc_code(r), "add arp neighbours: %s", err.msg);
		return;
	}
	log_info("%zu neighbour(s) added", n);
	Google__Protobuf__Empty resp = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &resp.base);
}

/* ---- startup and shutdown -----------------------------------------------------------------------
 */

int agent_network_init(struct agent *a)
{
	_cleanup_(netlink_closep) struct netlink *nl = NULL;
	struct agent_network *net = calloc(1, sizeof(*net));
	struct net_err err;
	int r;

	if (!net)
		return -ENOMEM;
	net->agent = a;
	net->watch_fd = -1;
	list_init(&net->nic_waits);
	list_init(&net->ipt_jobs);
	a->network = net;

	/* Kata sets lo up at boot in init mode. ember-init may have done it already; doing it
	 * here only when it is down keeps this idempotent, and a fresh network namespace
	 * (tests, standalone use) gets a working loopback too. Not fatal: the agent must come
	 * up even where it lacks CAP_NET_ADMIN. */
	r = netlink_open(&nl, &err);
	if (r >= 0)
		r = netlink_link_ensure_up(nl, "lo", &err);
	if (r < 0)
		log_warn("cannot bring lo up: %s", err.msg);
	else if (r > 0)
		log_info("lo is up");
	return 0;
}

void agent_network_done(struct agent *a)
{
	struct agent_network *net = a->network;
	struct list_head *pos, *tmp;

	if (!net)
		return;
	/* The rpc server cancelled every parked call before this; whatever is left has no
	 * call to answer. */
	LIST_FOREACH_SAFE (pos, tmp, &net->nic_waits)
		nic_wait_free(list_entry(pos, struct nic_wait, node));
	iptables_jobs_done(net);
	if (net->watch_fd >= 0) {
		ev_io_stop(a->loop, &net->watch_io);
		net->watch_fd = safe_close(net->watch_fd);
	}
	free(net);
	a->network = NULL;
}
