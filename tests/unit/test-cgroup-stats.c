/* SPDX-License-Identifier: Apache-2.0 */
/*
 * StatsContainer's parsing: cgroup v2 files (samples taken from a 6.1 kernel) in a scratch
 * directory -> CgroupStats, with runc's conversions.
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

static const char cpu_stat[] = "usage_usec 1500123\n"
			       "user_usec 1000100\n"
			       "system_usec 500023\n"
			       "core_sched.force_idle_usec 0\n"
			       "nr_periods 40\n"
			       "nr_throttled 7\n"
			       "throttled_usec 350000\n"
			       "nr_bursts 0\n"
			       "burst_usec 0\n";

static const char memory_stat[] = "anon 1216512\n"
				  "file 4096000\n"
				  "kernel 380928\n"
				  "kernel_stack 32768\n"
				  "pagetables 69632\n"
				  "sock 0\n"
				  "shmem 0\n"
				  "file_mapped 1138688\n"
				  "pgfault 1553\n"
				  "oom_kill_not_a_key_of_stat 0\n";

static const char memory_events[] = "low 0\n"
				    "high 0\n"
				    "max 12\n"
				    "oom 3\n"
				    "oom_kill 2\n"
				    "oom_group_kill 0\n";

static const char io_stat[] = "8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n"
			      "253:1 rbytes=100 wbytes=200 rios=3 wios=4 dbytes=512 dios=5\n";

struct scratch {
	char dir[64];
	int fd;
};

static void put(struct scratch *s, const char *file, const char *text)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", s->dir, file);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static int rm_entry(const char *path, const struct stat *st _unused_, int flag _unused_,
		    struct FTW *ftw _unused_)
{
	return remove(path);
}

static void scratch_new(struct scratch *s)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/ember-cgstats-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(s->fd >= 0);
}

static void scratch_done(struct scratch *s)
{
	close(s->fd);
	nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void full_cgroup(struct scratch *s)
{
	put(s, "cpu.stat", cpu_stat);
	put(s, "memory.current", "5824512\n");
	put(s, "memory.max", "33554432\n");
	put(s, "memory.peak", "9000000\n");
	put(s, "memory.swap.current", "1000\n");
	put(s, "memory.swap.max", "max\n");
	put(s, "memory.stat", memory_stat);
	put(s, "memory.events", memory_events);
	put(s, "pids.current", "3\n");
	put(s, "pids.max", "max\n");
	put(s, "io.stat", io_stat);
	put(s, "hugetlb.2MB.current", "4194304\n");
	put(s, "hugetlb.2MB.max", "max\n");
	put(s, "hugetlb.2MB.events", "max 1\n");
	put(s, "hugetlb.2MB.rsvd.current", "0\n");
	put(s, "hugetlb.1GB.current", "0\n");
	put(s, "hugetlb.1GB.events", "max 0\n");
}

static uint64_t stat_of(const Grpc__MemoryStats *ms, const char *key)
{
	for (size_t i = 0; i < ms->n_stats; i++)
		if (!strcmp(ms->stats[i]->key, key))
			return ms->stats[i]->value;
	fail_msg("memory.stat key '%s' missing", key);
	return 0;
}

static const Grpc__BlkioStatsEntry *blkio_find(Grpc__BlkioStatsEntry **e, size_t n, uint64_t major,
					       const char *op)
{
	for (size_t i = 0; i < n; i++)
		if (e[i]->major == major && !strcmp(e[i]->op, op))
			return e[i];
	fail_msg("blkio entry %llu %s missing", (unsigned long long)major, op);
	return NULL;
}

static void test_full(void **state _unused_)
{
	struct scratch s;
	scratch_new(&s);
	full_cgroup(&s);

	Grpc__CgroupStats *st = NULL;
	assert_int_equal(cgroup_stats_read(s.fd, &st), 0);

	/* cpu: µs -> ns, as runc */
	assert_non_null(st->cpu_stats);
	assert_int_equal(st->cpu_stats->cpu_usage->total_usage, 1500123000ULL);
	assert_int_equal(st->cpu_stats->cpu_usage->usage_in_usermode, 1000100000ULL);
	assert_int_equal(st->cpu_stats->cpu_usage->usage_in_kernelmode, 500023000ULL);
	assert_int_equal(st->cpu_stats->cpu_usage->n_percpu_usage, 0);
	assert_int_equal(st->cpu_stats->throttling_data->periods, 40);
	assert_int_equal(st->cpu_stats->throttling_data->throttled_periods, 7);
	assert_int_equal(st->cpu_stats->throttling_data->throttled_time, 350000000ULL);

	/* memory */
	const Grpc__MemoryStats *ms = st->memory_stats;
	assert_non_null(ms);
	assert_int_equal(ms->usage->usage, 5824512);
	assert_int_equal(ms->usage->limit, 33554432);
	assert_int_equal(ms->usage->max_usage, 9000000);
	assert_int_equal(ms->usage->failcnt, 12);
	assert_int_equal(ms->cache, 4096000);
	assert_int_equal(ms->kernel_usage->usage, 380928);
	assert_true(ms->use_hierarchy);
	/* v1-compatible swap: memory + swap; an unlimited swap stays unlimited */
	assert_int_equal(ms->swap_usage->usage, 5824512 + 1000);
	assert_true(ms->swap_usage->limit == UINT64_MAX);
	assert_int_equal(stat_of(ms, "anon"), 1216512);
	assert_int_equal(stat_of(ms, "pgfault"), 1553);
	assert_int_equal(ms->n_stats, 10);

	/* pids: "max" = 0 (no limit), as runc */
	assert_int_equal(st->pids_stats->current, 3);
	assert_int_equal(st->pids_stats->limit, 0);

	/* io.stat -> blkio */
	const Grpc__BlkioStats *b = st->blkio_stats;
	assert_non_null(b);
	assert_int_equal(b->n_io_service_bytes_recursive, 6);
	assert_int_equal(b->n_io_serviced_recursive, 6);
	const Grpc__BlkioStatsEntry *e =
	    blkio_find(b->io_service_bytes_recursive, b->n_io_service_bytes_recursive, 8, "Write");
	assert_int_equal(e->minor, 0);
	assert_int_equal(e->value, 8192);
	e = blkio_find(b->io_service_bytes_recursive, b->n_io_service_bytes_recursive, 253,
		       "Discard");
	assert_int_equal(e->minor, 1);
	assert_int_equal(e->value, 512);
	e = blkio_find(b->io_serviced_recursive, b->n_io_serviced_recursive, 253, "Read");
	assert_int_equal(e->value, 3);

	/* hugetlb: one entry per size, the rsvd counters are not sizes */
	assert_int_equal(st->n_hugetlb_stats, 2);
	bool saw2m = false;
	for (size_t i = 0; i < st->n_hugetlb_stats; i++) {
		if (!strcmp(st->hugetlb_stats[i]->key, "2MB")) {
			saw2m = true;
			assert_int_equal(st->hugetlb_stats[i]->value->usage, 4194304);
			assert_int_equal(st->hugetlb_stats[i]->value->failcnt, 1);
		} else {
			assert_string_equal(st->hugetlb_stats[i]->key, "1GB");
		}
	}
	assert_true(saw2m);

	/* The message encodes (what the reply does) and frees cleanly. */
	size_t len = protobuf_c_message_get_packed_size(&st->base);
	assert_true(len > 0);
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(protobuf_c_message_pack(&st->base, buf), len);
	free(buf);
	cgroup_stats_free(st);
	scratch_done(&s);
}

static void test_core_only(void **state _unused_)
{
	/* cgroup v2 without controllers (this development host): only cpu.stat exists. */
	struct scratch s;
	scratch_new(&s);
	put(&s, "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n");
	Grpc__CgroupStats *st = NULL;
	assert_int_equal(cgroup_stats_read(s.fd, &st), 0);
	assert_int_equal(st->cpu_stats->cpu_usage->total_usage, 10000);
	assert_null(st->memory_stats);
	assert_null(st->pids_stats);
	assert_null(st->blkio_stats);
	assert_int_equal(st->n_hugetlb_stats, 0);
	cgroup_stats_free(st);
	scratch_done(&s);
}

static void test_swap_limit(void **state _unused_)
{
	struct scratch s;
	scratch_new(&s);
	put(&s, "memory.current", "100\n");
	put(&s, "memory.max", "1000\n");
	put(&s, "memory.swap.current", "5\n");
	put(&s, "memory.swap.max", "500\n");
	put(&s, "pids.current", "1\n");
	put(&s, "pids.max", "64\n");
	Grpc__CgroupStats *st = NULL;
	assert_int_equal(cgroup_stats_read(s.fd, &st), 0);
	assert_int_equal(st->memory_stats->swap_usage->usage, 105);
	assert_int_equal(st->memory_stats->swap_usage->limit, 1500);
	assert_int_equal(st->memory_stats->usage->max_usage, 0); /* no memory.peak before 5.19 */
	assert_int_equal(st->pids_stats->limit, 64);
	cgroup_stats_free(st);
	scratch_done(&s);
}

static void test_keyed(void **state _unused_)
{
	uint64_t v;
	/* "oom" must not match "oom_kill" nor the reverse */
	assert_int_equal(cgroup_keyed_get(memory_events, "oom", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(cgroup_keyed_get(memory_events, "oom_kill", &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(cgroup_keyed_get(memory_events, "kill", &v), -ENOENT);
	assert_int_equal(cgroup_keyed_get("populated 1\nfrozen 0", "frozen", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(cgroup_keyed_get("a x\n", "a", &v), -EINVAL);
	assert_int_equal(cgroup_parse_max("max\n", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(cgroup_parse_max("123", &v), 0);
	assert_int_equal(v, 123);
	assert_int_equal(cgroup_parse_max("", &v), -EINVAL);
	assert_int_equal(cgroup_parse_max("-1", &v), -EINVAL);
}

static void test_figures(void **state _unused_)
{
	struct scratch s;
	struct cgroup_figures f;
	scratch_new(&s);
	full_cgroup(&s);
	assert_int_equal(cgroup_figures_read(s.fd, &f), 0);
	assert_true(f.have_cpu && f.have_memory && f.have_pids);
	assert_int_equal(f.cpu_usage_usec, 1500123);
	assert_int_equal(f.cpu_throttled_usec, 350000);
	assert_int_equal(f.memory_current, 5824512);
	assert_int_equal(f.memory_max, 33554432);
	assert_int_equal(f.oom_kills, 2);
	assert_int_equal(f.pids_current, 3);
	assert_true(f.pids_max == UINT64_MAX);
	scratch_done(&s);
}

static void test_garbage(void **state _unused_)
{
	/* Odd files never crash the parser or produce half-built messages. */
	struct scratch s;
	scratch_new(&s);
	put(&s, "cpu.stat", "usage_usec\nuser_usec abc\n\n\n");
	put(&s, "memory.current", "12\n");
	put(&s, "memory.stat", "novalue\n 5\nx 99999999999999999999999\nok 1");
	put(&s, "io.stat", "garbage\n8:0\n8:16 rbytes=x wbytes=1 =2 rios\n");
	Grpc__CgroupStats *st = NULL;
	assert_int_equal(cgroup_stats_read(s.fd, &st), 0);
	assert_int_equal(st->cpu_stats->cpu_usage->total_usage, 0);
	assert_int_equal(st->memory_stats->n_stats, 1);
	assert_string_equal(st->memory_stats->stats[0]->key, "ok");
	assert_int_equal(st->blkio_stats->n_io_service_bytes_recursive, 1);
	cgroup_stats_free(st);
	scratch_done(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full),       cmocka_unit_test(test_core_only),
	    cmocka_unit_test(test_swap_limit), cmocka_unit_test(test_keyed),
	    cmocka_unit_test(test_figures),    cmocka_unit_test(test_garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
