/* SPDX-License-Identifier: Apache-2.0 */
/*
 * security: what confines a container process: capabilities, seccomp, the placement of
 * no_new_privs, masked and read-only paths, sysctls, the /proc mount rules, and path
 * resolution that never leaves a container's root. Reference §7.3, §7.5, §7.7, §7.8.
 *
 * Contract:
 *  - Two halves. The PARENT half (security_plan_*, security_check_*, security_*_compile)
 *    runs on the agent's loop: it parses and validates the spec with libcap and libseccomp
 *    into a struct security_plan of plain data (bit masks, a compiled BPF program, path
 *    strings). Invalid input returns -EINVAL (INVALID_ARGUMENT) with a message in `err`
 *    that names the offending value; nothing here logs an error it returns (warnings for
 *    ignored settings are logged once, here).
 *  - The CHILD half (security_child_*, security_open_in_root) runs between clone and
 *    execve: raw system calls and libc's thin syscall wrappers only (no allocation, no
 *    locks, no stdio), reading the plan the parent built. Each returns 0 or -errno and
 *    stores in *where which step and which entry failed (security_describe() names it).
 *  - Exec processes inherit the container's capabilities (when their request has none)
 *    and its seccomp program through a reference-counted struct security_profile that
 *    the container keeps for its lifetime.
 *
 * Order in the child (the container engine calls these; reference §7.3 steps 14-29):
 *     pivot_root
 *     security_child_finish_rootfs()       sysctls, masked paths, read-only paths
 *     cwd via security_open_in_root() + fchdir (never the string: CVE-2024-21626)
 *     security_child_before_setuid()       PR_SET_KEEPCAPS=1
 *     setgroups, setresgid, setresuid
 *     security_child_after_setuid()        PR_SET_KEEPCAPS=0, effective := permitted
 *     prctl(PR_SET_NO_NEW_PRIVS) when asked
 *     security_child_apply_caps()          bounding drop, seccomp (without no_new_privs,
 *                                          while CAP_SYS_ADMIN is held), capset, ambient
 *     ... wait for StartContainer ...
 *     security_child_before_exec()         CLOEXEC on every fd >= 3, then seccomp (with
 *                                          no_new_privs: as late as possible)
 *     execve
 */
#pragma once

#include "common/common.h"
#include "oci.pb-c.h"

#include <linux/filter.h>

#define SECURITY_ERR_MAX 512

/* ---- capabilities ---- */

struct security_caps {
	uint64_t bounding, effective, inheritable, permitted, ambient;
};

/* "CAP_SYS_ADMIN" -> 21 (libcap's table); -EINVAL for anything else, numbers included. */
int security_cap_from_name(const char *name);
/* The kernel's highest capability (/proc/sys/kernel/cap_last_cap); 40 when unreadable. */
unsigned security_cap_last(void);
/* Names -> masks. Names the kernel does not know (above cap_last) are skipped with a
 * warning, like runc; unknown names are -EINVAL naming the set and the name. */
int security_caps_from_spec(const Grpc__LinuxCapabilities *c, unsigned cap_last,
			    struct security_caps *ret, char *err, size_t errsz);

/* ---- seccomp ---- */

struct security_bpf {
	struct sock_filter *insns; /* malloc'd; NULL when the profile is absent */
	unsigned short len;
	unsigned flags; /* SECCOMP_FILTER_FLAG_* for seccomp(2) */
};

/* Compiles the OCI profile with libseccomp into a BPF program. s == NULL or without a
 * DefaultAction: no filter (ret->insns = NULL). Unknown syscall names are skipped with a
 * warning; an unknown action, architecture, flag or argument operator is -EINVAL naming
 * the entry ("Syscalls[3] (mkdir): unknown action 'SCMP_ACT_FOO'"). */
int security_seccomp_compile(const Grpc__LinuxSeccomp *s, struct security_bpf *ret, char *err,
			     size_t errsz);
void security_bpf_free(struct security_bpf *b);
/* Whether guest seccomp works (kernel filter mode and libseccomp compile): what
 * GetGuestDetails reports as supports_seccomp. Cached after the first call. */
bool security_seccomp_supported(void);

/* ---- sysctls and mounts ---- */

/* The namespaces a container has of its own or shares with its pod (not the host). */
struct security_ns {
	bool ipc, uts, net;
};

/* Kata's rules (§7.8): ipc keys (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*)
 * need an ipc namespace, kernel.domainname a uts one (kernel.hostname never: that is
 * Spec.Hostname), net.* a network namespace; anything else is refused naming the key. */
int security_sysctl_check(const char *key, const struct security_ns *ns, char *err, size_t errsz);

/* The /proc rules (§7.5): only the lxcfs-style files /proc/{cpuinfo,diskstats,meminfo,
 * stat,swaps,uptime,loadavg,net/dev} may be mounted on below /proc, and a mount on /proc
 * itself must be a procfs (type proc, or a bind of a procfs). -EINVAL naming the mount. */
int security_check_mount(const char *dest, const char *type, const char *source, bool bind,
			 char *err, size_t errsz);

/* ---- the plan ---- */

struct security_profile; /* refcounted: caps + seccomp, inherited by exec processes */

struct security_plan {
	bool caps_set; /* false: the kernel's default transition (Process.Capabilities absent) */
	struct security_caps caps;
	unsigned cap_last;
	const struct sock_filter *bpf; /* NULL: no seccomp */
	unsigned short bpf_len;
	unsigned seccomp_flags;
	/* After pivot_root; paths inside the container. */
	const char **masked_paths;
	size_t n_masked_paths;
	const char **readonly_paths;
	size_t n_readonly_paths;
	const char **sysctl_paths; /* "/proc/sys/net/ipv4/ip_forward" */
	const char **sysctl_values;
	size_t n_sysctls;

	struct security_profile *profile; /* owns bpf; one reference held by the plan */
	void *mem;			  /* the plan's allocations */
};

void security_plan_init(struct security_plan *p);
void security_plan_done(struct security_plan *p);

/* The container's init process. ns: the namespaces the container will have. Also checks
 * every Spec.Mounts entry against the /proc rules, and warns about ApparmorProfile and
 * SelinuxLabel (ignored). */
int security_plan_from_spec(struct security_plan *p, const Grpc__Spec *spec,
			    const struct security_ns *ns, char *err, size_t errsz);
/* An exec process: its own capabilities, or the container's when the request has none;
 * the container's seccomp program. container may be NULL (nothing inherited). */
int security_plan_for_exec(struct security_plan *p, const Grpc__Process *proc,
			   struct security_profile *container, char *err, size_t errsz);

struct security_profile *security_profile_ref(struct security_profile *sp);
void security_profile_unref(struct security_profile *sp);

/* ---- the child ---- */

enum security_step {
	SECURITY_STEP_SYSCTL = 1, /* index: sysctl */
	SECURITY_STEP_MASK,	  /* index: masked path */
	SECURITY_STEP_READONLY,	  /* index: read-only path */
	SECURITY_STEP_KEEPCAPS,
	SECURITY_STEP_BOUNDING, /* index: capability */
	SECURITY_STEP_CAPSET,
	SECURITY_STEP_SECCOMP,
	SECURITY_STEP_FDS,
};
/* *where = step << 16 | index */
#define SECURITY_WHERE(step, idx) ((int)(((unsigned)(step) << 16) | ((unsigned)(idx)&0xffff)))

int security_child_finish_rootfs(const struct security_plan *p, int *where);
int security_child_before_setuid(const struct security_plan *p, int *where);
int security_child_after_setuid(const struct security_plan *p, int *where);
int security_child_apply_caps(const struct security_plan *p, bool no_new_privs, int *where);
int security_child_before_exec(const struct security_plan *p, bool no_new_privs, int *where);

/* "/proc/self/fd/N" into buf without libc formatting (child-safe): how mount(2) and
 * friends reach an fd that was resolved safely. */
void security_fd_path(char buf[32], int fd);

/* A mount target fd the child resolved for destination `dest`: refused (-EPERM) when it
 * lies on a procfs although `dest` is not one of the allowed /proc destinations (a
 * symlink in the rootfs pointing into an earlier /proc mount). */
int security_child_check_mount_target(int fd, const char *dest);

/* "masking '/proc/kcore': Operation not permitted" */
void security_describe(const struct security_plan *p, int where, int err, char *buf, size_t sz);

/* ---- paths inside a root ---- */

/* openat2(root_fd, path, flags | O_CLOEXEC, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): "/",
 * ".." and absolute symlinks stop at the root, magic links are refused (-ELOOP). Without
 * openat2 (-ENOSYS) a component-by-component walk with O_NOFOLLOW gives the same answer.
 * O_CREAT is not supported. Child-safe. Returns an fd or -errno. */
int security_open_in_root(int root_fd, const char *path, int flags);
/* The same resolution, creating what is missing on the way: directories (mode 0755), the
 * last component an empty file when last_is_file. The target of a dangling symlink is
 * created inside the root (/evil -> /tmp/x makes <root>/tmp/x), as runc's MkdirAll does.
 * Always the component walk. Child-safe. Returns an O_PATH fd or -errno. */
int security_mkdir_in_root(int root_fd, const char *path, bool last_is_file);
/* Tests: always use the walk. */
extern bool security_resolve_force_walk;
