/* SPDX-License-Identifier: Apache-2.0 */
/*
 * container: the container engine. Turns a Kata OCI spec (protobuf) into a *plan* and runs
 * the plan in a child cloned from the agent's event loop.
 *
 * Contract:
 *  - Everything that may allocate, take a lock or parse happens in the parent, in
 *    ct_plan_*(): libmount option parsing, the container's own /etc/passwd and /etc/group,
 *    PATH lookup of argv[0] inside the rootfs (openat2 RESOLVE_IN_ROOT), rlimit names.
 *  - ct_spawn() clones the child. Between clone and execve the child executes the plan
 *    with raw syscalls only (no malloc, no stdio, no locks), so it is safe whatever the
 *    parent's threads do. The parent never waits for the child: setup progress comes back
 *    over the plan's status pipe (struct ct_status records; EOF = execve succeeded or the
 *    child died), and the init child blocks on the start pipe until StartContainer.
 *  - Functions return -errno; the error text (naming the offending value) goes to the
 *    caller's err buffer, nothing here logs an error it returns.
 */
#pragma once

#include "common/common.h"
#include "oci.pb-c.h"
#include "agent/security/security.h" /* the plan's security part (issue 7) */

#include <sys/resource.h>

#define CT_ERR_MAX 512

/* ---- small arena: the plan's strings and arrays live and die with the plan ---- */

struct ct_arena_block;
struct ct_arena {
	struct ct_arena_block *head;
};

void *ct_arena_alloc(struct ct_arena *a, size_t n); /* zeroed; NULL = ENOMEM */
char *ct_arena_strdup(struct ct_arena *a, const char *s);
char *ct_arena_printf(struct ct_arena *a, const char *fmt, ...) _printf_(2, 3);
void ct_arena_free(struct ct_arena *a);

/* ---- the plan ---- */

enum ct_ns {
	CT_NS_USER,
	CT_NS_IPC,
	CT_NS_UTS,
	CT_NS_NET,
	CT_NS_CGROUP,
	CT_NS_PID,
	CT_NS_MNT, /* joined last: afterwards paths are the container's */
	CT_NS_COUNT,
};

/* "user", "ipc"... as in /proc/PID/ns; CLONE_NEW* for the type. */
const char *ct_ns_name(enum ct_ns ns);
int ct_ns_clone_flag(enum ct_ns ns);

struct ct_mount {
	const char *source;
	const char *dest;	   /* absolute, resolved inside the rootfs by the child */
	const char *fstype;	   /* NULL for a bind mount */
	const char *data;	   /* fs-specific options, NULL when none */
	unsigned long flags;	   /* MS_* for mount(2), without propagation bits */
	unsigned long propagation; /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (|MS_REC) */
	uint64_t attr_set;	   /* bind mounts: MOUNT_ATTR_* applied with mount_setattr */
	bool bind, recursive;
	bool dest_is_file; /* bind of a non-directory: the target is created as a file */
};

struct ct_device {
	const char *path; /* absolute, under /dev */
	mode_t mode;	  /* S_IFCHR/S_IFBLK/S_IFIFO | permissions */
	dev_t dev;
	uid_t uid;
	gid_t gid;
};

struct ct_rlimit {
	int resource;
	struct rlimit lim;
};

/* The steps the child reports an error from (struct ct_status.step). */
enum ct_step {
	CT_STEP_SYNC,
	CT_STEP_SETNS,
	CT_STEP_ROOT_PROPAGATION,
	CT_STEP_ROOT_BIND,
	CT_STEP_MOUNT,	    /* arg = mount index */
	CT_STEP_MOUNT_DEST, /* arg = mount index */
	CT_STEP_DEV,
	CT_STEP_DEVICE, /* arg = device index */
	CT_STEP_PIVOT,
	CT_STEP_ROOT_READONLY,
	CT_STEP_HOSTNAME,
	CT_STEP_RLIMIT, /* arg = rlimit index */
	CT_STEP_OOM_SCORE,
	CT_STEP_CWD,
	CT_STEP_SETSID,
	CT_STEP_TTY,
	CT_STEP_STDIO,
	CT_STEP_USER,
	CT_STEP_NO_NEW_PRIVS,
	CT_STEP_EXEC,
	CT_STEP_SECURITY, /* arg = agent/security's `where` (security_describe) */
};

/* struct ct_status.ready */
#define CT_STATUS_ERROR 0
#define CT_STATUS_READY 1 /* setup done, waiting for start */
#define CT_STATUS_HOOKS 2 /* stopped before pivot_root, waiting on hook_fd */

/* One record on the status pipe, child -> parent. */
struct ct_status {
	int32_t ready; /* CT_STATUS_* */
	int32_t err;   /* positive errno */
	int32_t step;  /* enum ct_step */
	int32_t arg;
};

struct ct_plan {
	struct ct_arena arena;

	/* -- namespaces -- */
	int clone_flags;	       /* CLONE_NEW* created by clone3 */
	int join_fd[CT_NS_COUNT];      /* -1 or an fd to setns into (CT_NS_PID: pid_for_children,
					  set by the parent around clone) */
	const char *uid_map, *gid_map; /* written by the parent for a new user ns */
	bool userns;

	/* -- rootfs (container init only) -- */
	bool setup_rootfs;
	const char *rootfs;		/* the bundle rootfs, an absolute agent path */
	unsigned long root_propagation; /* for "/" before the mounts; default MS_SLAVE|MS_REC */
	bool root_readonly;
	bool no_pivot; /* "/" is the initramfs: MS_MOVE + chroot instead of pivot_root */
	struct ct_mount *mounts;
	size_t n_mounts;
	bool default_dev;	   /* populate /dev (nodes, symlinks, pts, shm) */
	bool mount_pts, mount_shm; /* the spec mounts neither: mount them ourselves */
	bool dev_bind;		   /* bind the agent's nodes instead of mknod (user namespaces) */
	struct ct_device *devices;
	size_t n_devices;
	const char *hostname; /* set when the container has a UTS namespace of its own */

	/* -- exec processes: the container root, entered after joining the mount ns -- */
	int root_fd;

	/* -- the process -- */
	const char *exe; /* argv[0] resolved on the container's PATH */
	char **argv;
	char **envp;
	const char *cwd;
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t n_groups;
	mode_t umask;
	bool tty;
	int stdio[3]; /* child ends; the slave of a tty on all three */
	struct ct_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privs;
	bool oom_score_adj_set;
	int oom_score_adj;

	/* -- synchronisation with the parent -- */
	int status_fd; /* write end, O_CLOEXEC: EOF at execve */
	int start_fd;  /* init: read end; one byte = StartContainer, EOF = give up */
	int sync_fd;   /* user ns: read end; one byte once the id maps are written */
	/* init with prestart/createRuntime/createContainer hooks (OCI: after the namespaces
	 * and mounts, before pivot_root): the child reports CT_STATUS_HOOKS and waits for one
	 * byte on hook_fd (read end; EOF = give up). */
	bool hook_pause;
	int hook_fd;

	/* -- security (agent/security/security.h): capabilities, seccomp BPF, masked and
	 * read-only paths, sysctls; built by security_plan_from_spec/_for_exec, applied by
	 * the child's security_child_* calls at the steps that header lists. --
	 * cgroup_fd: an O_PATH fd of the container cgroup for CLONE_INTO_CGROUP. */
	struct security_plan sec;
	int cgroup_fd;

	/* fds the child must keep until execve (everything else is closed at once) */
	int keep_fds[CT_NS_COUNT + 8];
	size_t n_keep_fds;
};

void ct_plan_init(struct ct_plan *p);
/* Closes every fd the plan owns and frees the arena. */
void ct_plan_done(struct ct_plan *p);
/* Closes the child-side fds (stdio, status, start, sync) once the child has them. */
void ct_plan_close_child_fds(struct ct_plan *p);

/* Which namespaces the container gets, and from where. */
struct ct_ns_config {
	int pidns_fd;	    /* join this pid ns (sandbox_pidns), -1 = a new one */
	int ipc_fd, uts_fd; /* the sandbox's persistent namespaces, -1 = new ones */
	bool no_pivot;
};

/* Builds the plan of a container's init process from the spec. rootfs is the bundle
 * rootfs (already bind-mounted from Root.Path). Errors name the offending value. */
int ct_plan_from_spec(struct ct_plan *p, const Grpc__Spec *spec, const char *rootfs,
		      const struct ct_ns_config *ns, char *err, size_t errsz);

/* Builds the plan of an exec process: joins the given namespaces (-1 = skip), enters
 * root_fd (the container's root) and runs `proc`. */
int ct_plan_for_exec(struct ct_plan *p, const Grpc__Process *proc, const int ns_fds[CT_NS_COUNT],
		     int root_fd, char *err, size_t errsz);

/* Parent side of the process description (shared by both): user, argv, env, cwd, rlimits,
 * resolved in the container root `root_fd`. Exposed for the unit tests. */
int ct_plan_process(struct ct_plan *p, const Grpc__Process *proc, int root_fd, char *err,
		    size_t errsz);

/* Mount option words -> flags/data/propagation with libmount; "bind"/"rbind" set bind. */
int ct_mount_parse_options(struct ct_arena *a, char **options, size_t n, struct ct_mount *m);

/* ---- users (the container's own /etc/passwd and /etc/group; no NSS) ---- */

struct ct_passwd {
	uid_t uid;
	gid_t gid;
	char home[256];
};

/* Looks a user up by name (name != NULL) or by uid in the text of a passwd file.
 * -ENOENT when absent. */
int ct_passwd_lookup(const char *text, const char *name, uid_t uid, struct ct_passwd *ret);
/* Gids of the groups listing `user` as a member (supplementary groups), and the gid of
 * group `name` (when name != NULL, *gid_ret). */
int ct_group_members(const char *text, const char *user, gid_t *gids, size_t max, size_t *n);
int ct_group_lookup(const char *text, const char *name, gid_t *gid_ret);

/* ---- paths inside a root ---- */

/* openat2(root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS). */
int ct_open_in_root(int root_fd, const char *path, int flags);
/* Reads a small file inside the root; -ENOENT when absent. */
int ct_read_in_root(int root_fd, const char *path, size_t max, char **ret);
/* argv0 on PATH (a colon list; the OCI default when NULL) inside the root: *ret is the
 * absolute path inside the container. -ENOENT when not found, -EACCES when found but not
 * executable. */
int ct_find_executable(struct ct_arena *a, int root_fd, const char *argv0, const char *path,
		       const char **ret);

/* ---- stdio ---- */

struct ct_stdio {
	int parent[3]; /* stdin: write end; stdout/stderr: read ends (non-blocking, CLOEXEC);
			  with a tty parent[0] and parent[1] are the same pty master (dup'd),
			  parent[2] = -1 */
	int child[3];
	bool tty;
};

int ct_stdio_open(struct ct_stdio *s, bool tty, uint32_t pipe_size);
void ct_stdio_close(struct ct_stdio *s);

/* ---- spawning ---- */

struct ct_child {
	pid_t pid;
	int pidfd;
	int status_fd; /* read end, non-blocking */
	int start_fd;  /* write end (init only), -1 otherwise */
	int hook_fd;   /* write end when plan->hook_pause, -1 otherwise */
};

/* Clones the child that executes the plan (with the plan's pid namespace set as the
 * agent's pid_for_children around the clone). Consumes nothing: the caller closes the
 * plan's child-side fds (ct_plan_done) afterwards. */
int ct_spawn(struct ct_plan *p, bool wait_start, struct ct_child *ret);

/* Text of a failed setup step, naming the value: "mount 'proc' on '/proc'". */
void ct_status_describe(const struct ct_plan *p, const struct ct_status *st, char *buf, size_t sz);

/* The child: executes the plan, never returns. */
_noreturn_ void ct_child_main(struct ct_plan *p);

/* Is "/" an initramfs (fstype rootfs) that cannot be pivoted away from? */
bool ct_root_is_initramfs(void);
