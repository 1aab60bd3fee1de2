/* SPDX-License-Identifier: Apache-2.0 */
/*
 * UpdateContainer, StatsContainer, PauseContainer, ResumeContainer, GetOOMEvent (reference
 * §2.3, §6.4, §7.6), the container engine's cgroup hooks, and the per-container figures of
 * GetMetrics. The cgroups themselves are agent/cgroup/'s.
 */
#define LOG_SUBSYSTEM "cgroup"
#include "sandbox.h"
#include "guest.h"
#include "cgroup/cgroup.h"
#include "google/protobuf/empty.pb-c.h"

#include <fcntl.h>

/* OOM events wait here while nobody asks (the shim's GetOOMEvent loop may be between two
 * calls); one entry per container is enough, a repeat adds nothing for the shim. */
#define OOM_QUEUE_MAX	SANDBOX_MAX_CONTAINERS
#define OOM_WAITERS_MAX 64

struct oom_waiter {
	struct list_head node;
	struct rpc_call *call;
};

struct agent_cgroups {
	struct agent *agent;
	struct cgroup_mgr *mgr;
	struct list_head oom_waiters;
	unsigned n_oom_waiters;
	char *oom_queue[OOM_QUEUE_MAX]; /* ring */
	size_t oom_head, oom_len;
	bool oom_closed;
	int oom_code;
	char oom_msg[128];
};

static struct agent_cgroups *cgroups_of(struct rpc_call *call)
{
	struct agent *a = rpc_call_userdata(call);
	return a->cgroups;
}

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty empty = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &empty.base);
}

/* ---- OOM events ---- */

static void oom_reply(struct rpc_call *call, const char *cid)
{
	Grpc__OOMEvent ev = GRPC__OOMEVENT__INIT;
	ev.container_id = (char *)cid;
	rpc_call_reply(call, &ev.base);
}

static void oom_event(const char *cid, void *data)
{
	struct agent_cgroups *cgs = data;

	if (!list_empty(&cgs->oom_waiters)) {
		struct oom_waiter *w = list_entry(cgs->oom_waiters.next, struct oom_waiter, node);
		list_del(&w->node);
		cgs->n_oom_waiters--;
		struct rpc_call *call = w->call;
		free(w);
		oom_reply(call, cid);
		return;
	}
	for (size_t i = 0; i < cgs->oom_len; i++)
		if (streq(cgs->oom_queue[(cgs->oom_head + i) % OOM_QUEUE_MAX], cid))
			return;
	char *copy = strdup(cid);
	if (!copy) {
		log_error("container %s: OOM event lost: out of memory", cid);
		return;
	}
	if (cgs->oom_len == OOM_QUEUE_MAX) {
		/* Cannot happen with one entry per container; keep the newest if it does. */
		log_warn("OOM event queue full: dropping the event of container %s",
			 cgs->oom_queue[cgs->oom_head]);
		free(cgs->oom_queue[cgs->oom_head]);
		cgs->oom_head = (cgs->oom_head + 1) % OOM_QUEUE_MAX;
		cgs->oom_len--;
	}
	cgs->oom_queue[(cgs->oom_head + cgs->oom_len) % OOM_QUEUE_MAX] = copy;
	cgs->oom_len++;
}

static void oom_cancel(struct rpc_call *call _unused_, void *data)
{
	struct oom_waiter *w = data;
	struct agent *a = rpc_call_userdata(call);
	list_del(&w->node);
	a->cgroups->n_oom_waiters--;
	free(w);
}

void svc_get_oom_event(struct rpc_call *call, void *request _unused_)
{
	struct agent_cgroups *cgs = cgroups_of(call);

	if (cgs->oom_closed) {
		rpc_call_reply_error(call, cgs->oom_code, "%s", cgs->oom_msg);
		return;
	}
	if (cgs->oom_len) {
		_cleanup_free_ char *cid = cgs->oom_queue[cgs->oom_head];
		cgs->oom_head = (cgs->oom_head + 1) % OOM_QUEUE_MAX;
		cgs->oom_len--;
		oom_reply(call, cid);
		return;
	}
	if (cgs->n_oom_waiters >= OOM_WAITERS_MAX) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED,
				     "%u GetOOMEvent calls are waiting already",
				     cgs->n_oom_waiters);
		return;
	}
	struct oom_waiter *w = calloc(1, sizeof(*w));
	if (!w) {
		rpc_call_reply_errno(call, -ENOMEM, "GetOOMEvent: %m");
		return;
	}
	w->call = call;
	list_add_tail(&cgs->oom_waiters, &w->node);
	cgs->n_oom_waiters++;
	rpc_call_park(call, oom_cancel, w);
}

void cgroup_oom_fail_waiters(struct agent *a, int code, const char *msg)
{
	struct agent_cgroups *cgs = a->cgroups;
	if (!cgs)
		return;
	cgs->oom_closed = true;
	cgs->oom_code = code;
	snprintf(cgs->oom_msg, sizeof(cgs->oom_msg), "%s", msg);
	/* One at a time: a reply may drop a connection and cancel other waiters. */
	while (!list_empty(&cgs->oom_waiters)) {
		struct oom_waiter *w = list_entry(cgs->oom_waiters.next, struct oom_waiter, node);
		list_del(&w->node);
		cgs->n_oom_waiters--;
		struct rpc_call *call = w->call;
		free(w);
		rpc_call_reply_error(call, code, "%s", msg);
	}
}

/* ---- setup ---- */

int agent_cgroups_setup(struct agent *a)
{
	struct agent_cgroups *cgs = calloc(1, sizeof(*cgs));
	if (!cgs)
		return -ENOMEM;
	cgs->agent = a;
	list_init(&cgs->oom_waiters);
	struct cgroup_mgr_options opt = {.oom = oom_event, .oom_data = cgs};
	int r = cgroup_mgr_new(a->loop, &opt, &cgs->mgr);
	if (r < 0) {
		free(cgs);
		return r;
	}
	a->cgroups = cgs;
	return 0;
}

void agent_cgroups_free(struct agent *a)
{
	struct agent_cgroups *cgs = a->cgroups;
	if (!cgs)
		return;
	/* The server is gone: no call is parked here any more. */
	while (!list_empty(&cgs->oom_waiters)) {
		struct oom_waiter *w = list_entry(cgs->oom_waiters.next, struct oom_waiter, node);
		list_del(&w->node);
		free(w);
	}
	for (size_t i = 0; i < cgs->oom_len; i++)
		free(cgs->oom_queue[(cgs->oom_head + i) % OOM_QUEUE_MAX]);
	cgroup_mgr_free(cgs->mgr);
	free(cgs);
	a->cgroups = NULL;
}

/* ---- hooks for the container engine ---- */

int agent_cgroup_create(struct agent *a, const char *cid, const char *cgroups_path,
			const Grpc__LinuxResources *res, int *ret_fd, char *err, size_t errsz)
{
	struct cgroup *cg = NULL;
	*ret_fd = -1;
	if (!a->cgroups)
		return 0;
	uint64_t t0 = now_monotonic_ns();
	int r = cgroup_create(a->cgroups->mgr, cid, cgroups_path, res, &cg, err, errsz);
	if (r < 0 || !cg)
		return r;
	log_debug("container %s: cgroup '%s' ready in %llu us", cid, cgroup_path(cg),
		  (unsigned long long)((now_monotonic_ns() - t0) / NSEC_PER_USEC));
	*ret_fd = cgroup_dir_fd(cg);
	return 0;
}

int agent_cgroup_fd(struct agent *a, const char *cid)
{
	struct cgroup *cg = a->cgroups ? cgroup_find(a->cgroups->mgr, cid) : NULL;
	return cg ? cgroup_dir_fd(cg) : -ENOENT;
}

int agent_cgroup_kill(struct agent *a, const char *cid)
{
	struct cgroup *cg = a->cgroups ? cgroup_find(a->cgroups->mgr, cid) : NULL;
	if (!cg)
		return -ENOENT;
	int r = cgroup_kill(cg);
	if (r < 0)
		log_warn_errno(r, "container %s: cannot kill cgroup '%s': %m", cid,
			       cgroup_path(cg));
	return r;
}

void agent_cgroup_remove(struct agent *a, const char *cid)
{
	struct cgroup *cg = a->cgroups ? cgroup_find(a->cgroups->mgr, cid) : NULL;
	if (!cg)
		return;
	_cleanup_free_ char *path = strdup(cgroup_path(cg));
	int r = cgroup_destroy(cg);
	if (r < 0)
		log_warn_errno(r, "container %s: cannot remove cgroup '%s': %m", cid,
			       path ? path : "?");
}

/* ---- UpdateContainer, StatsContainer ---- */

/* The container's cgroup, or a reply: NOT_FOUND for an unknown container, FAILED_PRECONDITION
 * for one without a cgroup (no cgroup v2 in the guest). */
static struct cgroup *cgroup_lookup_or_reply(struct rpc_call *call, const char *cid)
{
	char b[96];
	if (!container_lookup_or_reply(call, cid))
		return NULL;
	struct agent_cgroups *cgs = cgroups_of(call);
	struct cgroup *cg = cgs ? cgroup_find(cgs->mgr, cid) : NULL;
	if (!cg)
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION,
				     "container '%s' has no cgroup: the guest has no cgroup v2 "
				     "hierarchy",
				     printable(cid, b));
	return cg;
}

void svc_update_container(struct rpc_call *call, void *request)
{
	Grpc__UpdateContainerRequest *req = request;
	char err[CGROUP_ERR_MAX] = "", b[96];
	const char *cid = req->container_id ? req->container_id : "";

	if (!container_lookup_or_reply(call, cid))
		return;
	struct agent_cgroups *cgs = cgroups_of(call);
	struct cgroup *cg = cgs ? cgroup_find(cgs->mgr, cid) : NULL;
	int r;
	if (!cg) /* nothing to update, unless something was asked for: then say why not */
		r = cgroup_refuse_unplaced(req->resources, err, sizeof(err));
	else
		r = cgroup_update(cg, req->resources, err, sizeof(err));
	if (r < 0) {
		rpc_call_reply_error(call, errno_to_rpc_code(r), "UpdateContainer '%s': %s",
				     printable(cid, b), err);
		return;
	}
	reply_empty(call);
}

void svc_stats_container(struct rpc_call *call, void *request)
{
	Grpc__StatsContainerRequest *req = request;
	const char *cid = req->container_id ? req->container_id : "";
	char b[96];

	struct cgroup *cg = cgroup_lookup_or_reply(call, cid);
	if (!cg)
		return;
	_cleanup_(cgroup_stats_freep) Grpc__CgroupStats *stats = NULL;
	int r = cgroup_stats_read(cgroup_dir_fd(cg), &stats);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "StatsContainer '%s': cgroup '%s': %m",
				     printable(cid, b), cgroup_path(cg));
		return;
	}
	Grpc__StatsContainerResponse resp = GRPC__STATS_CONTAINER_RESPONSE__INIT;
	resp.cgroup_stats = stats;
	rpc_call_reply(call, &resp.base);
}

/* ---- PauseContainer, ResumeContainer ---- */

struct freeze_call {
	struct cgroup_waiter w; /* first: the waiter's done() gets this record */
	struct rpc_call *call;
	char cid[96];
};

static void freeze_cancel(struct rpc_call *call _unused_, void *data)
{
	struct freeze_call *fc = data;
	cgroup_waiter_cancel(&fc->w);
	free(fc);
}

static void freeze_done(struct cgroup_waiter *w, int r)
{
	struct freeze_call *fc = container_of(w, struct freeze_call, w);
	struct rpc_call *call = fc->call;
	bool pause = w->target;
	char cid[96];
	snprintf(cid, sizeof(cid), "%s", fc->cid);
	free(fc);

	if (r == 0)
		reply_empty(call);
	else if (r == -ETIMEDOUT)
		rpc_call_reply_error(call, RPC_DEADLINE_EXCEEDED,
				     pause ? "container '%s' did not freeze within %llu s (thawed "
					     "again)"
					   : "container '%s' did not thaw within %llu s",
				     cid,
				     (unsigned long long)(CGROUP_FREEZE_TIMEOUT_NS / NSEC_PER_SEC));
	else if (r == -ENOENT)
		rpc_call_reply_error(call, RPC_NOT_FOUND, "container '%s' was removed while %s",
				     cid, pause ? "pausing" : "resuming");
	else if (r == -ECANCELED)
		rpc_call_reply_error(call, RPC_ABORTED,
				     "%s of container '%s' was overtaken by a %s",
				     pause ? "pause" : "resume", cid, pause ? "resume" : "pause");
	else
		rpc_call_reply_errno(call, r, "%s of container '%s': %m",
				     pause ? "pause" : "resume", cid);
}

static void set_frozen(struct rpc_call *call, const char *cid, bool frozen)
{
	char b[96];
	struct cgroup *cg = cgroup_lookup_or_reply(call, cid);
	if (!cg)
		return;
	struct freeze_call *fc = calloc(1, sizeof(*fc));
	if (!fc) {
		rpc_call_reply_errno(call, -ENOMEM, "%m");
		return;
	}
	fc->call = call;
	snprintf(fc->cid, sizeof(fc->cid), "%s", printable(cid, b));
	int r = cgroup_set_frozen(cg, frozen, &fc->w, freeze_done);
	if (r != 0)
		free(fc);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "%s container '%s': cgroup '%s': %m",
				     frozen ? "pause" : "resume", printable(cid, b),
				     cgroup_path(cg));
		return;
	}
	if (r > 0) {
		reply_empty(call);
		return;
	}
	/* Freezing takes until every task reached the signal-delivery point; the waiter
	 * completes from cgroup.events through inotify. */
	rpc_call_park(call, freeze_cancel, fc);
}

void svc_pause_container(struct rpc_call *call, void *request)
{
	Grpc__PauseContainerRequest *req = request;
	set_frozen(call, req->container_id ? req->container_id : "", true);
}

void svc_resume_container(struct rpc_call *call, void *request)
{
	Grpc__ResumeContainerRequest *req = request;
	set_frozen(call, req->container_id ? req->container_id : "", false);
}

/* ---- hooks for guest operations (weak references in guest/metrics code) ---- */

void container_cpusets_refresh(struct agent *a)
{
	if (a->cgroups)
		(void)cgroup_mgr_cpusets_refresh(a->cgroups->mgr);
}

struct figures_entry {
	const char *id;
	struct cgroup_figures f;
};

struct figures_collect {
	struct figures_entry *e;
	size_t n, cap;
};

static int collect_figures(struct cgroup *cg, void *data)
{
	struct figures_collect *fc = data;
	if (fc->n == fc->cap)
		return 0;
	fc->e[fc->n].id = cgroup_id(cg);
	(void)cgroup_figures_read(cgroup_dir_fd(cg), &fc->e[fc->n].f);
	fc->e[fc->n].f.oom_kills = MAX(fc->e[fc->n].f.oom_kills, cgroup_oom_kills(cg));
	fc->n++;
	return 0;
}

/* Families of per-container figures, an ember addition (Kata's agent exports none; the
 * shim gets them from StatsContainer). Listed in docs/metrics.md. */
int container_metrics_append(struct agent *a, struct bytebuf *out)
{
	static const struct {
		const char *name, *type, *help;
		size_t off;
		bool need_cpu, need_memory, need_pids, seconds, skip_max;
	} fams[] = {
#define OFF(f) offsetof(struct cgroup_figures, f)
	    {"ember_container_cpu_usage_seconds_total", "counter",
	     "CPU time used by the container's cgroup (cpu.stat usage_usec).", OFF(cpu_usage_usec),
	     true, false, false, true, false},
	    {"ember_container_cpu_throttled_seconds_total", "counter",
	     "Time the container's cgroup was throttled by cpu.max.", OFF(cpu_throttled_usec), true,
	     false, false, true, false},
	    {"ember_container_memory_usage_bytes", "gauge", "memory.current of the container.",
	     OFF(memory_current), false, true, false, false, false},
	    {"ember_container_memory_limit_bytes", "gauge",
	     "memory.max of the container (absent when unlimited).", OFF(memory_max), false, true,
	     false, false, true},
	    {"ember_container_memory_peak_bytes", "gauge", "memory.peak of the container.",
	     OFF(memory_peak), false, true, false, false, false},
	    {"ember_container_swap_usage_bytes", "gauge", "memory.swap.current of the container.",
	     OFF(swap_current), false, true, false, false, false},
	    {"ember_container_oom_kills_total", "counter",
	     "Processes of the container killed by the OOM killer (memory.events oom_kill).",
	     OFF(oom_kills), false, true, false, false, false},
	    {"ember_container_pids", "gauge", "pids.current of the container.", OFF(pids_current),
	     false, false, true, false, false},
	    {"ember_container_pids_limit", "gauge",
	     "pids.max of the container (absent when unlimited).", OFF(pids_max), false, false,
	     true, false, true},
#undef OFF
	};
	struct agent_cgroups *cgs = a->cgroups;
	if (!cgs)
		return 0;
	struct figures_collect fc = {.cap = SANDBOX_MAX_CONTAINERS};
	fc.e = calloc(fc.cap, sizeof(*fc.e));
	if (!fc.e)
		return -ENOMEM;
	(void)cgroup_mgr_foreach(cgs->mgr, collect_figures, &fc);

	int r = 0;
	for (size_t k = 0; k < ARRAY_SIZE(fams) && r >= 0 && fc.n; k++) {
		r = metrics_family(out, fams[k].name, fams[k].type, fams[k].help);
		for (size_t i = 0; i < fc.n && r >= 0; i++) {
			const struct cgroup_figures *f = &fc.e[i].f;
			if ((fams[k].need_cpu && !f->have_cpu) ||
			    (fams[k].need_memory && !f->have_memory) ||
			    (fams[k].need_pids && !f->have_pids))
				continue;
			uint64_t v = *(const uint64_t *)((const char *)f + fams[k].off);
			if (fams[k].skip_max && v == UINT64_MAX)
				continue;
			if (fams[k].seconds)
				r = metrics_sample_f64(out, fams[k].name, "container_id",
						       fc.e[i].id, NULL, NULL, (double)v / 1e6);
			else
				r = metrics_sample_u64(out, fams[k].name, "container_id",
						       fc.e[i].id, NULL, NULL, v);
		}
	}
	free(fc.e);
	return r;
}
