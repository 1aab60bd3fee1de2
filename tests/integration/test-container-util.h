/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers of the container integration tests: a busybox rootfs, specs, and the calls the
 * Go runtime makes (create, start, read to EOF, wait, remove). */
#pragma once

#include "harness.h"
#include "agent.pb-c.h"
#include "oci.pb-c.h"

struct ct_test_spec {
	const char *const *args;
	const char *const *env;
	const char *cwd;
	bool terminal;
	uint32_t uid, gid;
	const uint32_t *gids;
	size_t n_gids;
	const char *username;
	const char *hostname;
	bool readonly;
	const char *root_path; /* default: the test rootfs */
	Grpc__Mount **mounts;
	size_t n_mounts;
	Grpc__Storage **storages; /* CreateContainerRequest.storages */
	size_t n_storages;
	Grpc__Hooks *hooks; /* Spec.Hooks (with Spec.Version "1.1.0") */
	/* Linux.Resources, Linux.Devices, CreateContainerRequest.devices */
	Grpc__LinuxResources *resources;
	Grpc__LinuxDevice **linux_devices;
	size_t n_linux_devices;
	Grpc__Device **devices;
	size_t n_devices;
};

/* The common fixture: the rootfs, a fresh isolated agent in ct_agent and a connection to it in
 * ct_cl; ct_teardown fails the test when the agent died on its own. */
extern struct agent_proc ct_agent;
extern struct rpc_client *ct_cl;
int ct_setup(void **state);
int ct_teardown(void **state);

/* Builds the busybox rootfs once per process (removed at exit). */
const char *ct_rootfs(void);

/* CreateContainer; returns the status code, msg (512) on failure. */
int ct_create(struct rpc_client *c, const char *cid, const struct ct_test_spec *s,
	      bool sandbox_pidns, char *msg);
int ct_start(struct rpc_client *c, const char *cid, char *msg);
int ct_exec(struct rpc_client *c, const char *cid, const char *eid, const struct ct_test_spec *s,
	    char *msg);
/* WaitProcess: the status, or -code on an RPC error. */
int ct_wait(struct rpc_client *c, const char *cid, const char *eid, char *msg);
int ct_signal(struct rpc_client *c, const char *cid, const char *eid, uint32_t sig, char *msg);
int ct_remove(struct rpc_client *c, const char *cid, uint32_t timeout, char *msg);
int ct_write(struct rpc_client *c, const char *cid, const char *eid, const void *data, size_t len,
	     uint32_t *written, char *msg);
int ct_close_stdin(struct rpc_client *c, const char *cid, const char *eid, char *msg);
/* One ReadStdout/ReadStderr; *out malloc'd (NUL terminated), *len bytes (0 = EOF). */
int ct_read(struct rpc_client *c, const char *cid, const char *eid, bool err, uint32_t max,
	    char **out, size_t *len, char *msg);
/* Reads stdout (or stderr) until EOF; returns the malloc'd text. */
char *ct_read_all(struct rpc_client *c, const char *cid, const char *eid, bool err);
/* Create + start; fails the test on an error. */
void ct_create_started(struct rpc_client *c, const char *cid, const struct ct_test_spec *s);
/* Create + start + read stdout to EOF + wait + remove; returns the output, *status. */
char *ct_run(struct rpc_client *c, const char *cid, const struct ct_test_spec *s, int *status);
/* Exec + read to EOF + wait. */
char *ct_exec_run(struct rpc_client *c, const char *cid, const char *eid,
		  const struct ct_test_spec *s, int *status);

/* Counters of the agent process as seen from the host. */
int agent_fd_count(pid_t pid);
int agent_mount_count(pid_t pid);
long agent_rss_kb(pid_t pid);
int agent_dir_entries(pid_t pid, const char *path);

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})
