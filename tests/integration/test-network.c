/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest networking of the real agent (UpdateInterface, UpdateRoutes, ListInterfaces,
 * ListRoutes, AddARPNeighbors, Get/SetIPTables) in its private network namespace, on veth
 * pairs created there (the dummy link type is not available on the development hosts), and
 * checked with iproute2 from inside that namespace.
 */
#include "harness.h"
#include "agent.pb-c.h"

#include <linux/if.h>
#include <linux/neighbour.h>
#include <sys/wait.h>

static struct agent_proc agent;
static struct rpc_client *cl;

static int setup(void **state _unused_)
{
	harness_start_agent(&agent, HARNESS_ISOLATE, NULL);
	cl = harness_connect(&agent);
	return 0;
}

static int teardown(void **state _unused_)
{
	rpc_client_free(cl);
	cl = NULL;
	harness_stop_agent(&agent);
	return 0;
}

/* ---- helpers ------------------------------------------------------------------------------ */

/* Runs a shell command (no single quotes) in the agent's network namespace. */
_printf_(1, 2) static int ns(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return harness_sh("nsenter -t %d -n sh -c '%s'", (int)agent.pid, cmd);
}

/* Same, for a command that must succeed. */
#define NS_OK(...) assert_int_equal(ns(__VA_ARGS__), 0)

/* Runs a command in the agent's mount namespace (where /sys or /usr/sbin can be replaced). */
_printf_(1, 2) static int mnt(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return harness_sh("nsenter -t %d -m sh -c '%s'", (int)agent.pid, cmd);
}

/* The agent resolves a devicePath through sysfs. Its own /sys (a tmpfs in its mount
 * namespace) holds a PCI root bus and the given NIC, so that the tests do not depend on the
 * host's PCI layout: "SS/.." paths behind slot SS do not resolve (no bridge), "07" does. */
static void fake_sysfs(const char *netdev)
{
	const char *dev = "/sys/devices/pci0000:00/0000:00:07.0/virtio3/net";
	assert_int_equal(mnt("mount -t tmpfs sysfs-stand-in /sys && mkdir -p /sys/class/net "
			     "/sys/devices/pci0000:00"),
			 0);
	if (netdev)
		assert_int_equal(
		    mnt("mkdir -p %s/%s && printf \"INTERFACE=%s\\n\" > %s/%s/uevent"
			" && ln -s ../../devices/pci0000:00/0000:00:07.0/virtio3/net/%s"
			" /sys/class/net/%s",
			dev, netdev, netdev, dev, netdev, netdev, netdev),
		    0);
}

/* A veth pair; the first end gets the MAC. Both ends stay down. */
static void veth(const char *name, const char *mac, const char *peer)
{
	NS_OK("ip link add %s type veth peer name %s && ip link set %s address %s", name, peer,
	      name, mac);
}

struct addr {
	const char *address, *mask;
};

static int update_iface(const char *mac, const char *name, uint64_t mtu, uint32_t raw_flags,
			const struct addr *addrs, size_t n, const char *devpath,
			Types__Interface **out, char *msg)
{
	Types__IPAddress ipa[8];
	Types__IPAddress *ipp[8];
	Types__Interface i = TYPES__INTERFACE__INIT;
	Grpc__UpdateInterfaceRequest req = GRPC__UPDATE_INTERFACE_REQUEST__INIT;

	assert_true(n <= 8);
	for (size_t k = 0; k < n; k++) {
		types__ipaddress__init(&ipa[k]);
		ipa[k].address = (char *)addrs[k].address;
		ipa[k].mask = (char *)addrs[k].mask;
		ipa[k].family =
		    strchr(addrs[k].address, ':') ? TYPES__IPFAMILY__v6 : TYPES__IPFAMILY__v4;
		ipp[k] = &ipa[k];
	}
	i.hwaddr = (char *)(mac ? mac : "");
	i.name = (char *)(name ? name : "");
	i.mtu = mtu;
	i.raw_flags = raw_flags;
	i.n_ipaddresses = n;
	i.ipaddresses = ipp;
	i.devicepath = (char *)(devpath ? devpath : "");
	req.interface = &i;
	ProtobufCMessage *resp = NULL;
	int code = harness_call(cl, "UpdateInterface", &req.base, &types__interface__descriptor,
				&resp, msg);
	if (out)
		*out = (Types__Interface *)resp;
	else if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static Grpc__Interfaces *list_ifaces(void)
{
	Grpc__ListInterfacesRequest req = GRPC__LIST_INTERFACES_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char msg[512];
	int code = harness_call(cl, "ListInterfaces", &req.base, &grpc__interfaces__descriptor,
				&resp, msg);
	if (code != RPC_OK)
		fail_msg("ListInterfaces: %d %s", code, msg);
	return (Grpc__Interfaces *)resp;
}

static Types__Interface *find_iface(Grpc__Interfaces *l, const char *name)
{
	for (size_t i = 0; i < l->n_interfaces; i++)
		if (streq(l->interfaces[i]->name, name))
			return l->interfaces[i];
	return NULL;
}

static bool has_addr(const Types__Interface *i, const char *address, const char *mask)
{
	for (size_t k = 0; k < i->n_ipaddresses; k++)
		if (streq(i->ipaddresses[k]->address, address) &&
		    streq(i->ipaddresses[k]->mask, mask))
			return true;
	return false;
}

struct route {
	const char *dest, *gateway, *device, *source;
	uint32_t scope, mtu;
	Types__IPFamily family;
};

static int update_routes(const struct route *rs, size_t n, Grpc__Routes **out, char *msg)
{
	Types__Route rt[16];
	Types__Route *rtp[16];
	Grpc__Routes routes = GRPC__ROUTES__INIT;
	Grpc__UpdateRoutesRequest req = GRPC__UPDATE_ROUTES_REQUEST__INIT;

	assert_true(n <= 16);
	for (size_t k = 0; k < n; k++) {
		types__route__init(&rt[k]);
		rt[k].dest = (char *)(rs[k].dest ? rs[k].dest : "");
		rt[k].gateway = (char *)(rs[k].gateway ? rs[k].gateway : "");
		rt[k].device = (char *)(rs[k].device ? rs[k].device : "");
		rt[k].source = (char *)(rs[k].source ? rs[k].source : "");
		rt[k].scope = rs[k].scope;
		rt[k].mtu = rs[k].mtu;
		rt[k].family = rs[k].family;
		rtp[k] = &rt[k];
	}
	routes.n_routes = n;
	routes.routes = rtp;
	req.routes = &routes;
	ProtobufCMessage *resp = NULL;
	int code =
	    harness_call(cl, "UpdateRoutes", &req.base, &grpc__routes__descriptor, &resp, msg);
	if (out)
		*out = (Grpc__Routes *)resp;
	else if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static Grpc__Routes *list_routes(void)
{
	Grpc__ListRoutesRequest req = GRPC__LIST_ROUTES_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char msg[512];
	int code = harness_call(cl, "ListRoutes", &req.base, &grpc__routes__descriptor, &resp, msg);
	if (code != RPC_OK)
		fail_msg("ListRoutes: %d %s", code, msg);
	return (Grpc__Routes *)resp;
}

static const Types__Route *find_route(const Grpc__Routes *l, const char *dest, const char *device)
{
	for (size_t i = 0; i < l->n_routes; i++)
		if (streq(l->routes[i]->dest, dest) && streq(l->routes[i]->device, device))
			return l->routes[i];
	return NULL;
}

struct neigh {
	const char *ip, *device, *lladdr;
	int32_t state, flags;
	bool no_ip;
};

static int add_neighbours(const struct neigh *ns_, size_t n, char *msg)
{
	Types__ARPNeighbor ng[8];
	Types__ARPNeighbor *ngp[8];
	Types__IPAddress ip[8];
	Grpc__ARPNeighbors list = GRPC__ARPNEIGHBORS__INIT;
	Grpc__AddARPNeighborsRequest req = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;

	assert_true(n <= 8);
	for (size_t k = 0; k < n; k++) {
		types__arpneighbor__init(&ng[k]);
		types__ipaddress__init(&ip[k]);
		ip[k].address = (char *)ns_[k].ip;
		ng[k].toipaddress = ns_[k].no_ip ? NULL : &ip[k];
		ng[k].device = (char *)ns_[k].device;
		ng[k].lladdr = (char *)(ns_[k].lladdr ? ns_[k].lladdr : "");
		ng[k].state = ns_[k].state;
		ng[k].flags = ns_[k].flags;
		ngp[k] = &ng[k];
	}
	list.n_arpneighbors = n;
	list.arpneighbors = ngp;
	req.neighbors = &list;
	return harness_call(cl, "AddARPNeighbors", &req.base, &google__protobuf__empty__descriptor,
			    NULL, msg);
}

static void assert_msg_has(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("error message '%s' does not name '%s'", msg, needle);
}

/* ---- loopback ------------------------------------------------------------------------------- */

/* The agent brings lo up at start: a fresh network namespace has it down. */
static void test_lo_up_at_start(void **state _unused_)
{
	Grpc__Interfaces *l = list_ifaces();
	Types__Interface *lo = find_iface(l, "lo");
	assert_non_null(lo);
	assert_true(lo->raw_flags & IFF_UP);
	assert_true(has_addr(lo, "127.0.0.1", "8"));
	assert_true(has_addr(lo, "::1", "128"));
	assert_int_equal(lo->mtu, 65536);
	protobuf_c_message_free_unpacked(&l->base, NULL);
	NS_OK("ip -o link show lo | grep -q \"<LOOPBACK,UP\"");
}

/* ---- UpdateInterface / ListInterfaces ---------------------------------------------------------
 */

static void test_update_interface_roundtrip(void **state _unused_)
{
	const struct addr addrs[] = {{"10.1.0.2", "24"}, {"fd00:1::2", "64"}};
	Types__Interface *out = NULL;
	char msg[512];

	veth("vt0", "02:00:00:00:01:02", "vp0");
	assert_int_equal(
	    update_iface("02:00:00:00:01:02", "eth0", 1400, IFF_NOARP, addrs, 2, NULL, &out, msg),
	    RPC_OK);
	/* The reply is the interface as configured. */
	assert_string_equal(out->name, "eth0");
	assert_string_equal(out->hwaddr, "02:00:00:00:01:02");
	assert_int_equal(out->mtu, 1400);
	assert_int_equal(out->n_ipaddresses, 2);
	assert_true(has_addr(out, "10.1.0.2", "24"));
	assert_true(has_addr(out, "fd00:1::2", "64"));
	protobuf_c_message_free_unpacked(&out->base, NULL);

	/* The kernel agrees. */
	NS_OK("ip -o link show eth0 | grep -q \"NOARP,UP\"");
	NS_OK("ip -o link show eth0 | grep -q \"mtu 1400\"");
	NS_OK("ip -o -4 addr show eth0 | grep -q \"inet 10.1.0.2/24 brd 10.1.0.255\"");
	NS_OK("ip -o -6 addr show eth0 | grep -q \"inet6 fd00:1::2/64\"");

	Grpc__Interfaces *l = list_ifaces();
	Types__Interface *i = find_iface(l, "eth0");
	assert_non_null(i);
	assert_string_equal(i->hwaddr, "02:00:00:00:01:02");
	assert_int_equal(i->mtu, 1400);
	assert_true(has_addr(i, "10.1.0.2", "24"));
	assert_true(has_addr(i, "fd00:1::2", "64"));
	assert_string_equal(i->type, "veth");
	assert_null(find_iface(l, "vt0"));
	protobuf_c_message_free_unpacked(&l->base, NULL);

	/* A second update replaces the addresses, turns ARP back on and keeps the name. */
	const struct addr addrs2[] = {{"10.1.0.3", "16"}};
	assert_int_equal(
	    update_iface("02:00:00:00:01:02", "eth0", 1500, 0, addrs2, 1, NULL, NULL, msg), RPC_OK);
	l = list_ifaces();
	i = find_iface(l, "eth0");
	assert_non_null(i);
	assert_true(has_addr(i, "10.1.0.3", "16"));
	assert_false(has_addr(i, "10.1.0.2", "24"));
	assert_false(has_addr(i, "fd00:1::2", "64"));
	assert_int_equal(i->mtu, 1500);
	assert_false(i->raw_flags & IFF_NOARP);
	assert_true(i->raw_flags & IFF_UP);
	protobuf_c_message_free_unpacked(&l->base, NULL);
	assert_int_not_equal(ns("ip -o link show eth0 | grep -q NOARP"), 0);
}

/* VM templating: no link has the MAC, so the link called `name` takes it. */
static void test_update_interface_by_name_sets_mac(void **state _unused_)
{
	char msg[512];

	veth("tmpl0", "02:00:00:00:02:01", "tmplp0");
	assert_int_equal(update_iface("02:00:00:00:02:99", "tmpl0", 0, 0, NULL, 0, NULL, NULL, msg),
			 RPC_OK);
	NS_OK("ip -o link show tmpl0 | grep -q \"link/ether 02:00:00:00:02:99\"");
	NS_OK("ip -o link show tmpl0 | grep -q \",UP\"");
}

/* Another link holds the requested name: it steps aside and ends with the target's old name,
 * up. */
static void test_update_interface_rename_displaces(void **state _unused_)
{
	char msg[512];

	veth("eth0", "02:00:00:00:03:01", "peer-a");
	veth("ens5", "02:00:00:00:03:02", "peer-b");
	assert_int_equal(update_iface("02:00:00:00:03:02", "eth0", 0, 0, NULL, 0, NULL, NULL, msg),
			 RPC_OK);
	NS_OK("ip -o link show eth0 | grep -q \"link/ether 02:00:00:00:03:02\"");
	NS_OK("ip -o link show ens5 | grep -q \"link/ether 02:00:00:00:03:01\"");
	NS_OK("ip -o link show ens5 | grep -q \",UP\"");
	assert_int_not_equal(ns("ip link show eth0_temp 2>/dev/null"), 0);

	/* And back: a swap. */
	assert_int_equal(update_iface("02:00:00:00:03:01", "eth0", 0, 0, NULL, 0, NULL, NULL, msg),
			 RPC_OK);
	NS_OK("ip -o link show eth0 | grep -q \"link/ether 02:00:00:00:03:01\"");
	NS_OK("ip -o link show ens5 | grep -q \"link/ether 02:00:00:00:03:02\"");

	/* A long requested name still gets a valid temporary name. */
	veth("abcdefghijklmno", "02:00:00:00:03:03", "peer-c");
	assert_int_equal(
	    update_iface("02:00:00:00:03:02", "abcdefghijklmno", 0, 0, NULL, 0, NULL, NULL, msg),
	    RPC_OK);
	NS_OK("ip -o link show abcdefghijklmno | grep -q \"link/ether 02:00:00:00:03:02\"");
	NS_OK("ip -o link show ens5 | grep -q \"link/ether 02:00:00:00:03:03\"");
}

/* IPv6 disabled on the link: its IPv6 addresses are skipped, the IPv4 ones applied. */
static void test_update_interface_ipv6_disabled(void **state _unused_)
{
	const struct addr addrs[] = {{"fd00:5::2", "64"}, {"10.5.0.2", "24"}};
	Types__Interface *out = NULL;
	char msg[512];

	veth("v6off", "02:00:00:00:05:01", "v6offp");
	NS_OK("echo 1 > /proc/sys/net/ipv6/conf/v6off/disable_ipv6");
	assert_int_equal(
	    update_iface("02:00:00:00:05:01", "v6off", 0, 0, addrs, 2, NULL, &out, msg), RPC_OK);
	assert_int_equal(out->n_ipaddresses, 1);
	assert_true(has_addr(out, "10.5.0.2", "24"));
	protobuf_c_message_free_unpacked(&out->base, NULL);
	NS_OK("ip -o -4 addr show v6off | grep -q 10.5.0.2/24");
}

static void test_update_interface_bad_input(void **state _unused_)
{
	const struct addr good[] = {{"10.6.0.2", "24"}};
	char msg[512];

	veth("bad0", "02:00:00:00:06:01", "badp0");
	assert_int_equal(update_iface("02:00:00:00:06:01", "bad0", 0, 0, good, 1, NULL, NULL, msg),
			 RPC_OK);

	/* Empty request. */
	Grpc__UpdateInterfaceRequest empty = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	assert_int_equal(harness_call(cl, "UpdateInterface", &empty.base,
				      &types__interface__descriptor, NULL, msg),
			 RPC_INVALID_ARGUMENT);

	/* Unknown MAC, no link of that name either. */
	assert_int_equal(
	    update_iface("02:00:00:00:06:99", "nosuch0", 0, 0, NULL, 0, NULL, NULL, msg),
	    RPC_NOT_FOUND);
	assert_msg_has(msg, "02:00:00:00:06:99");
	assert_int_equal(update_iface("02:00:00:00:06:98", NULL, 0, 0, NULL, 0, NULL, NULL, msg),
			 RPC_NOT_FOUND);
	assert_msg_has(msg, "02:00:00:00:06:98");

	static const struct {
		const char *mac, *name, *address, *mask, *devpath, *names;
		uint64_t mtu;
	} bad[] = {
	    {"02:00:00:00:06", "bad0", NULL, NULL, NULL, "02:00:00:00:06", 0},
	    {"zz:00:00:00:06:01", "bad0", NULL, NULL, NULL, "zz:00:00:00:06:01", 0},
	    {"02:00:00:00:06:01", "name-far-too-long", NULL, NULL, NULL, "name-far-too-long", 0},
	    {"02:00:00:00:06:01", "bad/0", NULL, NULL, NULL, "bad/0", 0},
	    {"02:00:00:00:06:01", "bad0", "10.6.0.256", "24", NULL, "10.6.0.256", 0},
	    {"02:00:00:00:06:01", "bad0", "10.6.0.3/24", "24", NULL, "10.6.0.3/24", 0},
	    {"02:00:00:00:06:01", "bad0", "10.6.0.3", "33", NULL, "'33'", 0},
	    {"02:00:00:00:06:01", "bad0", "10.6.0.3", "abc", NULL, "'abc'", 0},
	    {"02:00:00:00:06:01", "bad0", "10.6.0.3", "", NULL, "10.6.0.3", 0},
	    {"02:00:00:00:06:01", "bad0", "fd00::3", "129", NULL, "'129'", 0},
	    {"02:00:00:00:06:01", "bad0", NULL, NULL, "0000:00:02.0", "0000:00:02.0", 0},
	    {"02:00:00:00:06:01", "bad0", NULL, NULL, NULL, "4294967296", 4294967296ull},
	    {NULL, NULL, NULL, NULL, NULL, "neither", 0},
	};
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		struct addr a = {bad[k].address, bad[k].mask ? bad[k].mask : ""};
		int code = update_iface(bad[k].mac, bad[k].name, bad[k].mtu, 0, &a,
					a.address ? 1 : 0, bad[k].devpath, NULL, msg);
		if (code != RPC_INVALID_ARGUMENT)
			fail_msg("case %zu: code %d (%s), want INVALID_ARGUMENT", k, code, msg);
		assert_msg_has(msg, bad[k].names);
	}
	/* An MTU the device refuses: the kernel's reason is passed on. */
	assert_int_equal(
	    update_iface("02:00:00:00:06:01", "bad0", 70000, 0, good, 1, NULL, NULL, msg),
	    RPC_INVALID_ARGUMENT);
	assert_msg_has(msg, "MTU 70000");

	/* Nothing a rejected request asked for was applied. */
	NS_OK("ip -o -4 addr show bad0 | grep -q 10.6.0.2/24");
	assert_int_not_equal(ns("ip -o addr show | grep -q 10.6.0.3"), 0);
	assert_true(harness_agent_alive(&agent));
}

/* A hotplugged NIC: the call waits for the link to appear, then configures it. */
static void test_update_interface_waits_for_hotplug(void **state _unused_)
{
	Types__IPAddress ipa = TYPES__IPADDRESS__INIT;
	Types__IPAddress *ipp[] = {&ipa};
	Types__Interface i = TYPES__INTERFACE__INIT;
	Grpc__UpdateInterfaceRequest req = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	uint8_t buf[512];
	uint32_t sid, got;
	struct rpc_status st;
	struct ttrpc_slice pl;

	fake_sysfs(NULL); /* "02/00" does not resolve: the agent waits for the MAC */
	ipa.address = "10.7.0.2";
	ipa.mask = "24";
	i.hwaddr = "02:00:00:00:07:01";
	i.name = "eth7";
	i.devicepath = "02/00";
	i.n_ipaddresses = 1;
	i.ipaddresses = ipp;
	req.interface = &i;
	size_t len = protobuf_c_message_pack(&req.base, buf);
	assert_int_equal(
	    rpc_client_send(cl, "grpc.AgentService", "UpdateInterface", buf, len, 0, &sid), 0);
	assert_int_equal(rpc_client_flush(cl), 0);
	/* Wait (bounded) until the agent says it parked the call, so that the link appears
	 * while it waits rather than before it looked. */
	bool parked = false;
	for (int k = 0; k < 500 && !parked; k++) {
		parked = harness_sh("grep -q \"waiting up to\" %s", agent.log) == 0;
		if (!parked)
			usleep(10 * 1000);
	}
	assert_true(parked);
	veth("hot0", "02:00:00:00:07:01", "hotp0");
	assert_int_equal(rpc_client_recv(cl, &got, &st, &pl), 0);
	assert_int_equal(got, sid);
	if (st.code != RPC_OK)
		fail_msg("UpdateInterface: %d %s", st.code, st.message);
	NS_OK("ip -o -4 addr show eth7 | grep -q 10.7.0.2/24");
	NS_OK("ip -o link show eth7 | grep -q \"link/ether 02:00:00:00:07:01\"");
}

static void test_update_interface_hotplug_timeout(void **state _unused_)
{
	char msg[512];

	/* agent.hotplug_timeout defaults to 3 s. */
	fake_sysfs(NULL);
	assert_int_equal(
	    update_iface("02:00:00:00:08:01", "eth8", 0, 0, NULL, 0, "03/01", NULL, msg),
	    RPC_DEADLINE_EXCEEDED);
	assert_msg_has(msg, "02:00:00:00:08:01");
	assert_msg_has(msg, "03/01");
	/* The link appearing later finds no stale waiter. */
	veth("late0", "02:00:00:00:08:01", "latep0");
	Grpc__Interfaces *l = list_ifaces();
	assert_non_null(find_iface(l, "late0"));
	protobuf_c_message_free_unpacked(&l->base, NULL);
}

/* The caller goes away while its call waits: the waiter is dropped, the agent carries on. */
static void test_update_interface_hotplug_cancelled(void **state _unused_)
{
	Types__Interface i = TYPES__INTERFACE__INIT;
	Grpc__UpdateInterfaceRequest req = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	uint8_t buf[256];
	struct rpc_client *c2 = harness_connect(&agent);

	fake_sysfs(NULL);
	i.hwaddr = "02:00:00:00:09:01";
	i.name = "eth9";
	i.devicepath = "04/00";
	req.interface = &i;
	size_t len = protobuf_c_message_pack(&req.base, buf);
	for (int k = 0; k < 4; k++)
		assert_int_equal(
		    rpc_client_send(c2, "grpc.AgentService", "UpdateInterface", buf, len, 0, NULL),
		    0);
	assert_int_equal(rpc_client_flush(c2), 0);
	bool parked = false;
	for (int k = 0; k < 500 && !parked; k++) {
		parked = harness_sh("test $(grep -c \"waiting up to\" %s) -ge 4", agent.log) == 0;
		if (!parked)
			usleep(10 * 1000);
	}
	assert_true(parked);
	rpc_client_free(c2);
	veth("gone0", "02:00:00:00:09:01", "gonep0");
	Grpc__Interfaces *l = list_ifaces();
	assert_non_null(find_iface(l, "gone0")); /* not renamed: nobody configured it */
	protobuf_c_message_free_unpacked(&l->base, NULL);
	assert_true(harness_agent_alive(&agent));
}

/* A devicePath that resolves (Kata's wait_for_pci_net_interface): the NIC below PCI device
 * 0000:00:07.0 is found through sysfs. No link has the requested MAC, so that NIC takes it
 * (a VFIO NIC) before it is configured. A path with no NIC below it times out. */
static void test_update_interface_pci_path(void **state _unused_)
{
	const struct addr addrs[] = {{"10.13.0.2", "24"}};
	Types__Interface *out = NULL;
	char msg[512];

	veth("hot7", "02:00:00:00:0d:01", "hotp7");
	fake_sysfs("hot7");
	if (update_iface("02:00:00:00:0d:99", "eth7", 0, 0, addrs, 1, "07", &out, msg) != RPC_OK)
		fail_msg("UpdateInterface: %s", msg);
	assert_string_equal(out->name, "eth7");
	assert_string_equal(out->hwaddr, "02:00:00:00:0d:99");
	protobuf_c_message_free_unpacked(&out->base, NULL);
	NS_OK("ip -o link show eth7 | grep -q \"link/ether 02:00:00:00:0d:99\"");
	NS_OK("ip -o -4 addr show eth7 | grep -q 10.13.0.2/24");

	/* Slot 08 resolves too but has no NIC: the uevent wait ends at agent.hotplug_timeout. */
	assert_int_equal(update_iface("02:00:00:00:0d:98", "eth8", 0, 0, NULL, 0, "08", NULL, msg),
			 RPC_DEADLINE_EXCEEDED);
	assert_msg_has(msg, "devicePath 08");
}

/* ---- routes ------------------------------------------------------------------------------------
 */

static void setup_eth0(void)
{
	const struct addr addrs[] = {{"10.2.0.2", "24"}, {"fd00:2::2", "64"}};
	char msg[512];

	veth("rt0", "02:00:00:00:0a:01", "rtp0");
	NS_OK("ip link set rtp0 up");
	if (update_iface("02:00:00:00:0a:01", "eth0", 1500, 0, addrs, 2, NULL, NULL, msg) != RPC_OK)
		fail_msg("UpdateInterface: %s", msg);
}

static void test_update_routes(void **state _unused_)
{
	Grpc__Routes *out = NULL;
	char msg[512];

	setup_eth0();
	/* The gateway routes come first in the request, but their gateways are only reachable
	 * through the device routes after them: the agent adds device routes first. */
	const struct route rs[] = {
	    {.gateway = "10.3.0.1", .device = "eth0"},
	    {.dest = "192.168.0.0/16", .gateway = "10.3.0.1", .device = "eth0", .mtu = 1300},
	    {.dest = "fd00:3::/64",
	     .gateway = "fd00:4::1",
	     .device = "eth0",
	     .family = TYPES__IPFAMILY__v6},
	    {.dest = "10.3.0.0/16", .device = "eth0", .scope = 253, .source = "10.2.0.2"},
	    {.dest = "fd00:4::/64", .device = "eth0", .family = TYPES__IPFAMILY__v6},
	};
	if (update_routes(rs, ARRAY_SIZE(rs), &out, msg) != RPC_OK)
		fail_msg("UpdateRoutes: %s", msg);

	/* The reply is ListRoutes. */
	const Types__Route *r = find_route(out, "", "eth0");
	assert_non_null(r);
	assert_string_equal(r->gateway, "10.3.0.1");
	assert_int_equal(r->family, TYPES__IPFAMILY__v4);
	r = find_route(out, "10.3.0.0/16", "eth0");
	assert_non_null(r);
	assert_int_equal(r->scope, 253);
	assert_string_equal(r->source, "10.2.0.2");
	r = find_route(out, "192.168.0.0/16", "eth0");
	assert_non_null(r);
	assert_int_equal(r->mtu, 1300);
	r = find_route(out, "fd00:3::/64", "eth0");
	assert_non_null(r);
	assert_string_equal(r->gateway, "fd00:4::1");
	assert_int_equal(r->family, TYPES__IPFAMILY__v6);
	protobuf_c_message_free_unpacked(&out->base, NULL);

	NS_OK("ip route show | grep -q \"^default via 10.3.0.1 dev eth0\"");
	NS_OK("ip route show | grep -q \"^10.3.0.0/16 dev eth0 scope link src 10.2.0.2\"");
	NS_OK("ip route show | grep -q \"^192.168.0.0/16 via 10.3.0.1 dev eth0 mtu 1300\"");
	NS_OK("ip -6 route show | grep -q \"^fd00:3::/64 via fd00:4::1 dev eth0\"");
	/* Table main, protocol boot (ip(8) prints "proto boot" only with -d). */
	NS_OK("ip -d route show table main 10.3.0.0/16 | "
	      "grep -q \"unicast 10.3.0.0/16 dev eth0 proto boot scope link\"");

	/* The same request again: replace semantics, no EEXIST. */
	assert_int_equal(update_routes(rs, ARRAY_SIZE(rs), NULL, msg), RPC_OK);
	assert_int_equal(ns("test $(ip route show default | wc -l) -eq 1"), 0);

	/* ListRoutes agrees, and existing routes were not flushed by an empty update. */
	Grpc__Routes empty_routes = GRPC__ROUTES__INIT;
	Grpc__UpdateRoutesRequest req = GRPC__UPDATE_ROUTES_REQUEST__INIT;
	req.routes = &empty_routes;
	assert_int_equal(
	    harness_call(cl, "UpdateRoutes", &req.base, &grpc__routes__descriptor, NULL, msg),
	    RPC_OK);
	Grpc__Routes *l = list_routes();
	assert_non_null(find_route(l, "", "eth0"));
	assert_non_null(find_route(l, "10.2.0.0/24", "eth0")); /* the kernel's subnet route */
	assert_non_null(find_route(l, "fd00:4::/64", "eth0"));
	protobuf_c_message_free_unpacked(&l->base, NULL);
}

static void test_update_routes_bad_input(void **state _unused_)
{
	char msg[512];

	setup_eth0();
	Grpc__UpdateRoutesRequest empty = GRPC__UPDATE_ROUTES_REQUEST__INIT;
	assert_int_equal(
	    harness_call(cl, "UpdateRoutes", &empty.base, &grpc__routes__descriptor, NULL, msg),
	    RPC_INVALID_ARGUMENT);

	static const struct {
		struct route r;
		int code;
		const char *names;
	} bad[] = {
	    {{.dest = "10.9.0.1/16", .device = "eth0"}, RPC_INVALID_ARGUMENT, "10.9.0.1/16"},
	    {{.dest = "bogus", .device = "eth0"}, RPC_INVALID_ARGUMENT, "bogus"},
	    {{.dest = "10.9.0.0/33", .device = "eth0"}, RPC_INVALID_ARGUMENT, "10.9.0.0/33"},
	    {{.dest = "10.9.0.0/16", .gateway = "10.2.0.300", .device = "eth0"},
	     RPC_INVALID_ARGUMENT,
	     "10.2.0.300"},
	    {{.dest = "10.9.0.0/16", .gateway = "fd00:2::1", .device = "eth0"},
	     RPC_INVALID_ARGUMENT,
	     "fd00:2::1"},
	    {{.dest = "10.9.0.0/16", .source = "nope", .device = "eth0"},
	     RPC_INVALID_ARGUMENT,
	     "nope"},
	    {{.dest = "10.9.0.0/16", .device = "eth0:1"}, RPC_INVALID_ARGUMENT, "eth0:1"},
	    {{.dest = "10.9.0.0/16"}, RPC_INVALID_ARGUMENT, "10.9.0.0/16"},
	    {{.dest = "10.9.0.0/16", .device = "eth0", .scope = 256}, RPC_INVALID_ARGUMENT, "256"},
	    {{.dest = "10.9.0.0/16", .device = "nosuch0"}, RPC_NOT_FOUND, "nosuch0"},
	    /* A gateway on no subnet of the link: the kernel refuses it. */
	    {{.dest = "10.9.0.0/16", .gateway = "172.16.0.1", .device = "eth0"},
	     RPC_FAILED_PRECONDITION,
	     "172.16.0.1"},
	};
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		int code = update_routes(&bad[k].r, 1, NULL, msg);
		if (code != bad[k].code)
			fail_msg("case %zu: code %d (%s), want %d", k, code, msg, bad[k].code);
		assert_msg_has(msg, bad[k].names);
	}
	/* A bad route anywhere in the request: nothing is applied. */
	const struct route mixed[] = {{.dest = "10.9.0.0/16", .device = "eth0"},
				      {.dest = "10.10.0.0/16", .gateway = "x", .device = "eth0"}};
	assert_int_equal(update_routes(mixed, 2, NULL, msg), RPC_INVALID_ARGUMENT);
	assert_int_not_equal(ns("ip route show | grep -q 10.9.0.0"), 0);
	assert_true(harness_agent_alive(&agent));
}

/* ---- neighbours -------------------------------------------------------------------------------
 */

static void test_add_arp_neighbours(void **state _unused_)
{
	char msg[512];

	setup_eth0();
	const struct neigh ok[] = {
	    {.ip = "10.2.0.1", .device = "eth0", .lladdr = "02:00:00:00:0b:01"},
	    {.ip = "fd00:2::1", .device = "eth0", .lladdr = "02:00:00:00:0b:02"},
	    {.ip = "10.2.0.9",
	     .device = "eth0",
	     .lladdr = "02:00:00:00:0b:09",
	     .state = NUD_REACHABLE},
	};
	if (add_neighbours(ok, ARRAY_SIZE(ok), msg) != RPC_OK)
		fail_msg("AddARPNeighbors: %s", msg);
	/* state 0 is permanent (Kata). */
	NS_OK("ip neigh show dev eth0 | grep -q \"^10.2.0.1 lladdr 02:00:00:00:0b:01 PERMANENT\"");
	NS_OK("ip -6 neigh show dev eth0 | grep -q \"^fd00:2::1 lladdr 02:00:00:00:0b:02 "
	      "PERMANENT\"");
	NS_OK("ip neigh show dev eth0 | grep -q \"^10.2.0.9 lladdr 02:00:00:00:0b:09\"");
	/* Replace semantics: a second add changes the entry. */
	const struct neigh again[] = {
	    {.ip = "10.2.0.1", .device = "eth0", .lladdr = "02:00:00:00:0b:11"}};
	assert_int_equal(add_neighbours(again, 1, msg), RPC_OK);
	NS_OK("ip neigh show dev eth0 | grep -q \"^10.2.0.1 lladdr 02:00:00:00:0b:11 PERMANENT\"");

	Grpc__AddARPNeighborsRequest empty = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;
	assert_int_equal(harness_call(cl, "AddARPNeighbors", &empty.base,
				      &google__protobuf__empty__descriptor, NULL, msg),
			 RPC_INVALID_ARGUMENT);

	static const struct {
		struct neigh n;
		int code;
		const char *names;
	} bad[] = {
	    {{.ip = "10.2.0.5", .device = "nosuch0"}, RPC_NOT_FOUND, "nosuch0"},
	    {{.ip = "10.2.0.500", .device = "eth0"}, RPC_INVALID_ARGUMENT, "10.2.0.500"},
	    {{.ip = "10.2.0.5", .device = "eth0", .lladdr = "02:00:00"},
	     RPC_INVALID_ARGUMENT,
	     "02:00:00"},
	    {{.ip = "10.2.0.5", .device = "eth0", .state = -1}, RPC_INVALID_ARGUMENT, "-1"},
	    {{.ip = "10.2.0.5", .device = "eth0", .flags = 4096}, RPC_INVALID_ARGUMENT, "4096"},
	    {{.ip = "10.2.0.5", .device = "", .lladdr = NULL}, RPC_INVALID_ARGUMENT, "''"},
	    {{.ip = "", .device = "eth0", .no_ip = true}, RPC_INVALID_ARGUMENT, "toIPAddress"},
	};
	for (size_t k = 0; k < ARRAY_SIZE(bad); k++) {
		int code = add_neighbours(&bad[k].n, 1, msg);
		if (code != bad[k].code)
			fail_msg("case %zu: code %d (%s), want %d", k, code, msg, bad[k].code);
		assert_msg_has(msg, bad[k].names);
	}
	assert_int_not_equal(ns("ip neigh show | grep -q 10.2.0.5"), 0);
}

/* ---- bounds ---------------------------------------------------------------------------------- */

/* Every list a request carries is bounded (each item is a kernel round trip on the loop). */
static void test_request_bounds(void **state _unused_)
{
	enum { N = 4097 };
	Types__IPAddress *ipa = calloc(N, sizeof(*ipa));
	Types__IPAddress **ipp = calloc(N, sizeof(*ipp));
	Types__Route *rt = calloc(N, sizeof(*rt));
	Types__Route **rtp = calloc(N, sizeof(*rtp));
	Types__ARPNeighbor *ng = calloc(N, sizeof(*ng));
	Types__ARPNeighbor **ngp = calloc(N, sizeof(*ngp));
	char msg[512];

	assert_true(ipa && ipp && rt && rtp && ng && ngp);
	for (size_t k = 0; k < N; k++) {
		types__ipaddress__init(&ipa[k]);
		ipa[k].address = "10.20.0.1";
		ipa[k].mask = "32";
		ipp[k] = &ipa[k];
		types__route__init(&rt[k]);
		rt[k].dest = "10.21.0.0/16";
		rt[k].device = "lo";
		rtp[k] = &rt[k];
		types__arpneighbor__init(&ng[k]);
		ng[k].toipaddress = &ipa[k];
		ng[k].device = "lo";
		ngp[k] = &ng[k];
	}

	Types__Interface i = TYPES__INTERFACE__INIT;
	Grpc__UpdateInterfaceRequest ireq = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
	i.name = "lo";
	i.n_ipaddresses = 257;
	i.ipaddresses = ipp;
	ireq.interface = &i;
	assert_int_equal(harness_call(cl, "UpdateInterface", &ireq.base,
				      &types__interface__descriptor, NULL, msg),
			 RPC_RESOURCE_EXHAUSTED);
	assert_msg_has(msg, "257");

	Grpc__Routes routes = GRPC__ROUTES__INIT;
	Grpc__UpdateRoutesRequest rreq = GRPC__UPDATE_ROUTES_REQUEST__INIT;
	routes.n_routes = N;
	routes.routes = rtp;
	rreq.routes = &routes;
	assert_int_equal(
	    harness_call(cl, "UpdateRoutes", &rreq.base, &grpc__routes__descriptor, NULL, msg),
	    RPC_RESOURCE_EXHAUSTED);
	assert_msg_has(msg, "4097");

	Grpc__ARPNeighbors list = GRPC__ARPNEIGHBORS__INIT;
	Grpc__AddARPNeighborsRequest nreq = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;
	list.n_arpneighbors = N;
	list.arpneighbors = ngp;
	nreq.neighbors = &list;
	assert_int_equal(harness_call(cl, "AddARPNeighbors", &nreq.base,
				      &google__protobuf__empty__descriptor, NULL, msg),
			 RPC_RESOURCE_EXHAUSTED);
	assert_msg_has(msg, "4097");

	/* Nothing was applied. */
	assert_int_not_equal(ns("ip addr show lo | grep -q 10.20.0.1"), 0);
	assert_int_not_equal(ns("ip route show | grep -q 10.21.0.0"), 0);
	free(ipa);
	free(ipp);
	free(rt);
	free(rtp);
	free(ng);
	free(ngp);
}

/* ---- iptables -----------------------------------------------------------------------------------
 */

static int iptables_call(const char *method, bool v6, const char *data, uint64_t timeout_ns,
			 char **out, char *msg)
{
	Grpc__GetIPTablesRequest get = GRPC__GET_IPTABLES_REQUEST__INIT;
	Grpc__SetIPTablesRequest set = GRPC__SET_IPTABLES_REQUEST__INIT;
	bool is_set = streq(method, "SetIPTables");
	struct rpc_status st;
	ProtobufCMessage *resp = NULL;

	get.is_ipv6 = set.is_ipv6 = v6;
	set.data.data = (uint8_t *)data;
	set.data.len = data ? strlen(data) : 0;
	int r = rpc_client_call(cl, "grpc.AgentService", method, is_set ? &set.base : &get.base,
				is_set ? &grpc__set_iptables_response__descriptor
				       : &grpc__get_iptables_response__descriptor,
				&resp, timeout_ns, &st);
	if (r < 0)
		fail_msg("%s: transport failure: %s", method, strerror(-r));
	snprintf(msg, 512, "%s", st.message);
	if (st.code == RPC_OK && out) {
		ProtobufCBinaryData *d = is_set ? &((Grpc__SetIPTablesResponse *)resp)->data
						: &((Grpc__GetIPTablesResponse *)resp)->data;
		*out = d->len ? strndup((const char *)d->data, d->len) : strdup("");
	}
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return st.code;
}

/* The real iptables in the agent's namespace, when the host has it. */
static void test_iptables_real(void **state _unused_)
{
	char msg[512];
	_cleanup_free_ char *saved = NULL, *saved6 = NULL;

	if (access("/usr/sbin/iptables-restore", X_OK) != 0 &&
	    access("/sbin/iptables-restore", X_OK) != 0)
		skip();
	const char *rules = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
			    ":OUTPUT ACCEPT [0:0]\n-A INPUT -s 10.99.0.7/32 -j DROP\nCOMMIT\n";
	if (iptables_call("SetIPTables", false, rules, 0, NULL, msg) != RPC_OK)
		fail_msg("SetIPTables: %s", msg);
	assert_int_equal(iptables_call("GetIPTables", false, NULL, 0, &saved, msg), RPC_OK);
	if (!strstr(saved, "-A INPUT -s 10.99.0.7/32 -j DROP"))
		fail_msg("iptables-save output lacks the rule:\n%s", saved);

	const char *rules6 = "*filter\n:INPUT ACCEPT [0:0]\n-A INPUT -s fd00:99::7/128 -j DROP\n"
			     "COMMIT\n";
	if (iptables_call("SetIPTables", true, rules6, 0, NULL, msg) != RPC_OK)
		fail_msg("SetIPTables v6: %s", msg);
	assert_int_equal(iptables_call("GetIPTables", true, NULL, 0, &saved6, msg), RPC_OK);
	assert_non_null(strstr(saved6, "fd00:99::7/128"));

	/* Rules iptables-restore refuses: its own message, INVALID_ARGUMENT (exit status 2). */
	assert_int_equal(
	    iptables_call("SetIPTables", false, "*filter\n-A NOPE -j X\nCOMMIT\n", 0, NULL, msg),
	    RPC_INVALID_ARGUMENT);
	assert_msg_has(msg, "iptables-restore");
	assert_msg_has(msg, "line");
	/* Only the agent's namespace changed. */
	assert_int_not_equal(harness_sh("iptables-save 2>/dev/null | grep -q 10.99.0.7"), 0);
}

/* A guest without iptables (and /sbin -> usr/sbin here): UNIMPLEMENTED naming the binary. */
static void test_iptables_absent(void **state _unused_)
{
	char msg[512];

	if (mnt("test -L /sbin && mount -t tmpfs none /usr/sbin") != 0)
		skip(); /* a host whose /sbin is not a link to usr/sbin */
	assert_int_equal(iptables_call("GetIPTables", false, NULL, 0, NULL, msg),
			 RPC_UNIMPLEMENTED);
	assert_msg_has(msg, "iptables-save");
	assert_int_equal(iptables_call("SetIPTables", true, "x", 0, NULL, msg), RPC_UNIMPLEMENTED);
	assert_msg_has(msg, "ip6tables-restore");
}

/* Stand-ins that misbehave: the run is bounded by the call's deadline, the child is killed,
 * a flood of output is refused, a failure carries stderr. */
static void test_iptables_misbehaving(void **state _unused_)
{
	char msg[512];
	_cleanup_free_ char *out = NULL;

	if (mnt("test -L /sbin && mount -t tmpfs none /usr/sbin") != 0)
		skip();
	assert_int_equal(
	    mnt("printf \"#!/bin/sh\\nexec sleep 7777\\n\" > /usr/sbin/iptables-restore"
		" && printf \"#!/bin/sh\\nhead -c 6000000 /dev/zero\\n\" > "
		"/usr/sbin/iptables-save"
		" && printf \"#!/bin/sh\\ncat > /dev/null; echo -n ok; echo broken >&2;"
		" exit 1\\n\" > /usr/sbin/ip6tables-restore"
		" && printf \"#!/bin/sh\\ncat\\n\" > /usr/sbin/ip6tables-save"
		" && chmod +x /usr/sbin/*"),
	    0);

	/* Hangs: the call's deadline (timeout_nano, 1 s) ends it and the agent kills the
	 * command. The client itself waits without a deadline for the answer. */
	Grpc__SetIPTablesRequest set = GRPC__SET_IPTABLES_REQUEST__INIT;
	uint8_t buf[64];
	uint32_t sid, got;
	struct rpc_status st;
	struct ttrpc_slice pl;
	set.data = (ProtobufCBinaryData){5, (uint8_t *)"rules"};
	size_t len = protobuf_c_message_pack(&set.base, buf);
	assert_int_equal(rpc_client_send(cl, "grpc.AgentService", "SetIPTables", buf, len,
					 (int64_t)NSEC_PER_SEC, &sid),
			 0);
	assert_int_equal(rpc_client_flush(cl), 0);
	assert_int_equal(rpc_client_recv(cl, &got, &st, &pl), 0);
	assert_int_equal(got, sid);
	assert_int_equal(st.code, RPC_DEADLINE_EXCEEDED);
	bool gone = false;
	for (int k = 0; k < 500 && !gone; k++) {
		gone = harness_sh("pgrep -f \"slee[p] 7777\" >/dev/null") != 0;
		if (!gone)
			usleep(10 * 1000);
	}
	assert_true(gone);

	assert_int_equal(iptables_call("GetIPTables", false, NULL, 0, NULL, msg),
			 RPC_RESOURCE_EXHAUSTED);
	assert_msg_has(msg, "iptables-save");

	/* The rules reach the command's stdin and their end is an EOF it sees (`cat` returns):
	 * nothing else holds the pipe's write end. Its failure carries its stderr. */
	assert_int_equal(iptables_call("SetIPTables", true, "rules", 0, NULL, msg), RPC_INTERNAL);
	assert_msg_has(msg, "status 1");
	assert_msg_has(msg, "broken");

	/* GetIPTables gives the command an empty stdin. */
	assert_int_equal(iptables_call("GetIPTables", true, NULL, 0, &out, msg), RPC_OK);
	assert_string_equal(out, "");
	assert_true(harness_agent_alive(&agent));
}

/* ---- emberctl
 * ------------------------------------------------------------------------------------ */

static void test_emberctl_net(void **state _unused_)
{
	const char *ctl = getenv("EMBERCTL");
	assert_non_null(ctl);
	veth("ctl0", "02:00:00:00:0c:01", "ctlp0");
	NS_OK("ip link set ctlp0 up");

	assert_int_equal(
	    harness_sh("%s --addr %s iface update "
		       "'{\"hwAddr\":\"02:00:00:00:0c:01\",\"name\":\"eth0\","
		       "\"IPAddresses\":[{\"address\":\"10.12.0.2\",\"mask\":\"24\"}]}'"
		       " | grep -q '^eth0 .*02:00:00:00:0c:01 .*10.12.0.2/24'",
		       ctl, agent.addr),
	    0);
	assert_int_equal(
	    harness_sh("%s --addr %s iface list | grep -q '^eth0 .*10.12.0.2/24'", ctl, agent.addr),
	    0);
	assert_int_equal(harness_sh("%s --addr %s route update "
				    "'[{\"dest\":\"10.13.0.0/16\",\"gateway\":\"10.12.0.1\","
				    "\"device\":\"eth0\"}]' | grep -q '^10.13.0.0/16 via 10.12.0.1 "
				    "dev eth0'",
				    ctl, agent.addr),
			 0);
	assert_int_equal(
	    harness_sh("%s --addr %s route list | grep -q '^10.13.0.0/16 via 10.12.0.1'", ctl,
		       agent.addr),
	    0);
	assert_int_equal(harness_sh("%s --addr %s arp add '[{\"toIPAddress\":{\"address\":"
				    "\"10.12.0.1\"},\"device\":\"eth0\",\"lladdr\":"
				    "\"02:00:00:00:0c:09\"}]'",
				    ctl, agent.addr),
			 0);
	NS_OK("ip neigh show dev eth0 | grep -q \"^10.12.0.1 lladdr 02:00:00:00:0c:09 PERMANENT\"");
	/* Errors: the status name and the agent's message, exit status 1. */
	assert_int_equal(
	    harness_sh("%s --addr %s iface update '{\"hwAddr\":\"02:00:00:00:0c:99\"}' "
		       "2>&1 | grep -q '^emberctl: NOT_FOUND: .*02:00:00:00:0c:99'",
		       ctl, agent.addr),
	    0);
	assert_int_equal(
	    harness_sh("%s --addr %s route update '[{\"dest\":\"bogus\"}]' 2>/dev/null", ctl,
		       agent.addr),
	    1);
	assert_int_equal(
	    harness_sh("%s --addr %s iface update 'not json' 2>/dev/null", ctl, agent.addr), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_lo_up_at_start, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_roundtrip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_by_name_sets_mac, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_rename_displaces, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_ipv6_disabled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_waits_for_hotplug, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_hotplug_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_hotplug_cancelled, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_update_interface_pci_path, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_routes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_update_routes_bad_input, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_add_arp_neighbours, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_request_bounds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iptables_real, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iptables_absent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_iptables_misbehaving, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_emberctl_net, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
