/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest networking: iface (UpdateInterface, ListInterfaces), route (UpdateRoutes, ListRoutes),
 * arp (AddARPNeighbors) and iptables (Get/SetIPTables). Requests are JSON in the .proto field
 * names (as for `call`); replies print one line per interface or route, the way ip(8) would.
 */
#include "emberctl.h"
#include "agent.pb-c.h"

#include <fcntl.h>
#include <linux/if.h>

#define SVC "grpc.AgentService"

/* JSON from an argument, @FILE or - (stdin). */
static int json_arg(const char *arg, json_object **ret)
{
	_cleanup_free_ char *text = NULL;
	enum json_tokener_error jerr;

	if (streq(arg, "-") || arg[0] == '@') {
		int r = read_file(streq(arg, "-") ? "/dev/stdin" : arg + 1, 16u << 20, &text, NULL);
		if (r < 0) {
			errno = -r;
			fprintf(stderr, "emberctl: cannot read %s: %m\n", arg);
			return r;
		}
		arg = text;
	}
	json_object *j = json_tokener_parse_verbose(arg, &jerr);
	if (!j) {
		fprintf(stderr, "emberctl: invalid JSON: %s\n", json_tokener_error_desc(jerr));
		return -EINVAL;
	}
	*ret = j;
	return 0;
}

/* Parses JSON into a message of type d. A JSON array is taken as the value of the message's
 * repeated field `list_field` ("[...]" for {"Routes": [...]}). */
static int json_to_msg(const char *arg, const ProtobufCMessageDescriptor *d, const char *list_field,
		       ProtobufCMessage **ret)
{
	json_object *j = NULL;
	char err[256];

	if (json_arg(arg, &j) < 0)
		return -EINVAL;
	if (list_field && json_object_is_type(j, json_type_array)) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, list_field, j);
		j = o;
	}
	int r = pbjson_to_message(d, j, ret, err, sizeof(err));
	json_object_put(j);
	if (r < 0)
		fprintf(stderr, "emberctl: %s\n", r == -ENOMEM ? "out of memory" : err);
	return r;
}

static void print_iface(const Types__Interface *i)
{
	printf("%-15s %-17s mtu %-5llu %s", i->name, i->hwaddr[0] ? i->hwaddr : "-",
	       (unsigned long long)i->mtu, i->raw_flags & IFF_UP ? "up  " : "down");
	for (size_t k = 0; k < i->n_ipaddresses; k++)
		printf(" %s/%s", i->ipaddresses[k]->address, i->ipaddresses[k]->mask);
	putchar('\n');
}

static void print_route(const Types__Route *r)
{
	printf("%s", r->dest[0] ? r->dest : "default");
	if (r->gateway[0])
		printf(" via %s", r->gateway);
	if (r->device[0])
		printf(" dev %s", r->device);
	if (r->scope)
		printf(" scope %u", r->scope);
	if (r->source[0])
		printf(" src %s", r->source);
	if (r->mtu)
		printf(" mtu %u", r->mtu);
	if (r->family == TYPES__IPFAMILY__v6 && !strchr(r->dest, ':') && !strchr(r->gateway, ':'))
		printf(" (inet6)");
	putchar('\n');
}

/* iface list | iface update JSON */
static int cmd_iface(struct ctl *ctl, int argc, char **argv)
{
	ProtobufCMessage *resp = NULL;
	int r;

	if (argc == 2 && streq(argv[1], "list")) {
		Grpc__ListInterfacesRequest req = GRPC__LIST_INTERFACES_REQUEST__INIT;
		r = ctl_call(ctl, SVC, "ListInterfaces", &req.base, &grpc__interfaces__descriptor,
			     &resp);
		if (r != CTL_EXIT_OK)
			return r;
		Grpc__Interfaces *l = (Grpc__Interfaces *)resp;
		for (size_t i = 0; i < l->n_interfaces; i++)
			print_iface(l->interfaces[i]);
	} else if (argc == 3 && streq(argv[1], "update")) {
		Grpc__UpdateInterfaceRequest req = GRPC__UPDATE_INTERFACE_REQUEST__INIT;
		ProtobufCMessage *iface = NULL;
		if (json_to_msg(argv[2], &types__interface__descriptor, NULL, &iface) < 0)
			return CTL_EXIT_USAGE;
		req.interface = (Types__Interface *)iface;
		r = ctl_call(ctl, SVC, "UpdateInterface", &req.base, &types__interface__descriptor,
			     &resp);
		protobuf_c_message_free_unpacked(iface, NULL);
		if (r != CTL_EXIT_OK)
			return r;
		Types__Interface *i = (Types__Interface *)resp;
		i->raw_flags |= IFF_UP; /* the reply carries the request's flags; it is up */
		print_iface(i);
	} else {
		return CTL_EXIT_USAGE;
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

/* route list | route update JSON */
static int cmd_route(struct ctl *ctl, int argc, char **argv)
{
	ProtobufCMessage *resp = NULL;
	int r;

	if (argc == 2 && streq(argv[1], "list")) {
		Grpc__ListRoutesRequest req = GRPC__LIST_ROUTES_REQUEST__INIT;
		r = ctl_call(ctl, SVC, "ListRoutes", &req.base, &grpc__routes__descriptor, &resp);
	} else if (argc == 3 && streq(argv[1], "update")) {
		Grpc__UpdateRoutesRequest req = GRPC__UPDATE_ROUTES_REQUEST__INIT;
		ProtobufCMessage *routes = NULL;
		if (json_to_msg(argv[2], &grpc__routes__descriptor, "Routes", &routes) < 0)
			return CTL_EXIT_USAGE;
		req.routes = (Grpc__Routes *)routes;
		r = ctl_call(ctl, SVC, "UpdateRoutes", &req.base, &grpc__routes__descriptor, &resp);
		protobuf_c_message_free_unpacked(routes, NULL);
	} else {
		return CTL_EXIT_USAGE;
	}
	if (r != CTL_EXIT_OK)
		return r;
	Grpc__Routes *l = (Grpc__Routes *)resp;
	for (size_t i = 0; i < l->n_routes; i++)
		print_route(l->routes[i]);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

/* arp add JSON */
static int cmd_arp(struct ctl *ctl, int argc, char **argv)
{
	Grpc__AddARPNeighborsRequest req = GRPC__ADD_ARPNEIGHBORS_REQUEST__INIT;
	ProtobufCMessage *list = NULL, *resp = NULL;

	if (argc != 3 || !streq(argv[1], "add"))
		return CTL_EXIT_USAGE;
	if (json_to_msg(argv[2], &grpc__arpneighbors__descriptor, "ARPNeighbors", &list) < 0)
		return CTL_EXIT_USAGE;
	req.neighbors = (Grpc__ARPNeighbors *)list;
	int r = ctl_call(ctl, SVC, "AddARPNeighbors", &req.base,
			 &google__protobuf__empty__descriptor, &resp);
	protobuf_c_message_free_unpacked(list, NULL);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

/* iptables get [-6] | iptables set [-6] FILE|- : rules in iptables-save format. */
static int cmd_iptables(struct ctl *ctl, int argc, char **argv)
{
	bool v6 = argc >= 3 && streq(argv[2], "-6");
	int nargs = argc - (v6 ? 1 : 0);
	ProtobufCMessage *resp = NULL;
	ProtobufCBinaryData *out;
	int r;

	if (argc < 2)
		return CTL_EXIT_USAGE;
	if (streq(argv[1], "get") && nargs == 2) {
		Grpc__GetIPTablesRequest req = GRPC__GET_IPTABLES_REQUEST__INIT;
		req.is_ipv6 = v6;
		r = ctl_call(ctl, SVC, "GetIPTables", &req.base,
			     &grpc__get_iptables_response__descriptor, &resp);
		if (r != CTL_EXIT_OK)
			return r;
		out = &((Grpc__GetIPTablesResponse *)resp)->data;
	} else if (streq(argv[1], "set") && nargs == 3) {
		Grpc__SetIPTablesRequest req = GRPC__SET_IPTABLES_REQUEST__INIT;
		const char *file = argv[argc - 1];
		_cleanup_free_ char *rules = NULL;
		size_t len = 0;
		r = read_file(streq(file, "-") ? "/dev/stdin" : file, 4u << 20, &rules, &len);
		if (r < 0) {
			errno = -r;
			fprintf(stderr, "emberctl: cannot read %s: %m\n", file);
			return CTL_EXIT_USAGE;
		}
		req.is_ipv6 = v6;
		req.data = (ProtobufCBinaryData){len, (uint8_t *)rules};
		r = ctl_call(ctl, SVC, "SetIPTables", &req.base,
			     &grpc__set_iptables_response__descriptor, &resp);
		if (r != CTL_EXIT_OK)
			return r;
		out = &((Grpc__SetIPTablesResponse *)resp)->data;
	} else {
		return CTL_EXIT_USAGE;
	}
	if (out->len)
		fwrite(out->data, 1, out->len, stdout);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

const struct ctl_command ctl_commands_net[] = {
    {"iface", "list | update JSON", "ListInterfaces / UpdateInterface (types.Interface)",
     cmd_iface},
    {"route", "list | update JSON", "ListRoutes / UpdateRoutes ([types.Route] or Routes)",
     cmd_route},
    {"arp", "add JSON", "AddARPNeighbors ([types.ARPNeighbor] or ARPNeighbors)", cmd_arp},
    {"iptables", "get [-6] | set [-6] FILE|-", "GetIPTables / SetIPTables", cmd_iptables},
    {},
};
