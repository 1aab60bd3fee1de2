/* SPDX-License-Identifier: Apache-2.0 */
/* agent/security: capability names and masks, sysctl rules, /proc mount rules, the plan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/security/internal.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/wait.h>

/* Docker's default capability set, and what /proc/PID/status shows for it. */
static char *docker_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};
#define DOCKER_CAP_MASK UINT64_C(0x00000000a80425fb)

static void test_cap_names(void **state _unused_)
{
	assert_int_equal(security_cap_from_name("CAP_CHOWN"), 0);
	assert_int_equal(security_cap_from_name("CAP_SYS_ADMIN"), 21);
	assert_int_equal(security_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
	/* libcap would take each of these; the spec's names are exact. */
	assert_int_equal(security_cap_from_name("cap_sys_admin"), -EINVAL);
	assert_int_equal(security_cap_from_name("CAP_CHOWN,CAP_KILL"), -EINVAL);
	assert_int_equal(security_cap_from_name("12"), -EINVAL);
	assert_int_equal(security_cap_from_name("SYS_ADMIN"), -EINVAL);
	assert_int_equal(security_cap_from_name("CAP_"), -EINVAL);
	assert_int_equal(security_cap_from_name("CAP_FOO"), -EINVAL);
	assert_int_equal(security_cap_from_name(""), -EINVAL);
	assert_int_equal(security_cap_from_name(NULL), -EINVAL);
	assert_true(security_cap_last() >= 36 && security_cap_last() <= 63);
}

static void test_caps_masks(void **state _unused_)
{
	Grpc__LinuxCapabilities c = GRPC__LINUX_CAPABILITIES__INIT;
	char *amb[] = {"CAP_NET_BIND_SERVICE"};
	c.bounding = c.effective = c.permitted = c.inheritable = docker_caps;
	c.n_bounding = c.n_effective = c.n_permitted = c.n_inheritable = ARRAY_SIZE(docker_caps);
	c.ambient = amb;
	c.n_ambient = 1;
	struct security_caps m;
	char err[SECURITY_ERR_MAX] = "";
	assert_int_equal(security_caps_from_spec(&c, 40, &m, err, sizeof(err)), 0);
	assert_true(m.bounding == DOCKER_CAP_MASK);
	assert_true(m.effective == DOCKER_CAP_MASK);
	assert_true(m.permitted == DOCKER_CAP_MASK);
	assert_true(m.inheritable == DOCKER_CAP_MASK);
	assert_true(m.ambient == UINT64_C(1) << 10);

	/* absent: nothing */
	assert_int_equal(security_caps_from_spec(NULL, 40, &m, err, sizeof(err)), 0);
	assert_true(m.bounding == 0 && m.effective == 0);
}

static void test_caps_unknown_and_unsupported(void **state _unused_)
{
	Grpc__LinuxCapabilities c = GRPC__LINUX_CAPABILITIES__INIT;
	char *bad[] = {"CAP_CHOWN", "CAP_FOO"};
	c.permitted = bad;
	c.n_permitted = 2;
	struct security_caps m;
	char err[SECURITY_ERR_MAX] = "";
	assert_int_equal(security_caps_from_spec(&c, 40, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Permitted"));
	assert_non_null(strstr(err, "'CAP_FOO'"));

	/* known to libcap but above this kernel's cap_last_cap: skipped (runc, Kata) */
	char *newer[] = {"CAP_CHECKPOINT_RESTORE", "CAP_KILL"};
	Grpc__LinuxCapabilities c2 = GRPC__LINUX_CAPABILITIES__INIT;
	c2.bounding = newer;
	c2.n_bounding = 2;
	assert_int_equal(security_caps_from_spec(&c2, 39, &m, err, sizeof(err)), 0);
	assert_true(m.bounding == UINT64_C(1) << 5);

	/* a peer cannot make us walk an unbounded list */
	char *many[200];
	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = "CAP_KILL";
	Grpc__LinuxCapabilities c3 = GRPC__LINUX_CAPABILITIES__INIT;
	c3.effective = many;
	c3.n_effective = ARRAY_SIZE(many);
	assert_int_equal(security_caps_from_spec(&c3, 40, &m, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "Effective"));
}

static void test_sysctl_rules(void **state _unused_)
{
	struct security_ns all = {true, true, true}, none = {false, false, false};
	char err[SECURITY_ERR_MAX] = "";
	const char *ipc[] = {"kernel.msgmax", "kernel.msgmnb",		"kernel.msgmni",
			     "kernel.sem",    "kernel.shmall",		"kernel.shmmax",
			     "kernel.shmmni", "kernel.shm_rmid_forced", "fs.mqueue.msg_max"};
	for (size_t i = 0; i < ARRAY_SIZE(ipc); i++) {
		assert_int_equal(security_sysctl_check(ipc[i], &all, err, sizeof(err)), 0);
		assert_int_equal(security_sysctl_check(ipc[i], &none, err, sizeof(err)), -EINVAL);
		assert_non_null(strstr(err, ipc[i]));
		assert_non_null(strstr(err, "ipc"));
	}
	assert_int_equal(security_sysctl_check("net.ipv4.ip_forward", &all, err, sizeof(err)), 0);
	assert_int_equal(security_sysctl_check("net.ipv4.ip_forward", &none, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'net.ipv4.ip_forward'"));
	assert_non_null(strstr(err, "network"));
	assert_int_equal(security_sysctl_check("kernel.domainname", &all, err, sizeof(err)), 0);
	assert_int_equal(security_sysctl_check("kernel.domainname", &none, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(security_sysctl_check("kernel.hostname", &all, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "kernel.hostname"));
	assert_int_equal(security_sysctl_check("vm.swappiness", &all, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'vm.swappiness'"));
	assert_int_equal(security_sysctl_check("kernel.panic", &all, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'kernel.panic'"));
	assert_int_equal(security_sysctl_check("netfoo.x", &all, err, sizeof(err)), -EINVAL);
}

static void test_proc_mount_rules(void **state _unused_)
{
	char err[SECURITY_ERR_MAX] = "";
	assert_int_equal(security_check_mount("/proc", "proc", "proc", false, err, sizeof(err)), 0);
	assert_int_equal(security_check_mount("/proc/", "proc", "proc", false, err, sizeof(err)),
			 0);
	assert_int_equal(security_check_mount("/proc", "tmpfs", "tmpfs", false, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'tmpfs'"));
	/* a bind over /proc must come from a procfs */
	assert_int_equal(security_check_mount("/proc", "bind", "/proc", true, err, sizeof(err)), 0);
	assert_int_equal(security_check_mount("/proc", "bind", "/tmp", true, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "'/tmp'"));
	/* lxcfs-style files are fine, nothing else below /proc */
	const char *ok[] = {"/proc/cpuinfo",   "/proc/diskstats", "/proc/meminfo", "/proc/stat",
			    "/proc/swaps",     "/proc/uptime",	  "/proc/loadavg", "/proc/net/dev",
			    "//proc//cpuinfo", "/proc/./meminfo"};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++)
		assert_int_equal(security_check_mount(ok[i], "bind", "/var/lib/lxcfs/proc/x", true,
						      err, sizeof(err)),
				 0);
	const char *refused[] = {"/proc/sys",		"/proc/sys/kernel/core_pattern",
				 "/proc/kcore",		"/proc/1",
				 "/proc/net",		"/proc/cpuinfo/x",
				 "/proc//sysrq-trigger"};
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		assert_int_equal(
		    security_check_mount(refused[i], "bind", "/tmp/x", true, err, sizeof(err)),
		    -EINVAL);
		assert_non_null(strstr(err, refused[i]));
		/* not only binds: a tmpfs on /proc/sys would unmask it too */
		assert_int_equal(
		    security_check_mount(refused[i], "tmpfs", "tmpfs", false, err, sizeof(err)),
		    -EINVAL);
	}
	assert_int_equal(security_check_mount("/proc/../etc", "bind", "/x", true, err, sizeof(err)),
			 -EINVAL);
	assert_int_equal(security_check_mount("proc", "proc", "proc", false, err, sizeof(err)),
			 -EINVAL);
	/* outside /proc: not our business */
	assert_int_equal(security_check_mount("/procfoo", "bind", "/x", true, err, sizeof(err)), 0);
	assert_int_equal(security_check_mount("/sys", "sysfs", "sysfs", false, err, sizeof(err)),
			 0);
}

static void test_path_clean(void **state _unused_)
{
	char buf[64];
	assert_int_equal(security_path_clean("/a//b/./c/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a/b/c");
	assert_int_equal(security_path_clean("/", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(security_path_clean("//./", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/");
	assert_int_equal(security_path_clean("a/b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(security_path_clean("/a/../b", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(security_path_clean("/a/..", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(security_path_clean("/a..b/..c", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "/a..b/..c");
	assert_int_equal(security_path_clean("/aaaaaaaaaaaaaaaa", buf, 8), -ENAMETOOLONG);
}

/* ---- the plan ---- */

struct spec_fixture {
	Grpc__Spec spec;
	Grpc__Process proc;
	Grpc__Linux lx;
	Grpc__LinuxCapabilities caps;
	Grpc__Linux__SysctlEntry sysctl[4];
	Grpc__Linux__SysctlEntry *sysctlp[4];
	Grpc__Mount mount[2];
	Grpc__Mount *mountp[2];
};

static void fixture_init(struct spec_fixture *f)
{
	grpc__spec__init(&f->spec);
	grpc__process__init(&f->proc);
	grpc__linux__init(&f->lx);
	grpc__linux_capabilities__init(&f->caps);
	f->spec.process = &f->proc;
	f->spec.linux_ = &f->lx;
	for (size_t i = 0; i < ARRAY_SIZE(f->sysctl); i++) {
		grpc__linux__sysctl_entry__init(&f->sysctl[i]);
		f->sysctlp[i] = &f->sysctl[i];
	}
	for (size_t i = 0; i < ARRAY_SIZE(f->mount); i++) {
		grpc__mount__init(&f->mount[i]);
		f->mountp[i] = &f->mount[i];
	}
}

static void test_plan_sysctls_and_paths(void **state _unused_)
{
	struct spec_fixture f;
	fixture_init(&f);
	f.sysctl[0].key = "net.ipv4.ip_forward";
	f.sysctl[0].value = "1";
	f.sysctl[1].key = "net/ipv4/conf/eth0.100/forwarding"; /* the slash form keeps dots */
	f.sysctl[1].value = "0";
	f.sysctl[2].key = "kernel.shmmax";
	f.sysctl[2].value = "65536";
	f.lx.sysctl = f.sysctlp;
	f.lx.n_sysctl = 3;
	char *masked[] = {"/proc/kcore", "/proc//acpi/"}, *ro[] = {"/proc/sys", "/proc/bus"};
	f.lx.maskedpaths = masked;
	f.lx.n_maskedpaths = 2;
	f.lx.readonlypaths = ro;
	f.lx.n_readonlypaths = 2;
	struct security_ns ns = {true, true, true};
	struct security_plan p;
	char err[SECURITY_ERR_MAX] = "";
	security_plan_init(&p);
	assert_int_equal(security_plan_from_spec(&p, &f.spec, &ns, err, sizeof(err)), 0);
	assert_int_equal(p.n_sysctls, 3);
	assert_string_equal(p.sysctl_paths[0], "/proc/sys/net/ipv4/ip_forward");
	assert_string_equal(p.sysctl_values[0], "1");
	assert_string_equal(p.sysctl_paths[1], "/proc/sys/net/ipv4/conf/eth0.100/forwarding");
	assert_string_equal(p.sysctl_paths[2], "/proc/sys/kernel/shmmax");
	assert_int_equal(p.n_masked_paths, 2);
	assert_string_equal(p.masked_paths[1], "/proc/acpi");
	assert_int_equal(p.n_readonly_paths, 2);
	assert_false(p.caps_set); /* no Process.Capabilities: leave the kernel's defaults */
	assert_null(p.bpf);
	security_plan_done(&p);

	/* without a network namespace the net.* keys are refused, naming the key */
	struct security_ns no_net = {true, true, false};
	security_plan_init(&p);
	assert_int_equal(security_plan_from_spec(&p, &f.spec, &no_net, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "net.ipv4.ip_forward"));
	security_plan_done(&p);

	/* malformed keys */
	const char *bad_keys[] = {"net..ipv4", "../etc/x", "net/../../x", "net.ipv4.",
				  "",	       "a b",	   "net/ipv4/"};
	for (size_t i = 0; i < ARRAY_SIZE(bad_keys); i++) {
		f.sysctl[0].key = (char *)bad_keys[i];
		f.lx.n_sysctl = 1;
		security_plan_init(&p);
		assert_int_equal(security_plan_from_spec(&p, &f.spec, &ns, err, sizeof(err)),
				 -EINVAL);
		security_plan_done(&p);
	}
	f.lx.n_sysctl = 0;

	/* relative or escaping masked/readonly paths */
	char *bad_masked[] = {"proc/kcore"};
	f.lx.maskedpaths = bad_masked;
	f.lx.n_maskedpaths = 1;
	security_plan_init(&p);
	assert_int_equal(security_plan_from_spec(&p, &f.spec, &ns, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "MaskedPaths[0] 'proc/kcore'"));
	security_plan_done(&p);
	char *bad_ro[] = {"/proc/../etc"};
	f.lx.n_maskedpaths = 0;
	f.lx.readonlypaths = bad_ro;
	f.lx.n_readonlypaths = 1;
	security_plan_init(&p);
	assert_int_equal(security_plan_from_spec(&p, &f.spec, &ns, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ReadonlyPaths[0]"));
	security_plan_done(&p);
}

static void test_plan_mounts_checked(void **state _unused_)
{
	struct spec_fixture f;
	fixture_init(&f);
	char *bind[] = {"rbind", "ro"};
	f.mount[0].destination = "/proc";
	f.mount[0].type = "proc";
	f.mount[0].source = "proc";
	f.mount[1].destination = "/proc/sys/kernel";
	f.mount[1].type = "";
	f.mount[1].source = "/tmp";
	f.mount[1].options = bind;
	f.mount[1].n_options = 2;
	f.spec.mounts = f.mountp;
	f.spec.n_mounts = 2;
	struct security_ns ns = {true, true, true};
	struct security_plan p;
	char err[SECURITY_ERR_MAX] = "";
	security_plan_init(&p);
	assert_int_equal(security_plan_from_spec(&p, &f.spec, &ns, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'/proc/sys/kernel'"));
	security_plan_done(&p);
	f.spec.n_mounts = 1;
	security_plan_init(&p);
	assert_int_equal(security_plan_from_spec(&p, &f.spec, &ns, err, sizeof(err)), 0);
	security_plan_done(&p);
}

static void test_plan_exec_inherits(void **state _unused_)
{
	struct spec_fixture f;
	fixture_init(&f);
	f.caps.bounding = f.caps.effective = f.caps.permitted = docker_caps;
	f.caps.n_bounding = f.caps.n_effective = f.caps.n_permitted = ARRAY_SIZE(docker_caps);
	f.proc.capabilities = &f.caps;
	Grpc__LinuxSeccomp sec = GRPC__LINUX_SECCOMP__INIT;
	sec.defaultaction = "SCMP_ACT_ALLOW";
	char *names[] = {"mkdir"};
	Grpc__LinuxSyscall sc = GRPC__LINUX_SYSCALL__INIT, *scp = &sc;
	sc.names = names;
	sc.n_names = 1;
	sc.action = "SCMP_ACT_ERRNO";
	sec.syscalls = &scp;
	sec.n_syscalls = 1;
	f.lx.seccomp = &sec;

	struct security_ns ns = {true, true, false};
	struct security_plan init, exec1, exec2;
	char err[SECURITY_ERR_MAX] = "";
	security_plan_init(&init);
	assert_int_equal(security_plan_from_spec(&init, &f.spec, &ns, err, sizeof(err)), 0);
	assert_true(init.caps_set);
	assert_true(init.caps.effective == DOCKER_CAP_MASK);
	assert_non_null(init.bpf);

	struct security_profile *container = security_profile_ref(init.profile);
	security_plan_done(&init); /* the container outlives its init's plan */

	/* no capabilities in the request: the container's */
	Grpc__Process eproc = GRPC__PROCESS__INIT;
	security_plan_init(&exec1);
	assert_int_equal(security_plan_for_exec(&exec1, &eproc, container, err, sizeof(err)), 0);
	assert_true(exec1.caps_set);
	assert_true(exec1.caps.effective == DOCKER_CAP_MASK);
	assert_true(exec1.caps.bounding == DOCKER_CAP_MASK);
	assert_non_null(exec1.bpf);
	assert_true(exec1.bpf_len > 0);

	/* its own capabilities win; the seccomp filter is still the container's */
	char *kill_only[] = {"CAP_KILL"};
	Grpc__LinuxCapabilities ecaps = GRPC__LINUX_CAPABILITIES__INIT;
	ecaps.effective = ecaps.permitted = ecaps.bounding = kill_only;
	ecaps.n_effective = ecaps.n_permitted = ecaps.n_bounding = 1;
	eproc.capabilities = &ecaps;
	security_plan_init(&exec2);
	assert_int_equal(security_plan_for_exec(&exec2, &eproc, container, err, sizeof(err)), 0);
	assert_true(exec2.caps.effective == UINT64_C(1) << 5);
	assert_ptr_equal(exec2.bpf, exec1.bpf);

	/* a bad name in the exec request is refused naming it */
	char *bad[] = {"CAP_NOPE"};
	ecaps.effective = bad;
	struct security_plan exec3;
	security_plan_init(&exec3);
	assert_int_equal(security_plan_for_exec(&exec3, &eproc, container, err, sizeof(err)),
			 -EINVAL);
	assert_non_null(strstr(err, "CAP_NOPE"));
	security_plan_done(&exec3);

	security_profile_unref(container);
	/* the exec plans still hold the program (ASan would see a use after free) */
	assert_true(exec1.bpf[0].code != 0 || exec1.bpf[0].k != 0 || exec1.bpf_len > 0);
	security_plan_done(&exec1);
	security_plan_done(&exec2);

	/* no container profile at all */
	security_plan_init(&exec1);
	eproc.capabilities = NULL;
	assert_int_equal(security_plan_for_exec(&exec1, &eproc, NULL, err, sizeof(err)), 0);
	assert_false(exec1.caps_set);
	assert_null(exec1.bpf);
	security_plan_done(&exec1);
}

static uint64_t status_hex(const char *field)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	uint64_t v = UINT64_MAX;
	size_t l = strlen(field);
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, field, l) == 0 && line[l] == ':')
			v = strtoull(line + l + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/* The child half on this process (forked): Docker's set for uid 1000 with keep-caps. */
static void test_child_caps_applied(void **state _unused_)
{
	if (geteuid() != 0)
		skip();
	struct security_plan p;
	security_plan_init(&p);
	p.caps_set = true;
	p.cap_last = security_cap_last();
	p.caps = (struct security_caps){DOCKER_CAP_MASK, DOCKER_CAP_MASK, 0, DOCKER_CAP_MASK,
					UINT64_C(1) << 10};
	p.caps.inheritable = UINT64_C(1) << 10; /* ambient needs it inheritable */
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int where = 0;
		if (security_child_before_setuid(&p, &where) < 0)
			_exit(10);
		if (setresgid(1000, 1000, 1000) < 0 || setresuid(1000, 1000, 1000) < 0)
			_exit(11);
		if (security_child_after_setuid(&p, &where) < 0)
			_exit(12);
		if (security_child_apply_caps(&p, false, &where) < 0)
			_exit(13);
		if (status_hex("CapEff") != DOCKER_CAP_MASK)
			_exit(20);
		if (status_hex("CapPrm") != DOCKER_CAP_MASK)
			_exit(21);
		if (status_hex("CapBnd") != DOCKER_CAP_MASK)
			_exit(22);
		if (status_hex("CapAmb") != (UINT64_C(1) << 10))
			_exit(23);
		if (prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0) != 0)
			_exit(24);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_describe(void **state _unused_)
{
	struct security_plan p;
	const char *masked[] = {"/proc/kcore"};
	const char *paths[] = {"/proc/sys/net/ipv4/ip_forward"}, *values[] = {"1"};
	security_plan_init(&p);
	p.masked_paths = masked;
	p.n_masked_paths = 1;
	p.sysctl_paths = paths;
	p.sysctl_values = values;
	p.n_sysctls = 1;
	char buf[256];
	security_describe(&p, SECURITY_WHERE(SECURITY_STEP_MASK, 0), EPERM, buf, sizeof(buf));
	assert_non_null(strstr(buf, "'/proc/kcore'"));
	assert_non_null(strstr(buf, strerror(EPERM)));
	security_describe(&p, SECURITY_WHERE(SECURITY_STEP_SYSCTL, 0), -EROFS, buf, sizeof(buf));
	assert_non_null(strstr(buf, "'net/ipv4/ip_forward' = '1'"));
	/* an index the plan does not have is not dereferenced */
	security_describe(&p, SECURITY_WHERE(SECURITY_STEP_MASK, 7), EPERM, buf, sizeof(buf));
	assert_non_null(strstr(buf, strerror(EPERM)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cap_names),
	    cmocka_unit_test(test_caps_masks),
	    cmocka_unit_test(test_caps_unknown_and_unsupported),
	    cmocka_unit_test(test_sysctl_rules),
	    cmocka_unit_test(test_proc_mount_rules),
	    cmocka_unit_test(test_path_clean),
	    cmocka_unit_test(test_plan_sysctls_and_paths),
	    cmocka_unit_test(test_plan_mounts_checked),
	    cmocka_unit_test(test_plan_exec_inherits),
	    cmocka_unit_test(test_child_caps_applied),
	    cmocka_unit_test(test_describe),
	};
	log_set_level(LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
