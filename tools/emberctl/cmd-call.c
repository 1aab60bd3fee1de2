/* SPDX-License-Identifier: Apache-2.0 */
#include "emberctl.h"
#include "agent.pb-c.h"
#include "health.pb-c.h"

static const ProtobufCServiceDescriptor *const services[] = {
    &grpc__agent_service__descriptor,
    &grpc__health__descriptor,
};

static int read_json_arg(const char *arg, json_object **ret)
{
	_cleanup_free_ char *text = NULL;
	if (streq(arg, "-") || arg[0] == '@') {
		int r = read_file(streq(arg, "-") ? "/dev/stdin" : arg + 1, 64u << 20, &text, NULL);
		if (r < 0) {
			errno = -r;
			fprintf(stderr, "emberctl: cannot read %s: %m\n", arg);
			return r;
		}
		arg = text;
	}
	enum json_tokener_error jerr;
	json_object *j = json_tokener_parse_verbose(arg, &jerr);
	if (!j) {
		fprintf(stderr, "emberctl: invalid JSON: %s\n", json_tokener_error_desc(jerr));
		return -EINVAL;
	}
	*ret = j;
	return 0;
}

/* call [SERVICE/]METHOD [JSON | @FILE | -]: any RPC, request and reply as JSON. */
static int cmd_call(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return CTL_EXIT_USAGE;
	const char *name = argv[1], *slash = strrchr(name, '/');
	const char *method = slash ? slash + 1 : name;
	const ProtobufCServiceDescriptor *svc = NULL;
	const ProtobufCMethodDescriptor *m = NULL;

	for (size_t i = 0; i < ARRAY_SIZE(services) && !m; i++) {
		if (slash && (strlen(services[i]->name) != (size_t)(slash - name) ||
			      strncmp(services[i]->name, name, (size_t)(slash - name)) != 0))
			continue;
		m = protobuf_c_service_descriptor_get_method_by_name(services[i], method);
		svc = services[i];
	}
	if (!m) {
		fprintf(stderr, "emberctl: unknown method '%s'\n", name);
		return CTL_EXIT_USAGE;
	}

	json_object *j = NULL;
	if (read_json_arg(argc == 3 ? argv[2] : "{}", &j) < 0)
		return CTL_EXIT_USAGE;
	ProtobufCMessage *req = NULL, *resp = NULL;
	char err[256];
	int r = pbjson_to_message(m->input, j, &req, err, sizeof(err));
	json_object_put(j);
	if (r < 0) {
		fprintf(stderr, "emberctl: %s\n", r == -ENOMEM ? "out of memory" : err);
		return CTL_EXIT_USAGE;
	}
	r = ctl_call(ctl, svc->name, m->name, req, m->output, &resp);
	protobuf_c_message_free_unpacked(req, NULL);
	if (r == CTL_EXIT_OK) {
		ctl_print_json(resp);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	return r;
}

const struct ctl_command ctl_commands_call[] = {
    {"call", "[SVC/]METHOD [JSON|@FILE|-]", "any RPC; request and reply as JSON", cmd_call},
    {},
};
