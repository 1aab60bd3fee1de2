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
	/* guest operations, metrics, log port, debug console, access control (guest.h) */
	struct guest *guest;
	/* containers and the sandbox (agent/sandbox.h) */
	struct sandbox *sandbox;
	/* networking: NIC waits, iptables children (agent/svc-network.h) */
	struct agent_network *network;
	/* storage and devices (agent/svc-storage.c; mount/mount.h, uevent/uevent.h) */
	struct uevent_listener *uevents; /* the one uevent listener; NULL if it failed */
	struct storage_table *storages;
	struct fs_jobs *fs_jobs;
	/* cgroups: container cgroups, OOM events (agent/svc-cgroup.c; cgroup/cgroup.h) */
	struct agent_cgroups *cgroups;
};

extern const struct rpc_service agent_health_service;
extern const struct rpc_service agent_agent_service;

/* ---- guest operations, metrics, log port, debug console, access control (guest.h) ---- */

void guest_online_cpu_mem(struct rpc_call *call, void *request);
void guest_mem_hotplug_by_probe(struct rpc_call *call, void *request);
void guest_set_date_time(struct rpc_call *call, void *request);
void guest_reseed_random_dev(struct rpc_call *call, void *request);
void guest_add_swap(struct rpc_call *call, void *request);
void guest_add_swap_path(struct rpc_call *call, void *request);
void guest_get_metrics(struct rpc_call *call, void *request);
void guest_get_diagnostic_data(struct rpc_call *call, void *request);
void guest_mem_agent_memcg_set(struct rpc_call *call, void *request);
void guest_mem_agent_compact_set(struct rpc_call *call, void *request);
void guest_resize_volume(struct rpc_call *call, void *request);
void guest_set_policy(struct rpc_call *call, void *request);

/* Hooks the container engine implements. The guest module references them weakly, so
 * until they exist it sees NULL and behaves as documented here. */
/* The (guest) path of the container's termination-message mount source: 0 with *ret set (NULL
 * when the container has no such mount), -ENOENT when no container has that id. Without
 * it GetDiagnosticData answers NOT_FOUND naming the container. */
int container_termination_log_path(struct agent *a, const char *cid, const char **ret);
/* After OnlineCPUMem brought CPUs online: widen the sandbox's and the containers' cpusets
 * to the new online set (Kata does this too). */
void container_cpusets_refresh(struct agent *a);
/* GetMetrics: appends per-container cgroup figures (whole families) to out. */
int container_metrics_append(struct agent *a, struct bytebuf *out);

/* ---- containers and the sandbox (agent/sandbox.h, agent/svc-*.c, agent/reaper.c) ---- */

struct sandbox;
/* Creates the sandbox state and the SIGCHLD reaper on a->loop; call after the server. */
int sandbox_setup(struct agent *a);
/* Kills what is left and frees everything; call after the server is freed. */
void sandbox_free(struct agent *a);

void svc_create_container(struct rpc_call *call, void *request);
void svc_start_container(struct rpc_call *call, void *request);
void svc_remove_container(struct rpc_call *call, void *request);
void svc_exec_process(struct rpc_call *call, void *request);
void svc_signal_process(struct rpc_call *call, void *request);
void svc_wait_process(struct rpc_call *call, void *request);
void svc_write_stdin(struct rpc_call *call, void *request);
void svc_read_stdout(struct rpc_call *call, void *request);
void svc_read_stderr(struct rpc_call *call, void *request);
void svc_close_stdin(struct rpc_call *call, void *request);
void svc_tty_win_resize(struct rpc_call *call, void *request);
void svc_create_sandbox(struct rpc_call *call, void *request);
void svc_destroy_sandbox(struct rpc_call *call, void *request);

/* ---- networking (agent/svc-network.c, agent/svc-iptables.c; netlink/) ---- */

struct agent_network;
/* Creates the network state and brings lo up when it is down; call after the loop exists. */
int agent_network_init(struct agent *a);
/* Frees it, killing and reaping iptables children still running; call after the server is
 * freed (its parked calls are cancelled by then). */
void agent_network_done(struct agent *a);

void agent_update_interface(struct rpc_call *call, void *request);
void agent_update_routes(struct rpc_call *call, void *request);
void agent_list_interfaces(struct rpc_call *call, void *request);
void agent_list_routes(struct rpc_call *call, void *request);
void agent_add_arp_neighbors(struct rpc_call *call, void *request);
void agent_get_iptables(struct rpc_call *call, void *request);
void agent_set_iptables(struct rpc_call *call, void *request);

/* ---- storage and devices (agent/svc-storage.c, agent/svc-guest-details.c) ---- */

struct uevent_listener;
struct storage_table;
struct fs_jobs;
/* Creates the uevent listener, the storage table and the fs workers; call after the loop
 * exists and before anything that mounts storages. */
int agent_storage_init(struct agent *a);
/* Forgets them (storages stay mounted); call after the server and the sandbox are freed. */
void agent_storage_done(struct agent *a);
/* GetGuestDetails.agent_details.supports_seccomp: a weak false until the security module
 * defines it. */
bool agent_supports_seccomp(void);

void agent_copy_file(struct rpc_call *call, void *request);
void agent_get_volume_stats(struct rpc_call *call, void *request);
void agent_update_ephemeral_mounts(struct rpc_call *call, void *request);
void agent_remove_stale_virtiofs_share_mounts(struct rpc_call *call, void *request);
void agent_get_guest_details(struct rpc_call *call, void *request);

/* ---- cgroups (agent/svc-cgroup.c; agent/cgroup/cgroup.h) ---- */

struct agent_cgroups;
struct Grpc__LinuxResources;
/* Finds the cgroup v2 hierarchy and the base the agent owns; call after the loop exists.
 * A guest without cgroup v2 is not an error (containers get no cgroup). */
int agent_cgroups_setup(struct agent *a);
/* Call after the server is freed (no GetOOMEvent/Pause call is parked any more). */
void agent_cgroups_free(struct agent *a);

/* Hooks for the container engine. */
/* CreateContainer, before the clone: creates the container's cgroup from Linux.CgroupsPath and
 * applies Linux.Resources. *ret_fd: its O_RDONLY|O_DIRECTORY|O_CLOEXEC fd for
 * clone3(CLONE_INTO_CGROUP), borrowed (valid until agent_cgroup_remove); -1 when the
 * container gets no cgroup (no cgroup v2; then requested limits fail). Errors name the
 * offending value in err; -ENOMEDIUM (FAILED_PRECONDITION) = a controller is missing. */
int agent_cgroup_create(struct agent *a, const char *cid, const char *cgroups_path,
			const struct Grpc__LinuxResources *res, int *ret_fd, char *err,
			size_t errsz);
/* ExecProcess: the container's cgroup fd for CLONE_INTO_CGROUP (borrowed, as above);
 * -ENOENT when it has none. */
int agent_cgroup_fd(struct agent *a, const char *cid);
/* SIGKILL every process in the container's cgroup (cgroup.kill): SignalProcess(exec_id "",
 * SIGKILL) and RemoveContainer. -ENOENT when it has no cgroup. */
int agent_cgroup_kill(struct agent *a, const char *cid);
/* RemoveContainer (once its processes are gone) and a failed CreateContainer. */
void agent_cgroup_remove(struct agent *a, const char *cid);
/* DestroySandbox: ends waiting GetOOMEvent calls with code/msg and refuses later ones. */
void cgroup_oom_fail_waiters(struct agent *a, int code, const char *msg);

void svc_update_container(struct rpc_call *call, void *request);
void svc_stats_container(struct rpc_call *call, void *request);
void svc_pause_container(struct rpc_call *call, void *request);
void svc_resume_container(struct rpc_call *call, void *request);
void svc_get_oom_event(struct rpc_call *call, void *request);
