/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI resources -> cgroup v2 files, against a scratch directory standing in for a cgroup
 * (the files exist and start empty, as cgroupfs files do; each write is appended, so a
 * file's content is the sequence of values written to it). Also CgroupsPath conversion and
 * cpu lists.
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

#define ALL_CONTROLLERS "cpuset cpu io memory hugetlb pids"

static const char *const cgroup_files[] = {
    "memory.max",  "memory.low",  "memory.swap.max", "cpu.weight",
    "cpu.max",	   "pids.max",	  "io.max",	     "io.weight",
    "cpuset.cpus", "cpuset.mems", "hugetlb.2MB.max", "hugetlb.1GB.max",
};

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

static const char *get(struct scratch *s, const char *file)
{
	static char buf[1024];
	char path[160];
	snprintf(path, sizeof(path), "%s/%s", s->dir, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void scratch_new(struct scratch *s, const char *controllers)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/ember-cgroup-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	for (size_t i = 0; i < ARRAY_SIZE(cgroup_files); i++)
		put(s, cgroup_files[i], "");
	put(s, "cgroup.controllers", controllers);
	s->fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(s->fd >= 0);
}

static int rm_entry(const char *path, const struct stat *st _unused_, int flag _unused_,
		    struct FTW *ftw _unused_)
{
	return remove(path);
}

static void scratch_done(struct scratch *s)
{
	close(s->fd);
	nftw(s->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Plans and applies res; returns the error and leaves the message in err. */
static int apply(struct scratch *s, const Grpc__LinuxResources *res, char *err, size_t errsz)
{
	struct cgroup_writes ws;
	err[0] = '\0';
	int r = cgroup_plan_resources(res, &ws, err, errsz);
	if (r < 0)
		return r;
	r = cgroup_apply_writes(s->fd, &ws, err, errsz);
	cgroup_writes_free(&ws);
	return r;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in '%s'", needle, hay);
}

/* ---- conversions ---- */

static void test_shares_to_weight(void **state _unused_)
{
	/* runc/crun's formula at its ends and at the Docker default. */
	assert_int_equal(cgroup_shares_to_weight(2), 1);
	assert_int_equal(cgroup_shares_to_weight(262144), 10000);
	assert_int_equal(cgroup_shares_to_weight(1024), 39);
	/* outside the kernel's range: clamped like the kernel clamps cpu.shares */
	assert_int_equal(cgroup_shares_to_weight(1), 1);
	assert_int_equal(cgroup_shares_to_weight(1000000), 10000);
}

static void test_blkio_weight(void **state _unused_)
{
	assert_int_equal(cgroup_blkio_to_io_weight(10), 1);
	assert_int_equal(cgroup_blkio_to_io_weight(1000), 10000);
	assert_int_equal(cgroup_blkio_to_io_weight(500), 4950);
}

/* ---- CgroupsPath ---- */

static void path_ok(const char *in, const char *cid, const char *want)
{
	char out[CGROUP_PATH_MAX], err[CGROUP_ERR_MAX] = "";
	int r = cgroup_path_from_spec(in, cid, out, sizeof(out), err, sizeof(err));
	if (r < 0)
		fail_msg("'%s': %s", in, err);
	assert_string_equal(out, want);
}

static void path_bad(const char *in, int want_r, const char *msg_part)
{
	char out[CGROUP_PATH_MAX], err[CGROUP_ERR_MAX] = "";
	int r = cgroup_path_from_spec(in, "c1", out, sizeof(out), err, sizeof(err));
	assert_int_equal(r, want_r);
	assert_contains(err, msg_part);
}

static void test_cgroups_path(void **state _unused_)
{
	path_ok("", "c1", "c1");
	path_ok(NULL, "c1", "c1");
	path_ok("/kubepods/besteffort/pod1/c1", "c1", "kubepods/besteffort/pod1/c1");
	path_ok("kubepods//pod1/c1/", "c1", "kubepods/pod1/c1");
	/* systemd form "slice:prefix:name", converted as Kata does for cgroupfs */
	path_ok("system.slice:docker:abc", "c1", "system.slice/docker/abc");
	path_ok("a::c", "c1", "a/c");

	path_bad("/a/../../etc", -EINVAL, "'..'");
	path_bad("a:..:b", -EINVAL, "'..'");
	path_bad("/./x", -EINVAL, "'.'");
	path_bad("/", -EINVAL, "root cgroup");
	path_bad("/" CGROUP_AGENT_LEAF "/x", -EINVAL, CGROUP_AGENT_LEAF);
	path_bad("/a\nb", -EINVAL, "control character");

	char deep[CGROUP_MAX_DEPTH * 2 + 8] = "";
	for (int i = 0; i <= CGROUP_MAX_DEPTH; i++)
		strcat(deep, "/a");
	path_bad(deep, -ENAMETOOLONG, "components");
	char long_comp[300];
	memset(long_comp, 'x', 299);
	long_comp[299] = '\0';
	path_bad(long_comp, -ENAMETOOLONG, "255 bytes");
	char *huge = malloc(2048);
	assert_non_null(huge);
	huge[0] = '\0';
	for (int i = 0; i < 20; i++)
		strcat(huge, "/0123456789012345678901234567890123456789012345678901234567890");
	path_bad(huge, -ENAMETOOLONG, "too long");
	free(huge);
}

/* ---- cpu lists ---- */

static void test_cpulist(void **state _unused_)
{
	uint64_t a[CGROUP_MAX_CPUS / 64], b[CGROUP_MAX_CPUS / 64];
	assert_int_equal(cgroup_cpulist_parse("0-3,7", a), 0);
	assert_true(a[0] == 0x8f);
	assert_int_equal(cgroup_cpulist_parse("0-7\n", b), 0);
	assert_true(cgroup_cpulist_subset(a, b));
	assert_false(cgroup_cpulist_subset(b, a));
	assert_int_equal(cgroup_cpulist_parse("", a), 0); /* empty: nothing */
	assert_true(cgroup_cpulist_subset(a, b));
	assert_int_equal(cgroup_cpulist_parse("3-1", a), -EINVAL);
	assert_int_equal(cgroup_cpulist_parse("1,,2", a), -EINVAL);
	assert_int_equal(cgroup_cpulist_parse("x", a), -EINVAL);
	assert_int_equal(cgroup_cpulist_parse("8192", a), -EINVAL);
	assert_int_equal(cgroup_cpulist_parse("8191", a), 0);
}

/* ---- resources against the scratch cgroup ---- */

static void test_memory_limit_max(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	scratch_new(&s, ALL_CONTROLLERS);

	/* Limit -1 = unlimited; with no swap given, swap is unlimited too (runc). */
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = -1;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "memory.max"), "max");
	assert_string_equal(get(&s, "memory.swap.max"), "max");
	assert_string_equal(get(&s, "memory.low"), "");
	scratch_done(&s);
}

static void test_memory_swap_v2(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	scratch_new(&s, ALL_CONTROLLERS);

	/* OCI swap is memory+swap: 64 MiB total with 32 MiB memory = 32 MiB of swap. */
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = 32 << 20;
	mem.swap = 64 << 20;
	mem.reservation = 16 << 20;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "memory.max"), "33554432");
	assert_string_equal(get(&s, "memory.swap.max"), "33554432");
	assert_string_equal(get(&s, "memory.low"), "16777216");
	scratch_done(&s);

	/* swap == limit: no swap at all */
	scratch_new(&s, ALL_CONTROLLERS);
	mem = (Grpc__LinuxMemory)GRPC__LINUX_MEMORY__INIT;
	mem.limit = 32 << 20;
	mem.swap = 32 << 20;
	res.memory = &mem;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "memory.swap.max"), "0");
	scratch_done(&s);

	/* swap -1: unlimited swap, the limit stays */
	scratch_new(&s, ALL_CONTROLLERS);
	mem.swap = -1;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "memory.max"), "33554432");
	assert_string_equal(get(&s, "memory.swap.max"), "max");
	scratch_done(&s);
}

static void test_memory_swap_without_swap_accounting(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX], path[160];
	scratch_new(&s, ALL_CONTROLLERS);
	snprintf(path, sizeof(path), "%s/memory.swap.max", s.dir);
	assert_int_equal(unlink(path), 0);

	/* A kernel without swap accounting has no memory.swap.max: the limit still applies. */
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = 32 << 20;
	mem.swap = 64 << 20;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "memory.max"), "33554432");
	scratch_done(&s);
}

static void test_memory_invalid(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	scratch_new(&s, ALL_CONTROLLERS);
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;

	mem.limit = 64 << 20;
	mem.swap = 32 << 20;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "memory swap 33554432 is below the memory limit 67108864");

	mem.limit = 0;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "needs a memory limit");

	mem.swap = 0;
	mem.limit = -7;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "memory limit -7");

	/* nothing was written by any of them */
	assert_string_equal(get(&s, "memory.max"), "");
	assert_string_equal(get(&s, "memory.swap.max"), "");
	scratch_done(&s);
}

static void test_cpu(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.cpu = &cpu;

	scratch_new(&s, ALL_CONTROLLERS);
	cpu.shares = 2;
	cpu.quota = 50000;
	cpu.period = 100000;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "cpu.weight"), "1");
	assert_string_equal(get(&s, "cpu.max"), "50000 100000");
	scratch_done(&s);

	scratch_new(&s, ALL_CONTROLLERS);
	cpu = (Grpc__LinuxCPU)GRPC__LINUX_CPU__INIT;
	cpu.shares = 262144;
	cpu.quota = -1;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "cpu.weight"), "10000");
	assert_string_equal(get(&s, "cpu.max"), "max"); /* the period stays the kernel's */
	scratch_done(&s);

	/* Only a period: the quota in place is kept (the kernel wants both). */
	scratch_new(&s, ALL_CONTROLLERS);
	put(&s, "cpu.max", "25000 100000\n");
	cpu = (Grpc__LinuxCPU)GRPC__LINUX_CPU__INIT;
	cpu.period = 50000;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "cpu.max"), "25000 100000\n25000 50000");
	scratch_done(&s);

	scratch_new(&s, ALL_CONTROLLERS);
	cpu = (Grpc__LinuxCPU)GRPC__LINUX_CPU__INIT;
	cpu.cpus = (char *)"0-1";
	cpu.mems = (char *)"0";
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "cpuset.cpus"), "0-1");
	assert_string_equal(get(&s, "cpuset.mems"), "0");
	assert_string_equal(get(&s, "cpu.weight"), ""); /* not requested, not touched */
	assert_string_equal(get(&s, "cpu.max"), "");
	scratch_done(&s);
}

static void test_cpu_invalid(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.cpu = &cpu;
	scratch_new(&s, ALL_CONTROLLERS);

	cpu.period = 10;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "cpu period 10");
	cpu.period = 0;
	cpu.quota = -5;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "cpu quota -5");
	cpu.quota = 0;
	cpu.cpus = (char *)"0-3;reboot";
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "cpuset cpus '0-3;reboot'");
	cpu.cpus = NULL;
	cpu.realtimeruntime = 950000;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -CGROUP_ENOCTRL);
	assert_contains(err, "realtime");
	assert_string_equal(get(&s, "cpu.max"), "");
	scratch_done(&s);
}

static void test_pids(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.pids = &pids;

	scratch_new(&s, ALL_CONTROLLERS);
	pids.limit = -1;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "pids.max"), "max");
	scratch_done(&s);

	scratch_new(&s, ALL_CONTROLLERS);
	pids.limit = 42;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "pids.max"), "42");
	scratch_done(&s);

	/* 0 cannot be told from "absent" in proto3: not requested */
	scratch_new(&s, ALL_CONTROLLERS);
	pids.limit = 0;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "pids.max"), "");
	scratch_done(&s);
}

static void test_blockio(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	Grpc__LinuxThrottleDevice t1 = GRPC__LINUX_THROTTLE_DEVICE__INIT,
				  t2 = GRPC__LINUX_THROTTLE_DEVICE__INIT;
	t1.major = 8;
	t1.minor = 0;
	t1.rate = 1048576;
	t2.major = 253;
	t2.minor = 1;
	t2.rate = 0; /* v1 "remove the rule" = v2 "max" */
	Grpc__LinuxThrottleDevice *rbps[] = {&t1, &t2}, *wiops[] = {&t1};
	Grpc__LinuxBlockIO bio = GRPC__LINUX_BLOCK_IO__INIT;
	bio.weight = 500;
	bio.n_throttlereadbpsdevice = 2;
	bio.throttlereadbpsdevice = rbps;
	bio.n_throttlewriteiopsdevice = 1;
	bio.throttlewriteiopsdevice = wiops;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.blockio = &bio;

	/* No BFQ (no io.bfq.weight): io.weight gets the converted weight. */
	scratch_new(&s, ALL_CONTROLLERS);
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "io.weight"), "4950");
	assert_string_equal(get(&s, "io.max"), "8:0 rbps=1048576253:1 rbps=max8:0 wiops=1048576");
	scratch_done(&s);

	/* With BFQ: the weight as given. */
	scratch_new(&s, ALL_CONTROLLERS);
	put(&s, "io.bfq.weight", "");
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "io.bfq.weight"), "500");
	assert_string_equal(get(&s, "io.weight"), "");
	scratch_done(&s);

	scratch_new(&s, ALL_CONTROLLERS);
	bio.weight = 5;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "blkio weight 5");
	bio.weight = 0;
	t1.major = -1;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "-1:0");
	t1.major = 8;
	/* a peer cannot make us write without bound */
	Grpc__LinuxThrottleDevice **many = calloc(CGROUP_MAX_DEVICE_RULES + 1, sizeof(*many));
	assert_non_null(many);
	for (int i = 0; i <= CGROUP_MAX_DEVICE_RULES; i++)
		many[i] = &t1;
	bio.n_throttlewritebpsdevice = CGROUP_MAX_DEVICE_RULES + 1;
	bio.throttlewritebpsdevice = many;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -E2BIG);
	assert_contains(err, "write bps");
	free(many);
	assert_string_equal(get(&s, "io.max"), "");
	scratch_done(&s);
}

static void test_hugetlb(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	Grpc__LinuxHugepageLimit h = GRPC__LINUX_HUGEPAGE_LIMIT__INIT;
	Grpc__LinuxHugepageLimit *hs[] = {&h};
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.n_hugepagelimits = 1;
	res.hugepagelimits = hs;

	scratch_new(&s, ALL_CONTROLLERS);
	h.pagesize = (char *)"2MB";
	h.limit = 4 << 21;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "hugetlb.2MB.max"), "8388608");

	h.pagesize = (char *)"16GB"; /* the controller is there, the size is not */
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "16GB");
	h.pagesize = (char *)"2MB/../../x";
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -EINVAL);
	assert_contains(err, "page size '2MB/../../x'");
	scratch_done(&s);
}

static void test_missing_controller(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	/* This host's situation: cgroup v2 with the controllers held by v1. */
	scratch_new(&s, "");
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.limit = 32 << 20;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -CGROUP_ENOCTRL);
	assert_contains(err, "'memory'");
	assert_contains(err, "memory limit 33554432");
	assert_int_equal(errno_to_rpc_code(-CGROUP_ENOCTRL), RPC_FAILED_PRECONDITION);
	assert_string_equal(get(&s, "memory.max"), "");
	scratch_done(&s);

	/* Only the needed ones matter: pids is offered, memory is not. */
	scratch_new(&s, "cpu pids");
	Grpc__LinuxPids pids = GRPC__LINUX_PIDS__INIT;
	pids.limit = 10;
	res.pids = &pids;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), -CGROUP_ENOCTRL);
	assert_string_equal(get(&s, "pids.max"), ""); /* all checked before any write */
	res.memory = NULL;
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	assert_string_equal(get(&s, "pids.max"), "10");
	scratch_done(&s);
}

static void test_nothing_requested(void **state _unused_)
{
	struct scratch s;
	char err[CGROUP_ERR_MAX];
	scratch_new(&s, "");

	/* Empty resources and v1-only knobs write nothing and need no controller. */
	assert_int_equal(apply(&s, NULL, err, sizeof(err)), 0);
	Grpc__LinuxMemory mem = GRPC__LINUX_MEMORY__INIT;
	mem.kernel = 1 << 20;
	mem.swappiness = 10;
	Grpc__LinuxCPU cpu = GRPC__LINUX_CPU__INIT;
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.memory = &mem;
	res.cpu = &cpu;
	struct cgroup_writes ws;
	assert_int_equal(cgroup_plan_resources(&res, &ws, err, sizeof(err)), 0);
	assert_int_equal(ws.n, 0);
	assert_int_equal(ws.controllers, 0);
	assert_string_equal(ws.ignored, "Memory.Kernel, Memory.Swappiness");
	cgroup_writes_free(&ws);
	assert_int_equal(apply(&s, &res, err, sizeof(err)), 0);
	for (size_t i = 0; i < ARRAY_SIZE(cgroup_files); i++)
		assert_string_equal(get(&s, cgroup_files[i]), "");
	scratch_done(&s);
}

static void test_controllers_parse(void **state _unused_)
{
	assert_int_equal(cgroup_controllers_parse("cpuset cpu io memory hugetlb pids rdma misc\n"),
			 CG_ALL_MASK);
	assert_int_equal(cgroup_controllers_parse(""), 0);
	assert_int_equal(cgroup_controllers_parse("cpuset"), CG_MASK(CG_CPUSET));
	assert_int_equal(cgroup_controllers_parse("memoryx cpus"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shares_to_weight),
	    cmocka_unit_test(test_blkio_weight),
	    cmocka_unit_test(test_cgroups_path),
	    cmocka_unit_test(test_cpulist),
	    cmocka_unit_test(test_memory_limit_max),
	    cmocka_unit_test(test_memory_swap_v2),
	    cmocka_unit_test(test_memory_swap_without_swap_accounting),
	    cmocka_unit_test(test_memory_invalid),
	    cmocka_unit_test(test_cpu),
	    cmocka_unit_test(test_cpu_invalid),
	    cmocka_unit_test(test_pids),
	    cmocka_unit_test(test_blockio),
	    cmocka_unit_test(test_hugetlb),
	    cmocka_unit_test(test_missing_controller),
	    cmocka_unit_test(test_nothing_requested),
	    cmocka_unit_test(test_controllers_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
