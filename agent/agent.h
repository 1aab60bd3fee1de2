/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ember-agent internals: configuration and the RPC services.
 *
 * Configuration: kernel command line (agent.*), then environment
 * (KATA_AGENT_SERVER_ADDR, KATA_AGENT_LOG_LEVEL), then command-line flags; later sources win.
 * Invalid values are logged and ignored: the agent must come up in a VM nobody can reach
 * otherwise.
 */
#pragma once

#include "common/common.h"
#include "rpc/rpc.h"

#define AGENT_DEFAULT_ADDR "vsock://-1:1024"
#define AGENT_MAX_LISTEN   8

struct agent_config {
	char *listen[AGENT_MAX_LISTEN];
	size_t n_listen;
	bool listen_from_flags;
	enum log_level log_level;
	enum log_format log_format;
	bool debug_console;
	uint32_t debug_console_vport;
	bool devmode;
	bool trace;
	uint32_t log_vport;
	uint32_t passfd_listener_port;
	uint64_t hotplug_timeout_ms;
	uint64_t cdi_timeout_ms;
	uint64_t launch_process_timeout_ms;
	uint32_t container_pipe_size;
	bool unified_cgroup_hierarchy;
	char *config_file;
};

void config_init(struct agent_config *cfg);
void config_done(struct agent_config *cfg);
int config_parse_cmdline(struct agent_config *cfg, const char *cmdline);
void config_parse_env(struct agent_config *cfg);
/* Returns 0 to run, 1 when the program should exit 0 (--help, --version), -EINVAL on a bad
 * flag (already reported on stderr). */
int config_parse_args(struct agent_config *cfg, int argc, char **argv);
/* Sets the listen list to the single address (replacing). */
int config_set_listen(struct agent_config *cfg, const char *addr);

/* ---- state shared by the services ---- */

struct agent {
	struct agent_config cfg;
	struct ev_loop *loop;
	struct rpc_server *server;
	uint64_t start_ns;
};

extern const struct rpc_service agent_health_service;
extern const struct rpc_service agent_agent_service;
