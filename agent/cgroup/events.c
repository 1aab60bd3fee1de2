/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cgroup.events and memory.events through inotify, in the event loop: the kernel signals
 * a change of either file as IN_MODIFY (Documentation/admin-guide/cgroup-v2.rst, "file
 * modified events"). cgroup.events carries "frozen" (freeze completion); memory.events
 * carries "oom_kill" (Kata's agent watches the same file on v2).
 */
#define LOG_SUBSYSTEM "cgroup"
#include "internal.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/inotify.h>

static int watch(struct cgroup *cg, const char *file)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s/%s", cg->mgr->mnt, cg->path, file);
	int wd = inotify_add_watch(cg->mgr->inotify_fd, path, IN_MODIFY);
	return wd < 0 ? -errno : wd;
}

static int read_oom_kills(struct cgroup *cg, uint64_t *ret)
{
	char text[512];
	if (cgroup_read_small(cg->dir_fd, "memory.events", text, sizeof(text)) < 0)
		return -ENOENT;
	return cgroup_keyed_get(text, "oom_kill", ret);
}

void events_watch(struct cgroup *cg)
{
	int wd = watch(cg, "cgroup.events");
	if (wd < 0)
		log_warn_errno(wd,
			       "cgroup '%s': cannot watch cgroup.events, pausing will time "
			       "out: %m",
			       cg->path);
	cg->events_wd = wd < 0 ? -1 : wd;

	uint64_t v;
	if (read_oom_kills(cg, &v) < 0)
		return;	   /* no memory controller: no OOM events to watch for */
	cg->oom_kills = v; /* an adopted cgroup may have counted some already */
	wd = watch(cg, "memory.events");
	if (wd < 0)
		log_warn_errno(wd,
			       "cgroup '%s': cannot watch memory.events, OOM kills will not be "
			       "reported: %m",
			       cg->path);
	cg->memory_wd = wd < 0 ? -1 : wd;
}

void events_unwatch(struct cgroup *cg)
{
	if (cg->events_wd >= 0)
		(void)inotify_rm_watch(cg->mgr->inotify_fd, cg->events_wd);
	if (cg->memory_wd >= 0)
		(void)inotify_rm_watch(cg->mgr->inotify_fd, cg->memory_wd);
	cg->events_wd = cg->memory_wd = -1;
}

int cgroup_frozen(struct cgroup *cg)
{
	char text[256];
	uint64_t v;
	int r = cgroup_read_small(cg->dir_fd, "cgroup.events", text, sizeof(text));
	if (r < 0)
		return r;
	r = cgroup_keyed_get(text, "frozen", &v);
	return r < 0 ? r : v != 0;
}

int cgroup_populated(struct cgroup *cg)
{
	char text[256];
	uint64_t v;
	int r = cgroup_read_small(cg->dir_fd, "cgroup.events", text, sizeof(text));
	if (r < 0)
		return r;
	r = cgroup_keyed_get(text, "populated", &v);
	return r < 0 ? r : v != 0;
}

/* ---- freeze waiters ---- */

static void waiter_finish(struct cgroup_waiter *w, int r)
{
	ev_timer_stop(w->mgr->loop, &w->timer);
	list_del(&w->node);
	w->queued = false;
	w->cg = NULL;
	w->done(w, r);
}

static void waiter_timeout(struct ev_loop *loop, struct ev_timer *t);

/* Decided: completes with r from the loop, on a zero-delay timer. */
static void waiter_decide(struct cgroup_waiter *w, int r)
{
	w->result = r;
	if (ev_timer_start(w->mgr->loop, &w->timer, now_monotonic_ns(), waiter_timeout, w) < 0)
		log_error(
		    "cannot schedule the completion of a freeze waiter"); /* (heap slot held) */
}

static bool has_waiter(struct cgroup *cg, bool target)
{
	struct list_head *i;
	LIST_FOREACH (i, &cg->waiters) {
		struct cgroup_waiter *w = list_entry(i, struct cgroup_waiter, node);
		if (!w->result && w->target == target)
			return true;
	}
	return false;
}

static void waiter_timeout(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct cgroup_waiter *w = t->data;
	struct cgroup *cg = w->cg;
	bool target = w->target;

	if (w->result) {
		waiter_finish(w, w->result); /* superseded or destroyed */
		return;
	}
	waiter_finish(w, -ETIMEDOUT);
	/* A freeze that did not complete in time is undone, as runc does: a half-frozen
	 * container is worse than a running one. Unless someone else still waits for it. */
	if (target && !has_waiter(cg, true) && cgroup_frozen(cg) == 0) {
		_cleanup_close_ int fd = openat(cg->dir_fd, "cgroup.freeze", O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, "0", 1) != 1)
			log_warn_errno(errno, "cgroup '%s': cannot thaw after a freeze timeout: %m",
				       cg->path);
	}
}

/* Completes the waiters whose target the cgroup has reached; pops one at a time because a
 * completion may reply to a call and so cancel other waiters re-entrantly. */
static void check_waiters(struct cgroup *cg)
{
	for (;;) {
		int f = cgroup_frozen(cg);
		if (f < 0)
			return;
		struct cgroup_waiter *found = NULL;
		struct list_head *i;
		LIST_FOREACH (i, &cg->waiters) {
			struct cgroup_waiter *w = list_entry(i, struct cgroup_waiter, node);
			if (!w->result && w->target == (f == 1)) {
				found = w;
				break;
			}
		}
		if (!found)
			return;
		waiter_finish(found, 0);
	}
}

/* The other direction's waiters will never see their state now. They are completed from the
 * loop (a zero-delay timer), not from here: cgroup_set_frozen() runs inside a handler, and a
 * reply to another call could drop the handler's own connection under it. */
static void fail_opposite(struct cgroup *cg, bool target)
{
	struct list_head *i;
	LIST_FOREACH (i, &cg->waiters) {
		struct cgroup_waiter *w = list_entry(i, struct cgroup_waiter, node);
		if (!w->result && w->target != target)
			waiter_decide(w, -ECANCELED);
	}
}

void events_fail_waiters(struct cgroup *cg, int r)
{
	while (!list_empty(&cg->waiters)) {
		struct cgroup_waiter *w = list_entry(cg->waiters.next, struct cgroup_waiter, node);
		list_del(&w->node);
		list_add_tail(&cg->mgr->orphans, &w->node);
		w->cg = NULL;
		if (!w->result)
			waiter_decide(w, r);
	}
}

int cgroup_set_frozen(struct cgroup *cg, bool frozen, struct cgroup_waiter *w,
		      cgroup_waiter_fn done)
{
	_cleanup_close_ int fd = openat(cg->dir_fd, "cgroup.freeze", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno; /* ENOENT: a kernel before 5.2 */
	if (write(fd, frozen ? "1" : "0", 1) != 1)
		return -errno;
	fail_opposite(cg, frozen);

	int f = cgroup_frozen(cg);
	if (f < 0)
		return f;
	if (f == frozen)
		return 1;

	*w = (struct cgroup_waiter){.mgr = cg->mgr, .cg = cg, .target = frozen, .done = done};
	ev_timer_init(&w->timer);
	int r = ev_timer_start(cg->mgr->loop, &w->timer,
			       now_monotonic_ns() + CGROUP_FREEZE_TIMEOUT_NS, waiter_timeout, w);
	if (r < 0)
		return r;
	list_add_tail(&cg->waiters, &w->node);
	w->queued = true;
	/* The watch was added at creation, so a change between our write and this point is
	 * already queued on the inotify fd: nothing is missed. */
	return 0;
}

void cgroup_waiter_cancel(struct cgroup_waiter *w)
{
	if (!w->queued)
		return;
	ev_timer_stop(w->mgr->loop, &w->timer);
	list_del(&w->node);
	w->queued = false;
	w->cg = NULL;
}

/* ---- the inotify fd ---- */

static void check_oom(struct cgroup *cg)
{
	uint64_t v;
	if (read_oom_kills(cg, &v) < 0 || v <= cg->oom_kills)
		return;
	log_info("container %s: %llu OOM kill(s) in cgroup '%s'", cg->id,
		 (unsigned long long)(v - cg->oom_kills), cg->path);
	cg->oom_kills = v;
	if (cg->mgr->oom)
		cg->mgr->oom(cg->id, cg->mgr->oom_data);
}

static struct cgroup *find_wd(struct cgroup_mgr *m, int wd, bool *is_memory)
{
	struct list_head *i;
	LIST_FOREACH (i, &m->cgroups) {
		struct cgroup *cg = list_entry(i, struct cgroup, node);
		if (cg->events_wd == wd || cg->memory_wd == wd) {
			*is_memory = cg->memory_wd == wd;
			return cg;
		}
	}
	return NULL;
}

/* The queue overflowed: look at everything. */
static void check_all(struct cgroup_mgr *m)
{
	/* Callbacks may reply to calls but never destroy cgroups, so the list is stable. */
	struct list_head *i;
	LIST_FOREACH (i, &m->cgroups) {
		struct cgroup *cg = list_entry(i, struct cgroup, node);
		if (cg->dying)
			continue; /* (its timer bounds it) */
		check_oom(cg);
		check_waiters(cg);
	}
}

static void inotify_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct cgroup_mgr *m = io->data;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(m->inotify_fd, buf, sizeof(buf));
		if (n <= 0)
			return;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW) {
				check_all(m);
				continue;
			}
			bool is_memory = false;
			struct cgroup *cg = find_wd(m, ev->wd, &is_memory);
			if (!cg)
				continue;
			if (ev->mask & IN_IGNORED) {
				/* the file went away with its cgroup */
				if (is_memory)
					cg->memory_wd = -1;
				else
					cg->events_wd = -1;
				continue;
			}
			if (cg->dying) {
				if (!is_memory)
					manager_dying_check(cg); /* may free cg */
			} else if (is_memory) {
				check_oom(cg);
			} else {
				check_waiters(cg);
			}
		}
	}
}

int events_setup(struct cgroup_mgr *m)
{
	m->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (m->inotify_fd < 0)
		return -errno;
	return ev_io_start(m->loop, &m->inotify_io, m->inotify_fd, EPOLLIN, inotify_cb, m);
}

void events_done(struct cgroup_mgr *m)
{
	if (m->inotify_fd >= 0) {
		ev_io_stop(m->loop, &m->inotify_io);
		m->inotify_fd = safe_close(m->inotify_fd);
	}
}
