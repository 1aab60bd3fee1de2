/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sandbox, its containers and their processes: the state the container RPCs share
 * (svc-sandbox.c, svc-container.c, svc-process.c, svc-io.c) and the SIGCHLD reaper
 * (reaper.c). All of it is owned by the event loop; nothing here blocks.
 *
 * Lifetimes:
 *  - A process is in sandbox.procs from clone until it is reaped; while its container
 *    can find it by exec_id it is also in container.procs. A process leaves its
 *    container when its exit has been collected by WaitProcess (exec processes, as Kata
 *    does), when its setup failed, or when the container is removed; it is freed once it
 *    has left its container and has been reaped.
 *  - Parked calls (waits, reads, writes) hang off their process; every path that ends a
 *    process or a container answers them first.
 */
#pragma once

#include "agent.h"
#include "agent.pb-c.h"
#include "container/container.h"
#include "hook/hook.h"

#include <sys/stat.h>

#define SANDBOX_MAX_CONTAINERS 1024
#define SANDBOX_MAX_EXECS      1024 /* processes per container */
#define SANDBOX_READ_MAX       (1u << 20)
/* Stdio pipes of container processes (agent.container_pipe_size overrides): one ReadStdout
 * returns what the pipe holds, so a larger pipe means fewer round trips per MiB. */
#define SANDBOX_PIPE_SIZE (256u << 10)
/* After the process is reaped, a pending read gets this long to drain the pipe before it
 * ends with EOF, even if an orphaned grandchild still holds the write end (Kata #1160). */
#define SANDBOX_DRAIN_NS (500 * NSEC_PER_MSEC)

#define KATA_RUN_DIR   "/run/kata-containers"
#define SANDBOX_NS_DIR "/run/sandbox-ns"

struct process;
struct container;

enum parked_kind {
	PARKED_WAIT,
	PARKED_READ,
	PARKED_WRITE,
};

struct parked {
	struct list_head node;
	struct rpc_call *call;
	struct process *proc;
	enum parked_kind kind;
	struct stream *stream; /* reads */
	uint32_t len;	       /* reads: at most this many bytes */
	const uint8_t *data;   /* writes: the request's bytes (alive while parked) */
	size_t size, done;
};

/* A zeroed parked entry for call on p; NULL after answering RESOURCE_EXHAUSTED. */
struct parked *parked_new(struct rpc_call *call, struct process *p, enum parked_kind kind);

struct stream {
	struct process *proc;
	int fd;
	struct ev_io io;
	struct list_head readers;
	bool eof;
	const char *name; /* "stdout", "stderr" */
};

enum ct_state {
	CT_CREATING,
	CT_CREATED,
	CT_RUNNING,
	CT_STOPPED,
};

struct process {
	struct list_head node;	   /* container.procs */
	struct list_head all_node; /* sandbox.procs */
	struct sandbox *sb;
	struct container *c; /* NULL once it left its container */
	char *exec_id;
	bool init;

	pid_t pid;
	int pidfd;
	bool reaped;
	int exit_status; /* exit code or 128 + signal */

	bool tty;
	int stdin_fd; /* the pipe's write end, or a dup of the pty master */
	struct ev_io stdin_io;
	struct list_head writers;
	bool stdin_closed, stdin_close_pending;
	struct stream out, err;
	struct ev_timer drain;
	bool drained; /* the drain window after the exit has passed */
	struct list_head waiters;

	/* setup: the status pipe of the child and the call waiting for it */
	int status_fd;
	struct ev_io status_io;
	struct ct_plan *plan; /* for naming what failed; freed at the status pipe's EOF */
	struct rpc_call *setup_call;
	bool ready;
};

struct container {
	struct list_head node;
	struct sandbox *sb;
	char *id;
	char *bundle;
	char *rootfs;
	char *termination_log; /* source of the /dev/termination-log mount, or NULL */
	bool rootfs_mounted;
	enum ct_state state;
	struct process *init;
	struct list_head procs;
	unsigned n_procs;
	int ns_fd[CT_NS_COUNT];		   /* pinned from the init right after it was cloned */
	int root_fd;			   /* the init's root, entered by exec processes */
	struct security_profile *security; /* issue 7: caps + seccomp that execs inherit */
	struct stat mnt_ns;		   /* identifies the container's processes for kill-all */
	bool have_mnt_ns;
	int start_fd;
	bool removing;

	/* OCI hooks (agent/hook/): the spec's followed by the sandbox's guest hooks. */
	struct hook_set hooks;
	char *oci_version, *hook_annotations; /* for the state JSON of later hooks */
	int hook_fd;		     /* write end: releases the init paused for its hooks */
	struct hook_run *hook_run;   /* the hooks running now, if any */
	enum hook_kind hook_phase;   /* which ones */
	struct rpc_call *start_call; /* StartContainer parked during its hooks */
	bool starting, poststop_started;
	struct list_head removers; /* parked RemoveContainer calls (struct remover) */
};

struct sandbox {
	struct agent *agent;
	struct ev_loop *loop;
	struct list_head containers;
	unsigned n_containers;
	struct list_head procs;

	char *id;
	char *hostname;
	bool created;
	bool destroying;
	int ipc_fd, uts_fd; /* persistent pod namespaces, -1 before CreateSandbox */
	bool ns_mounted;
	bool resolv_mounted;
	bool sandbox_pidns;
	int pidns_fd; /* the first container's pid ns when sandbox_pidns */
	bool no_pivot;
	struct hook_set guest_hooks; /* from CreateSandbox's guest_hook_path */
	bool shutting_down;	     /* the agent is exiting: no more hooks */

	int sigchld_fd;
	struct ev_io sigchld_io;

	struct rpc_call *destroy_call;
	struct ev_timer exit_timer;
};

/* ---- sandbox.c: tables and shared helpers ---- */

struct sandbox *sandbox_of(struct rpc_call *call);
/* Container and exec ids: [A-Za-z0-9][A-Za-z0-9_.-]*, at most 255 bytes, no "..". */
bool sandbox_valid_id(const char *id);
/* A bounded, printable copy of a peer's string for messages. */
const char *printable(const char *s, char buf[static 96]);
struct container *container_find(struct sandbox *sb, const char *id);
/* exec_id "" names the init process (Kata). */
struct process *process_find(struct container *c, const char *exec_id);
/* Finds container + process or replies NOT_FOUND naming what is missing. */
struct process *process_lookup_or_reply(struct rpc_call *call, const char *cid,
					const char *exec_id);
struct container *container_lookup_or_reply(struct rpc_call *call, const char *cid);

/* ---- reaper.c: processes ---- */

int reaper_setup(struct sandbox *sb);
void reaper_done(struct sandbox *sb);
/* Creates the process record for a spawned child (takes the child's fds and the plan). */
struct process *process_new(struct container *c, const char *exec_id, bool init,
			    struct ct_child *child, struct ct_stdio *stdio, struct ct_plan *plan);
/* Leaves the container: parked calls are answered (readers get what is left, then EOF);
 * freed now if reaped, else when reaped. */
void process_detach(struct process *p);
/* Replies to every parked call of p with the given error. */
void process_fail_parked(struct process *p, int code, const char *msg);
/* Called for the reaped child; wakes waiters and starts the drain window. */
void process_exited(struct process *p, int wait_status);
/* The setup outcome of a process is known (ready, error or exec'd). Hooks for svc-*. */
void container_setup_done(struct process *p, const struct ct_status *st, bool eof);
/* The init stopped before pivot_root for its prestart/createRuntime/createContainer hooks. */
void container_hooks_pause(struct process *p);
void exec_setup_done(struct process *p, const struct ct_status *st, bool eof);
/* WaitProcess reply for an exited process; collects exec processes. */
void process_reply_wait(struct process *p, struct rpc_call *call);

/* ---- svc-io.c ---- */

void stream_init(struct process *p, struct stream *s, int fd, const char *name);
/* Serves parked readers after the exit (drain window) or at detach. */
void stream_flush_readers(struct process *p, struct stream *s, bool final);
void stdin_fail_writers(struct process *p, int code, const char *msg);
void stdin_close(struct process *p);

/* ---- svc-container.c ---- */

/* Starts removing c (kill everything); completes at once when nothing is left alive. */
void container_begin_remove(struct container *c);
/* A process of a removing container was reaped: finish when it was the last. */
void container_check_removed(struct container *c);
/* SIGKILL every process of the container (known ones by pidfd, the rest by mount ns). */
void container_kill_all(struct container *c);
/* Frees the container now (its processes are reaped or left to the reaper). */
void container_finalize(struct container *c);
/* Creation failed: answers the parked CreateContainer with code + msg, kills the init and
 * frees the container. */
void container_setup_failed(struct container *c, int code, const char *msg);

/* ---- container-hooks.c: OCI hooks at create, start and remove ---- */

/* Builds c->hooks from the spec and the guest hooks; sets plan->hook_pause. */
int container_hooks_prepare(struct container *c, const Grpc__Spec *spec, struct ct_plan *plan,
			    char *err, size_t errsz);
void container_hooks_free(struct container *c);
/* StartContainer (validated): parks the call through startContainer hooks, the start and
 * the poststart hooks, then replies. */
void container_start(struct container *c, struct rpc_call *call);
/* Starts the poststop hooks of a container whose processes are all gone; true when they
 * run (container_finalize follows when they are done) or are already running. */
bool container_hooks_poststop(struct container *c);
/* Removal began: stops create/start hooks and fails a parked StartContainer with why. */
void container_hooks_cancel(struct container *c, const char *why);

/* ---- svc-sandbox.c ---- */

/* The last container of a destroying sandbox is gone. */
void sandbox_check_destroyed(struct sandbox *sb);
