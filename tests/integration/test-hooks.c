/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI hooks with the real agent: the guest hooks of CreateSandbox's guest_hook_path and the
 * spec's Hooks, as shell scripts that log what they see (argv, the state on stdin, the
 * hostname of the namespaces they run in) to a file of the test.
 */
#include "test-container-util.h"
#include "health.pb-c.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/wait.h>
#include <sys/stat.h>

#define HOOK_MAX_PER_KIND_TEST 64 /* agent/hook/hook.h */

static char dir[64]; /* scripts and logs of this test process */

static void write_script(const char *path, const char *body)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "#!/bin/sh\n%s\n", body);
	fclose(f);
	assert_int_equal(chmod(path, 0755), 0);
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return strdup("");
	char *buf = calloc(1, 65536);
	size_t n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static int setup(void **state)
{
	strcpy(dir, "/tmp/ember-hooks-XXXXXX");
	assert_non_null(mkdtemp(dir));
	return ct_setup(state);
}

static int teardown(void **state)
{
	/* pid 0: the test ended the agent itself (DestroySandbox, SIGTERM) */
	int r = ct_agent.pid > 0 ? ct_teardown(state) : 0;
	if (ct_agent.pid <= 0) {
		rpc_client_free(ct_cl);
		ct_cl = NULL;
		harness_sh("rm -rf %s", ct_agent.dir);
	}
	harness_sh("rm -rf %s", dir);
	return r;
}

static int create_sandbox(const char *hook_path, char *msg)
{
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.sandbox_id = "pod1";
	req.hostname = "pod-host";
	req.guest_hook_path = (char *)hook_path;
	int code = harness_call(ct_cl, "CreateSandbox", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static int health(void)
{
	ProtobufCMessage *resp = NULL;
	struct rpc_status st;
	assert_int_equal(rpc_client_call(ct_cl, "grpc.Health", "Check", NULL,
					 &grpc__health_check_response__descriptor, &resp, 0, &st),
			 0);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return st.code;
}

struct one_hook {
	Grpc__Hook h;
	Grpc__Hook *v[1];
	Grpc__Hooks hooks;
};

/* Spec.Hooks holding the one hook `path` of the given kind. */
static Grpc__Hooks *one_hook(struct one_hook *o, const char *kind, const char *path)
{
	o->h = (Grpc__Hook)GRPC__HOOK__INIT;
	o->hooks = (Grpc__Hooks)GRPC__HOOKS__INIT;
	o->h.path = (char *)path;
	o->v[0] = &o->h;
	struct {
		const char *kind;
		Grpc__Hook ***list;
		size_t *n;
	} kinds[] = {
	    {"prestart", &o->hooks.prestart, &o->hooks.n_prestart},
	    {"createRuntime", &o->hooks.createruntime, &o->hooks.n_createruntime},
	    {"startContainer", &o->hooks.startcontainer, &o->hooks.n_startcontainer},
	    {"poststart", &o->hooks.poststart, &o->hooks.n_poststart},
	    {"poststop", &o->hooks.poststop, &o->hooks.n_poststop},
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
		if (streq(kinds[i].kind, kind)) {
			*kinds[i].list = o->v;
			*kinds[i].n = 1;
			return &o->hooks;
		}
	fail_msg("no hook kind %s", kind);
	return NULL;
}

/* The guest hooks run in name order around the container's life, each with the OCI state
 * on stdin; a prestart hook can change the container's filesystem before its process runs. */
static void test_guest_hooks_lifecycle(void **state _unused_)
{
	char path[256], body[1024], msg[512];
	int status;

	snprintf(path, sizeof(path), "%s/guest", dir);
	harness_sh("mkdir -p %s/prestart %s/poststart %s/poststop", path, path, path);
	/* "$0 $(cat)": which hook, and the state it was given */
	snprintf(body, sizeof(body), "echo \"$0 $(cat)\" >> %s/log", dir);
	snprintf(path, sizeof(path), "%s/guest/prestart/20-second", dir);
	write_script(path, body);
	snprintf(path, sizeof(path), "%s/guest/poststart/a", dir);
	write_script(path, body);
	snprintf(path, sizeof(path), "%s/guest/poststop/a", dir);
	write_script(path, body);
	/* the first prestart hook writes into the rootfs, through the bundle of its state */
	snprintf(body, sizeof(body),
		 "s=$(cat); echo \"$0 $s\" >> %s/log\n"
		 "b=$(echo \"$s\" | sed 's/.*\"bundle\":\"\\([^\"]*\\)\".*/\\1/')\n"
		 "echo from-prestart > \"$b/rootfs/prestart-was-here\"",
		 dir);
	snprintf(path, sizeof(path), "%s/guest/prestart/10-first", dir);
	write_script(path, body);
	/* not executable: not a hook */
	snprintf(path, sizeof(path), "%s/guest/prestart/30-not-a-hook", dir);
	write_script(path, "exit 1");
	chmod(path, 0644);

	snprintf(path, sizeof(path), "%s/guest", dir);
	assert_int_equal(create_sandbox(path, msg), RPC_OK);

	struct ct_test_spec s = {.args = ARGS("/bin/cat", "/prestart-was-here")};
	char *out = ct_run(ct_cl, "hooked", &s, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "from-prestart\n");
	free(out);
	snprintf(path, sizeof(path), "%s/prestart-was-here", ct_rootfs());
	unlink(path);

	snprintf(path, sizeof(path), "%s/log", dir);
	char *log = slurp(path);
	/* order: prestart (by name), poststart, poststop */
	char *l1 = strstr(log, "/prestart/10-first {");
	char *l2 = strstr(log, "/prestart/20-second {");
	char *l3 = strstr(log, "/poststart/a {");
	char *l4 = strstr(log, "/poststop/a {");
	if (!l1 || !l2 || !l3 || !l4 || !(l1 < l2 && l2 < l3 && l3 < l4))
		fail_msg("hooks did not run in order: %s", log);
	assert_null(strstr(log, "30-not-a-hook"));
	/* the state: id, status of the moment, pid while there is a process, bundle */
	assert_non_null(strstr(l1, "\"id\":\"hooked\",\"status\":\"creating\",\"pid\":"));
	assert_non_null(strstr(l1, "\"bundle\":\"/run/kata-containers/hooked\""));
	assert_non_null(strstr(l3, "\"status\":\"running\",\"pid\":"));
	assert_non_null(strstr(l4, "\"status\":\"stopped\",\"bundle\""));
	free(log);
}

/* Spec hooks: createRuntime in the agent's namespaces, createContainer and startContainer in
 * the container's (its hostname; startContainer after pivot_root, so its path is one of the
 * rootfs), with the spec's args and env. */
static void test_spec_hooks_namespaces(void **state _unused_)
{
	char log_path[256], rt[256], cc[256], body[512], inroot[256];
	int status;

	snprintf(log_path, sizeof(log_path), "%s/log", dir);
	snprintf(rt, sizeof(rt), "%s/runtime.sh", dir);
	snprintf(body, sizeof(body), "echo \"createRuntime $(hostname)\" >> %s", log_path);
	write_script(rt, body);
	snprintf(cc, sizeof(cc), "%s/container.sh", dir);
	snprintf(body, sizeof(body), "echo \"createContainer $(hostname)\" >> %s", log_path);
	write_script(cc, body);
	/* runs in the container: writes where the container's process will look */
	snprintf(inroot, sizeof(inroot), "%s/start-hook.sh", ct_rootfs());
	write_script(inroot, "echo \"$1 $FOO $(hostname)\" > /start-hook-was-here");

	Grpc__Hook h_rt = GRPC__HOOK__INIT, h_cc = GRPC__HOOK__INIT, h_sc = GRPC__HOOK__INIT;
	Grpc__Hook *v_rt[] = {&h_rt}, *v_cc[] = {&h_cc}, *v_sc[] = {&h_sc};
	static char *sc_args[] = {"start-hook", "arg1"};
	static char *sc_env[] = {"FOO=bar"};
	h_rt.path = rt;
	h_cc.path = cc;
	h_sc.path = "/start-hook.sh";
	h_sc.args = sc_args;
	h_sc.n_args = 2;
	h_sc.env = sc_env;
	h_sc.n_env = 1;
	h_sc.timeout = 10;
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	hooks.createruntime = v_rt;
	hooks.n_createruntime = 1;
	hooks.createcontainer = v_cc;
	hooks.n_createcontainer = 1;
	hooks.startcontainer = v_sc;
	hooks.n_startcontainer = 1;

	struct ct_test_spec s = {
	    .args = ARGS("/bin/cat", "/start-hook-was-here"),
	    .hostname = "in-the-box",
	    .hooks = &hooks,
	};
	char *out = ct_run(ct_cl, "spec-hooks", &s, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "arg1 bar in-the-box\n");
	free(out);
	unlink(inroot);
	char rootfile[256];
	snprintf(rootfile, sizeof(rootfile), "%s/start-hook-was-here", ct_rootfs());
	unlink(rootfile);

	char *log = slurp(log_path);
	char host[256];
	gethostname(host, sizeof(host));
	char want[600];
	snprintf(want, sizeof(want), "createRuntime %s\ncreateContainer in-the-box\n", host);
	/* the agent in the harness has a private UTS namespace but the host's name */
	assert_string_equal(log, want);
	free(log);
}

/* A failing prestart hook fails CreateContainer with its exit status and what it said; the id
 * is free again and nothing of the container is left. */
static void test_prestart_failure(void **state _unused_)
{
	char path[256], msg[512];
	snprintf(path, sizeof(path), "%s/fail.sh", dir);
	write_script(path, "cat >/dev/null; echo 'no network for you' >&2; exit 3");
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/true"),
				 .hooks = one_hook(&o, "prestart", path)};

	int code = ct_create(ct_cl, "c1", &s, false, msg);
	assert_int_equal(code, RPC_INTERNAL);
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "exit status 3"));
	assert_non_null(strstr(msg, "no network for you"));

	/* the id is free at once (a new CreateContainer of it may still find the old cgroup
	 * emptying: FAILED_PRECONDITION for a moment); without the hook a container runs */
	assert_int_equal(agent_dir_entries(ct_agent.pid, "/run/kata-containers"), 0);
	s.hooks = NULL;
	int status;
	char *out = ct_run(ct_cl, "c2", &s, &status);
	assert_int_equal(status, 0);
	free(out);
	assert_int_equal(agent_dir_entries(ct_agent.pid, "/run/kata-containers"), 0);
}

static bool sleeper_alive(const char *marker)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	bool found = false;
	while (d && (e = readdir(d)) && !found) {
		char p[300], buf[256] = "";
		snprintf(p, sizeof(p), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(p, "r");
		if (!f)
			continue;
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (!buf[i])
				buf[i] = ' ';
		found = strstr(buf, marker) != NULL;
	}
	if (d)
		closedir(d);
	return found;
}

/* A hook that does not finish within its timeout is killed with its children and the call
 * fails with DEADLINE_EXCEEDED naming it; the hook's process group is gone afterwards. */
static void test_prestart_timeout(void **state _unused_)
{
	char path[256], msg[512];
	snprintf(path, sizeof(path), "%s/slow.sh", dir);
	write_script(path, "sleep 987.5; true");
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/true"),
				 .hooks = one_hook(&o, "createRuntime", path)};
	o.h.timeout = 1;

	int code = ct_create(ct_cl, "slow", &s, false, msg);
	assert_int_equal(code, RPC_DEADLINE_EXCEEDED);
	assert_non_null(strstr(msg, path));
	assert_non_null(strstr(msg, "within 1 s"));
	assert_false(sleeper_alive("sleep 987.5"));
	assert_int_equal(health(), RPC_OK);
}

/* A CreateContainer or StartContainer on a connection of its own, in a thread. */
struct bg_call {
	bool start;
	const char *cid;
	const struct ct_test_spec *s;
	int code;
	char msg[512];
	pthread_t t;
};

static void *bg_main(void *arg)
{
	struct bg_call *b = arg;
	struct rpc_client *c2 = harness_connect(&ct_agent);
	b->code =
	    b->start ? ct_start(c2, b->cid, b->msg) : ct_create(c2, b->cid, b->s, false, b->msg);
	rpc_client_free(c2);
	return NULL;
}

static void bg_begin(struct bg_call *b)
{
	b->code = -1;
	assert_int_equal(pthread_create(&b->t, NULL, bg_main, b), 0);
}

static void wait_for_file(const char *path)
{
	while (access(path, F_OK) < 0)
		usleep(20 * 1000);
}

/* While a hook runs the agent serves other calls: the hook waits for a file that the test
 * creates only after Health answered. */
static void test_hook_does_not_block_the_agent(void **state _unused_)
{
	char path[256], body[1024], gate[128];
	snprintf(gate, sizeof(gate), "%s/gate", dir);
	snprintf(path, sizeof(path), "%s/wait.sh", dir);
	snprintf(body, sizeof(body), "touch %s.started; while [ ! -e %s ]; do sleep 0.05; done",
		 gate, gate);
	write_script(path, body);
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/true"),
				 .hooks = one_hook(&o, "prestart", path)};
	struct bg_call a = {.cid = "waiting", .s = &s};

	bg_begin(&a);
	char started[300];
	snprintf(started, sizeof(started), "%s.started", gate);
	wait_for_file(started);
	for (int i = 0; i < 5; i++)
		assert_int_equal(health(), RPC_OK);
	harness_sh("touch %s", gate);
	pthread_join(a.t, NULL);
	if (a.code != RPC_OK)
		fail_msg("create: %s: %s", rpc_code_name(a.code), a.msg);
	char msg[512];
	assert_int_equal(ct_remove(ct_cl, "waiting", 0, msg), RPC_OK);
}

/* RemoveContainer while a startContainer hook hangs: the hook is killed, the parked
 * StartContainer fails saying why, the removal completes. */
static void test_remove_during_start_hook(void **state _unused_)
{
	char inroot[256], started[256], msg[512];
	snprintf(inroot, sizeof(inroot), "%s/hang-hook.sh", ct_rootfs());
	write_script(inroot, "touch /hang-hook-started; sleep 985.5; true");
	snprintf(started, sizeof(started), "%s/hang-hook-started", ct_rootfs());
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/true"),
				 .hooks = one_hook(&o, "startContainer", "/hang-hook.sh")};
	assert_int_equal(ct_create(ct_cl, "hangs", &s, false, msg), RPC_OK);

	struct bg_call b = {.start = true, .cid = "hangs"};
	bg_begin(&b);
	wait_for_file(started);
	char msg2[512];
	assert_int_equal(ct_start(ct_cl, "hangs", msg2), RPC_FAILED_PRECONDITION);
	assert_non_null(strstr(msg2, "is being started"));
	assert_int_equal(ct_remove(ct_cl, "hangs", 0, msg), RPC_OK);
	pthread_join(b.t, NULL);
	assert_int_equal(b.code, RPC_FAILED_PRECONDITION);
	assert_non_null(strstr(b.msg, "being removed"));
	assert_false(sleeper_alive("sleep 985.5"));
	unlink(inroot);
	unlink(started);
}

/* DestroySandbox runs the poststop hooks of the containers it removes before it replies. */
static void test_destroy_runs_poststop(void **state _unused_)
{
	char path[256], body[512], msg[512];
	snprintf(path, sizeof(path), "%s/guest/poststop", dir);
	harness_sh("mkdir -p %s", path);
	snprintf(path, sizeof(path), "%s/guest/poststop/log", dir);
	snprintf(body, sizeof(body), "echo \"$(cat)\" >> %s/log", dir);
	write_script(path, body);
	snprintf(path, sizeof(path), "%s/guest", dir);
	assert_int_equal(create_sandbox(path, msg), RPC_OK);
	struct ct_test_spec s = {.args = ARGS("sleep", "1000")};
	assert_int_equal(ct_create(ct_cl, "d1", &s, false, msg), RPC_OK);
	assert_int_equal(ct_start(ct_cl, "d1", msg), RPC_OK);

	Grpc__DestroySandboxRequest dr = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	assert_int_equal(harness_call(ct_cl, "DestroySandbox", &dr.base,
				      &google__protobuf__empty__descriptor, &resp, msg),
			 RPC_OK);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	snprintf(path, sizeof(path), "%s/log", dir);
	char *log = slurp(path);
	assert_non_null(strstr(log, "\"id\":\"d1\",\"status\":\"stopped\""));
	free(log);
	int wst;
	assert_int_equal(waitpid(ct_agent.pid, &wst, 0), ct_agent.pid);
	assert_true(WIFEXITED(wst));
	ct_agent.pid = 0;
}

/* SIGTERM to the agent while a hook runs: the agent exits cleanly and the hook is gone. */
static void test_shutdown_kills_running_hook(void **state _unused_)
{
	char path[256], body[512], started[256];
	snprintf(started, sizeof(started), "%s/started", dir);
	snprintf(path, sizeof(path), "%s/forever.sh", dir);
	snprintf(body, sizeof(body), "touch %s; sleep 984.5; true", started);
	write_script(path, body);
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/true"),
				 .hooks = one_hook(&o, "prestart", path)};

	/* The call's connection dies with the agent: make it from a child process that
	 * nobody listens to, without cmocka (a transport failure must not fail a test there). */
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
		Grpc__Spec spec = GRPC__SPEC__INIT;
		Grpc__Process proc = GRPC__PROCESS__INIT;
		Grpc__User user = GRPC__USER__INIT;
		Grpc__Root root = GRPC__ROOT__INIT;
		static char *args[] = {"/bin/true"};
		proc.args = args;
		proc.n_args = 1;
		proc.cwd = "/";
		proc.user = &user;
		root.path = (char *)ct_rootfs();
		spec.process = &proc;
		spec.root = &root;
		spec.hooks = s.hooks;
		req.container_id = req.exec_id = "forever";
		req.oci = &spec;
		ProtobufCMessage *resp = NULL;
		struct rpc_status st;
		struct rpc_client *c2 = NULL;
		if (rpc_client_connect(ct_agent.addr, 5000, &c2) == 0)
			(void)rpc_client_call(c2, "grpc.AgentService", "CreateContainer", &req.base,
					      &google__protobuf__empty__descriptor, &resp, 0, &st);
		_exit(0);
	}
	wait_for_file(started);
	harness_stop_agent(&ct_agent); /* fails the test unless it exits 0 within 5 s */
	int st;
	waitpid(child, &st, 0);
	assert_false(sleeper_alive("sleep 984.5"));
}

/* poststart failures are warnings (OCI); a failing startContainer hook fails the start and
 * stops the container. */
static void test_start_hook_failures(void **state _unused_)
{
	char bad[256], msg[512];
	snprintf(bad, sizeof(bad), "%s/bad.sh", dir);
	write_script(bad, "exit 1");
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/echo", "still ran"),
				 .hooks = one_hook(&o, "poststart", bad)};
	int status;
	char *out = ct_run(ct_cl, "poststart-fails", &s, &status);
	assert_int_equal(status, 0);
	assert_string_equal(out, "still ran\n");
	free(out);

	/* startContainer runs in the container: this path exists only on the host */
	s.hooks = one_hook(&o, "startContainer", bad);
	assert_int_equal(ct_create(ct_cl, "start-fails", &s, false, msg), RPC_OK);
	int code = ct_start(ct_cl, "start-fails", msg);
	assert_int_equal(code, RPC_NOT_FOUND);
	assert_non_null(strstr(msg, bad));
	assert_non_null(strstr(msg, "cannot execute"));
	assert_int_equal(ct_wait(ct_cl, "start-fails", "start-fails", msg), 137);
	assert_int_equal(ct_remove(ct_cl, "start-fails", 0, msg), RPC_OK);
}

/* Bad hooks are refused before anything is created, naming the value. */
static void test_bad_hooks(void **state _unused_)
{
	char msg[512];
	struct one_hook o;
	struct ct_test_spec s = {.args = ARGS("/bin/true"),
				 .hooks = one_hook(&o, "poststop", "relative/hook")};

	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "'relative/hook' is not absolute"));

	o.h.path = "/bin/true";
	o.h.timeout = -5;
	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "timeout -5"));

	o.h.timeout = 0;
	Grpc__Hook *many[HOOK_MAX_PER_KIND_TEST + 1];
	for (size_t i = 0; i < ARRAY_SIZE(many); i++)
		many[i] = &o.h;
	o.hooks.poststop = many;
	o.hooks.n_poststop = ARRAY_SIZE(many);
	assert_int_equal(ct_create(ct_cl, "bad", &s, false, msg), RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "poststop hooks"));

	assert_int_equal(create_sandbox("relative/dir", msg), RPC_INVALID_ARGUMENT);
	assert_non_null(strstr(msg, "relative/dir"));
	assert_int_equal(agent_dir_entries(ct_agent.pid, "/run/kata-containers"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_guest_hooks_lifecycle, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_spec_hooks_namespaces, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prestart_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_prestart_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_hook_does_not_block_the_agent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_start_hook_failures, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_remove_during_start_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_destroy_runs_poststop, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_shutdown_kills_running_hook, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_hooks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
