/* SPDX-License-Identifier: Apache-2.0 */
/*
 * emberctl: the host-side client of ember-agent (and of any Kata agent).
 *
 * Contract for command files: each defines a `const struct ctl_command ctl_commands_<x>[]`
 * terminated by an empty entry and lists it in main.c. A command returns the process exit
 * status: 0 success, 1 the agent answered an error (printed as "emberctl: CODE: message"),
 * 2 usage, 3 transport failure.
 */
#pragma once

#include "common/common.h"
#include "rpc/rpc.h"

#include <json-c/json.h>

enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_RPC = 1,
	CTL_EXIT_USAGE = 2,
	CTL_EXIT_TRANSPORT = 3,
};

struct ctl {
	const char *addr;
	uint64_t timeout_ns;
	int connect_timeout_ms;
	struct rpc_client *client;
};

struct ctl_command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* Connects on first use. */
int ctl_connect(struct ctl *ctl);
/* A unary call; prints a failure and returns the exit status; *resp set on success. */
int ctl_call(struct ctl *ctl, const char *service, const char *method, const ProtobufCMessage *req,
	     const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp);
/* Prints a message as one line of JSON on stdout. */
void ctl_print_json(const ProtobufCMessage *m);

/* pbjson.c */
int pbjson_to_message(const ProtobufCMessageDescriptor *d, json_object *j, ProtobufCMessage **ret,
		      char *err, size_t errsz);
json_object *pbjson_from_message(const ProtobufCMessage *m);

extern const struct ctl_command ctl_commands_health[];
extern const struct ctl_command ctl_commands_call[];
