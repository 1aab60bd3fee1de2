/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Integration test harness: runs the real ember-agent ($EMBER_AGENT) on a unix socket, as
 * PID 1 of fresh pid, mount and network namespaces (HARNESS_ISOLATE), with /run and /tmp of
 * its own, and connects the real rpc client to it. Root only.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "common/common.h"
#include "rpc/rpc.h"

enum {
	HARNESS_ISOLATE = 1 << 0, /* new pid + mount + net namespaces, private /run */
};

struct agent_proc {
	pid_t pid;
	char dir[64];	/* scratch directory on the host, removed by harness_stop_agent */
	char addr[160]; /* unix://<dir>/agent.sock */
	char log[128];	/* the agent's stderr */
};

/* extra_args: NULL-terminated extra ember-agent flags, or NULL. */
void harness_start_agent(struct agent_proc *a, unsigned flags, const char *const *extra_args);
/* Fails the test when the agent died on its own; then stops it with SIGTERM and checks it
 * exits 0. */
void harness_stop_agent(struct agent_proc *a);
bool harness_agent_alive(struct agent_proc *a);
struct rpc_client *harness_connect(struct agent_proc *a);

/* grpc.AgentService/<method>; returns the status code (RPC_OK = 0) and fills *resp on
 * success and msg (if non-NULL, 512 bytes) on failure. Transport failures fail the test. */
int harness_call(struct rpc_client *c, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char *msg);
/* Runs a command on the host (sh -c), returns its exit status. */
int harness_sh(const char *fmt, ...) _printf_(1, 2);
