/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup: the containers' cgroup v2 directories, their resource limits, statistics,
 * freezing and OOM notification.
 *
 * Contract:
 *  - One struct cgroup_mgr per agent, on the agent's event loop. It finds the cgroup2
 *    mount (/proc/self/mountinfo) and a base directory the agent owns: the agent's own
 *    cgroup (/proc/self/cgroup), which is the hierarchy's root in the VM. Without a cgroup2
 *    mount the manager still exists and cgroup_create() hands out no cgroup; requested
 *    limits are then refused.
 *  - Container cgroups live at <base>/<path>, path from Linux.CgroupsPath ("a:b:c" -> a/b/c,
 *    "" -> <container id>). Outside the VM (not a child of PID 1, nor PID 1, in the initial
 *    pid namespace) they live at <base>/ember.<pid ns inode>.<pid>/<path>, so that agents
 *    sharing a host (the tests) never collide nor write to a shared cgroup. Only the controllers
 * the agent uses (cpu, cpuset, io, memory, pids, hugetlb) are enabled in cgroup.subtree_control on
 * the way down, and only those the hierarchy offers. When the base itself holds processes (the
 * agent, outside the VM), the agent moves into <base>/ember-agent first: cgroup v2 forbids
 * controllers in a cgroup with processes of its own ("no internal processes").
 *  - Resources follow runc/crun's v2 conversions (see resources.c). Proto3 cannot tell an
 *    absent number from 0, so 0 means "not requested" (as in Kata's agent); what is not
 *    requested is never written. A requested limit whose controller is missing fails with
 *    -CGROUP_ENOCTRL (FAILED_PRECONDITION) and a message naming the controller. Everything
 *    is validated before anything is written.
 *  - Device rules (Resources.Devices) are enforced by a BPF_PROG_TYPE_CGROUP_DEVICE program
 *    on the container's cgroup, attached before the child is cloned into it (devices.c): Kata's
 *    whitelist, then the spec's rules, last match wins for each access bit. "a *:* rwm"
 *    (allow) is Kata's "allowed all" mode, for that container only (ember puts no program on
 *    the pod's cgroup). Containers with the same policy share one program. A kernel that
 *    cannot load or attach it fails the container (FAILED_PRECONDITION naming what is
 *    missing), as Kata fails without its device cgroup.
 *  - Nothing here blocks: freezing completes through inotify on cgroup.events, OOM kills
 *    are seen through inotify on memory.events; every wait has a bound (the caller's
 *    timer or CGROUP_FREEZE_TIMEOUT_NS).
 *  - Functions return -errno; a message naming the offending value goes to the caller's
 *    err buffer. Nothing here logs an error it returns.
 */
#pragma once

#include "common/common.h"
#include "agent.pb-c.h"
#include "oci.pb-c.h"

/* The errno for "the controller (or cgroup v2 itself) is not available": the one errno
 * table maps it to FAILED_PRECONDITION. */
#define CGROUP_ENOCTRL ENOMEDIUM

#define CGROUP_ERR_MAX		 512
#define CGROUP_PATH_MAX		 1024 /* CgroupsPath, after conversion */
#define CGROUP_MAX_DEPTH	 32   /* its components */
#define CGROUP_MAX_DEVICE_RULES	 128  /* per BlockIO list: a peer cannot make us write more */
#define CGROUP_MAX_DEVCG_RULES	 256  /* Resources.Devices (hot-plugged devices' included) */
#define CGROUP_MAX_HUGEPAGE	 16
#define CGROUP_FREEZE_TIMEOUT_NS (10 * NSEC_PER_SEC) /* runc waits as long, then thaws */
#define CGROUP_DRAIN_TIMEOUT_NS	 (10 * NSEC_PER_SEC) /* for a removed cgroup to empty */
#define CGROUP_AGENT_LEAF	 "ember-agent"

/* ---- controllers ---- */

enum cgroup_controller {
	CG_CPU,
	CG_CPUSET,
	CG_IO,
	CG_MEMORY,
	CG_PIDS,
	CG_HUGETLB,
	CG_COUNT,
};
#define CG_MASK(c)  (1u << (c))
#define CG_ALL_MASK ((1u << CG_COUNT) - 1)

const char *cgroup_controller_name(enum cgroup_controller c);
/* "cpu io memory" (cgroup.controllers / subtree_control text) -> mask of the known ones. */
unsigned cgroup_controllers_parse(const char *text);

/* ---- CgroupsPath ---- */

/* Linux.CgroupsPath -> a path relative to the base, without leading or trailing slashes:
 * "a:b:c" (systemd form) -> "a/b/c", "" -> cid, "/x//y/" -> "x/y". Refuses ".", "..",
 * components longer than 255 bytes, more than CGROUP_MAX_DEPTH of them, control characters, the
 * agent's own leaf as first component, and paths longer than CGROUP_PATH_MAX. */
int cgroup_path_from_spec(const char *cgroups_path, const char *cid, char *ret, size_t retsz,
			  char *err, size_t errsz);

/* ---- device rules (devices.c) ---- */

/* The access bits, as the kernel passes them to a device program (BPF_DEVCG_ACC_*). */
enum {
	CGROUP_DEV_MKNOD = 1,
	CGROUP_DEV_READ = 2,
	CGROUP_DEV_WRITE = 4,
	CGROUP_DEV_RWM = 7,
};

/* One OCI LinuxDeviceCgroup, validated. */
struct cgroup_dev_rule {
	char type;	      /* 'a' (block and char), 'b', 'c' */
	int32_t major, minor; /* -1: any */
	uint8_t access;	      /* CGROUP_DEV_* */
	bool allow;
};

/* Resources.Devices -> rules, validating each: type "", a, b or c ("" = a, as OCI says);
 * access letters among r, w, m ("" matches nothing, as the kernel's v1 devices.allow);
 * major and minor -1 or a dev_t number (12 and 20 bits). Proto3 cannot tell an unset number
 * from 0 and the Go runtime sends OCI's unset ("*") as 0, so major 0 (no device has it: the
 * kernel reserves it for unnamed devices) means any, and so does minor 0 next to such a
 * major ("c 0:0 m" is OCI's "c *:* m"); minor 0 with a real major is minor 0 (/dev/sda is
 * b 8:0). More than CGROUP_MAX_DEVCG_RULES rules, or a malformed one: -EINVAL naming it.
 * *ret is malloc'd (NULL when n is 0). */
int cgroup_devices_parse(Grpc__LinuxDeviceCgroup *const *v, size_t n, struct cgroup_dev_rule **ret,
			 char *err, size_t errsz);

/* The effective policy of a container: a default and rules, last match wins per access bit. */
struct cgroup_dev_policy {
	bool default_allow;
	size_t n;
	struct cgroup_dev_rule *rules; /* malloc'd */
};
void cgroup_dev_policy_free(struct cgroup_dev_policy *p);

/* Kata's policy (rustjail cgroups/fs, reference §7.6) from the creation's rules and the last
 * UpdateContainer's (either may be empty): deny all, allow the default devices (c 1:3 null,
 * 1:5 zero, 1:7 full, 5:0 tty, 1:9 urandom, 1:8 random, rwm), mknod of every char and block
 * device, c 5:1 console, c 136:* pts, c 5:2 ptmx, c 10:200 tun (rwm); then the rules in
 * order. A rule for all devices ("a *:* rwm") is no rule but a reset: allow = allow all
 * (Kata's "allowed all" mode), deny = start again from the whitelist (it is Kata's "deny
 * all"; runtimes put one first). */
int cgroup_devices_policy(const struct cgroup_dev_rule *create, size_t n_create,
			  const struct cgroup_dev_rule *update, size_t n_update,
			  struct cgroup_dev_policy *ret);

/* The reference semantics (the unit tests hold the program to it): is `access` (CGROUP_DEV_*
 * bits) to device type ('b' or 'c') major:minor allowed? Each requested bit is decided by the
 * last rule that matches the device and has the bit, else by the default; all must allow. */
bool cgroup_devices_allows(const struct cgroup_dev_policy *p, char type, uint32_t major,
			   uint32_t minor, unsigned access);

struct bpf_insn;
/* The BPF_PROG_TYPE_CGROUP_DEVICE program of p (*ret malloc'd, *n instructions); *n = 0 and
 * *ret = NULL when p allows everything (no program is needed). */
int cgroup_devices_compile(const struct cgroup_dev_policy *p, struct bpf_insn **ret, size_t *n);

/* ---- resources -> cgroup files (resources.c) ---- */

enum {
	CGW_OPTIONAL = 1 << 0,	 /* a missing file is fine (memory.swap.max without swap) */
	CGW_KEEP_QUOTA = 1 << 1, /* cpu.max: value is the period; keep the current quota */
	CGW_BFQ_WEIGHT = 1 << 2, /* io.bfq.weight; io.weight (converted) when BFQ is absent */
	CGW_SKIP = 1 << 3,	 /* set by the manager: a cpuset the guest cannot honour yet */
};

/* One write to a cgroup file. Values are formatted exactly as written. */
struct cgroup_write {
	char file[48];
	char *value;
	char *alt_value; /* CGW_BFQ_WEIGHT: the io.weight value */
	unsigned flags;
	enum cgroup_controller controller;
	char what[96]; /* "memory limit 33554432": names the request in messages */
};

struct cgroup_writes {
	struct cgroup_write *w;
	size_t n, cap;
	unsigned controllers; /* mask of the controllers these writes need */
	char *cpuset_cpus;    /* requested cpuset (also in w[]): best effort, see cpuset.c */
	char *cpuset_mems;
	char ignored[160]; /* v1-only knobs that were given: "Memory.Kernel, Network" */
	struct cgroup_dev_rule *devices; /* Resources.Devices, validated (devices.c) */
	size_t n_devices;
};

void cgroup_writes_free(struct cgroup_writes *ws);

/* Translates resources into writes, validating every value (nothing is written).
 * res may be NULL (no writes). */
int cgroup_plan_resources(const Grpc__LinuxResources *res, struct cgroup_writes *ret, char *err,
			  size_t errsz);

/* Conversions (runc/crun). */
uint64_t cgroup_shares_to_weight(uint64_t shares);   /* [2, 262144] -> [1, 10000] */
uint32_t cgroup_blkio_to_io_weight(uint32_t weight); /* [10, 1000] -> [1, 10000] */

/* Applies the writes to the cgroup directory dirfd (a real cgroup, or a scratch directory
 * with the same files in tests). First checks that dirfd's cgroup.controllers offers every
 * controller the writes need (-CGROUP_ENOCTRL naming the first missing one), then writes
 * in order; a write that fails names the request, the file and the value. */
int cgroup_apply_writes(int dirfd, const struct cgroup_writes *ws, char *err, size_t errsz);
/* Reads a small cgroup file (< size bytes) into buf, NUL terminated, trailing newlines
 * dropped; returns the length. */
int cgroup_read_small(int dirfd, const char *file, char *buf, size_t size);

/* ---- cpu lists (cpuset.c) ---- */

#define CGROUP_MAX_CPUS 8192

/* "0-3,7" -> bitmap (CGROUP_MAX_CPUS bits). -EINVAL on anything else. */
int cgroup_cpulist_parse(const char *s, uint64_t bits[CGROUP_MAX_CPUS / 64]);
/* Is every bit of a also set in b? */
bool cgroup_cpulist_subset(const uint64_t a[CGROUP_MAX_CPUS / 64],
			   const uint64_t b[CGROUP_MAX_CPUS / 64]);

/* ---- statistics (stats.c) ---- */

/* Fills a CgroupStats (reference §2.4) from the files of dirfd, converted as runc does
 * for v2: cpu.stat µs -> ns, memory.current/peak/max, memory.swap.*, memory.stat,
 * memory.events, pids.current/max, io.stat -> blkio entries, hugetlb.<size>.*. Files a
 * controller does not provide are skipped. Free with cgroup_stats_free(). */
int cgroup_stats_read(int dirfd, Grpc__CgroupStats **ret);
void cgroup_stats_free(Grpc__CgroupStats *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(Grpc__CgroupStats *, cgroup_stats_free)

/* Parsers (exposed for the unit tests). A "key value" line file, e.g. cpu.stat. */
int cgroup_keyed_get(const char *text, const char *key, uint64_t *ret);
/* "max" -> UINT64_MAX, else a decimal. */
int cgroup_parse_max(const char *text, uint64_t *ret);

/* Key figures of one cgroup for GetMetrics; UINT64_MAX = "max"/unknown limit. */
struct cgroup_figures {
	uint64_t cpu_usage_usec, cpu_user_usec, cpu_system_usec, cpu_throttled_usec;
	uint64_t memory_current, memory_max, memory_peak, swap_current;
	uint64_t pids_current, pids_max;
	uint64_t oom_kills;
	bool have_cpu, have_memory, have_pids;
};
int cgroup_figures_read(int dirfd, struct cgroup_figures *f);

/* ---- the manager (manager.c, hierarchy.c, events.c) ---- */

struct cgroup_mgr;
struct cgroup;

typedef void (*cgroup_oom_fn)(const char *container_id, void *data);

struct cgroup_mgr_options {
	/* Tests: use this directory (a cgroup2 directory) as the base instead of the agent's
	 * own cgroup. NULL = discover. */
	const char *base_dir;
	/* Tests whose base_dir is a scratch directory standing in for cgroupfs: it cannot hold
	 * a BPF program, so containers get no device policy. */
	bool no_device_policy;
	cgroup_oom_fn oom;
	void *oom_data;
};

int cgroup_mgr_new(struct ev_loop *loop, const struct cgroup_mgr_options *opt,
		   struct cgroup_mgr **ret);
/* Kills what is left in the cgroups and removes their directories where it can (processes
 * still exiting keep theirs); then frees everything. */
void cgroup_mgr_free(struct cgroup_mgr *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cgroup_mgr *, cgroup_mgr_free)

/* The cgroup2 mount and the base ("" when none); the controllers the base offers. */
const char *cgroup_mgr_base(const struct cgroup_mgr *m);
unsigned cgroup_mgr_controllers(const struct cgroup_mgr *m);

/* Creates (or adopts an empty, unowned) cgroup for container `id` and applies res.
 * *ret = NULL (and 0) when there is no cgroup2 hierarchy and nothing is requested.
 * -EEXIST when another container owns the path, -EBUSY when a stale one still has
 * processes, -CGROUP_ENOCTRL for a missing controller. On failure nothing is left
 * behind. */
int cgroup_create(struct cgroup_mgr *m, const char *id, const char *cgroups_path,
		  const Grpc__LinuxResources *res, struct cgroup **ret, char *err, size_t errsz);
struct cgroup *cgroup_find(struct cgroup_mgr *m, const char *id);
/* For a container without a cgroup: 0 when res asks for nothing, else -CGROUP_ENOCTRL
 * naming the first request. */
int cgroup_refuse_unplaced(const Grpc__LinuxResources *res, char *err, size_t errsz);

/* Path relative to the mount ("kubepods/pod1/c1") and the directory fd (O_RDONLY |
 * O_DIRECTORY | O_CLOEXEC; valid for CLONE_INTO_CGROUP and openat) owned by cg. */
const char *cgroup_path(const struct cgroup *cg);
const char *cgroup_id(const struct cgroup *cg);
int cgroup_dir_fd(const struct cgroup *cg);

/* Applies new resources to a live cgroup (enables controllers on the way down first).
 * Device rules, when res has some, replace those of the previous update: the policy becomes
 * the whitelist, the creation's rules, then these (so the creation's hot-plugged devices
 * stay allowed unless these deny them or reset with "a *:* rwm"). The new program replaces
 * the old one atomically (BPF_F_REPLACE). */
int cgroup_update(struct cgroup *cg, const Grpc__LinuxResources *res, char *err, size_t errsz);

/* SIGKILL every process in the cgroup (cgroup.kill; freeze + kill each pid + thaw on
 * kernels before 5.14). 0 when the cgroup is empty already. */
int cgroup_kill(struct cgroup *cg);
/* Is any process left in it (cgroup.events populated)? */
int cgroup_populated(struct cgroup *cg);
/* Removes the directory (and its ancestors below the base while they are empty) and forgets
 * cg (cgroup_find no longer sees it). Pending freeze waiters complete with -ENOENT.
 * When processes are still exiting (killed, not yet gone: daemons reparented inside a shared
 * pid namespace), they are killed again and the directory goes as soon as cgroup.events says
 * "populated 0", within CGROUP_DRAIN_TIMEOUT_NS; the path stays taken until then. */
int cgroup_destroy(struct cgroup *cg);

/* Re-applies requested cpusets that were skipped because the guest lacked those CPUs or
 * nodes (Kata's best effort rule), after CPUs came online. Returns how many were applied. */
int cgroup_mgr_cpusets_refresh(struct cgroup_mgr *m);

/* Iterates the cgroups (GetMetrics). Stops when fn returns < 0 and returns that. */
int cgroup_mgr_foreach(struct cgroup_mgr *m, int (*fn)(struct cgroup *cg, void *data), void *data);
uint64_t cgroup_oom_kills(const struct cgroup *cg);

/* ---- freezing ---- */

struct cgroup_waiter;
typedef void (*cgroup_waiter_fn)(struct cgroup_waiter *w, int r);

/* Embedded in the caller's record. done(w, 0) when the cgroup reached the state,
 * done(w, -ETIMEDOUT) after CGROUP_FREEZE_TIMEOUT_NS (a freeze is then undone, as runc
 * does), done(w, -ECANCELED) when an opposite request superseded it, done(w, -ENOENT) when
 * the cgroup was destroyed.
 * done() always runs from the event loop (a zero-delay timer when decided by a call), so a
 * handler calling in here never replies to another call under its own feet. */
struct cgroup_waiter {
	struct list_head node;
	struct cgroup_mgr *mgr;
	struct cgroup *cg; /* NULL once its cgroup was destroyed */
	bool target, queued;
	int result; /* != 0: decided (superseded, destroyed), completed from the loop */
	struct ev_timer timer;
	cgroup_waiter_fn done;
};

/* Writes cgroup.freeze. Returns 1 when the cgroup is in the state already (w unused), 0
 * when w was queued, < 0 on error. */
int cgroup_set_frozen(struct cgroup *cg, bool frozen, struct cgroup_waiter *w,
		      cgroup_waiter_fn done);
/* Forgets a queued waiter (its call was cancelled). Safe when not queued. */
void cgroup_waiter_cancel(struct cgroup_waiter *w);
/* cgroup.events "frozen": 1, 0, or < 0. */
int cgroup_frozen(struct cgroup *cg);
