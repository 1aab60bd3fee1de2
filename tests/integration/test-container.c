/* SPDX-License-Identifier: Apache-2.0 */
/* Containers as a Kata runtime drives them: the real agent, real namespaces and mounts, a
 * busybox rootfs. */
#include "test-container-util.h"
#include "health.pb-c.h"

#include <signal.h>

/* One agent per test: ct_setup/ct_teardown (test-container-util.h) keep it in ct_agent and
 * its connection in ct_cl. */

static void create_started(const char *cid, const struct ct_test_spec *s)
{
	char msg[512];
	int code = ct_create(ct_cl, cid, s, false, msg);
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

static void test_echo(void **state _unused_)
{
	struct ct_test_spec s = {.args = ARGS("echo", "hi")};
	int status = -1;
	char *out = ct_run(ct_cl, "echo1", &s, &status);
	assert_string_equal(out, "hi\n");
	assert_int_equal(status, 0);
	free(out);
}

static void test_exit_code_and_stderr(void **state _unused_)
{
	struct ct_test_spec s = {.args = ARGS("sh", "-c", "echo out; echo err >&2; exit 3")};
	char msg[512];
	create_started("codes", &s);
	char *err = ct_read_all(ct_cl, "codes", "codes", true);
	char *out = ct_read_all(ct_cl, "codes", "codes", false);
	assert_string_equal(out, "out\n");
	assert_string_equal(err, "err\n");
	assert_int_equal(ct_wait(ct_cl, "codes", "codes", msg), 3);
	/* The init's status stays until RemoveContainer. */
	assert_int_equal(ct_wait(ct_cl, "codes", "codes", msg), 3);
	assert_int_equal(ct_wait(ct_cl, "codes", "", msg), 3);
	remove_ok("codes");
	assert_int_equal(ct_wait(ct_cl, "codes", "codes", msg), -RPC_NOT_FOUND);
	free(out);
	free(err);
}

static void test_stdin_roundtrip(void **state _unused_)
{
	struct ct_test_spec s = {.args = ARGS("cat")};
	char msg[512];
	uint32_t written = 0;
	create_started("stdin", &s);
	assert_int_equal(ct_write(ct_cl, "stdin", "stdin", "hello ", 6, &written, msg), RPC_OK);
	assert_int_equal(written, 6);
	assert_int_equal(ct_write(ct_cl, "stdin", "stdin", "world\n", 6, &written, msg), RPC_OK);
	assert_int_equal(ct_close_stdin(ct_cl, "stdin", "stdin", msg), RPC_OK);
	/* stdin is closed: a later write is refused naming the process */
	assert_int_equal(ct_write(ct_cl, "stdin", "stdin", "x", 1, &written, msg),
			 RPC_FAILED_PRECONDITION);
	assert_non_null(strstr(msg, "stdin"));
	char *out = ct_read_all(ct_cl, "stdin", "stdin", false);
	assert_string_equal(out, "hello world\n");
	assert_int_equal(ct_wait(ct_cl, "stdin", "stdin", msg), 0);
	free(out);
	remove_ok("stdin");
}

/* A write larger than the pipe is parked, not refused and not blocking the agent. */
static void test_stdin_large(void **state _unused_)
{
	struct ct_test_spec s = {.args = ARGS("wc", "-c")};
	char msg[512];
	size_t n = 1 << 20;
	char *big = malloc(n);
	assert_non_null(big);
	memset(big, 'x', n);
	uint32_t written = 0;
	create_started("bigin", &s);
	assert_int_equal(ct_write(ct_cl, "bigin", "bigin", big, n, &written, msg), RPC_OK);
	assert_int_equal(written, n);
	assert_int_equal(ct_close_stdin(ct_cl, "bigin", "bigin", msg), RPC_OK);
	char *out = ct_read_all(ct_cl, "bigin", "bigin", false);
	assert_int_equal(strtol(out, NULL, 10), (long)n);
	assert_int_equal(ct_wait(ct_cl, "bigin", "bigin", msg), 0);
	free(out);
	free(big);
	remove_ok("bigin");
}

static void test_tty_and_resize(void **state _unused_)
{
	struct ct_test_spec init = {.args = ARGS("sleep", "1000")};
	struct ct_test_spec ex = {
	    .args = ARGS("sh", "-c", "read x; stty size; [ -t 0 ] && [ -t 1 ] && echo isatty"),
	    .terminal = true};
	char msg[512];
	uint32_t w;
	create_started("tty", &init);
	/* no tty on the init */
	Grpc__TtyWinResizeRequest rq = GRPC__TTY_WIN_RESIZE_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	rq.container_id = "tty";
	rq.exec_id = "";
	rq.row = 10;
	rq.column = 10;
	assert_int_equal(harness_call(ct_cl, "TtyWinResize", &rq.base,
				      &google__protobuf__empty__descriptor, &resp, msg),
			 RPC_UNAVAILABLE);
	assert_non_null(strstr(msg, "no tty"));

	assert_int_equal(ct_exec(ct_cl, "tty", "t1", &ex, msg), RPC_OK);
	rq.exec_id = "t1";
	rq.row = 42;
	rq.column = 123;
	assert_int_equal(harness_call(ct_cl, "TtyWinResize", &rq.base,
				      &google__protobuf__empty__descriptor, &resp, msg),
			 RPC_OK);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	assert_int_equal(ct_write(ct_cl, "tty", "t1", "go\n", 3, &w, msg), RPC_OK);
	char *out = ct_read_all(ct_cl, "tty", "t1", false);
	assert_non_null(strstr(out, "42 123"));
	assert_non_null(strstr(out, "isatty"));
	assert_int_equal(ct_wait(ct_cl, "tty", "t1", msg), 0);
	free(out);
	remove_ok("tty");
}

static void test_exec_joins_pid_namespace(void **state _unused_)
{
	struct ct_test_spec init = {.args = ARGS("sleep", "1000")};
	struct ct_test_spec ps = {.args = ARGS("cat", "/proc/1/cmdline")};
	struct ct_test_spec fds = {.args = ARGS("ls", "/proc/1/fd")};
	struct ct_test_spec sleeper = {.args = ARGS("sleep", "999")};
	struct ct_test_spec selffd = {
	    .args = ARGS("sh", "-c", "for p in $(pidof sleep); do ls /proc/$p/fd; done")};
	char msg[512];
	int status;
	create_started("pidns", &init);
	char *out = ct_exec_run(ct_cl, "pidns", "e1", &ps, &status);
	assert_int_equal(status, 0);
	assert_int_equal(memcmp(out,
				"sleep\0"
				"1000",
				10),
			 0);
	free(out);
	/* The container's init holds only its stdio: no agent fd leaks into containers. */
	out = ct_exec_run(ct_cl, "pidns", "e2", &fds, &status);
	assert_string_equal(out, "0\n1\n2\n");
	free(out);
	/* ... and so does an exec process. */
	assert_int_equal(ct_exec(ct_cl, "pidns", "s1", &sleeper, msg), RPC_OK);
	out = ct_exec_run(ct_cl, "pidns", "e3", &selffd, &status);
	assert_string_equal(out, "0\n1\n2\n0\n1\n2\n"); /* the init and the exec'd sleep */
	free(out);
	/* The exec entry is gone once its exit was collected (Kata). */
	assert_int_equal(ct_wait(ct_cl, "pidns", "e1", msg), -RPC_NOT_FOUND);
	remove_ok("pidns");
}

static void test_user_groups_cwd_env(void **state _unused_)
{
	static const uint32_t gids[] = {20, 30};
	struct ct_test_spec s = {
	    .args = ARGS("sh", "-c", "id -u; id -g; id -G; pwd; echo $FOO; echo $HOME"),
	    .env = ARGS("PATH=/bin", "FOO=bar baz"),
	    .cwd = "/work/dir",
	    .uid = 1234,
	    .gid = 4321,
	    .gids = gids,
	    .n_gids = 2,
	};
	int status;
	char *out = ct_run(ct_cl, "user1", &s, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "1234\n4321\n4321 20 30\n/work/dir\nbar baz\n/\n");
	free(out);

	struct ct_test_spec named = {
	    .args = ARGS("sh", "-c", "id -u; id -g; id -G; echo $HOME; whoami"),
	    .username = "user",
	    .cwd = "/home/user",
	};
	out = ct_run(ct_cl, "user2", &named, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "1000\n1000\n1000 10 29\n/home/user\nuser\n");
	free(out);
}

static void test_hostname_and_readonly(void **state _unused_)
{
	struct ct_test_spec s = {
	    .args = ARGS("sh", "-c", "hostname; touch /x 2>/dev/null && echo rw || echo ro"),
	    .hostname = "box1",
	    .readonly = true,
	};
	int status;
	char *out = ct_run(ct_cl, "host1", &s, &status);
	assert_string_equal(out, "box1\nro\n");
	free(out);
}

static void test_dev(void **state _unused_)
{
	struct ct_test_spec s = {
	    .args = ARGS(
		"sh", "-c",
		"for f in null zero full tty random urandom; do [ -c /dev/$f ] || echo no $f; done;"
		"[ -L /dev/ptmx ] && [ -d /dev/pts ] && [ -d /dev/shm ] && [ -L /dev/fd ] || echo "
		"no links;"
		"echo x > /dev/null && head -c 3 /dev/zero | wc -c; readlink /dev/stdout"),
	};
	int status;
	char *out = ct_run(ct_cl, "dev1", &s, &status);
	assert_string_equal(out, "3\n/proc/self/fd/1\n");
	assert_int_equal(status, 0);
	free(out);
}

static void test_mounts(void **state _unused_)
{
	char hostdir[] = "/tmp/ember-ct-mnt-XXXXXX";
	assert_non_null(mkdtemp(hostdir));
	assert_int_equal(harness_sh("echo shared > %s/file", hostdir), 0);
	Grpc__Mount proc = GRPC__MOUNT__INIT, tmp = GRPC__MOUNT__INIT, bind = GRPC__MOUNT__INIT;
	proc.destination = "/proc";
	proc.type = "proc";
	proc.source = "proc";
	tmp.destination = "/scratch/deep";
	tmp.type = "tmpfs";
	tmp.source = "tmpfs";
	static char *tmpopts[] = {"nosuid", "size=1m", "mode=700"};
	tmp.options = tmpopts;
	tmp.n_options = 3;
	bind.destination = "/data";
	bind.type = "bind";
	bind.source = hostdir;
	static char *bindopts[] = {"rbind", "ro"};
	bind.options = bindopts;
	bind.n_options = 2;
	Grpc__Mount *mounts[] = {&proc, &tmp, &bind};
	struct ct_test_spec s = {
	    .args =
		ARGS("sh", "-c",
		     "cat /data/file; echo x > /data/new 2>/dev/null || echo ro;"
		     "grep -c ' /scratch/deep tmpfs' /proc/self/mounts; stat -c %a /scratch/deep;"
		     "ls /proc/1/exe >/dev/null && echo proc"),
	    .mounts = mounts,
	    .n_mounts = 3,
	};
	int status;
	char *out = ct_run(ct_cl, "mnt1", &s, &status);
	assert_string_equal(out, "shared\nro\n1\n700\nproc\n");
	free(out);
	/* Nothing was created outside the rootfs, nothing mounted is left in the agent. */
	assert_int_equal(harness_sh("test -e %s/new", hostdir), 1);
	harness_sh("rm -rf %s", hostdir);
}

/* A destination through a symlink that points out of the rootfs stays inside it. */
static void test_mount_symlink_escape(void **state _unused_)
{
	char root[] = "/tmp/ember-ct-esc-XXXXXX", outside[] = "/tmp/ember-ct-out-XXXXXX";
	assert_non_null(mkdtemp(root));
	assert_non_null(mkdtemp(outside));
	assert_int_equal(
	    harness_sh("cp -a %s/. %s/ && ln -s %s %s/escape", ct_rootfs(), root, outside, root),
	    0);
	Grpc__Mount tmp = GRPC__MOUNT__INIT;
	tmp.destination = "/escape/sub";
	tmp.type = "tmpfs";
	tmp.source = "tmpfs";
	Grpc__Mount *mounts[] = {&tmp};
	struct ct_test_spec s = {
	    .args = ARGS("true"), .root_path = root, .mounts = mounts, .n_mounts = 1};
	char msg[512];
	/* The symlink resolves inside the rootfs, where its target does not exist: refused,
	 * naming the destination. */
	int code = ct_create(ct_cl, "esc1", &s, false, msg);
	if (code == RPC_OK)
		assert_int_equal(ct_remove(ct_cl, "esc1", 0, msg), RPC_OK);
	else
		assert_non_null(strstr(msg, "/escape/sub"));
	/* "sub" was created inside the rootfs (under <root>/<outside path>), not outside. */
	assert_int_equal(harness_sh("test -e %s/sub", outside), 1);
	harness_sh("rm -rf %s %s", root, outside);
}

static void test_signals(void **state _unused_)
{
	char msg[512];
	/* sleep as PID 1 has no SIGTERM handler: the agent upgrades SIGTERM to SIGKILL. */
	struct ct_test_spec sleeper = {.args = ARGS("sleep", "1000")};
	create_started("sig1", &sleeper);
	assert_int_equal(ct_signal(ct_cl, "sig1", "", SIGTERM, msg), RPC_OK);
	assert_int_equal(ct_wait(ct_cl, "sig1", "sig1", msg), 128 + SIGKILL);
	/* ESRCH is success */
	assert_int_equal(ct_signal(ct_cl, "sig1", "", SIGTERM, msg), RPC_OK);
	remove_ok("sig1");

	/* A shell that traps SIGTERM gets SIGTERM itself. */
	struct ct_test_spec trapper = {
	    .args =
		ARGS("sh", "-c", "trap 'exit 7' TERM; echo ready; while :; do sleep 0.05; done")};
	create_started("sig2", &trapper);
	char *chunk;
	size_t n;
	assert_int_equal(ct_read(ct_cl, "sig2", "sig2", false, 100, &chunk, &n, msg), RPC_OK);
	assert_string_equal(chunk, "ready\n");
	free(chunk);
	assert_int_equal(ct_signal(ct_cl, "sig2", "", SIGTERM, msg), RPC_OK);
	assert_int_equal(ct_wait(ct_cl, "sig2", "sig2", msg), 7);
	remove_ok("sig2");

	/* exec_id "" + SIGKILL kills every process of the container, exec ones included. */
	create_started("sig3", &trapper);
	struct ct_test_spec ex = {.args = ARGS("sleep", "1000")};
	assert_int_equal(ct_exec(ct_cl, "sig3", "x1", &ex, msg), RPC_OK);
	assert_int_equal(ct_signal(ct_cl, "sig3", "", SIGKILL, msg), RPC_OK);
	assert_int_equal(ct_wait(ct_cl, "sig3", "x1", msg), 128 + SIGKILL);
	assert_int_equal(ct_wait(ct_cl, "sig3", "sig3", msg), 128 + SIGKILL);
	remove_ok("sig3");

	/* A signal for one exec process. */
	create_started("sig4", &sleeper);
	assert_int_equal(ct_exec(ct_cl, "sig4", "x2", &ex, msg), RPC_OK);
	assert_int_equal(ct_signal(ct_cl, "sig4", "x2", SIGUSR1, msg), RPC_OK);
	assert_int_equal(ct_wait(ct_cl, "sig4", "x2", msg), 128 + SIGUSR1);
	assert_int_equal(ct_signal(ct_cl, "sig4", "x2", 999, msg), RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "999"));
	remove_ok("sig4");
}

/* Kata #1160: a background grandchild holding stdout must not hang ReadStdout. */
static void test_orphan_holds_stdout(void **state _unused_)
{
	struct ct_test_spec init = {.args = ARGS("sleep", "1000")};
	struct ct_test_spec s = {.args = ARGS("sh", "-c", "sleep 100 & echo hi")};
	int status;
	create_started("orphan", &init);
	char *out = ct_exec_run(ct_cl, "orphan", "bg", &s, &status);
	assert_string_equal(out, "hi\n");
	assert_int_equal(status, 0);
	free(out);
	remove_ok("orphan");
}

static void test_remove_running(void **state _unused_)
{
	char msg[512];
	struct ct_test_spec init = {.args = ARGS("sleep", "1000")};
	create_started("rm1", &init);
	struct ct_test_spec ex = {.args = ARGS("sleep", "1000")};
	assert_int_equal(ct_exec(ct_cl, "rm1", "x", &ex, msg), RPC_OK);
	remove_ok("rm1");
	assert_int_equal(ct_wait(ct_cl, "rm1", "rm1", msg), -RPC_NOT_FOUND);
	assert_non_null(strstr(msg, "rm1"));
	/* Created but never started: removed as well, with a timeout given. */
	assert_int_equal(ct_create(ct_cl, "rm2", &init, false, msg), RPC_OK);
	assert_int_equal(ct_remove(ct_cl, "rm2", 10, msg), RPC_OK);
	assert_int_equal(ct_start(ct_cl, "rm2", msg), RPC_NOT_FOUND);
}

static void test_two_step_start(void **state _unused_)
{
	char msg[512];
	struct ct_test_spec s = {.args = ARGS("echo", "started")};
	assert_int_equal(ct_create(ct_cl, "two", &s, false, msg), RPC_OK);
	/* Not started: nothing ran, nothing to read yet; a read would park. The process is
	 * there (SignalProcess 0-free check through Wait being parked is covered elsewhere). */
	assert_int_equal(ct_start(ct_cl, "two", msg), RPC_OK);
	assert_int_equal(ct_start(ct_cl, "two", msg), RPC_FAILED_PRECONDITION);
	assert_non_null(strstr(msg, "two"));
	char *out = ct_read_all(ct_cl, "two", "two", false);
	assert_string_equal(out, "started\n");
	free(out);
	assert_int_equal(ct_wait(ct_cl, "two", "two", msg), 0);
	remove_ok("two");
}

static void expect(int code, int want, const char *msg, const char *needle)
{
	if (code != want)
		fail_msg("got %s, want %s (%s)", rpc_code_name(code), rpc_code_name(want), msg);
	if (needle && !strstr(msg, needle))
		fail_msg("message '%s' does not name '%s'", msg, needle);
}

static void test_bad_input(void **state _unused_)
{
	char msg[512];
	struct ct_test_spec ok = {.args = ARGS("sleep", "1000")};
	uint32_t w;
	char *chunk;
	size_t n;

	expect(ct_start(ct_cl, "nope", msg), RPC_NOT_FOUND, msg, "nope");
	expect(-ct_wait(ct_cl, "nope", "", msg), RPC_NOT_FOUND, msg, "nope");
	expect(ct_signal(ct_cl, "nope", "", 9, msg), RPC_NOT_FOUND, msg, "nope");
	expect(ct_remove(ct_cl, "nope", 0, msg), RPC_NOT_FOUND, msg, "nope");
	expect(ct_read(ct_cl, "nope", "", false, 10, &chunk, &n, msg), RPC_NOT_FOUND, msg, "nope");
	expect(ct_write(ct_cl, "nope", "", "x", 1, &w, msg), RPC_NOT_FOUND, msg, "nope");
	expect(ct_exec(ct_cl, "nope", "e", &ok, msg), RPC_NOT_FOUND, msg, "nope");

	expect(ct_create(ct_cl, "a/b", &ok, false, msg), RPC_INVALID_ARGUMENT, msg, "a/b");
	expect(ct_create(ct_cl, "..", &ok, false, msg), RPC_INVALID_ARGUMENT, msg, "..");
	expect(ct_create(ct_cl, "x..y", &ok, false, msg), RPC_INVALID_ARGUMENT, msg, "x..y");
	expect(ct_create(ct_cl, "", &ok, false, msg), RPC_INVALID_ARGUMENT, msg, "''");

	create_started("bad", &ok);
	expect(ct_create(ct_cl, "bad", &ok, false, msg), RPC_ALREADY_EXISTS, msg, "bad");
	expect(-ct_wait(ct_cl, "bad", "ghost", msg), RPC_NOT_FOUND, msg, "ghost");
	expect(ct_signal(ct_cl, "bad", "ghost", 9, msg), RPC_NOT_FOUND, msg, "ghost");
	expect(ct_exec(ct_cl, "bad", "../x", &ok, msg), RPC_INVALID_ARGUMENT, msg, "../x");
	assert_int_equal(ct_exec(ct_cl, "bad", "dup", &ok, msg), RPC_OK);
	expect(ct_exec(ct_cl, "bad", "dup", &ok, msg), RPC_ALREADY_EXISTS, msg, "dup");
	expect(ct_read(ct_cl, "bad", "dup", false, 0, &chunk, &n, msg), RPC_INVALID_ARGUMENT, msg,
	       "len");

	/* Missing pieces of the spec. */
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = "nospec";
	expect(harness_call(ct_cl, "CreateContainer", &req.base,
			    &google__protobuf__empty__descriptor, &resp, msg),
	       RPC_INVALID_ARGUMENT, msg, "OCI");
	Grpc__Spec spec = GRPC__SPEC__INIT;
	req.oci = &spec;
	expect(harness_call(ct_cl, "CreateContainer", &req.base,
			    &google__protobuf__empty__descriptor, &resp, msg),
	       RPC_INVALID_ARGUMENT, msg, "Process");
	struct ct_test_spec noroot = {.args = ARGS("true"), .root_path = ""};
	expect(ct_create(ct_cl, "noroot", &noroot, false, msg), RPC_INVALID_ARGUMENT, msg,
	       "Root.Path");
	struct ct_test_spec badroot = {.args = ARGS("true"), .root_path = "/nonexistent/rootfs"};
	expect(ct_create(ct_cl, "badroot", &badroot, false, msg), RPC_INVALID_ARGUMENT, msg,
	       "/nonexistent/rootfs");

	/* A binary that does not exist fails at once, naming it (Kata #8026 hung 60 s). */
	struct ct_test_spec nobin = {.args = ARGS("no-such-binary")};
	expect(ct_create(ct_cl, "nobin", &nobin, false, msg), RPC_NOT_FOUND, msg, "no-such-binary");
	expect(ct_exec(ct_cl, "bad", "nobin", &nobin, msg), RPC_NOT_FOUND, msg, "no-such-binary");
	struct ct_test_spec abs = {.args = ARGS("/bin/no-such")};
	expect(ct_create(ct_cl, "nobin2", &abs, false, msg), RPC_NOT_FOUND, msg, "/bin/no-such");
	/* A cwd that is a file: the child's failure comes back over the error pipe. */
	struct ct_test_spec badcwd = {.args = ARGS("true"), .cwd = "/etc/passwd"};
	expect(ct_exec(ct_cl, "bad", "cwd", &badcwd, msg), RPC_INVALID_ARGUMENT, msg,
	       "/etc/passwd");
	/* A mount that fails names its destination; the id is free again at once. */
	Grpc__Mount m = GRPC__MOUNT__INIT;
	m.destination = "/weird";
	m.type = "no-such-fs";
	m.source = "none";
	Grpc__Mount *mounts[] = {&m};
	struct ct_test_spec badmnt = {.args = ARGS("true"), .mounts = mounts, .n_mounts = 1};
	int code = ct_create(ct_cl, "badmnt", &badmnt, false, msg);
	assert_int_not_equal(code, RPC_OK);
	assert_non_null(strstr(msg, "/weird"));
	struct ct_test_spec user = {.args = ARGS("true"), .username = "ghost"};
	expect(ct_create(ct_cl, "badmnt", &user, false, msg), RPC_INVALID_ARGUMENT, msg, "ghost");
	/* a spec mount with '..' */
	m.destination = "/a/../../etc";
	m.type = "tmpfs";
	expect(ct_create(ct_cl, "dotdot", &badmnt, false, msg), RPC_INVALID_ARGUMENT, msg,
	       "/a/../../etc");

	remove_ok("bad");
	assert_true(harness_agent_alive(&ct_agent));
}

/* A parked WaitProcess never delays other calls on the same connection. */
static void test_parked_wait_does_not_block(void **state _unused_)
{
	char msg[512];
	struct ct_test_spec init = {.args = ARGS("sleep", "1000")};
	create_started("park", &init);
	struct rpc_client *c2 = harness_connect(&ct_agent);
	Grpc__WaitProcessRequest wr = GRPC__WAIT_PROCESS_REQUEST__INIT;
	wr.container_id = "park";
	wr.exec_id = "park";
	uint8_t buf[256];
	size_t len = grpc__wait_process_request__pack(&wr, buf);
	uint32_t wait_id, check_id, got;
	struct rpc_status st;
	struct ttrpc_slice payload;
	assert_int_equal(
	    rpc_client_send(c2, "grpc.AgentService", "WaitProcess", buf, len, 0, &wait_id), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rpc_client_send(c2, "grpc.Health", "Check", NULL, 0, 0, &check_id),
				 0);
		assert_int_equal(rpc_client_flush(c2), 0);
		assert_int_equal(rpc_client_recv(c2, &got, &st, &payload), 0);
		assert_int_equal(got, check_id);
		assert_int_equal(st.code, RPC_OK);
	}
	assert_int_equal(ct_signal(ct_cl, "park", "", SIGKILL, msg), RPC_OK);
	assert_int_equal(rpc_client_recv(c2, &got, &st, &payload), 0);
	assert_int_equal(got, wait_id);
	assert_int_equal(st.code, RPC_OK);
	Grpc__WaitProcessResponse *wresp =
	    grpc__wait_process_response__unpack(NULL, payload.len, payload.ptr);
	assert_non_null(wresp);
	assert_int_equal(wresp->status, 128 + SIGKILL);
	grpc__wait_process_response__free_unpacked(wresp, NULL);
	rpc_client_free(c2);
	remove_ok("park");
}

/* 100 create/start/wait/remove cycles leave no fd, mount, directory or memory behind. */
static void test_cycles_leave_nothing(void **state _unused_)
{
	struct ct_test_spec s = {.args = ARGS("true")};
	char cid[32];
	int status;
	for (int i = 0; i < 10; i++) { /* warm up allocator and caches */
		snprintf(cid, sizeof(cid), "warm%d", i);
		free(ct_run(ct_cl, cid, &s, &status));
	}
	int fds = agent_fd_count(ct_agent.pid);
	int mounts = agent_mount_count(ct_agent.pid);
	long rss = agent_rss_kb(ct_agent.pid);
	for (int i = 0; i < 100; i++) {
		snprintf(cid, sizeof(cid), "cycle%d", i);
		free(ct_run(ct_cl, cid, &s, &status));
		assert_int_equal(status, 0);
	}
	assert_int_equal(agent_fd_count(ct_agent.pid), fds);
	assert_int_equal(agent_mount_count(ct_agent.pid), mounts);
	int left = agent_dir_entries(ct_agent.pid, "/run/kata-containers");
	if (left != 0)
		harness_sh("ls -la /proc/%d/root/run/kata-containers >&2", ct_agent.pid);
	assert_int_equal(left, 0);
	long rss2 = agent_rss_kb(ct_agent.pid);
	print_message("agent VmRSS %ld kB -> %ld kB over 100 cycles\n", rss, rss2);
#ifndef __SANITIZE_ADDRESS__ /* ASan's quarantine keeps freed memory; LSan checks leaks at exit */
	assert_true(rss2 <= rss + 256);
#endif
}

/* emberctl run BUNDLE: an OCI config.json (relative root.path) converted by emberctl. */
static void test_emberctl_run(void **state _unused_)
{
	const char *ctl = getenv("EMBERCTL");
	char bundle[] = "/tmp/ember-ct-bundle-XXXXXX";
	assert_non_null(ctl);
	assert_non_null(mkdtemp(bundle));
	assert_int_equal(harness_sh("ln -s %s %s/rootfs", ct_rootfs(), bundle), 0);
	assert_int_equal(
	    harness_sh(
		"cat > %s/config.json <<'EOF'\n"
		"{\"ociVersion\": \"1.0.2\", \"process\": {\"terminal\": false,"
		" \"user\": {\"uid\": 0, \"gid\": 0, \"umask\": 18},"
		" \"args\": [\"sh\", \"-c\", \"echo out-$X; echo err >&2; read l; echo got-$l; "
		"exit 5\"],"
		" \"env\": [\"PATH=/bin\", \"X=1\"], \"cwd\": \"/\","
		" \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 1024}]},"
		" \"root\": {\"path\": \"rootfs\", \"readonly\": true}, \"hostname\": \"h\","
		" \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": "
		"\"proc\"}],"
		" \"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"mount\"}],"
		" \"maskedPaths\": [\"/proc/kcore\"], \"timeOffsets\": {}}}\n"
		"EOF",
		bundle),
	    0);
	int st = harness_sh("echo line | %s --addr %s run -i %s runc1 > %s/out 2> %s/err", ctl,
			    ct_agent.addr, bundle, bundle, bundle);
	assert_int_equal(st, 5);
	assert_int_equal(harness_sh("printf 'out-1\\ngot-line\\n' | cmp -s - %s/out", bundle), 0);
	assert_int_equal(harness_sh("grep -qx err %s/err", bundle), 0);
	/* a field the protocol does not carry is named, not fatal */
	assert_int_equal(harness_sh("grep -q 'linux.timeOffsets' %s/err", bundle), 0);
	/* create/start/exec/kill/wait/rm */
	assert_int_equal(
	    harness_sh("sed -i 's/echo out-$X.*exit 5/sleep 1000/' %s/config.json", bundle), 0);
	assert_int_equal(harness_sh("%s --addr %s create %s c2", ctl, ct_agent.addr, bundle), 0);
	assert_int_equal(harness_sh("%s --addr %s start c2", ctl, ct_agent.addr), 0);
	assert_int_equal(
	    harness_sh("test \"$(%s --addr %s exec c2 e1 hostname)\" = h", ctl, ct_agent.addr), 0);
	assert_int_equal(harness_sh("%s --addr %s exec c2 e2 sh -c 'exit 9'", ctl, ct_agent.addr),
			 9);
	assert_int_equal(harness_sh("%s --addr %s kill c2 KILL", ctl, ct_agent.addr), 0);
	assert_int_equal(harness_sh("test \"$(%s --addr %s wait c2)\" = 137", ctl, ct_agent.addr),
			 0);
	assert_int_equal(harness_sh("%s --addr %s rm c2", ctl, ct_agent.addr), 0);
	assert_int_equal(
	    harness_sh("%s --addr %s rm c2 2>&1 | grep -q NOT_FOUND", ctl, ct_agent.addr), 0);
	harness_sh("rm -rf %s", bundle);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_echo),
	    cmocka_unit_test(test_exit_code_and_stderr),
	    cmocka_unit_test(test_stdin_roundtrip),
	    cmocka_unit_test(test_stdin_large),
	    cmocka_unit_test(test_tty_and_resize),
	    cmocka_unit_test(test_exec_joins_pid_namespace),
	    cmocka_unit_test(test_user_groups_cwd_env),
	    cmocka_unit_test(test_hostname_and_readonly),
	    cmocka_unit_test(test_dev),
	    cmocka_unit_test(test_mounts),
	    cmocka_unit_test(test_mount_symlink_escape),
	    cmocka_unit_test(test_signals),
	    cmocka_unit_test(test_orphan_holds_stdout),
	    cmocka_unit_test(test_remove_running),
	    cmocka_unit_test(test_two_step_start),
	    cmocka_unit_test(test_bad_input),
	    cmocka_unit_test(test_parked_wait_does_not_block),
	    cmocka_unit_test(test_cycles_leave_nothing),
	    cmocka_unit_test(test_emberctl_run),
	};
	return cmocka_run_group_tests(tests, ct_setup, ct_teardown);
}
