/* SPDX-License-Identifier: Apache-2.0 */
/* The plan's memory (an arena freed at once) and its fds. */
#include "container.h"

#include <sched.h>

struct ct_arena_block {
	struct ct_arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

#define ARENA_BLOCK (16u << 10)

void *ct_arena_alloc(struct ct_arena *a, size_t n)
{
	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	struct ct_arena_block *b = a->head;
	if (!b || b->cap - b->used < n) {
		size_t cap = MAX(n, (size_t)ARENA_BLOCK);
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->next = a->head;
		b->used = 0;
		b->cap = cap;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *ct_arena_strdup(struct ct_arena *a, const char *s)
{
	size_t l = strlen(s);
	char *p = ct_arena_alloc(a, l + 1);
	if (p)
		memcpy(p, s, l + 1);
	return p;
}

char *ct_arena_printf(struct ct_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	char *p = ct_arena_alloc(a, (size_t)n + 1);
	if (!p)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

void ct_arena_free(struct ct_arena *a)
{
	while (a->head) {
		struct ct_arena_block *b = a->head;
		a->head = b->next;
		free(b);
	}
}

static const struct {
	const char *name;
	int flag;
} ns_table[CT_NS_COUNT] = {
    [CT_NS_USER] = {"user", CLONE_NEWUSER},	  [CT_NS_IPC] = {"ipc", CLONE_NEWIPC},
    [CT_NS_UTS] = {"uts", CLONE_NEWUTS},	  [CT_NS_NET] = {"net", CLONE_NEWNET},
    [CT_NS_CGROUP] = {"cgroup", CLONE_NEWCGROUP}, [CT_NS_PID] = {"pid", CLONE_NEWPID},
    [CT_NS_MNT] = {"mnt", CLONE_NEWNS},
};

const char *ct_ns_name(enum ct_ns ns)
{
	return ns < CT_NS_COUNT ? ns_table[ns].name : "?";
}

int ct_ns_clone_flag(enum ct_ns ns)
{
	return ns < CT_NS_COUNT ? ns_table[ns].flag : 0;
}

void ct_plan_init(struct ct_plan *p)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < CT_NS_COUNT; i++)
		p->join_fd[i] = -1;
	for (int i = 0; i < 3; i++)
		p->stdio[i] = -1;
	p->root_fd = p->status_fd = p->start_fd = p->sync_fd = p->cgroup_fd = p->hook_fd = -1;
	p->umask = 022;
	security_plan_init(&p->sec); /* issue 7 */
}

void ct_plan_close_child_fds(struct ct_plan *p)
{
	/* The namespace and root fds are borrowed from the sandbox/container; stdio and the
	 * sync pipes are the child's ends, owned by the plan. */
	for (int i = 0; i < 3; i++) {
		bool dup_of_earlier = false;
		for (int k = 0; k < i; k++)
			dup_of_earlier |= p->stdio[k] == p->stdio[i];
		if (!dup_of_earlier)
			safe_close(p->stdio[i]);
		p->stdio[i] = -1;
	}
	p->status_fd = safe_close(p->status_fd);
	p->start_fd = safe_close(p->start_fd);
	p->sync_fd = safe_close(p->sync_fd);
	p->hook_fd = safe_close(p->hook_fd);
}

void ct_plan_done(struct ct_plan *p)
{
	ct_plan_close_child_fds(p);
	ct_arena_free(&p->arena);
	security_plan_done(&p->sec); /* issue 7 */
}

static const char *step_name(enum ct_step s)
{
	switch (s) {
	case CT_STEP_SYNC:
		return "synchronisation with the agent";
	case CT_STEP_SETNS:
		return "joining a namespace";
	case CT_STEP_ROOT_PROPAGATION:
		return "setting the propagation of /";
	case CT_STEP_ROOT_BIND:
		return "bind-mounting the rootfs";
	case CT_STEP_MOUNT:
		return "mount";
	case CT_STEP_MOUNT_DEST:
		return "creating mount point";
	case CT_STEP_DEV:
		return "populating /dev";
	case CT_STEP_DEVICE:
		return "creating device";
	case CT_STEP_PIVOT:
		return "switching to the rootfs";
	case CT_STEP_ROOT_READONLY:
		return "making the rootfs read-only";
	case CT_STEP_HOSTNAME:
		return "setting the hostname";
	case CT_STEP_RLIMIT:
		return "setrlimit";
	case CT_STEP_OOM_SCORE:
		return "writing oom_score_adj";
	case CT_STEP_CWD:
		return "cwd";
	case CT_STEP_SETSID:
		return "setsid";
	case CT_STEP_TTY:
		return "making the tty the controlling terminal";
	case CT_STEP_STDIO:
		return "setting up stdio";
	case CT_STEP_USER:
		return "switching user";
	case CT_STEP_NO_NEW_PRIVS:
		return "no_new_privs";
	case CT_STEP_EXEC:
		return "exec";
	case CT_STEP_SECURITY:
		return "security setup";
	}
	return "setup";
}

void ct_status_describe(const struct ct_plan *p, const struct ct_status *st, char *buf, size_t sz)
{
	const char *what = step_name((enum ct_step)st->step);
	const char *err = strerror(st->err);
	size_t i = st->arg >= 0 ? (size_t)st->arg : SIZE_MAX;

	switch ((enum ct_step)st->step) {
	case CT_STEP_MOUNT:
	case CT_STEP_MOUNT_DEST:
		if (i < p->n_mounts) {
			const struct ct_mount *m = &p->mounts[i];
			snprintf(buf, sz, "%s '%s' (type '%s') on '%s': %s", what, m->source,
				 m->fstype ? m->fstype : "bind", m->dest, err);
			return;
		}
		break;
	case CT_STEP_DEVICE:
		if (i < p->n_devices) {
			snprintf(buf, sz, "%s '%s': %s", what, p->devices[i].path, err);
			return;
		}
		break;
	case CT_STEP_CWD:
		snprintf(buf, sz, "cwd '%s': %s", p->cwd, err);
		return;
	case CT_STEP_EXEC:
		snprintf(buf, sz, "exec '%s': %s", p->exe, err);
		return;
	case CT_STEP_USER:
		snprintf(buf, sz, "switching to uid %u gid %u: %s", (unsigned)p->uid,
			 (unsigned)p->gid, err);
		return;
	case CT_STEP_HOSTNAME:
		snprintf(buf, sz, "hostname '%s': %s", p->hostname ? p->hostname : "", err);
		return;
	case CT_STEP_SETNS:
		if (i < CT_NS_COUNT) {
			snprintf(buf, sz, "joining the %s namespace: %s", ct_ns_name((enum ct_ns)i),
				 err);
			return;
		}
		break;
	case CT_STEP_PIVOT:
		snprintf(buf, sz, "%s '%s': %s", what, p->rootfs ? p->rootfs : "", err);
		return;
	case CT_STEP_SECURITY: /* issue 7: names the sysctl, path or capability */
		security_describe(&p->sec, st->arg, st->err, buf, sz);
		return;
	default:
		break;
	}
	snprintf(buf, sz, "%s: %s", what, err);
}
