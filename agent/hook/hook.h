/* SPDX-License-Identifier: Apache-2.0 */
/*
 * hook: OCI lifecycle hooks (reference §7.9) — the guest hooks found under CreateSandbox's
 * guest_hook_path, merged with the spec's Hooks, and a runner that executes them from the
 * event loop.
 *
 * Contract:
 *  - A hook_set holds its own copies of paths, args and env; hook_set_from_spec() validates
 *    the spec's hooks (absolute path, timeout > 0 when set, at most HOOK_MAX_PER_KIND per
 *    kind) and its errors name the offending hook; hook_set_scan_dir() adds the executable
 *    files of DIR/prestart, DIR/poststart and DIR/poststop sorted by name (Kata's guest
 *    hooks; args = [path], no env, the default timeout).
 *  - hook_run_start() runs one list of hooks one after another, each with the OCI state
 *    JSON on stdin, stdout and stderr captured (the first HOOK_OUTPUT_MAX bytes are kept
 *    for the error message), and each bounded by its timeout (HOOK_DEFAULT_TIMEOUT_S when
 *    unset): the hook's process group is killed when it passes. Nothing blocks the loop.
 *    The result comes once through `done` (never from inside hook_run_start):
 *    0, or -errno with a message naming the hook: -ETIMEDOUT (timeout), the exec errno
 *    (e.g. -ENOENT), -EPROTO (non-zero exit or killed by a signal). With keep_going a
 *    failure is logged as a warning and the next hook runs (poststart/poststop, as OCI
 *    requires); `done` then reports 0.
 *  - Hooks run in the agent's namespaces with cwd = opts.cwd, or, with ns_pid set, in the
 *    namespaces of that process (user, mnt, pid, net, ipc, uts, cgroup — those it does
 *    not share with the agent), chrooted to its root, cwd "/": the container's
 *    createContainer and startContainer hooks; the hook's path resolves there.
 *  - Hook processes are children of the agent (CLONE_PIDFD). The runner reaps them through
 *    their pidfd; when the agent's SIGCHLD reaper (waitpid(-1)) is first, it hands the
 *    status over with hook_child_reaped(), so nobody has to lock waitpid (Kata's
 *    WAIT_PID_LOCKER). Between clone and execve the child uses system calls only.
 *    PR_SET_PDEATHSIG kills them with the agent.
 *  - hook_run_cancel() kills the running hook (and its process group) without calling
 *    `done`; the run reaps the process in the background and frees itself.
 */
#pragma once

#include "common/common.h"
#include "oci.pb-c.h"

#define HOOK_MAX_PER_KIND      64
#define HOOK_DEFAULT_TIMEOUT_S 60
#define HOOK_MAX_TIMEOUT_S     3600
#define HOOK_OUTPUT_MAX	       1024

enum hook_kind {
	HOOK_PRESTART,
	HOOK_CREATE_RUNTIME,
	HOOK_CREATE_CONTAINER,
	HOOK_START_CONTAINER,
	HOOK_POSTSTART,
	HOOK_POSTSTOP,
	HOOK_KIND_COUNT,
};

/* "prestart", "createRuntime"... as in the OCI spec. */
const char *hook_kind_name(enum hook_kind k);

struct hook {
	char *path;
	char **argv; /* NULL-terminated; [path] when the spec gives no args */
	char **envp; /* NULL-terminated */
	unsigned timeout_s;
};

struct hook_list {
	struct hook *v;
	size_t n;
};

struct hook_set {
	struct hook_list kind[HOOK_KIND_COUNT];
};

void hook_set_free(struct hook_set *s);
static inline bool hook_set_empty(const struct hook_set *s)
{
	for (int k = 0; k < HOOK_KIND_COUNT; k++)
		if (s->kind[k].n)
			return false;
	return true;
}
/* Adds the spec's hooks (h may be NULL). -EINVAL with err naming the hook, -ENOMEM. */
int hook_set_from_spec(struct hook_set *s, const Grpc__Hooks *h, char *err, size_t errsz);
/* Appends copies of src's hooks after dst's (guest hooks come after the spec's). */
int hook_set_append(struct hook_set *dst, const struct hook_set *src, char *err, size_t errsz);
/* Adds the executables of dir/{prestart,poststart,poststop}. A missing directory is not an
 * error (returns 0); a relative dir is -EINVAL. */
int hook_set_scan_dir(struct hook_set *s, const char *dir, char *err, size_t errsz);

/* The spec's annotations as a JSON object ("{}" when none), kept by a container for the
 * state of its later hooks. NULL = ENOMEM. */
char *hook_annotations_json(Grpc__Spec__AnnotationsEntry *const *a, size_t n);
/* The OCI state (runtime-spec "state") as JSON; pid <= 0 leaves it out. NULL = ENOMEM. */
char *hook_state_json(const char *oci_version, const char *id, const char *status, pid_t pid,
		      const char *bundle, const char *annotations_json);

/* ---- running ---- */

typedef void (*hook_done_fn)(void *data, int r, const char *msg);

struct hook_run_opts {
	struct ev_loop *loop;
	const struct hook_list *list; /* borrowed: must outlive the run */
	enum hook_kind kind;	      /* for messages */
	const char *state;	      /* copied */
	const char *cwd;	      /* agent-namespace hooks; NULL = "/" */
	pid_t ns_pid;		      /* > 0: run in this process's namespaces */
	bool keep_going;
};

struct hook_run;

/* Starts the first hook; list->n must be > 0. -errno with err saying why when nothing was
 * started: then `done` is not called (with keep_going: none of the hooks could be started,
 * each failure was logged). */
int hook_run_start(const struct hook_run_opts *o, hook_done_fn done, void *data,
		   struct hook_run **ret, char *err, size_t errsz);
void hook_run_cancel(struct hook_run *r);
/* For the agent's SIGCHLD reaper: the status of a pid it reaped; true when it was a hook
 * (its run goes on from here). */
bool hook_child_reaped(pid_t pid, int wait_status);
/* Agent shutdown: kills and reaps every hook still running and frees the runs (their
 * `done` is not called). */
void hook_shutdown(void);
