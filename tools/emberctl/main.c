/* SPDX-License-Identifier: Apache-2.0 */
#include "emberctl.h"
#include "version.h"

#include <getopt.h>

extern const struct ctl_command ctl_commands_net[];	  /* cmd-net.c */
extern const struct ctl_command ctl_commands_storage[];	  /* cmd-storage.c */
extern const struct ctl_command ctl_commands_container[]; /* cmd-container.c */
extern const struct ctl_command ctl_commands_guest[];	  /* cmd-guest.c */
extern const struct ctl_command ctl_commands_cgroup[];	  /* cmd-cgroup.c */

static const struct ctl_command *const command_tables[] = {
    ctl_commands_health,    ctl_commands_call,	ctl_commands_net,    ctl_commands_storage,
    ctl_commands_container, ctl_commands_guest, ctl_commands_cgroup,
};

int ctl_connect(struct ctl *ctl)
{
	if (ctl->client)
		return 0;
	if (!ctl->addr) {
		fprintf(stderr, "emberctl: no agent address: use --addr or EMBERCTL_ADDR\n");
		return -EINVAL;
	}
	int r = rpc_client_connect(ctl->addr, ctl->connect_timeout_ms, &ctl->client);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "emberctl: cannot connect to %s: %m\n", ctl->addr);
	}
	return r;
}

int ctl_call(struct ctl *ctl, const char *service, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp)
{
	struct rpc_status st;
	int r = ctl_connect(ctl);
	if (r < 0)
		return r == -EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_TRANSPORT;
	r = rpc_client_call(ctl->client, service, method, req, resp_desc, resp, ctl->timeout_ns,
			    &st);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "emberctl: %s/%s: %s\n", service, method,
			r == -ETIMEDOUT ? "timed out" : strerror(-r));
		return CTL_EXIT_TRANSPORT;
	}
	if (st.code != RPC_OK) {
		fprintf(stderr, "emberctl: %s: %s\n", rpc_code_name(st.code), st.message);
		return CTL_EXIT_RPC;
	}
	return CTL_EXIT_OK;
}

void ctl_print_json(const ProtobufCMessage *m)
{
	json_object *j = pbjson_from_message(m);
	puts(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN |
						   JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(j);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: emberctl [--addr ADDR] [--timeout SECONDS] COMMAND [ARGS...]\n"
		"Talk to an ember (or Kata) agent over ttrpc.\n\n"
		"  -a, --addr ADDR      unix:///path, vsock://CID:PORT, hvsock:///vmm.sock:PORT,\n"
		"                       serial:///host/socket (default: $EMBERCTL_ADDR)\n"
		"  -t, --timeout SECS   per-call deadline, sent as timeout_nano (default 60; 0 = "
		"none)\n"
		"  -h, --help           this help\n"
		"  -V, --version        version\n\nCommands:\n");
	for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++)
		for (const struct ctl_command *c = command_tables[t]; c->name; c++)
			fprintf(f, "  %-10s %-28s %s\n", c->name, c->args ? c->args : "", c->help);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"addr", required_argument, NULL, 'a'},
	    {"timeout", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	struct ctl ctl = {
	    .addr = getenv("EMBERCTL_ADDR"),
	    .timeout_ns = 60 * NSEC_PER_SEC,
	    .connect_timeout_ms = 5000,
	};
	uint64_t secs;
	int c;

	while ((c = getopt_long(argc, argv, "+a:t:hV", opts, NULL)) >= 0) {
		switch (c) {
		case 'a':
			ctl.addr = optarg;
			break;
		case 't':
			if (parse_u64(optarg, &secs) < 0 || secs > UINT64_MAX / NSEC_PER_SEC) {
				fprintf(stderr, "emberctl: invalid timeout '%s'\n", optarg);
				return CTL_EXIT_USAGE;
			}
			ctl.timeout_ns = secs * NSEC_PER_SEC;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("emberctl %s\n", EMBER_VERSION);
			return 0;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	const char *name = argv[optind];
	for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++)
		for (const struct ctl_command *cmd = command_tables[t]; cmd->name; cmd++)
			if (streq(cmd->name, name)) {
				int r = cmd->run(&ctl, argc - optind, argv + optind);
				rpc_client_free(ctl.client);
				return r;
			}
	fprintf(stderr, "emberctl: unknown command '%s' (see emberctl --help)\n", name);
	return CTL_EXIT_USAGE;
}
