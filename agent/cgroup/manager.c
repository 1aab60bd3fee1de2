/* SPDX-License-Identifier: Apache-2.0 */
/* The table of container cgroups: create, update, kill, destroy. */
#define LOG_SUBSYSTEM "cgroup"
#include "internal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>

/* Controllers every container cgroup gets when the hierarchy offers them: StatsContainer
 * and GetMetrics read their files, and a later UpdateContainer finds them ready. cpuset is
 * enabled only when asked for (it pins cpus/mems that CPU hotplug would have to widen). */
#define PROCS_READ_MAX (256 * 1024)

#define ACCOUNTING_MASK                                                                            \
	(CG_MASK(CG_CPU) | CG_MASK(CG_MEMORY) | CG_MASK(CG_PIDS) | CG_MASK(CG_IO) |                \
	 CG_MASK(CG_HUGETLB))

int cgroup_mgr_new(struct ev_loop *loop, const struct cgroup_mgr_options *opt,
		   struct cgroup_mgr **ret)
{
	struct cgroup_mgr *m = calloc(1, sizeof(*m));
	int r;
	if (!m)
		return -ENOMEM;
	m->loop = loop;
	m->base_fd = m->inotify_fd = m->dev_cache_fd = -1;
	list_init(&m->cgroups);
	list_init(&m->orphans);
	ev_timer_init(&m->dev_warm_timer);
	if (opt) {
		m->oom = opt->oom;
		m->oom_data = opt->oom_data;
		m->no_device_policy = opt->no_device_policy;
	}

	r = hierarchy_open(m, opt ? opt->base_dir : NULL);
	if (r < 0) {
		if (opt && opt->base_dir) {
			cgroup_mgr_free(m);
			return r;
		}
		/* Not fatal: containers run without cgroups and limits are refused. */
		log_warn_errno(r, "no cgroup v2 hierarchy (%m): containers get no cgroup, "
				  "resource limits will be refused and device rules not enforced");
		m->base_fd = safe_close(m->base_fd);
		free(m->mnt);
		m->mnt = NULL;
	} else {
		r = events_setup(m);
		if (r < 0) {
			cgroup_mgr_free(m);
			return r;
		}
		char names[128] = "";
		unsigned avail = hierarchy_available(m);
		for (int c = 0; c < CG_COUNT; c++)
			if (avail & CG_MASK(c)) {
				size_t l = strlen(names);
				snprintf(names + l, sizeof(names) - l, " %s",
					 cgroup_controller_name(c));
			}
		log_info("cgroup v2 base %s, controllers:%s", m->base_abs,
			 *names ? names : " none");
		if (!m->no_device_policy)
			devices_warm_up(m);
	}
	*ret = m;
	return 0;
}

static void cgroup_free(struct cgroup *cg)
{
	if (!cg)
		return;
	ev_timer_stop(cg->mgr->loop, &cg->dying_timer);
	events_fail_waiters(cg, -ENOENT);
	events_unwatch(cg);
	list_del(&cg->node);
	cg->mgr->n_cgroups--;
	safe_close(cg->dir_fd);
	safe_close(cg->dev_prog_fd);
	free(cg->dev_rules);
	free(cg->id);
	free(cg->rel);
	free(cg->path);
	free(cg->pending_cpus);
	free(cg->pending_mems);
	free(cg);
}

static int remove_now(struct cgroup *cg);

void cgroup_mgr_free(struct cgroup_mgr *m)
{
	if (!m)
		return;
	/* The agent is going: the container engine killed and reaped what it knew of; what
	 * is still in a cgroup is killed, and the directories go where they can. */
	while (!list_empty(&m->cgroups)) {
		struct cgroup *cg = list_entry(m->cgroups.next, struct cgroup, node);
		(void)cgroup_kill(cg);
		(void)remove_now(cg);
	}
	events_done(m);
	ev_timer_stop(m->loop, &m->dev_warm_timer);
	safe_close(m->dev_cache_fd);
	free(m->dev_cache_insns);
	safe_close(m->base_fd);
	free(m->mnt);
	free(m->base_rel);
	free(m->base_abs);
	free(m->prefix);
	free(m);
}

const char *cgroup_mgr_base(const struct cgroup_mgr *m)
{
	return m->mnt ? m->base_abs : "";
}

unsigned cgroup_mgr_controllers(const struct cgroup_mgr *m)
{
	return m->mnt ? hierarchy_available((struct cgroup_mgr *)m) : 0;
}

struct cgroup *cgroup_find(struct cgroup_mgr *m, const char *id)
{
	struct list_head *i;
	LIST_FOREACH (i, &m->cgroups) {
		struct cgroup *cg = list_entry(i, struct cgroup, node);
		if (!cg->dying && streq(cg->id, id))
			return cg;
	}
	return NULL;
}

static struct cgroup *find_rel(struct cgroup_mgr *m, const char *rel)
{
	struct list_head *i;
	LIST_FOREACH (i, &m->cgroups) {
		struct cgroup *cg = list_entry(i, struct cgroup, node);
		if (streq(cg->rel, rel))
			return cg;
	}
	return NULL;
}

const char *cgroup_path(const struct cgroup *cg)
{
	return cg->path;
}

const char *cgroup_id(const struct cgroup *cg)
{
	return cg->id;
}

int cgroup_dir_fd(const struct cgroup *cg)
{
	return cg->dir_fd;
}

uint64_t cgroup_oom_kills(const struct cgroup *cg)
{
	return cg->oom_kills;
}

/* Kata's rule for cpusets (docs/design/cpuset.md there): the runtime passes the host's CPU
 * numbers, which the guest may not have (it hotplugs only as many vCPUs as the quota
 * needs). A cpuset the parent cannot provide is skipped now and retried after OnlineCPUMem. */
static int cpuset_fits(int parent_fd, const char *file, const char *list)
{
	char text[4096];
	_cleanup_free_ uint64_t *want = calloc(CGROUP_MAX_CPUS / 64, sizeof(uint64_t));
	_cleanup_free_ uint64_t *have = calloc(CGROUP_MAX_CPUS / 64, sizeof(uint64_t));
	if (!want || !have)
		return -ENOMEM;
	int r = cgroup_read_small(parent_fd, file, text, sizeof(text));
	if (r < 0)
		return r;
	if (cgroup_cpulist_parse(list, want) < 0 || cgroup_cpulist_parse(text, have) < 0)
		return -EINVAL;
	return cgroup_cpulist_subset(want, have);
}

static int cpusets_best_effort(struct cgroup *cg, int parent_fd, struct cgroup_writes *ws)
{
	for (size_t i = 0; i < ws->n; i++) {
		struct cgroup_write *w = &ws->w[i];
		bool cpus = streq(w->file, "cpuset.cpus");
		if (!cpus && !streq(w->file, "cpuset.mems"))
			continue;
		int r = cpuset_fits(
		    parent_fd, cpus ? "cpuset.cpus.effective" : "cpuset.mems.effective", w->value);
		if (r < 0 && r != -ENOENT)
			return r;
		/* ENOENT: the parent has no cpuset files (the scratch tests, or cpuset being
		 * enabled right now): let the write itself decide. */
		char **pending = cpus ? &cg->pending_cpus : &cg->pending_mems;
		free(*pending);
		*pending = NULL;
		if (r == 0) {
			w->flags |= CGW_SKIP;
			*pending = strdup(w->value);
			if (!*pending)
				return -ENOMEM;
			log_warn(
			    "container %s: %s '%s' is not available in the guest yet; applying "
			    "it once the CPUs/nodes are online",
			    cg->id, w->file, w->value);
		}
	}
	return 0;
}

static int open_parent(struct cgroup_mgr *m, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return fcntl(m->base_fd, F_DUPFD_CLOEXEC, 3);
	char buf[CGROUP_PATH_MAX + 64];
	snprintf(buf, sizeof(buf), "%.*s", (int)(slash - rel), rel);
	int fd = openat(m->base_fd, buf, O_PATH | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	return fd < 0 ? -errno : fd;
}

static int apply(struct cgroup *cg, int parent_fd, struct cgroup_writes *ws, char *err,
		 size_t errsz)
{
	if (ws->ignored[0])
		log_warn("container %s: ignoring %s (no cgroup v2 equivalent)", cg->id,
			 ws->ignored);
	int r = cpusets_best_effort(cg, parent_fd, ws);
	if (r < 0)
		return errbuf_printf(err, errsz, r, "container %s: reading the guest's cpusets: %s",
				     cg->id, strerror(-r));
	return cgroup_apply_writes(cg->dir_fd, ws, err, errsz);
}

/* Loads the program of the whitelist + the creation's rules + an update's; *ret = -1 when
 * that allows every device (no program). */
static int devices_prepare(struct cgroup *cg, const struct cgroup_dev_rule *create, size_t n_create,
			   const struct cgroup_dev_rule *update, size_t n_update, int *ret,
			   char *err, size_t errsz)
{
	_cleanup_(cgroup_dev_policy_free) struct cgroup_dev_policy p = {0};
	_cleanup_free_ struct bpf_insn *insns = NULL;
	size_t n;

	*ret = -1;
	if (cg->mgr->no_device_policy)
		return 0;
	int r = cgroup_devices_policy(create, n_create, update, n_update, &p);
	if (r >= 0)
		r = cgroup_devices_compile(&p, &insns, &n);
	if (r < 0)
		return r;
	if (n == 0) {
		log_info("container %s: its device rules allow every device (a *:* rwm)", cg->id);
		return 0;
	}
	r = devices_load(cg->mgr, insns, n, err, errsz);
	if (r < 0)
		return r;
	*ret = r;
	log_debug("container %s: device policy of %zu rules, %zu BPF instructions", cg->id, p.n, n);
	return 0;
}

/* Puts prog_fd (taken; -1 = none) on the cgroup in place of its current program. */
static int devices_install(struct cgroup *cg, int prog_fd, char *err, size_t errsz)
{
	_cleanup_close_ int fd = prog_fd;
	if (cg->mgr->no_device_policy)
		return 0;
	int r = devices_attach(cg->dir_fd, fd, cg->dev_prog_fd, err, errsz);
	if (r < 0)
		return r;
	safe_close(cg->dev_prog_fd);
	cg->dev_prog_fd = TAKE_FD(fd);
	return 0;
}

static int check_available(struct cgroup_mgr *m, const struct cgroup_writes *ws, char *err,
			   size_t errsz)
{
	if (!ws->controllers)
		return 0;
	if (!m->mnt)
		return errbuf_printf(err, errsz, -CGROUP_ENOCTRL,
				     "%s: the guest has no cgroup v2 hierarchy", ws->w[0].what);
	unsigned avail = hierarchy_available(m);
	for (size_t i = 0; i < ws->n; i++)
		if (!(avail & CG_MASK(ws->w[i].controller)))
			return errbuf_printf(
			    err, errsz, -CGROUP_ENOCTRL,
			    "%s: the cgroup controller '%s' is not available in %s", ws->w[i].what,
			    cgroup_controller_name(ws->w[i].controller), m->base_abs);
	return 0;
}

int cgroup_refuse_unplaced(const Grpc__LinuxResources *res, char *err, size_t errsz)
{
	_cleanup_(cgroup_writes_free) struct cgroup_writes ws = {0};
	int r = cgroup_plan_resources(res, &ws, err, errsz);
	if (r < 0)
		return r;
	if (ws.n)
		return errbuf_printf(err, errsz, -CGROUP_ENOCTRL,
				     "%s: the container has no cgroup (no cgroup v2 hierarchy)",
				     ws.w[0].what);
	return 0;
}

int cgroup_create(struct cgroup_mgr *m, const char *id, const char *cgroups_path,
		  const Grpc__LinuxResources *res, struct cgroup **ret, char *err, size_t errsz)
{
	_cleanup_(cgroup_writes_free) struct cgroup_writes ws = {0};
	char spec_rel[CGROUP_PATH_MAX], rel[CGROUP_PATH_MAX + 64];
	int r, created = 0;

	*ret = NULL;
	r = cgroup_plan_resources(res, &ws, err, errsz);
	if (r < 0)
		return r;
	r = check_available(m, &ws, err, errsz);
	if (r < 0)
		return r;
	if (!m->mnt)
		return 0; /* nothing requested, nowhere to put it */
	r = cgroup_path_from_spec(cgroups_path, id, spec_rel, sizeof(spec_rel), err, errsz);
	if (r < 0)
		return r;
	snprintf(rel, sizeof(rel), "%s%s%s", m->prefix, *m->prefix ? "/" : "", spec_rel);
	if (cgroup_find(m, id))
		return errbuf_printf(err, errsz, -EEXIST, "container %s already has a cgroup", id);
	struct cgroup *other = find_rel(m, rel);
	if (other && other->dying)
		return errbuf_printf(
		    err, errsz, -EBUSY,
		    "cgroup '%s' is still being emptied: processes of the removed container "
		    "%s are exiting",
		    rel, other->id);
	if (other)
		return errbuf_printf(err, errsz, -EEXIST, "cgroup '%s' belongs to container %s",
				     rel, other->id);

	/* Outside the VM only what is asked for: enabling controllers for statistics alone
	 * would change a cgroup shared with the rest of the host (its root, often). */
	unsigned want = ws.controllers;
	if (!*m->prefix)
		want |= hierarchy_available(m) & ACCOUNTING_MASK;
	_cleanup_close_ int parent_fd = -1, prog_fd = -1;
	r = hierarchy_make_path(m, rel, want, &parent_fd, &created, err, errsz);
	if (r < 0)
		return r;

	struct cgroup *cg = calloc(1, sizeof(*cg));
	if (!cg) {
		r = -ENOMEM;
		goto fail;
	}
	cg->mgr = m;
	cg->dir_fd = cg->events_wd = cg->memory_wd = cg->dev_prog_fd = -1;
	ev_timer_init(&cg->dying_timer);
	list_init(&cg->waiters);
	list_add_tail(&m->cgroups, &cg->node);
	m->n_cgroups++;
	cg->id = strdup(id);
	cg->rel = strdup(rel);
	if (asprintf(&cg->path, "%s%s%s", m->base_rel, *m->base_rel ? "/" : "", rel) < 0)
		cg->path = NULL;
	if (!cg->id || !cg->rel || !cg->path) {
		r = -ENOMEM;
		goto fail;
	}
	cg->dir_fd = openat(parent_fd, strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel,
			    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (cg->dir_fd < 0) {
		r = errbuf_printf(err, errsz, -errno, "cgroup '%s': open: %s", rel,
				  strerror(errno));
		goto fail;
	}
	if (!created) {
		/* Left over by an agent that crashed: adopt it only when it is empty, or two
		 * containers would share one set of limits. */
		r = cgroup_populated(cg);
		if (r != 0) {
			r = errbuf_printf(err, errsz, r < 0 ? r : -EBUSY,
					  "cgroup '%s' exists and still holds processes", rel);
			goto fail;
		}
		/* Its device programs would still apply on top of ours. */
		r = m->no_device_policy ? 0 : devices_detach_all(cg->dir_fd);
		if (r < 0) {
			r = errbuf_printf(err, errsz, r,
					  "cgroup '%s': removing the device programs it holds: %s",
					  rel, strerror(-r));
			goto fail;
		}
	}
	/* The device policy is in place before the child is cloned into the cgroup: it holds
	 * from the child's first instruction. Loaded first: it is what may fail. */
	r = devices_prepare(cg, ws.devices, ws.n_devices, NULL, 0, &prog_fd, err, errsz);
	if (r >= 0)
		r = apply(cg, parent_fd, &ws, err, errsz);
	if (r >= 0)
		r = devices_install(cg, TAKE_FD(prog_fd), err, errsz);
	if (r < 0)
		goto fail;
	cg->dev_rules = TAKE_PTR(ws.devices);
	cg->n_dev_rules = ws.n_devices;
	events_watch(cg);
	*ret = cg;
	return 0;

fail:
	if (cg)
		cgroup_free(cg);
	if (created)
		(void)hierarchy_remove_path(m, rel, created);
	return r;
}

int cgroup_update(struct cgroup *cg, const Grpc__LinuxResources *res, char *err, size_t errsz)
{
	_cleanup_(cgroup_writes_free) struct cgroup_writes ws = {0};
	struct cgroup_mgr *m = cg->mgr;
	int r, created;

	r = cgroup_plan_resources(res, &ws, err, errsz);
	if (r < 0)
		return r;
	r = check_available(m, &ws, err, errsz);
	if (r < 0)
		return r;
	_cleanup_close_ int parent_fd = -1;
	if (ws.controllers) {
		/* A controller may be new on this path (cpuset, or one enabled since the
		 * container was created): walk it again, enabling; every directory exists. */
		r = hierarchy_make_path(m, cg->rel, ws.controllers, &parent_fd, &created, err,
					errsz);
		if (r < 0)
			return r;
	} else {
		parent_fd = open_parent(m, cg->rel);
		if (parent_fd < 0)
			return errbuf_printf(err, errsz, parent_fd, "cgroup '%s': %s", cg->path,
					     strerror(-parent_fd));
	}
	if (!ws.n_devices)
		return apply(cg, parent_fd, &ws, err, errsz);
	_cleanup_close_ int prog_fd = -1;
	r = devices_prepare(cg, cg->dev_rules, cg->n_dev_rules, ws.devices, ws.n_devices, &prog_fd,
			    err, errsz);
	if (r >= 0)
		r = apply(cg, parent_fd, &ws, err, errsz);
	if (r >= 0)
		r = devices_install(cg, TAKE_FD(prog_fd), err, errsz);
	return r;
}

int cgroup_kill(struct cgroup *cg)
{
	_cleanup_close_ int fd = openat(cg->dir_fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) == 1)
			return 0;
		return -errno;
	}
	if (errno != ENOENT)
		return -errno;

	/* Before 5.14: freeze (so nothing forks behind our back, where cgroup.freeze exists),
	 * kill every pid listed, thaw. A few passes catch what forked before the freeze. */
	_cleanup_close_ int ffd = openat(cg->dir_fd, "cgroup.freeze", O_WRONLY | O_CLOEXEC);
	if (ffd >= 0)
		(void)!write(ffd, "1", 1);
	_cleanup_free_ char *buf = malloc(PROCS_READ_MAX + 1);
	if (!buf)
		return -ENOMEM;
	int killed = 0;
	for (int pass = 0; pass < 4; pass++) {
		_cleanup_close_ int pfd = openat(cg->dir_fd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
		if (pfd < 0)
			break;
		ssize_t n = loop_read(pfd, buf, PROCS_READ_MAX);
		if (n <= 0)
			break;
		buf[n] = '\0';
		bool any = false;
		for (char *p = buf, *e; *p; p = e) {
			long pid = strtol(p, &e, 10);
			if (e == p)
				break;
			if (pid > 0 && kill((pid_t)pid, SIGKILL) == 0) {
				any = true;
				killed++;
			}
		}
		if (!any)
			break;
	}
	if (ffd >= 0)
		(void)!write(ffd, "0", 1);
	return killed;
}

static int remove_now(struct cgroup *cg)
{
	struct cgroup_mgr *m = cg->mgr;
	_cleanup_free_ char *rel = strdup(cg->rel);
	cgroup_free(cg);
	if (!rel)
		return -ENOMEM;
	/* The ancestors go too while they are empty: a pod's cgroup goes with its last
	 * container. The base itself is never removed. */
	int depth = 1;
	for (const char *s = rel; *s; s++)
		depth += *s == '/';
	int r = hierarchy_remove_path(m, rel, depth);
	return r == -ENOENT ? 0 : r;
}

static void dying_timeout(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct cgroup *cg = t->data;
	log_warn("cgroup '%s' of the removed container %s still holds processes after %llu s; "
		 "leaving it",
		 cg->path, cg->id, (unsigned long long)(CGROUP_DRAIN_TIMEOUT_NS / NSEC_PER_SEC));
	cgroup_free(cg);
}

void manager_dying_check(struct cgroup *cg)
{
	if (cgroup_populated(cg) != 0)
		return;
	int r = remove_now(cg);
	if (r < 0)
		log_warn_errno(r, "cannot remove an emptied cgroup: %m");
}

int cgroup_destroy(struct cgroup *cg)
{
	if (!cg || cg->dying)
		return 0;
	events_fail_waiters(cg, -ENOENT);
	if (cgroup_populated(cg) > 0) {
		/* Killed processes take a moment to exit, and daemons reparented inside a shared
		 * pid namespace are not the agent's children: wait for "populated 0". */
		(void)cgroup_kill(cg);
		cg->dying = true;
		int r =
		    ev_timer_start(cg->mgr->loop, &cg->dying_timer,
				   now_monotonic_ns() + CGROUP_DRAIN_TIMEOUT_NS, dying_timeout, cg);
		if (r >= 0 && cg->events_wd >= 0) {
			log_debug("cgroup '%s': waiting for its processes to exit", cg->path);
			return 0;
		}
		cg->dying = false;
	}
	return remove_now(cg);
}

int cgroup_mgr_cpusets_refresh(struct cgroup_mgr *m)
{
	int applied = 0;
	struct list_head *i;
	LIST_FOREACH (i, &m->cgroups) {
		struct cgroup *cg = list_entry(i, struct cgroup, node);
		for (int k = 0; k < 2; k++) {
			char **pending = k ? &cg->pending_mems : &cg->pending_cpus;
			if (!*pending)
				continue;
			_cleanup_close_ int parent_fd = open_parent(m, cg->rel);
			if (parent_fd < 0)
				continue;
			int r = cpuset_fits(parent_fd,
					    k ? "cpuset.mems.effective" : "cpuset.cpus.effective",
					    *pending);
			if (r <= 0)
				continue;
			const char *file = k ? "cpuset.mems" : "cpuset.cpus";
			_cleanup_close_ int fd = openat(cg->dir_fd, file, O_WRONLY | O_CLOEXEC);
			if (fd < 0 || write(fd, *pending, strlen(*pending)) < 0) {
				log_warn_errno(errno, "container %s: writing '%s' to %s: %m",
					       cg->id, *pending, file);
				continue;
			}
			log_info("container %s: applied %s '%s' now that the guest has it", cg->id,
				 file, *pending);
			free(*pending);
			*pending = NULL;
			applied++;
		}
	}
	return applied;
}

int cgroup_mgr_foreach(struct cgroup_mgr *m, int (*fn)(struct cgroup *cg, void *data), void *data)
{
	struct list_head *i;
	LIST_FOREACH (i, &m->cgroups) {
		int r = fn(list_entry(i, struct cgroup, node), data);
		if (r < 0)
			return r;
	}
	return 0;
}
