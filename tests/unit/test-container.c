/* SPDX-License-Identifier: Apache-2.0 */
/* The container engine's pure logic: passwd/group parsing, mount options, spec -> plan. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "container/container.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>

static const char passwd[] = "root:x:0:0:root:/root:/bin/sh\n"
			     "# comment\n"
			     "broken line\n"
			     "user:x:1000:1001:User:/home/user:/bin/sh\n";
static const char group[] = "root:x:0:\n"
			    "wheel:x:10:user,other\n"
			    "audio:x:29:other\n"
			    "video:x:44:user\n"
			    "user:x:1001:\n";

static void test_passwd(void **state _unused_)
{
	struct ct_passwd pw;
	assert_int_equal(ct_passwd_lookup(passwd, "user", 0, &pw), 0);
	assert_int_equal(pw.uid, 1000);
	assert_int_equal(pw.gid, 1001);
	assert_string_equal(pw.home, "/home/user");
	assert_int_equal(ct_passwd_lookup(passwd, NULL, 0, &pw), 0);
	assert_string_equal(pw.home, "/root");
	assert_int_equal(ct_passwd_lookup(passwd, "ghost", 0, &pw), -ENOENT);
	assert_int_equal(ct_passwd_lookup(passwd, NULL, 4242, &pw), -ENOENT);
	/* "broken line" is skipped, not a user called "broken line" */
	assert_int_equal(ct_passwd_lookup(passwd, "broken line", 0, &pw), -ENOENT);
}

static void test_group(void **state _unused_)
{
	gid_t gids[8], g;
	size_t n;
	assert_int_equal(ct_group_members(group, "user", gids, 8, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(gids[0], 10);
	assert_int_equal(gids[1], 44);
	assert_int_equal(ct_group_members(group, "use", gids, 8, &n), 0); /* no prefix match */
	assert_int_equal(n, 0);
	assert_int_equal(ct_group_members(group, "user", gids, 1, &n), -E2BIG);
	assert_int_equal(ct_group_lookup(group, "audio", &g), 0);
	assert_int_equal(g, 29);
	assert_int_equal(ct_group_lookup(group, "nope", &g), -ENOENT);
}

static void test_mount_options(void **state _unused_)
{
	struct ct_arena a = {0};
	struct ct_mount m = {0};
	char *o1[] = {"nosuid", "noexec", "nodev", "mode=755", "size=65536k", "rslave", "ro"};
	assert_int_equal(ct_mount_parse_options(&a, o1, 7, &m), 0);
	assert_int_equal(m.flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
	assert_int_equal(m.propagation, MS_SLAVE | MS_REC);
	assert_string_equal(m.data, "mode=755,size=65536k");
	assert_false(m.bind);
	assert_true(m.attr_set & MOUNT_ATTR_RDONLY);

	struct ct_mount b = {0};
	char *o2[] = {"rbind", "rw", "private"};
	assert_int_equal(ct_mount_parse_options(&a, o2, 3, &b), 0);
	assert_true(b.bind);
	assert_true(b.recursive);
	assert_int_equal(b.flags, 0);
	assert_int_equal(b.propagation, MS_PRIVATE);
	assert_null(b.data);

	struct ct_mount c = {0};
	char *o3[] = {"bind", "strictatime", "nosymfollow"};
	assert_int_equal(ct_mount_parse_options(&a, o3, 3, &c), 0);
	assert_true(c.bind && !c.recursive);
	assert_true(c.flags & MS_STRICTATIME);
	ct_arena_free(&a);
}

/* A rootfs with an executable and passwd/group files, made in a temp dir. */
static char root[64];

static int make_root(void **state _unused_)
{
	strcpy(root, "/tmp/ember-ut-root-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	char cmd[2048];
	snprintf(
	    cmd, sizeof(cmd),
	    "mkdir -p %1$s/bin %1$s/etc %1$s/usr/bin && printf '#!/bin/sh\\n' > %1$s/bin/tool && "
	    "chmod 755 %1$s/bin/tool && printf 'x' > %1$s/usr/bin/noexec && "
	    "ln -s /bin/tool %1$s/usr/bin/link && ln -s ../../../../../etc %1$s/escape && "
	    "printf 'user:x:1000:1001::/home/user:/bin/sh\\n' > %1$s/etc/passwd && "
	    "printf 'wheel:x:10:user\\nuser:x:1001:\\n' > %1$s/etc/group",
	    root);
	return system(cmd) == 0 ? 0 : -1;
}

static int remove_root(void **state _unused_)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) == 0 ? 0 : -1;
}

static void test_find_executable(void **state _unused_)
{
	struct ct_arena a = {0};
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	const char *exe;
	assert_true(fd >= 0);
	assert_int_equal(ct_find_executable(&a, fd, "tool", "/usr/bin:/bin", &exe), 0);
	assert_string_equal(exe, "/bin/tool");
	assert_int_equal(ct_find_executable(&a, fd, "link", "/usr/bin:/bin", &exe), 0);
	assert_string_equal(exe, "/usr/bin/link");
	assert_int_equal(ct_find_executable(&a, fd, "noexec", "/usr/bin", &exe), -EACCES);
	assert_int_equal(ct_find_executable(&a, fd, "missing", NULL, &exe), -ENOENT);
	assert_int_equal(ct_find_executable(&a, fd, "/bin/tool", NULL, &exe), 0);
	assert_int_equal(ct_find_executable(&a, fd, "/bin/none", NULL, &exe), -ENOENT);
	/* the host's /bin/sh is not the container's: absolute paths stay inside the root */
	assert_int_equal(ct_find_executable(&a, fd, "sh", "/bin", &exe), -ENOENT);
	/* a symlink climbing out of the root ends at the root: /escape/passwd is <root>/etc/passwd
	 */
	char *text = NULL;
	assert_int_equal(ct_read_in_root(fd, "/escape/passwd", 4096, &text), 0);
	assert_non_null(strstr(text, "user:x:1000"));
	free(text);
	close(fd);
	ct_arena_free(&a);
}

static void test_plan_process(void **state _unused_)
{
	struct ct_plan p;
	char err[CT_ERR_MAX];
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	char *args[] = {"tool", "a"};
	char *env[] = {"PATH=/bin", "NOEQUALS", "X=1"};
	uint32_t gids[] = {5};
	Grpc__POSIXRlimit rl = GRPC__POSIXRLIMIT__INIT, *rls[] = {&rl};
	proc.args = args;
	proc.n_args = 2;
	proc.env = env;
	proc.n_env = 3;
	proc.user = &user;
	proc.rlimits = rls;
	proc.n_rlimits = 1;
	rl.type = "RLIMIT_NOFILE";
	rl.soft = 10;
	rl.hard = 20;
	user.username = "user";
	user.additionalgids = gids;
	user.n_additionalgids = 1;

	ct_plan_init(&p);
	assert_int_equal(ct_plan_process(&p, &proc, fd, err, sizeof(err)), 0);
	assert_string_equal(p.exe, "/bin/tool");
	assert_int_equal(p.uid, 1000);
	assert_int_equal(p.gid, 1001);
	assert_int_equal(p.n_groups, 2); /* 5 from the spec, 10 as a member of wheel */
	assert_int_equal(p.groups[0], 5);
	assert_int_equal(p.groups[1], 10);
	assert_string_equal(p.envp[0], "PATH=/bin");
	assert_string_equal(p.envp[1], "X=1");
	assert_string_equal(p.envp[2], "HOME=/home/user"); /* entries without '=' dropped */
	assert_null(p.envp[3]);
	assert_string_equal(p.cwd, "/");
	assert_int_equal(p.n_rlimits, 1);
	assert_int_equal(p.rlimits[0].lim.rlim_cur, 10);
	ct_plan_done(&p);

	/* errors name the value */
	user.username = "ghost";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_process(&p, &proc, fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "ghost"));
	ct_plan_done(&p);
	user.username = "";
	args[0] = "nothere";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_process(&p, &proc, fd, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "nothere"));
	ct_plan_done(&p);
	args[0] = "tool";
	rl.type = "RLIMIT_BOGUS";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_process(&p, &proc, fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "RLIMIT_BOGUS"));
	ct_plan_done(&p);
	rl.type = "RLIMIT_NOFILE";
	proc.cwd = "relative";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_process(&p, &proc, fd, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "relative"));
	ct_plan_done(&p);
	close(fd);
}

static void test_plan_from_spec(void **state _unused_)
{
	struct ct_plan p;
	char err[CT_ERR_MAX];
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__Root r = GRPC__ROOT__INIT;
	Grpc__Linux lx = GRPC__LINUX__INIT;
	Grpc__Mount m1 = GRPC__MOUNT__INIT, m2 = GRPC__MOUNT__INIT, *mounts[] = {&m1, &m2};
	Grpc__LinuxNamespace ns = GRPC__LINUX_NAMESPACE__INIT, *nss[] = {&ns};
	char *args[] = {"tool"};
	char *opts[] = {"nosuid", "mode=1777"};
	proc.args = args;
	proc.n_args = 1;
	spec.process = &proc;
	spec.root = &r;
	spec.linux_ = &lx;
	spec.hostname = "box";
	spec.mounts = mounts;
	spec.n_mounts = 2;
	m1.destination = "/proc";
	m1.type = "proc";
	m1.source = "proc";
	m2.destination = "/dev/shm";
	m2.type = "tmpfs";
	m2.source = "shm";
	m2.options = opts;
	m2.n_options = 2;
	lx.namespaces = nss;
	lx.n_namespaces = 1;
	ns.type = "network";
	r.readonly = true;
	struct ct_ns_config nsc = {.pidns_fd = -1, .ipc_fd = -1, .uts_fd = -1};

	ct_plan_init(&p);
	assert_int_equal(ct_plan_from_spec(&p, &spec, root, &nsc, err, sizeof(err)), 0);
	assert_int_equal(p.clone_flags, CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWPID |
					    CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET);
	assert_string_equal(p.hostname, "box");
	assert_true(p.root_readonly);
	assert_int_equal(p.root_propagation, MS_SLAVE | MS_REC);
	/* no /dev mount in the spec: a tmpfs /dev comes first; /dev/shm is the spec's */
	assert_int_equal(p.n_mounts, 3);
	assert_string_equal(p.mounts[0].dest, "/dev");
	assert_string_equal(p.mounts[2].data, "mode=1777");
	assert_true(p.default_dev && p.mount_pts && !p.mount_shm);
	assert_int_equal(p.n_devices, 6);
	ct_plan_done(&p);

	/* joining the sandbox's namespaces: no hostname of its own */
	nsc.ipc_fd = 100;
	nsc.uts_fd = 101;
	nsc.pidns_fd = 102;
	ct_plan_init(&p);
	assert_int_equal(ct_plan_from_spec(&p, &spec, root, &nsc, err, sizeof(err)), 0);
	assert_int_equal(p.clone_flags, CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWNET);
	assert_int_equal(p.join_fd[CT_NS_IPC], 100);
	assert_int_equal(p.join_fd[CT_NS_PID], 102);
	assert_null(p.hostname);
	ct_plan_done(&p);

	/* bad values are named */
	ns.type = "time";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_from_spec(&p, &spec, root, &nsc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "time"));
	ct_plan_done(&p);
	ns.type = "network";
	m1.destination = "relative/proc";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_from_spec(&p, &spec, root, &nsc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "relative/proc"));
	ct_plan_done(&p);
	m1.destination = "/proc";
	lx.rootfspropagation = "sideways";
	ct_plan_init(&p);
	assert_int_equal(ct_plan_from_spec(&p, &spec, root, &nsc, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "sideways"));
	ct_plan_done(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_passwd),	  cmocka_unit_test(test_group),
	    cmocka_unit_test(test_mount_options), cmocka_unit_test(test_find_executable),
	    cmocka_unit_test(test_plan_process),  cmocka_unit_test(test_plan_from_spec),
	};
	return cmocka_run_group_tests(tests, make_root, remove_root);
}
