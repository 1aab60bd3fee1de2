/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device policy on real containers: the agent's BPF device program on each container's
 * cgroup v2 directory. The development hosts keep their controllers on cgroup v1, but device
 * programs attach to v2 directories all the same (the kernel runs the program of the task's
 * v2 cgroup on every device open and mknod, next to v1's devices controller), so this runs
 * on the host.
 *
 * The containers run as root with the default capabilities, CAP_MKNOD included: mknod of
 * any device works, opening it is what the policy decides. A loop device with known content
 * stands in for a guest disk. A kernel without BPF is played by a seccomp filter on the
 * agent.
 */
#include "test-container-util.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#define CONTENT	   "hello-ember"
#define EPERM_TEXT "Operation not permitted"

static char img[64], loopdev[32];
static unsigned loop_minor;

static int loop_setup(void **state)
{
	ct_setup(state);
	snprintf(img, sizeof(img), "/tmp/ember-it-devcg-%d.img", (int)getpid());
	assert_int_equal(harness_sh("dd if=/dev/zero of=%s bs=1k count=64 2>/dev/null && "
				    "printf %s | dd of=%s conv=notrunc 2>/dev/null",
				    img, CONTENT, img),
			 0);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s", img);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(loopdev, sizeof(loopdev), p));
	assert_int_equal(pclose(p), 0);
	loopdev[strcspn(loopdev, "\n")] = '\0';
	struct stat st;
	assert_int_equal(stat(loopdev, &st), 0);
	assert_int_equal(major(st.st_rdev), 7);
	loop_minor = minor(st.st_rdev);
	return 0;
}

static int loop_teardown(void **state)
{
	harness_sh("losetup -d %s", loopdev);
	unlink(img);
	return ct_teardown(state);
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in '%s'", needle, hay);
}

static void assert_lacks(const char *hay, const char *needle)
{
	if (strstr(hay, needle))
		fail_msg("'%s' found in '%s'", needle, hay);
}

/* The script's output (stderr merged), run as a container of its own. */
static char *run_sh(const char *cid, const char *script, Grpc__LinuxResources *res)
{
	char all[1024];
	snprintf(all, sizeof(all), "exec 2>&1; %s\ntrue", script);
	struct ct_test_spec s = {.args = ARGS("sh", "-c", all), .resources = res};
	int status;
	char *out = ct_run(ct_cl, cid, &s, &status);
	if (status != 0)
		fail_msg("%s: exit %d: %s", cid, status, out);
	return out;
}

/* ...or in a running container. */
static char *exec_sh(const char *cid, const char *eid, const char *script)
{
	char all[1024];
	snprintf(all, sizeof(all), "exec 2>&1; %s\ntrue", script);
	struct ct_test_spec s = {.args = ARGS("sh", "-c", all)};
	int status;
	char *out = ct_exec_run(ct_cl, cid, eid, &s, &status);
	if (status != 0)
		fail_msg("%s/%s: exit %d: %s", cid, eid, status, out);
	return out;
}

/* mknod the loop device at /tmp/ld and try to read it: its content, or the error. */
static const char *read_loop_script(void)
{
	static char s[256];
	snprintf(s, sizeof(s),
		 "rm -f /tmp/ld; mknod /tmp/ld b 7 %u && echo mknod:ok; "
		 "head -c %zu /tmp/ld 2>&1; echo; ",
		 loop_minor, strlen(CONTENT));
	return s;
}

static Grpc__LinuxDeviceCgroup rule(bool allow, const char *type, int64_t major, int64_t minor,
				    const char *access)
{
	Grpc__LinuxDeviceCgroup d = GRPC__LINUX_DEVICE_CGROUP__INIT;
	d.allow = allow;
	d.type = (char *)type;
	d.major = major;
	d.minor = minor;
	d.access = (char *)access;
	return d;
}

/* ---- tests ---- */

/* What the Go runtime sends (no device rule): the default devices and ttys work, a disk can
 * be mknod'ed (CAP_MKNOD) but not opened. */
static void test_default_policy(void **state _unused_)
{
	char script[1024];
	snprintf(script, sizeof(script),
		 "echo x > /dev/null && echo null:ok; "
		 "head -c 3 /dev/zero | wc -c; "
		 "head -c 1 /dev/urandom > /dev/null && echo urandom:ok; "
		 "rm -f /tmp/sda /tmp/fuse; "
		 "mknod /tmp/sda b 8 0 && echo mknod-sda:ok; "
		 "head -c 1 /tmp/sda > /dev/null; "
		 "mknod /tmp/fuse c 10 229 && echo mknod-fuse:ok; "
		 "cat /tmp/fuse; "
		 "%s ",
		 read_loop_script());
	char *out = run_sh("dflt", script, NULL);
	assert_contains(out, "null:ok\n3\nurandom:ok\nmknod-sda:ok\n");
	assert_contains(out, "head: /tmp/sda: " EPERM_TEXT);
	assert_contains(out, "mknod-fuse:ok\n");
	assert_contains(out, "cat: can't open '/tmp/fuse': " EPERM_TEXT);
	assert_contains(out, "mknod:ok\nhead: /tmp/ld: " EPERM_TEXT);
	assert_lacks(out, CONTENT);
	free(out);

	/* A terminal: the container's pts (c 136:N; it lives in the agent's devpts, reached
	 * again through /proc/self/fd) opens again, and /dev/ptmx (c 5:2) gives a new one. */
	struct ct_test_spec t = {.args = ARGS("sh", "-c",
					      "[ -t 1 ] && echo again > /proc/self/fd/1 && "
					      "exec 3<>/dev/ptmx && echo ptmx:ok"),
				 .terminal = true};
	int status;
	out = ct_run(ct_cl, "tty", &t, &status);
	if (status != 0)
		fail_msg("tty: exit %d: %s", status, out);
	assert_contains(out, "again");
	assert_contains(out, "ptmx:ok");
	free(out);
}

/* A spec rule opens one device for what it says (runtimes' form: a deny-all first). */
static void test_spec_rule(void **state _unused_)
{
	Grpc__LinuxDeviceCgroup r[] = {rule(false, "a", 0, 0, "rwm"),
				       rule(true, "b", 7, loop_minor, "r")};
	Grpc__LinuxDeviceCgroup *rv[] = {&r[0], &r[1]};
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = rv;
	res.n_devices = 2;
	char script[512];
	snprintf(script, sizeof(script),
		 "%s echo x > /tmp/ld; "
		 "rm -f /tmp/other; mknod /tmp/other b 7 %u; head -c 1 /tmp/other; "
		 "echo x > /dev/null && echo null:ok;",
		 read_loop_script(), loop_minor + 1);
	char *out = run_sh("rule", script, &res);
	assert_contains(out, "mknod:ok\n" CONTENT "\n");
	/* read only */
	assert_contains(out, "can't create /tmp/ld: " EPERM_TEXT);
	/* that device only */
	assert_contains(out, "head: /tmp/other: " EPERM_TEXT);
	/* the whitelist stays under the deny-all */
	assert_contains(out, "null:ok");
	free(out);
}

/* "a *:* rwm" (a privileged container; type and numbers unset, as the Go runtime sends it):
 * every device. */
static void test_allow_all(void **state _unused_)
{
	Grpc__LinuxDeviceCgroup r = rule(true, "", 0, 0, "rwm"), *rv[] = {&r};
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = rv;
	res.n_devices = 1;
	char *out = run_sh("all", read_loop_script(), &res);
	assert_contains(out, "mknod:ok\n" CONTENT "\n");
	free(out);
}

/* The number of device programs attached to the cgroup of container `cid` itself. */
static unsigned programs_of(const char *cid)
{
	char cmd[256], path[1024];
	snprintf(cmd, sizeof(cmd), "find /sys/fs/cgroup -type d -name %s", cid);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(path, sizeof(path), p));
	pclose(p);
	path[strcspn(path, "\n")] = '\0';
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	uint32_t ids[8];
	union bpf_attr a = {0};
	a.query.target_fd = (uint32_t)fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = 8;
	assert_int_equal(syscall(SYS_bpf, BPF_PROG_QUERY, &a, sizeof(a)), 0);
	close(fd);
	return a.query.prog_cnt;
}

static int update_devices(const char *cid, Grpc__LinuxDeviceCgroup **v, size_t n, char *msg)
{
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = v;
	res.n_devices = n;
	Grpc__UpdateContainerRequest req = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.resources = &res;
	ProtobufCMessage *resp = NULL;
	int code = harness_call(ct_cl, "UpdateContainer", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

/* UpdateContainer's rules take effect on the running container, and replace the previous
 * update's; the new program replaces the old one on the cgroup. */
static void test_update(void **state _unused_)
{
	char msg[512], cid[32], other[32];
	snprintf(cid, sizeof(cid), "upd%d", (int)getpid());
	snprintf(other, sizeof(other), "oth%d", (int)getpid());
	struct ct_test_spec s = {.args = ARGS("sleep", "1000")};
	assert_int_equal(ct_create(ct_cl, cid, &s, false, msg), RPC_OK);
	assert_int_equal(ct_start(ct_cl, cid, msg), RPC_OK);
	assert_int_equal(programs_of(cid), 1);
	/* a container with the same policy (they share one program) */
	assert_int_equal(ct_create(ct_cl, other, &s, false, msg), RPC_OK);
	assert_int_equal(ct_start(ct_cl, other, msg), RPC_OK);

	char *out = exec_sh(cid, "e1", read_loop_script());
	assert_contains(out, "head: /tmp/ld: " EPERM_TEXT);
	free(out);

	Grpc__LinuxDeviceCgroup allow = rule(true, "b", 7, loop_minor, "r"), *av[] = {&allow};
	assert_int_equal(update_devices(cid, av, 1, msg), RPC_OK);
	out = exec_sh(cid, "e2", read_loop_script());
	assert_contains(out, "mknod:ok\n" CONTENT "\n");
	free(out);

	Grpc__LinuxDeviceCgroup deny = rule(false, "c", 1, 3, "w"), *dv[] = {&deny};
	assert_int_equal(update_devices(cid, dv, 1, msg), RPC_OK);
	char script[512];
	snprintf(script, sizeof(script), "%s cat /dev/null && echo read:ok; echo x > /dev/null",
		 read_loop_script());
	out = exec_sh(cid, "e3", script);
	/* the first update's rule is gone */
	assert_contains(out, "head: /tmp/ld: " EPERM_TEXT);
	assert_contains(out, "read:ok\n");
	assert_contains(out, "can't create /dev/null: " EPERM_TEXT);
	free(out);
	/* the other container keeps its policy */
	out = exec_sh(other, "o1", "echo x > /dev/null && echo null:ok");
	assert_contains(out, "null:ok");
	free(out);

	/* a bad rule changes nothing */
	Grpc__LinuxDeviceCgroup bad = rule(true, "q", 1, 3, "w"), *bv[] = {&bad};
	assert_int_equal(update_devices(cid, bv, 1, msg), RPC_INVALID_ARGUMENT);
	assert_contains(msg, "type 'q'");
	out = exec_sh(cid, "e4", "echo x > /dev/null");
	assert_contains(out, "can't create /dev/null: " EPERM_TEXT);
	free(out);

	/* allowed all: no program left; and back */
	Grpc__LinuxDeviceCgroup all = rule(true, "a", -1, -1, "rwm"), *allv[] = {&all};
	assert_int_equal(update_devices(cid, allv, 1, msg), RPC_OK);
	assert_int_equal(programs_of(cid), 0);
	out = exec_sh(cid, "e5", read_loop_script());
	assert_contains(out, CONTENT);
	free(out);
	assert_int_equal(update_devices(cid, dv, 1, msg), RPC_OK);
	assert_int_equal(programs_of(cid), 1);
	out = exec_sh(cid, "e6", read_loop_script());
	assert_contains(out, "head: /tmp/ld: " EPERM_TEXT);
	free(out);

	for (int i = 0; i < 2; i++) {
		const char *id = i ? other : cid;
		assert_int_equal(ct_signal(ct_cl, id, id, 9, msg), RPC_OK);
		assert_int_equal(ct_wait(ct_cl, id, id, msg), 128 + 9);
		assert_int_equal(ct_remove(ct_cl, id, 0, msg), RPC_OK);
	}
}

/* Malformed rules: INVALID_ARGUMENT naming the rule and the value, nothing created. */
static void test_bad_rules(void **state _unused_)
{
	char msg[512];
	Grpc__LinuxDeviceCgroup r[] = {rule(true, "c", 1, 3, "rwm"), rule(true, "x", 1, 3, "rw")};
	Grpc__LinuxDeviceCgroup *rv[] = {&r[0], &r[1]};
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = rv;
	res.n_devices = 2;
	struct ct_test_spec s = {.args = ARGS("true"), .resources = &res};
	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_contains(msg, "device rule 1");
	assert_contains(msg, "type 'x'");
	r[1] = rule(true, "b", 8, 0, "rwz");
	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_contains(msg, "access 'rwz'");
	r[1] = rule(false, "b", 8, 2000000, "r");
	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_contains(msg, "minor 2000000");

	size_t n = 257; /* CGROUP_MAX_DEVCG_RULES + 1 */
	Grpc__LinuxDeviceCgroup **many = calloc(n, sizeof(*many));
	for (size_t i = 0; i < n; i++)
		many[i] = &r[0];
	res.devices = many;
	res.n_devices = n;
	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_contains(msg, "257 device rules");
	free(many);
	assert_int_equal(agent_dir_entries(ct_agent.pid, "/run/kata-containers"), 0);
}

/* The largest policy the agent accepts (256 rules at creation, 256 in an update, every one
 * with a type, a major and a minor) passes the kernel's verifier; the last rule wins. */
static void test_largest_policy(void **state _unused_)
{
	char msg[512];
	enum { N = 256 }; /* CGROUP_MAX_DEVCG_RULES */
	Grpc__LinuxDeviceCgroup r[N], *rv[N];
	for (int i = 0; i < N; i++) {
		/* numbers that are no device here; the loop device last */
		r[i] = rule(i % 3 != 0, i % 2 ? "b" : "c", 200 + i % 50, i, i % 4 ? "rw" : "m");
		rv[i] = &r[i];
	}
	r[N - 1] = rule(true, "b", 7, loop_minor, "r");
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = rv;
	res.n_devices = N;
	char cid[32];
	snprintf(cid, sizeof(cid), "big%d", (int)getpid());
	struct ct_test_spec s = {.args = ARGS("sleep", "1000"), .resources = &res};
	if (ct_create(ct_cl, cid, &s, false, msg) != RPC_OK)
		fail_msg("create: %s", msg);
	assert_int_equal(ct_start(ct_cl, cid, msg), RPC_OK);
	char *out = exec_sh(cid, "e1", read_loop_script());
	assert_contains(out, "mknod:ok\n" CONTENT "\n");
	free(out);

	r[N - 1] = rule(false, "b", 7, loop_minor, "r");
	if (update_devices(cid, rv, N, msg) != RPC_OK)
		fail_msg("update: %s", msg);
	out = exec_sh(cid, "e2", read_loop_script());
	assert_contains(out, "head: /tmp/ld: " EPERM_TEXT);
	free(out);
	assert_int_equal(ct_signal(ct_cl, cid, cid, 9, msg), RPC_OK);
	assert_int_equal(ct_wait(ct_cl, cid, cid, msg), 128 + 9);
	assert_int_equal(ct_remove(ct_cl, cid, 0, msg), RPC_OK);
}

/* A device CreateContainer hot-plugs (here a loop device handed over as mmioblk, with the
 * host's numbers 8:16 in the spec) is open to the container: the storage module rewrites the
 * spec to its guest numbers and adds an allow rule, even with no rule from the runtime (the
 * Go runtime strips them). */
static void test_hotplugged_device(void **state _unused_)
{
	Grpc__Device d = GRPC__DEVICE__INIT, *dv[] = {&d};
	d.type = "mmioblk";
	d.vm_path = loopdev;
	d.container_path = "/dev/xvdh";
	Grpc__LinuxDevice ld = GRPC__LINUX_DEVICE__INIT, *ldv[] = {&ld};
	ld.path = "/dev/xvdh";
	ld.type = "b";
	ld.major = 8;
	ld.minor = 16;
	ld.filemode = 0600;
	char script[256];
	snprintf(script, sizeof(script), "head -c %zu /dev/xvdh; echo", strlen(CONTENT));
	struct ct_test_spec s = {.args = ARGS("sh", "-c", script),
				 .devices = dv,
				 .n_devices = 1,
				 .linux_devices = ldv,
				 .n_linux_devices = 1};
	int status;
	char *out = ct_run(ct_cl, "hot", &s, &status);
	assert_int_equal(status, 0);
	assert_contains(out, CONTENT "\n");
	free(out);
}

/* ---- a kernel without BPF device programs ---- */

/* The test binary stands in for the agent (EMBER_AGENT) and execs the real one under a
 * seccomp filter that answers bpf() with an errno: ENOSYS is a kernel without
 * CONFIG_BPF_SYSCALL, EINVAL (with no verifier log) one without CONFIG_CGROUP_BPF. */
#define WRAP_ERRNO "EMBER_TEST_BPF_ERRNO"
#define WRAP_AGENT "EMBER_TEST_REAL_AGENT"

static void exec_agent_without_bpf(char **argv)
{
	struct sock_filter f[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_bpf, 0, 1),
	    BPF_STMT(BPF_RET | BPF_K,
		     SECCOMP_RET_ERRNO | ((unsigned)atoi(getenv(WRAP_ERRNO)) & SECCOMP_RET_DATA)),
	    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = {ARRAY_SIZE(f), f};
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		_exit(123);
	execv(getenv(WRAP_AGENT), argv);
	_exit(124);
}

static void without_bpf(int err, const char *missing)
{
	char msg[512], self[PATH_MAX], errtext[16];
	const char *agent = getenv("EMBER_AGENT");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	assert_true(n > 0);
	self[n] = '\0';
	snprintf(errtext, sizeof(errtext), "%d", err);
	setenv(WRAP_AGENT, agent, 1);
	setenv(WRAP_ERRNO, errtext, 1);
	_cleanup_free_ char *saved = strdup(agent);
	setenv("EMBER_AGENT", self, 1);
	struct agent_proc a;
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	setenv("EMBER_AGENT", saved, 1);
	unsetenv(WRAP_ERRNO);
	struct rpc_client *cl = harness_connect(&a);

	struct ct_test_spec s = {.args = ARGS("true")};
	assert_int_equal(ct_create(cl, "nobpf", &s, false, msg), RPC_FAILED_PRECONDITION);
	assert_contains(msg, "device cgroup policy");
	assert_contains(msg, missing);
	assert_int_equal(agent_dir_entries(a.pid, "/run/kata-containers"), 0);
	/* a container allowed every device needs no program */
	Grpc__LinuxDeviceCgroup r = rule(true, "a", 0, 0, "rwm"), *rv[] = {&r};
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = rv;
	res.n_devices = 1;
	s.resources = &res;
	int status;
	free(ct_run(cl, "all", &s, &status));
	assert_int_equal(status, 0);
	rpc_client_free(cl);
	harness_stop_agent(&a);
}

static void test_kernel_without_bpf(void **state _unused_)
{
	ct_rootfs();
	without_bpf(ENOSYS, "CONFIG_BPF_SYSCALL");
	without_bpf(EINVAL, "CONFIG_CGROUP_BPF");
}

int main(int argc _unused_, char **argv)
{
	if (getenv(WRAP_ERRNO))
		exec_agent_without_bpf(argv);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_default_policy, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_spec_rule, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_allow_all, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_update, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_rules, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_largest_policy, loop_setup, loop_teardown),
	    cmocka_unit_test_setup_teardown(test_hotplugged_device, loop_setup, loop_teardown),
	    cmocka_unit_test(test_kernel_without_bpf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
