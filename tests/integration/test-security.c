/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container security as a Kata runtime asks for it, on the real agent with real
 * namespaces, mounts, capabilities and seccomp: what the container sees in
 * /proc/self/status and on its filesystem, and what the agent refuses.
 */
#include "test-container-util.h"

#include <dirent.h>
#include <sys/stat.h>

/* One agent per test: ct_setup/ct_teardown (test-container-util.h) keep it in ct_agent and
 * its connection in ct_cl. */

/* ---- a spec with every security field reachable ---- */

struct fx {
	Grpc__Spec spec;
	Grpc__Process proc;
	Grpc__User user;
	Grpc__Root root;
	Grpc__Linux lx;
	Grpc__LinuxCapabilities caps;
	Grpc__LinuxSeccomp seccomp;
	Grpc__LinuxSyscall sc[4];
	Grpc__LinuxSyscall *scp[4];
	Grpc__LinuxSeccompArg arg[4];
	Grpc__LinuxSeccompArg *argp[4];
	Grpc__POSIXRlimit rl[2];
	Grpc__POSIXRlimit *rlp[2];
	Grpc__Linux__SysctlEntry sysctl[2];
	Grpc__Linux__SysctlEntry *sysctlp[2];
	Grpc__Mount mounts[4];
	Grpc__Mount *mountp[4];
};

static char *docker_caps[] = {
    "CAP_CHOWN",   "CAP_DAC_OVERRIDE", "CAP_FSETID",	       "CAP_FOWNER",
    "CAP_MKNOD",   "CAP_NET_RAW",      "CAP_SETGID",	       "CAP_SETUID",
    "CAP_SETFCAP", "CAP_SETPCAP",      "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
    "CAP_KILL",	   "CAP_AUDIT_WRITE",
};
static char *path_env[] = {"PATH=/bin:/usr/bin"};

static void fx_init(struct fx *f, const char *const *args)
{
	memset(f, 0, sizeof(*f));
	grpc__spec__init(&f->spec);
	grpc__process__init(&f->proc);
	grpc__user__init(&f->user);
	grpc__root__init(&f->root);
	grpc__linux__init(&f->lx);
	grpc__linux_capabilities__init(&f->caps);
	grpc__linux_seccomp__init(&f->seccomp);
	size_t n = 0;
	while (args[n])
		n++;
	f->proc.args = (char **)args;
	f->proc.n_args = n;
	f->proc.env = path_env;
	f->proc.n_env = 1;
	f->proc.cwd = "/";
	f->proc.user = &f->user;
	f->root.path = (char *)ct_rootfs();
	f->spec.process = &f->proc;
	f->spec.root = &f->root;
	f->spec.linux_ = &f->lx;
	grpc__mount__init(&f->mounts[0]);
	f->mounts[0].destination = "/proc";
	f->mounts[0].type = "proc";
	f->mounts[0].source = "proc";
	for (size_t i = 0; i < ARRAY_SIZE(f->mounts); i++)
		f->mountp[i] = &f->mounts[i];
	f->spec.mounts = f->mountp;
	f->spec.n_mounts = 1;
	f->seccomp.syscalls = f->scp;
}

static Grpc__Mount *fx_mount(struct fx *f, const char *dest, const char *type, const char *src)
{
	Grpc__Mount *m = &f->mounts[f->spec.n_mounts++];
	grpc__mount__init(m);
	m->destination = (char *)dest;
	m->type = (char *)type;
	m->source = (char *)src;
	return m;
}

static void fx_docker_caps(struct fx *f)
{
	f->caps.bounding = f->caps.effective = f->caps.permitted = docker_caps;
	f->caps.n_bounding = f->caps.n_effective = f->caps.n_permitted = ARRAY_SIZE(docker_caps);
	f->proc.capabilities = &f->caps;
}

/* Default ALLOW; the names given get `action` (errno: EPERM unless errno_ret). */
static Grpc__LinuxSyscall *fx_rule(struct fx *f, char **names, size_t n, const char *action)
{
	size_t i = f->seccomp.n_syscalls++;
	Grpc__LinuxSyscall *sc = &f->sc[i];
	grpc__linux_syscall__init(sc);
	f->scp[i] = sc;
	sc->names = names;
	sc->n_names = n;
	sc->action = (char *)action;
	if (!f->seccomp.defaultaction || !*f->seccomp.defaultaction)
		f->seccomp.defaultaction = "SCMP_ACT_ALLOW";
	f->lx.seccomp = &f->seccomp;
	return sc;
}

static int create(const char *cid, struct fx *f, char *msg)
{
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)cid;
	req.oci = &f->spec;
	int code = harness_call(ct_cl, "CreateContainer", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static void create_started(const char *cid, struct fx *f)
{
	char msg[512];
	int code = create(cid, f, msg);
	if (code != RPC_OK)
		fail_msg("create %s: %s: %s", cid, rpc_code_name(code), msg);
	code = ct_start(ct_cl, cid, msg);
	if (code != RPC_OK)
		fail_msg("start %s: %s: %s", cid, rpc_code_name(code), msg);
}

static void remove_ok(const char *cid)
{
	char msg[512];
	int code = ct_remove(ct_cl, cid, 0, msg);
	if (code != RPC_OK)
		fail_msg("remove %s: %s: %s", cid, rpc_code_name(code), msg);
}

/* Create, start, stdout to EOF, wait, remove. */
static char *run(const char *cid, struct fx *f, int *status)
{
	char msg[512];
	create_started(cid, f);
	char *out = ct_read_all(ct_cl, cid, cid, false);
	*status = ct_wait(ct_cl, cid, cid, msg);
	remove_ok(cid);
	return out;
}

static void expect_refused(const char *cid, struct fx *f, int want_code, const char *want1,
			   const char *want2)
{
	char msg[512] = "";
	int code = create(cid, f, msg);
	if (code != want_code || !strstr(msg, want1) || (want2 && !strstr(msg, want2)))
		fail_msg("create %s: %s '%s'; want %s naming '%s' '%s'", cid, rpc_code_name(code),
			 msg, rpc_code_name(want_code), want1, want2 ? want2 : "");
	assert_true(harness_agent_alive(&ct_agent));
}

static void expect_line(const char *out, const char *line)
{
	if (!strstr(out, line))
		fail_msg("output lacks '%s':\n%s", line, out);
}

/* ---- capabilities, no_new_privs ---- */

static void test_docker_capabilities(void **state _unused_)
{
	struct fx f;
	fx_init(&f, ARGS("grep", "^Cap", "/proc/self/status"));
	fx_docker_caps(&f);
	int status = -1;
	char *out = run("caps1", &f, &status);
	assert_int_equal(status, 0);
	expect_line(out, "CapEff:\t00000000a80425fb\n");
	expect_line(out, "CapPrm:\t00000000a80425fb\n");
	expect_line(out, "CapBnd:\t00000000a80425fb\n");
	expect_line(out, "CapInh:\t0000000000000000\n");
	free(out);
}

static void test_capabilities_non_root_ambient(void **state _unused_)
{
	/* A non-root user keeps CAP_NET_BIND_SERVICE through execve only as an ambient
	 * capability, which needs keep-caps across the uid change. */
	struct fx f;
	char *nbs[] = {"CAP_NET_BIND_SERVICE"};
	fx_init(&f, ARGS("grep", "^Cap", "/proc/self/status"));
	f.caps.bounding = f.caps.effective = f.caps.permitted = f.caps.inheritable =
	    f.caps.ambient = nbs;
	f.caps.n_bounding = f.caps.n_effective = f.caps.n_permitted = f.caps.n_inheritable =
	    f.caps.n_ambient = 1;
	f.proc.capabilities = &f.caps;
	f.user.uid = 1000;
	f.user.gid = 1000;
	int status = -1;
	char *out = run("caps2", &f, &status);
	assert_int_equal(status, 0);
	expect_line(out, "CapEff:\t0000000000000400\n");
	expect_line(out, "CapAmb:\t0000000000000400\n");
	expect_line(out, "CapBnd:\t0000000000000400\n");
	free(out);
}

static void test_no_new_privs(void **state _unused_)
{
	struct fx f;
	fx_init(&f, ARGS("grep", "NoNewPrivs", "/proc/self/status"));
	f.proc.nonewprivileges = true;
	int status = -1;
	char *out = run("nnp1", &f, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "NoNewPrivs:\t1\n");
	free(out);

	fx_init(&f, ARGS("grep", "NoNewPrivs", "/proc/self/status"));
	out = run("nnp2", &f, &status);
	assert_string_equal(out, "NoNewPrivs:\t0\n");
	free(out);
}

/* ---- seccomp ---- */

static char *mkdir_names[] = {"mkdir", "mkdirat"};

static void seccomp_mkdir_denied(const char *cid, bool nnp, bool caps)
{
	struct fx f;
	fx_init(&f, ARGS("sh", "-c",
			 "mkdir /tmp/d 2>&1; echo rc=$?; grep -E '^(Seccomp|NoNewPrivs):' "
			 "/proc/self/status"));
	fx_rule(&f, mkdir_names, 2, "SCMP_ACT_ERRNO");
	f.proc.nonewprivileges = nnp;
	if (caps)
		fx_docker_caps(&f);
	int status = -1;
	char *out = run(cid, &f, &status);
	assert_int_equal(status, 0);
	expect_line(out, "Operation not permitted");
	expect_line(out, "rc=1\n");
	expect_line(out, "Seccomp:\t2\n");
	expect_line(out, nnp ? "NoNewPrivs:\t1\n" : "NoNewPrivs:\t0\n");
	free(out);
}

static void test_seccomp_denies_mkdir(void **state _unused_)
{
	/* both placements: before the capability drop, and last before execve */
	seccomp_mkdir_denied("sec1", false, true);
	seccomp_mkdir_denied("sec2", true, true);
	seccomp_mkdir_denied("sec3", false, false);
}

static void test_seccomp_errnoret_and_args(void **state _unused_)
{
	struct fx f;
	/* mkdir -> ENOSPC; chmod only for mode 0777 (arg 1) */
	char *chmod_names[] = {"chmod", "fchmodat"};
	fx_init(&f, ARGS("sh", "-c",
			 "mkdir /tmp/x 2>&1; touch /tmp/f; chmod 777 /tmp/f 2>&1; echo a=$?; "
			 "chmod 700 /tmp/f; echo b=$?"));
	Grpc__LinuxSyscall *sc = fx_rule(&f, mkdir_names, 2, "SCMP_ACT_ERRNO");
	sc->errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	sc->errnoret = ENOSPC;
	sc = fx_rule(&f, chmod_names, 1, "SCMP_ACT_ERRNO");
	grpc__linux_seccomp_arg__init(&f.arg[0]);
	f.argp[0] = &f.arg[0];
	f.arg[0].index = 1;
	f.arg[0].op = "SCMP_CMP_EQ";
	f.arg[0].value = 0777;
	sc->args = f.argp;
	sc->n_args = 1;
	/* fchmodat has the mode in argument 2: its own rule */
	sc = fx_rule(&f, chmod_names + 1, 1, "SCMP_ACT_ERRNO");
	grpc__linux_seccomp_arg__init(&f.arg[1]);
	f.argp[1] = &f.arg[1];
	f.arg[1].index = 2;
	f.arg[1].op = "SCMP_CMP_MASKED_EQ";
	f.arg[1].value = 0777; /* the mask */
	f.arg[1].valuetwo = 0777;
	sc->args = f.argp + 1;
	sc->n_args = 1;
	int status = -1;
	char *out = run("sec4", &f, &status);
	expect_line(out, "No space left on device");
	expect_line(out, "a=1\n");
	expect_line(out, "b=0\n");
	free(out);
}

static void test_seccomp_inherited_by_exec(void **state _unused_)
{
	struct fx f;
	fx_init(&f, ARGS("sleep", "1000"));
	fx_rule(&f, mkdir_names, 2, "SCMP_ACT_ERRNO");
	fx_docker_caps(&f);
	create_started("sec5", &f);
	/* an exec without capabilities of its own: the container's, and its filter */
	struct ct_test_spec e = {.args = ARGS("sh", "-c",
					      "mkdir /tmp/e 2>&1; grep -E '^(Seccomp|CapEff):' "
					      "/proc/self/status")};
	int status = -1;
	char *out = ct_exec_run(ct_cl, "sec5", "e1", &e, &status);
	assert_int_equal(status, 0);
	expect_line(out, "Operation not permitted");
	expect_line(out, "Seccomp:\t2\n");
	expect_line(out, "CapEff:\t00000000a80425fb\n");
	free(out);
	char msg[512];
	assert_int_equal(ct_signal(ct_cl, "sec5", "", 9, msg), RPC_OK);
	assert_int_equal(ct_wait(ct_cl, "sec5", "sec5", msg), 128 + 9);
	remove_ok("sec5");
}

static void test_malformed_profiles_refused(void **state _unused_)
{
	struct fx f;
	char *chmod_name[] = {"chmod"};
	fx_init(&f, ARGS("true"));
	fx_rule(&f, mkdir_names, 2, "SCMP_ACT_ERRNO");
	fx_rule(&f, chmod_name, 1, "SCMP_ACT_FOO");
	expect_refused("bad1", &f, RPC_INVALID_ARGUMENT, "Syscalls[1] (chmod)", "'SCMP_ACT_FOO'");

	fx_init(&f, ARGS("true"));
	Grpc__LinuxSyscall *sc = fx_rule(&f, mkdir_names, 2, "SCMP_ACT_ERRNO");
	grpc__linux_seccomp_arg__init(&f.arg[0]);
	f.argp[0] = &f.arg[0];
	f.arg[0].op = "SCMP_CMP_SOMETIMES";
	sc->args = f.argp;
	sc->n_args = 1;
	expect_refused("bad1", &f, RPC_INVALID_ARGUMENT, "Syscalls[0] (mkdir)",
		       "'SCMP_CMP_SOMETIMES'");

	fx_init(&f, ARGS("true"));
	fx_rule(&f, mkdir_names, 2, "SCMP_ACT_ERRNO");
	f.seccomp.defaultaction = "SCMP_ACT_MAYBE";
	expect_refused("bad1", &f, RPC_INVALID_ARGUMENT, "DefaultAction", "'SCMP_ACT_MAYBE'");

	/* nothing of the refused attempts is left: the same id works */
	fx_init(&f, ARGS("true"));
	int status = -1;
	char *out = run("bad1", &f, &status);
	assert_int_equal(status, 0);
	free(out);
}

static void test_guest_details_supports_seccomp(void **state _unused_)
{
	Grpc__GuestDetailsRequest req = GRPC__GUEST_DETAILS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char msg[512];
	assert_int_equal(harness_call(ct_cl, "GetGuestDetails", &req.base,
				      &grpc__guest_details_response__descriptor, &resp, msg),
			 RPC_OK);
	Grpc__GuestDetailsResponse *r = (Grpc__GuestDetailsResponse *)resp;
	assert_non_null(r->agent_details);
	assert_true(r->agent_details->supports_seccomp);
	protobuf_c_message_free_unpacked(resp, NULL);
}

/* ---- rlimits, sysctls, other refusals ---- */

static void test_rlimit_nofile(void **state _unused_)
{
	struct fx f;
	fx_init(&f, ARGS("sh", "-c", "ulimit -n; ulimit -H -n"));
	grpc__posixrlimit__init(&f.rl[0]);
	f.rlp[0] = &f.rl[0];
	f.rl[0].type = "RLIMIT_NOFILE";
	f.rl[0].soft = 1234;
	f.rl[0].hard = 4321;
	f.proc.rlimits = f.rlp;
	f.proc.n_rlimits = 1;
	int status = -1;
	char *out = run("rl1", &f, &status);
	assert_string_equal(out, "1234\n4321\n");
	free(out);

	f.rl[0].type = "RLIMIT_NOPE";
	expect_refused("rl2", &f, RPC_INVALID_ARGUMENT, "RLIMIT_NOPE", NULL);
}

static void test_sysctl_and_readonly_proc_sys(void **state _unused_)
{
	struct fx f;
	fx_init(&f, ARGS("sh", "-c",
			 "cat /proc/sys/kernel/shmmni; echo 100 > /proc/sys/kernel/shmmni; "
			 "echo rc=$?; cat /proc/sys/kernel/shmmni"));
	grpc__linux__sysctl_entry__init(&f.sysctl[0]);
	f.sysctlp[0] = &f.sysctl[0];
	f.sysctl[0].key = "kernel.shmmni";
	f.sysctl[0].value = "1234";
	f.lx.sysctl = f.sysctlp;
	f.lx.n_sysctl = 1;
	char *ro[] = {"/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"};
	f.lx.readonlypaths = ro;
	f.lx.n_readonlypaths = ARRAY_SIZE(ro);
	int status = -1;
	char *out = run("sys1", &f, &status);
	/* written before /proc/sys went read-only; refused afterwards */
	if (!strstr(out, "1234\n") || !strstr(out, "rc=1\n") || strstr(out, "100\n"))
		fail_msg("unexpected output:\n%s", out);
	free(out);

	/* keys outside the container's namespaces are refused, naming the key */
	f.sysctl[0].key = "vm.overcommit_memory";
	expect_refused("sys2", &f, RPC_INVALID_ARGUMENT, "vm.overcommit_memory", NULL);
	f.sysctl[0].key = "kernel.hostname";
	expect_refused("sys2", &f, RPC_INVALID_ARGUMENT, "kernel.hostname", NULL);
}

static void test_unknown_capability_refused(void **state _unused_)
{
	struct fx f;
	char *bad[] = {"CAP_KILL", "CAP_WORLD_DOMINATION"};
	fx_init(&f, ARGS("true"));
	f.caps.effective = bad;
	f.caps.n_effective = 2;
	f.proc.capabilities = &f.caps;
	expect_refused("cap3", &f, RPC_INVALID_ARGUMENT, "CAP_WORLD_DOMINATION", "Effective");
}

/* ---- masked and read-only paths ---- */

static void test_masked_paths(void **state _unused_)
{
	struct fx f;
	/* Docker's list; /proc/kcore is absent on some kernels, /proc/keys and
	 * /proc/timer_list show that files are masked, /proc/acpi and /proc/driver that
	 * directories are. */
	char *masked[] = {"/proc/asound",      "/proc/acpi",	      "/proc/kcore",
			  "/proc/keys",	       "/proc/latency_stats", "/proc/timer_list",
			  "/proc/timer_stats", "/proc/sched_debug",   "/proc/scsi",
			  "/sys/firmware",     "/proc/driver"};
	fx_init(&f, ARGS("sh", "-c",
			 "echo kcore=$(cat /proc/kcore 2>/dev/null | wc -c); "
			 "echo keys=$(cat /proc/keys | wc -c); "
			 "echo timer=$(cat /proc/timer_list | wc -c); "
			 "echo acpi=$(ls -A /proc/acpi | wc -l); "
			 "echo driver=$(ls -A /proc/driver | wc -l); "
			 "touch /proc/acpi/x 2>/dev/null; echo touch=$?; "
			 "echo cpuinfo=$(grep -c processor /proc/cpuinfo)"));
	f.lx.maskedpaths = masked;
	f.lx.n_maskedpaths = ARRAY_SIZE(masked);
	int status = -1;
	char *out = run("mask1", &f, &status);
	expect_line(out, "kcore=0\n");
	expect_line(out, "keys=0\n");
	expect_line(out, "timer=0\n");
	expect_line(out, "acpi=0\n");
	expect_line(out, "driver=0\n");
	expect_line(out, "touch=1\n");
	if (strstr(out, "cpuinfo=0\n"))
		fail_msg("an unmasked file is empty:\n%s", out);
	free(out);

	/* without masking, the same files have content (so the test can fail) */
	fx_init(&f, ARGS("sh", "-c", "echo keys=$(cat /proc/keys | wc -c)"));
	out = run("mask2", &f, &status);
	if (strstr(out, "keys=0\n"))
		fail_msg("/proc/keys is empty even unmasked:\n%s", out);
	free(out);
}

/* A planted /dev/null (a regular file bound over /dev) must not become the mask. */
static void test_masked_needs_real_dev_null(void **state _unused_)
{
	char dev[64], cmd[256];
	snprintf(dev, sizeof(dev), "/tmp/ember-sec-dev-XXXXXX");
	assert_non_null(mkdtemp(dev));
	snprintf(cmd, sizeof(cmd), "echo planted > %s/null", dev);
	assert_int_equal(harness_sh("%s", cmd), 0);
	struct fx f;
	char *masked[] = {"/proc/keys"};
	char *bind_opts[] = {"rbind"};
	fx_init(&f, ARGS("cat", "/proc/keys"));
	Grpc__Mount *m = fx_mount(&f, "/dev", "bind", dev);
	m->options = bind_opts;
	m->n_options = 1;
	f.lx.maskedpaths = masked;
	f.lx.n_maskedpaths = 1;
	expect_refused("mask3", &f, RPC_PERMISSION_DENIED, "'/proc/keys'", NULL);
	harness_sh("rm -rf %s", dev);
}

/* ---- paths that try to leave the rootfs ---- */

static void test_mount_through_evil_symlink(void **state _unused_)
{
	char top[64], rootfs[128], outside[128];
	snprintf(top, sizeof(top), "/tmp/ember-sec-evil-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(rootfs, sizeof(rootfs), "%s/rootfs", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	assert_int_equal(harness_sh("cp -a %s %s && mkdir %s", ct_rootfs(), rootfs, outside), 0);
	/* absolute: the host's path of the outside directory; relative: climbing out */
	assert_int_equal(harness_sh("ln -s %s %s/evil && ln -s ../../../../../../../../..%s "
				    "%s/evil2 && ln -s /proc/sys %s/sneaky",
				    outside, rootfs, outside, rootfs, rootfs),
			 0);

	struct fx f;
	fx_init(&f, ARGS("sh", "-c", "ls -d /evil/sub /evil2/sub2/deeper && echo ok"));
	f.root.path = rootfs;
	fx_mount(&f, "/evil/sub", "tmpfs", "tmpfs");
	fx_mount(&f, "/evil2/sub2/deeper", "tmpfs", "tmpfs");
	int status = -1;
	char *out = run("evil1", &f, &status);
	expect_line(out, "ok\n");
	free(out);
	/* nothing was created on the host side */
	DIR *d = opendir(outside);
	assert_non_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			fail_msg("'%s/%s' was created outside the rootfs", outside, e->d_name);
	closedir(d);

	/* a symlink into /proc does not smuggle a mount past the /proc rules */
	fx_init(&f, ARGS("true"));
	f.root.path = rootfs;
	char *bind_opts[] = {"bind"};
	Grpc__Mount *m = fx_mount(&f, "/sneaky/kernel", "bind", outside);
	m->options = bind_opts;
	m->n_options = 1;
	char msg[512] = "";
	int code = create("evil2", &f, msg);
	if (code == RPC_OK || !strstr(msg, "/sneaky/kernel"))
		fail_msg("create evil2: %s '%s'", rpc_code_name(code), msg);
	assert_true(harness_agent_alive(&ct_agent));

	/* the /proc rules by name */
	fx_init(&f, ARGS("true"));
	m = fx_mount(&f, "/proc/sys", "bind", outside);
	m->options = bind_opts;
	m->n_options = 1;
	expect_refused("evil3", &f, RPC_INVALID_ARGUMENT, "'/proc/sys'", NULL);
	fx_init(&f, ARGS("true"));
	f.mounts[0].type = "tmpfs";
	expect_refused("evil3", &f, RPC_INVALID_ARGUMENT, "/proc", "'tmpfs'");

	harness_sh("umount -R %s/tmp 2>/dev/null; rm -rf %s", rootfs, top);
}

/* ---- nothing the agent holds reaches the container (runc CVE-2024-21626 class) ---- */

static void test_no_leaked_fds(void **state _unused_)
{
	struct fx f;
	fx_init(&f, ARGS("sleep", "1000"));
	create_started("fds1", &f);
	struct ct_test_spec e = {.args = ARGS("ls", "/proc/1/fd")};
	int status = -1;
	char *out = ct_exec_run(ct_cl, "fds1", "e1", &e, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "0\n1\n2\n");
	free(out);

	/* an exec's cwd through a /proc/self/fd magic link is refused, whatever the fd */
	for (int fd = 3; fd < 12; fd++) {
		char cwd[32], eid[16], msg[512] = "";
		snprintf(cwd, sizeof(cwd), "/proc/self/fd/%d", fd);
		snprintf(eid, sizeof(eid), "cwd%d", fd);
		struct ct_test_spec s = {.args = ARGS("pwd"), .cwd = cwd};
		int code = ct_exec(ct_cl, "fds1", eid, &s, msg);
		if (code == RPC_OK) {
			char *o = ct_read_all(ct_cl, "fds1", eid, false);
			ct_wait(ct_cl, "fds1", eid, msg);
			fail_msg("exec with cwd %s ran (pwd: %s)", cwd, o);
		}
		if (!strstr(msg, cwd))
			fail_msg("exec with cwd %s: %s '%s' does not name it", cwd,
				 rpc_code_name(code), msg);
	}
	char msg[512];
	assert_int_equal(ct_signal(ct_cl, "fds1", "", 9, msg), RPC_OK);
	ct_wait(ct_cl, "fds1", "fds1", msg);
	remove_ok("fds1");

	/* the same for the init process */
	fx_init(&f, ARGS("pwd"));
	f.proc.cwd = "/proc/self/fd/4";
	char m2[512] = "";
	int code = create("fds2", &f, m2);
	if (code == RPC_OK || !strstr(m2, "/proc/self/fd/4"))
		fail_msg("create with a magic-link cwd: %s '%s'", rpc_code_name(code), m2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_capabilities),
	    cmocka_unit_test(test_capabilities_non_root_ambient),
	    cmocka_unit_test(test_no_new_privs),
	    cmocka_unit_test(test_seccomp_denies_mkdir),
	    cmocka_unit_test(test_seccomp_errnoret_and_args),
	    cmocka_unit_test(test_seccomp_inherited_by_exec),
	    cmocka_unit_test(test_malformed_profiles_refused),
	    cmocka_unit_test(test_guest_details_supports_seccomp),
	    cmocka_unit_test(test_rlimit_nofile),
	    cmocka_unit_test(test_sysctl_and_readonly_proc_sys),
	    cmocka_unit_test(test_unknown_capability_refused),
	    cmocka_unit_test(test_masked_paths),
	    cmocka_unit_test(test_masked_needs_real_dev_null),
	    cmocka_unit_test(test_mount_through_evil_symlink),
	    cmocka_unit_test(test_no_leaked_fds),
	};
	return cmocka_run_group_tests(tests, ct_setup, ct_teardown);
}
