/* SPDX-License-Identifier: Apache-2.0 */
/* The cgroup module's own structures; nothing outside agent/cgroup/ includes this. */
#pragma once

#include "cgroup.h"

struct cgroup_mgr {
	struct ev_loop *loop;
	char *mnt;	/* the cgroup2 mount point, NULL when there is none */
	char *base_rel; /* the base relative to the mount root ("" = the root) */
	char *base_abs; /* mnt + base_rel */
	int base_fd;	/* O_PATH | O_DIRECTORY */
	bool base_is_root;
	bool agent_moved; /* the agent sits in <base>/ember-agent */
	/* Outside the VM: "ember.<pid ns inode>.<pid>", a directory of this agent's own under
	 * the base that holds its containers' cgroups, so that agents sharing a host never
	 * collide and never write to a shared cgroup (the host's root). "" in the VM. */
	char *prefix;

	int inotify_fd;
	struct ev_io inotify_io;

	struct list_head cgroups;
	unsigned n_cgroups;
	struct list_head orphans; /* waiters of destroyed cgroups, completing from the loop */
	cgroup_oom_fn oom;
	void *oom_data;
	bool no_device_policy; /* tests: the base is a scratch directory */
	/* The last device program loaded (its fd and instructions): containers with the same
	 * policy (most often Kata's whitelist alone) share it, skipping the verifier. */
	int dev_cache_fd;
	struct bpf_insn *dev_cache_insns;
	size_t dev_cache_n;
	struct ev_timer dev_warm_timer; /* loads the whitelist's program once the loop runs */
};

struct cgroup {
	struct list_head node;
	struct cgroup_mgr *mgr;
	char *id;
	char *rel;  /* relative to the base: [prefix/]converted CgroupsPath */
	char *path; /* relative to the mount root: base_rel + rel */
	int dir_fd;
	int events_wd, memory_wd; /* inotify: cgroup.events, memory.events; -1 = none */
	uint64_t oom_kills;
	struct list_head waiters;	   /* struct cgroup_waiter, pending freeze/thaw */
	char *pending_cpus, *pending_mems; /* cpusets the guest could not honour yet */
	/* The device program attached to dir_fd (-1: none, everything is allowed) and the
	 * creation's rules, which an update's rules follow. */
	int dev_prog_fd;
	struct cgroup_dev_rule *dev_rules;
	size_t n_dev_rules;
	/* Removed while processes were still exiting: the directory goes once cgroup.events
	 * says "populated 0" (or is left after CGROUP_DRAIN_TIMEOUT_NS). Invisible to
	 * cgroup_find(); its path stays taken meanwhile. */
	bool dying;
	struct ev_timer dying_timer;
};

/* hierarchy.c */
int hierarchy_open(struct cgroup_mgr *m, const char *base_dir);
/* Controllers the base offers (its cgroup.controllers). */
unsigned hierarchy_available(struct cgroup_mgr *m);
/* mkdir -p of rel below the base, enabling `want` in the subtree_control of the base and of
 * every directory above the leaf. *created = how many trailing components were created
 * (the leaf included). Returns the parent directory's fd (O_PATH) in *parent_fd. */
int hierarchy_make_path(struct cgroup_mgr *m, const char *rel, unsigned want, int *parent_fd,
			int *created, char *err, size_t errsz);
/* rmdir of rel and then of its ancestors, at most `levels` directories in all; stops at the
 * first one that is not empty. The leaf's errno is returned. */
int hierarchy_remove_path(struct cgroup_mgr *m, const char *rel, int levels);

/* devices.c: the BPF side. devices_load() returns the program's fd (the cached one's, dup'ed,
 * when its instructions are the same); devices_attach() puts
 * prog_fd on the cgroup in place of old_fd (either may be -1: nothing to replace, or detach
 * old_fd and attach nothing); devices_detach_all() removes every device program attached to
 * the cgroup itself (an adopted cgroup's, left by an agent that crashed). */
int devices_load(struct cgroup_mgr *m, const struct bpf_insn *insns, size_t n, char *err,
		 size_t errsz);
int devices_attach(int cgroup_fd, int prog_fd, int old_fd, char *err, size_t errsz);
int devices_detach_all(int cgroup_fd);
/* Loads the program of Kata's whitelist alone into the cache, from the loop right after the
 * agent starts: the verifier's time (tens of ms in a TCG guest) is then not the first
 * container's. */
void devices_warm_up(struct cgroup_mgr *m);

/* events.c */
int events_setup(struct cgroup_mgr *m);
void events_done(struct cgroup_mgr *m);
void events_watch(struct cgroup *cg);
void events_unwatch(struct cgroup *cg);
/* manager.c: a dying cgroup's cgroup.events changed: removes it when it is empty (cg may be
 * freed). */
void manager_dying_check(struct cgroup *cg);

/* Hands every waiter of cg over to be completed with r from the loop (cgroup_destroy). */
void events_fail_waiters(struct cgroup *cg, int r);
