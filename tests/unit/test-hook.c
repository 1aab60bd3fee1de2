/* SPDX-License-Identifier: Apache-2.0 */
/* agent/hook: hook sets from the spec and from a guest hook directory, the OCI state JSON. */
#include "hook/hook.h"

#include <setjmp.h>
#include <cmocka.h>
#include <sys/stat.h>

static void test_state_json(void **state _unused_)
{
	char *s = hook_state_json("1.1.0", "c1", "creating", 42, "/run/kata-containers/c1", NULL);
	assert_string_equal(
	    s, "{\"ociVersion\":\"1.1.0\",\"id\":\"c1\",\"status\":\"creating\","
	       "\"pid\":42,\"bundle\":\"/run/kata-containers/c1\",\"annotations\":{}}");
	free(s);
	/* no pid once stopped; strings escaped */
	s = hook_state_json("", "c\"2", "stopped", 0, "/b\\x", "{\"k\":\"v\"}");
	assert_string_equal(s, "{\"ociVersion\":\"\",\"id\":\"c\\\"2\",\"status\":\"stopped\","
			       "\"bundle\":\"/b\\\\x\",\"annotations\":{\"k\":\"v\"}}");
	free(s);
}

static void test_annotations_json(void **state _unused_)
{
	Grpc__Spec__AnnotationsEntry a = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT,
				     b = GRPC__SPEC__ANNOTATIONS_ENTRY__INIT;
	a.key = "io.kubernetes.cri.container-type";
	a.value = "sandbox";
	b.key = "multi\nline";
	b.value = "tab\there \x01";
	Grpc__Spec__AnnotationsEntry *v[] = {&a, &b};
	char *s = hook_annotations_json(v, 2);
	assert_string_equal(s, "{\"io.kubernetes.cri.container-type\":\"sandbox\","
			       "\"multi\\u000aline\":\"tab\\u0009here \\u0001\"}");
	free(s);
	s = hook_annotations_json(NULL, 0);
	assert_string_equal(s, "{}");
	free(s);
}

static void test_from_spec(void **state _unused_)
{
	struct hook_set set = {0};
	char err[256];
	Grpc__Hook h1 = GRPC__HOOK__INIT, h2 = GRPC__HOOK__INIT;
	static char *args[] = {"name", "a"};
	static char *env[] = {"X=1"};
	h1.path = "/usr/bin/setup-net";
	h2.path = "/bin/log";
	h2.args = args;
	h2.n_args = 2;
	h2.env = env;
	h2.n_env = 1;
	h2.timeout = 7;
	Grpc__Hook *pre[] = {&h1}, *post[] = {&h1, &h2};
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	hooks.prestart = pre;
	hooks.n_prestart = 1;
	hooks.poststop = post;
	hooks.n_poststop = 2;

	assert_int_equal(hook_set_from_spec(&set, &hooks, err, sizeof(err)), 0);
	assert_int_equal(set.kind[HOOK_PRESTART].n, 1);
	assert_int_equal(set.kind[HOOK_POSTSTOP].n, 2);
	assert_int_equal(set.kind[HOOK_POSTSTART].n, 0);
	const struct hook *h = &set.kind[HOOK_PRESTART].v[0];
	/* no args: argv = [path]; no timeout: the default */
	assert_string_equal(h->argv[0], "/usr/bin/setup-net");
	assert_null(h->argv[1]);
	assert_null(h->envp[0]);
	assert_int_equal(h->timeout_s, HOOK_DEFAULT_TIMEOUT_S);
	h = &set.kind[HOOK_POSTSTOP].v[1];
	assert_string_equal(h->argv[0], "name");
	assert_string_equal(h->argv[1], "a");
	assert_null(h->argv[2]);
	assert_string_equal(h->envp[0], "X=1");
	assert_int_equal(h->timeout_s, 7);

	/* appended: guest hooks come after the spec's */
	struct hook_set guest = {0};
	Grpc__Hook g = GRPC__HOOK__INIT;
	Grpc__Hook *gv[] = {&g};
	g.path = "/guest/pre";
	Grpc__Hooks gh = GRPC__HOOKS__INIT;
	gh.prestart = gv;
	gh.n_prestart = 1;
	assert_int_equal(hook_set_from_spec(&guest, &gh, err, sizeof(err)), 0);
	assert_int_equal(hook_set_append(&set, &guest, err, sizeof(err)), 0);
	assert_int_equal(set.kind[HOOK_PRESTART].n, 2);
	assert_string_equal(set.kind[HOOK_PRESTART].v[1].path, "/guest/pre");
	hook_set_free(&guest);
	hook_set_free(&set);
	assert_true(hook_set_empty(&set));
}

static void test_from_spec_refused(void **state _unused_)
{
	struct hook_set set = {0};
	char err[256];
	Grpc__Hook h = GRPC__HOOK__INIT;
	Grpc__Hook *v[HOOK_MAX_PER_KIND + 1];
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		v[i] = &h;
	Grpc__Hooks hooks = GRPC__HOOKS__INIT;
	hooks.createruntime = v;
	hooks.n_createruntime = 1;

	h.path = "hook";
	assert_int_equal(hook_set_from_spec(&set, &hooks, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "createRuntime hook 0: path 'hook' is not absolute");
	hook_set_free(&set);

	h.path = "/hook";
	h.timeout = -1;
	assert_int_equal(hook_set_from_spec(&set, &hooks, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "'/hook': timeout -1 s is out of range"));
	hook_set_free(&set);
	h.timeout = HOOK_MAX_TIMEOUT_S + 1;
	assert_int_equal(hook_set_from_spec(&set, &hooks, err, sizeof(err)), -EINVAL);
	hook_set_free(&set);

	h.timeout = 0;
	hooks.n_createruntime = ARRAY_SIZE(v);
	assert_int_equal(hook_set_from_spec(&set, &hooks, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "more than 64 createRuntime hooks"));
	hook_set_free(&set);

	assert_int_equal(hook_set_from_spec(&set, NULL, err, sizeof(err)), 0);
	assert_true(hook_set_empty(&set));
}

static void touch(const char *dir, const char *name, mode_t mode)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(chmod(p, mode), 0);
}

static void test_scan_dir(void **state _unused_)
{
	char dir[] = "/tmp/ember-hook-unit-XXXXXX", sub[600];
	assert_non_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/prestart", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	touch(sub, "20-b", 0755);
	touch(sub, "10-a", 0755);
	touch(sub, "15-not-executable", 0644);
	touch(sub, ".hidden", 0755);
	snprintf(sub, sizeof(sub), "%s/prestart/subdir", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(sub, sizeof(sub), "%s/poststop", dir);
	assert_int_equal(mkdir(sub, 0755), 0);
	touch(sub, "x", 0700);
	/* no poststart directory: fine */

	struct hook_set set = {0};
	char err[256], want[600];
	assert_int_equal(hook_set_scan_dir(&set, dir, err, sizeof(err)), 0);
	assert_int_equal(set.kind[HOOK_PRESTART].n, 2);
	snprintf(want, sizeof(want), "%s/prestart/10-a", dir);
	assert_string_equal(set.kind[HOOK_PRESTART].v[0].path, want);
	assert_string_equal(set.kind[HOOK_PRESTART].v[0].argv[0], want);
	snprintf(want, sizeof(want), "%s/prestart/20-b", dir);
	assert_string_equal(set.kind[HOOK_PRESTART].v[1].path, want);
	assert_int_equal(set.kind[HOOK_POSTSTART].n, 0);
	assert_int_equal(set.kind[HOOK_POSTSTOP].n, 1);
	hook_set_free(&set);

	/* a directory that is not there is not an error (Kata warns); relative ones are */
	assert_int_equal(hook_set_scan_dir(&set, "/nonexistent/hooks", err, sizeof(err)), 0);
	assert_true(hook_set_empty(&set));
	assert_int_equal(hook_set_scan_dir(&set, "hooks", err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "guest_hook_path 'hooks' is not absolute");

	char cmd[700];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_state_json), cmocka_unit_test(test_annotations_json),
	    cmocka_unit_test(test_from_spec),  cmocka_unit_test(test_from_spec_refused),
	    cmocka_unit_test(test_scan_dir),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
