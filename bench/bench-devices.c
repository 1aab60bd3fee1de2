/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the device policy adds to a container's cgroup set-up: cgroup_create() + destroy of an
 * empty cgroup with the device policy (the policy built, its BPF program generated, loaded
 * through the kernel's verifier and attached), side by side with the anchor measured in the
 * same run, the same calls without it. Containers whose policy is the same share one
 * program (the agent keeps the last one it loaded); a new policy goes through the verifier.
 *
 *   bench-devices [RUNS]   (root; a scratch directory below the cgroup2 mount's root)
 */
#include "cgroup/cgroup.h"

#include <sys/stat.h>

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static const char *cgroup2_mount(void)
{
	static char mnt[256];
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char point[256];
		if (strstr(line, " - cgroup2 ") &&
		    sscanf(line, "%*s %*s %*s %*s %255s", point) == 1)
			snprintf(mnt, sizeof(mnt), "%s", point);
	}
	if (f)
		fclose(f);
	return mnt[0] ? mnt : NULL;
}

/* p50 in µs of create + destroy of container cgroups below base, with res; vary: each
 * container's last rule names another minor, so that its program is new (loaded through
 * the verifier rather than shared). */
static double measure(const char *base, bool policy, Grpc__LinuxResources *res, bool vary, int runs)
{
	struct ev_loop *loop = NULL;
	struct cgroup_mgr *m = NULL;
	struct cgroup_mgr_options o = {.base_dir = base, .no_device_policy = !policy};
	char err[CGROUP_ERR_MAX] = "";
	uint64_t *t = calloc((size_t)runs, sizeof(*t));
	if (!t || ev_loop_new(&loop) < 0 || cgroup_mgr_new(loop, &o, &m) < 0) {
		fprintf(stderr, "bench-devices: cannot set up the cgroup manager on %s\n", base);
		exit(1);
	}
	for (int i = 0; i < runs; i++) {
		struct cgroup *cg = NULL;
		if (vary)
			res->devices[res->n_devices - 1]->minor = i + 1;
		uint64_t t0 = now_monotonic_ns();
		int r = cgroup_create(m, "c", NULL, res, &cg, err, sizeof(err));
		if (r >= 0)
			r = cgroup_destroy(cg);
		t[i] = now_monotonic_ns() - t0;
		if (r < 0) {
			fprintf(stderr, "bench-devices: %s: %s\n", strerror(-r), err);
			exit(1);
		}
	}
	cgroup_mgr_free(m);
	ev_loop_free(loop);
	qsort(t, (size_t)runs, sizeof(*t), cmp_u64);
	double p50 = (double)t[runs / 2] / 1000.0;
	free(t);
	return p50;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 500;
	const char *mnt = cgroup2_mount();
	char base[512];
	if (!mnt || runs < 1) {
		fprintf(stderr, "usage: bench-devices [RUNS] (root, with a cgroup2 mount)\n");
		return 2;
	}
	log_set_level(LOG_LEVEL_ERROR);
	snprintf(base, sizeof(base), "%s/ember-bench-devices-%d", mnt, (int)getpid());
	if (mkdir(base, 0755) < 0) {
		fprintf(stderr, "bench-devices: mkdir %s: %s\n", base, strerror(errno));
		return 1;
	}

	Grpc__LinuxDeviceCgroup r[256], *rv[256];
	for (int i = 0; i < 256; i++) {
		grpc__linux_device_cgroup__init(&r[i]);
		r[i].allow = i % 3 != 0;
		r[i].type = i % 2 ? "b" : "c";
		r[i].major = 200 + i % 50;
		r[i].minor = i;
		r[i].access = "rw";
		rv[i] = &r[i];
	}
	Grpc__LinuxResources big = GRPC__LINUX_RESOURCES__INIT, one = GRPC__LINUX_RESOURCES__INIT;
	big.devices = rv;
	big.n_devices = 256;
	/* a hot-plugged disk's rule, as the storage module adds it */
	Grpc__LinuxDeviceCgroup disk = GRPC__LINUX_DEVICE_CGROUP__INIT, *dv[] = {&disk};
	disk.allow = true;
	disk.type = "b";
	disk.major = 254;
	disk.access = "rwm";
	one.devices = dv;
	one.n_devices = 1;

	/* warm-up, then the anchor and each figure in turn, the better of two rounds each */
	(void)measure(base, true, &one, true, runs / 10 + 1);
	double a = 1e9, f[4] = {1e9, 1e9, 1e9, 1e9};
	for (int round = 0; round < 2; round++) {
		double x[5] = {
		    measure(base, false, NULL, false, runs), measure(base, true, NULL, false, runs),
		    measure(base, true, &one, false, runs), measure(base, true, &one, true, runs),
		    measure(base, true, &big, true, runs / 5 + 1)};
		a = x[0] < a ? x[0] : a;
		for (int k = 0; k < 4; k++)
			f[k] = x[k + 1] < f[k] ? x[k + 1] : f[k];
	}
	rmdir(base);
	static const char *const what[] = {
	    "Kata's whitelist alone (the Go runtime's containers; program shared)",
	    "whitelist + a hot-plugged disk, the same disk each time (program shared)",
	    "whitelist + a hot-plugged disk, another each time (program loaded)",
	    "whitelist + 256 spec rules, others each time (program loaded)",
	};
	printf("| cgroup create + destroy, p50 | with the device policy | anchor: without | "
	       "ratio | the policy's share |\n");
	printf("|---|---|---|---|---|\n");
	for (int k = 0; k < 4; k++)
		printf("| %s | %.1f µs | %.1f µs | %.2f× | %.1f µs |\n", what[k], f[k], a, f[k] / a,
		       f[k] - a);
	return 0;
}
