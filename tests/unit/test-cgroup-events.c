/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cgroup manager's waits on a real event loop and real inotify, with a scratch directory
 * standing in for cgroupfs: the test plays the kernel by rewriting cgroup.events and
 * memory.events (inotify reports those writes as IN_MODIFY, as the kernel's notifications).
 * Freeze completion, a resume overtaking a pending pause, removal while pausing, OOM counts,
 * adoption of a stale cgroup, and removal of emptied directories.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cgroup/cgroup.h"

#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>

static char dir[64];
static struct ev_loop *loop;
static struct cgroup_mgr *mgr;
static char oom_ids[8][32];
static int n_oom;

static void put(const char *rel, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	/* truncate in place: a new inode would not be the watched one */
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static bool exists(const char *rel)
{
	char path[256];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	return stat(path, &st) == 0;
}

/* A stand-in cgroup directory with the core files. */
static void fake_cgroup(const char *rel)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	char f[300];
	snprintf(f, sizeof(f), "%s/cgroup.events", rel);
	put(f, "populated 0\nfrozen 0\n");
	snprintf(f, sizeof(f), "%s/cgroup.freeze", rel);
	put(f, "0\n");
	snprintf(f, sizeof(f), "%s/memory.events", rel);
	put(f, "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\noom_group_kill 0\n");
}

static void on_oom(const char *cid, void *data _unused_)
{
	if (n_oom < 8)
		snprintf(oom_ids[n_oom++], sizeof(oom_ids[0]), "%s", cid);
	ev_loop_exit(loop, 0);
}

static int rm_entry(const char *path, const struct stat *st _unused_, int flag _unused_,
		    struct FTW *ftw _unused_)
{
	return remove(path);
}

static int setup(void **state _unused_)
{
	strcpy(dir, "/tmp/ember-cgev-XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(ev_loop_new(&loop), 0);
	struct cgroup_mgr_options o = {.base_dir = dir, .no_device_policy = true, .oom = on_oom};
	assert_int_equal(cgroup_mgr_new(loop, &o, &mgr), 0);
	n_oom = 0;
	return 0;
}

static int teardown(void **state _unused_)
{
	cgroup_mgr_free(mgr);
	ev_loop_free(loop);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

/* Runs the loop until a callback exits it, or fails after a bound. */
static void bound_cb(struct ev_loop *l, struct ev_timer *t _unused_)
{
	ev_loop_exit(l, -ETIMEDOUT);
}

static int run_loop(uint64_t bound_ns)
{
	struct ev_timer t;
	ev_timer_init(&t);
	assert_int_equal(ev_timer_start(loop, &t, now_monotonic_ns() + bound_ns, bound_cb, NULL),
			 0);
	int r = ev_loop_run(loop);
	ev_timer_stop(loop, &t);
	return r;
}

struct rec {
	struct cgroup_waiter w;
	int calls, result;
};

static void done(struct cgroup_waiter *w, int r)
{
	struct rec *rec = container_of(w, struct rec, w);
	rec->calls++;
	rec->result = r;
	ev_loop_exit(loop, 0);
}

/* A stand-in directory holds files, so rmdir says ENOTEMPTY where cgroupfs would remove it;
 * the cgroup is forgotten all the same. */
static void destroy_fake(struct cgroup *cg)
{
	_cleanup_free_ char *id = strdup(cgroup_id(cg));
	int r = cgroup_destroy(cg);
	if (r != 0 && r != -ENOTEMPTY)
		fail_msg("destroy: %s", strerror(-r));
	assert_null(cgroup_find(mgr, id));
}

static struct cgroup *adopt(const char *id)
{
	char err[CGROUP_ERR_MAX] = "";
	struct cgroup *cg = NULL;
	fake_cgroup(id);
	int r = cgroup_create(mgr, id, NULL, NULL, &cg, err, sizeof(err));
	if (r < 0)
		fail_msg("create %s: %s", id, err);
	assert_non_null(cg);
	return cg;
}

static void test_freeze_completes_on_event(void **state _unused_)
{
	struct cgroup *cg = adopt("c1");
	struct rec rec = {0};

	assert_int_equal(cgroup_set_frozen(cg, true, &rec.w, done), 0); /* not frozen yet: waits */
	char buf[16];
	assert_int_equal(cgroup_read_small(cgroup_dir_fd(cg), "cgroup.freeze", buf, sizeof(buf)),
			 1);
	assert_string_equal(buf, "1");
	assert_int_equal(rec.calls, 0);

	put("c1/cgroup.events", "populated 1\nfrozen 0\n"); /* an unrelated change */
	assert_int_equal(run_loop(200 * NSEC_PER_MSEC), -ETIMEDOUT);
	assert_int_equal(rec.calls, 0);

	put("c1/cgroup.events", "populated 1\nfrozen 1\n");
	assert_int_equal(run_loop(5 * NSEC_PER_SEC), 0);
	assert_int_equal(rec.calls, 1);
	assert_int_equal(rec.result, 0);

	/* already frozen: answered at once, the waiter is not used */
	struct rec again = {0};
	assert_int_equal(cgroup_set_frozen(cg, true, &again.w, done), 1);
	assert_int_equal(again.calls, 0);
	put("c1/cgroup.events", "populated 0\nfrozen 1\n");
	destroy_fake(cg);
}

static void test_resume_overtakes_pause(void **state _unused_)
{
	struct cgroup *cg = adopt("c2");
	struct rec pause = {0}, resume = {0};

	assert_int_equal(cgroup_set_frozen(cg, true, &pause.w, done), 0);
	/* still "frozen 0": the resume is done at once, the pause is superseded, but only
	 * from the loop (never inside the call that decided it) */
	assert_int_equal(cgroup_set_frozen(cg, false, &resume.w, done), 1);
	assert_int_equal(pause.calls, 0);
	assert_int_equal(run_loop(5 * NSEC_PER_SEC), 0);
	assert_int_equal(pause.calls, 1);
	assert_int_equal(pause.result, -ECANCELED);
	destroy_fake(cg);
}

static void test_destroy_while_pausing(void **state _unused_)
{
	struct cgroup *cg = adopt("c3");
	struct rec pause = {0}, cancelled = {0};

	assert_int_equal(cgroup_set_frozen(cg, true, &pause.w, done), 0);
	assert_int_equal(cgroup_set_frozen(cg, true, &cancelled.w, done), 0);
	cgroup_waiter_cancel(&cancelled.w); /* its call went away */
	cgroup_waiter_cancel(&cancelled.w); /* twice is harmless */
	destroy_fake(cg);
	assert_int_equal(pause.calls, 0);
	assert_int_equal(run_loop(5 * NSEC_PER_SEC), 0);
	assert_int_equal(pause.calls, 1);
	assert_int_equal(pause.result, -ENOENT);
	assert_int_equal(cancelled.calls, 0);
	assert_null(cgroup_find(mgr, "c3"));
}

static void test_oom_kill_counts(void **state _unused_)
{
	/* an adopted cgroup's past kills are not reported again */
	fake_cgroup("old");
	put("old/memory.events", "max 3\noom 2\noom_kill 2\n");
	char err[CGROUP_ERR_MAX];
	struct cgroup *old = NULL, *cg;
	assert_int_equal(cgroup_create(mgr, "old", NULL, NULL, &old, err, sizeof(err)), 0);
	assert_int_equal(cgroup_oom_kills(old), 2);
	cg = adopt("c4");

	put("c4/memory.events", "max 1\noom 1\noom_kill 0\n"); /* memory.max hit, no kill */
	assert_int_equal(run_loop(200 * NSEC_PER_MSEC), -ETIMEDOUT);
	assert_int_equal(n_oom, 0);
	put("c4/memory.events", "max 2\noom 2\noom_kill 1\n");
	assert_int_equal(run_loop(5 * NSEC_PER_SEC), 0);
	assert_int_equal(n_oom, 1);
	assert_string_equal(oom_ids[0], "c4");
	assert_int_equal(cgroup_oom_kills(cg), 1);
	put("old/memory.events", "max 3\noom 3\noom_kill 3\n");
	assert_int_equal(run_loop(5 * NSEC_PER_SEC), 0);
	assert_int_equal(n_oom, 2);
	assert_string_equal(oom_ids[1], "old");
	destroy_fake(cg);
	destroy_fake(old);
}

static void test_adopt_and_conflicts(void **state _unused_)
{
	char err[CGROUP_ERR_MAX];
	struct cgroup *cg = NULL, *other = NULL;

	/* a stale cgroup that still holds processes is not adopted */
	fake_cgroup("busy");
	put("busy/cgroup.events", "populated 1\nfrozen 0\n");
	assert_int_equal(cgroup_create(mgr, "busy", NULL, NULL, &cg, err, sizeof(err)), -EBUSY);
	assert_non_null(strstr(err, "still holds processes"));
	assert_null(cg);
	assert_true(exists("busy")); /* not ours: left alone */

	/* new directories below the base: created, then removed with their empty parents */
	assert_int_equal(cgroup_create(mgr, "a", "/pod/a", NULL, &cg, err, sizeof(err)), 0);
	assert_true(exists("pod/a"));
	assert_string_equal(cgroup_path(cg), "pod/a");
	assert_ptr_equal(cgroup_find(mgr, "a"), cg);
	/* one path, one container */
	assert_int_equal(cgroup_create(mgr, "b", "pod:a", NULL, &other, err, sizeof(err)), -EEXIST);
	assert_non_null(strstr(err, "belongs to container a"));
	assert_int_equal(cgroup_create(mgr, "a", "/pod/x", NULL, &other, err, sizeof(err)),
			 -EEXIST);
	/* no controller in a scratch base: limits are refused before anything is created */
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	pids.limit = 5;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.pids = &pids;
	assert_int_equal(cgroup_create(mgr, "lim", "/pod/lim", &res, &other, err, sizeof(err)),
			 -CGROUP_ENOCTRL);
	assert_non_null(strstr(err, "'pids'"));
	assert_false(exists("pod/lim"));
	assert_int_equal(cgroup_refuse_unplaced(&res, err, sizeof(err)), -CGROUP_ENOCTRL);
	assert_int_equal(cgroup_refuse_unplaced(NULL, err, sizeof(err)), 0);

	assert_int_equal(cgroup_destroy(cg), 0);
	assert_null(cgroup_find(mgr, "a"));
	assert_false(exists("pod"));
}

/* Kata's cpuset rule: CPUs the guest does not have (yet) are skipped, then applied once
 * OnlineCPUMem brought them online (container_cpusets_refresh). */
static void test_cpuset_best_effort(void **state _unused_)
{
	char err[CGROUP_ERR_MAX] = "", buf[64];
	struct cgroup *cg = NULL;
	put("cgroup.controllers", "cpuset cpu");
	put("cgroup.subtree_control", "");
	fake_cgroup("pod");
	put("pod/cgroup.controllers", "cpuset cpu");
	put("pod/cgroup.subtree_control", "");
	put("pod/cpuset.cpus.effective", "0\n");
	put("pod/cpuset.mems.effective", "0\n");
	fake_cgroup("pod/c");
	put("pod/c/cgroup.controllers", "cpuset cpu");
	put("pod/c/cpuset.cpus", "");
	put("pod/c/cpuset.mems", "");

	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	cpu.cpus = "0-1";
	cpu.mems = "0";
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.cpu = &cpu;
	int r = cgroup_create(mgr, "c", "/pod/c", &res, &cg, err, sizeof(err));
	if (r < 0)
		fail_msg("create: %s", err);
	/* cpuset (asked for) and cpu (offered: statistics) were enabled on the way down */
	assert_int_equal(
	    cgroup_read_small(cgroup_dir_fd(cg), "../cgroup.subtree_control", buf, sizeof(buf)),
	    12);
	assert_string_equal(buf, "+cpu +cpuset");
	assert_int_equal(cgroup_read_small(cgroup_dir_fd(cg), "cpuset.cpus", buf, sizeof(buf)), 0);
	assert_int_equal(cgroup_read_small(cgroup_dir_fd(cg), "cpuset.mems", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "0");

	assert_int_equal(cgroup_mgr_cpusets_refresh(mgr), 0); /* still only CPU 0 */
	put("pod/cpuset.cpus.effective", "0-3\n");	      /* CPUs came online */
	assert_int_equal(cgroup_mgr_cpusets_refresh(mgr), 1);
	assert_int_equal(cgroup_read_small(cgroup_dir_fd(cg), "cpuset.cpus", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "0-1");
	assert_int_equal(cgroup_mgr_cpusets_refresh(mgr), 0); /* applied once */

	/* UpdateContainer with CPUs the guest has: written at once */
	cpu.cpus = "2";
	cpu.mems = NULL;
	r = cgroup_update(cg, &res, err, sizeof(err));
	if (r < 0)
		fail_msg("update: %s", err);
	assert_int_equal(cgroup_read_small(cgroup_dir_fd(cg), "cpuset.cpus", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "0-12");
	destroy_fake(cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_freeze_completes_on_event, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_resume_overtakes_pause, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_while_pausing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_oom_kill_counts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_adopt_and_conflicts, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cpuset_best_effort, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
