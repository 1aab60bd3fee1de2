/* SPDX-License-Identifier: Apache-2.0 */
/* emberctl's OCI config.json -> protobuf Spec conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "emberctl.h"
#include "oci-json.h"

static Grpc__Spec *convert(const char *text, struct oci_dropped *drop, char *err)
{
	json_object *j = json_tokener_parse(text);
	assert_non_null(j);
	Grpc__Spec *spec = NULL;
	int r = oci_json_to_spec(j, &spec, drop, err, 256);
	json_object_put(j);
	return r < 0 ? NULL : spec;
}

static void test_full_config(void **state _unused_)
{
	static const char cfg[] =
	    "{\"ociVersion\": \"1.1.0\","
	    " \"process\": {\"terminal\": true, \"consoleSize\": {\"height\": 24, \"width\": 80},"
	    "  \"user\": {\"uid\": 1000, \"gid\": 100, \"additionalGids\": [5, 6], \"umask\": 18},"
	    "  \"args\": [\"sh\", \"-c\", \"true\"], \"env\": [\"PATH=/bin\"], \"cwd\": \"/w\","
	    "  \"capabilities\": {\"bounding\": [\"CAP_CHOWN\"], \"effective\": [\"CAP_KILL\"]},"
	    "  \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1024, \"soft\": 512}],"
	    "  \"noNewPrivileges\": true, \"oomScoreAdj\": -5},"
	    " \"root\": {\"path\": \"rootfs\", \"readonly\": true},"
	    " \"hostname\": \"box\","
	    " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
	    "   {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\","
	    "    \"options\": [\"nosuid\", \"mode=755\"]}],"
	    " \"annotations\": {\"a\": \"b\"},"
	    " \"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}],"
	    "   \"sysctl\": {\"net.ipv4.ip_forward\": \"1\"},"
	    "   \"resources\": {\"memory\": {\"limit\": 1048576}, \"cpu\": {\"shares\": 512}},"
	    "   \"cgroupsPath\": \"/x\", \"namespaces\": [{\"type\": \"pid\"}, {\"type\": "
	    "\"network\", \"path\": \"/n\"}],"
	    "   \"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": "
	    "229, \"fileMode\": 438}],"
	    "   \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	    "[\"read\"], \"action\": \"SCMP_ACT_ALLOW\", \"errnoRet\": 1}]},"
	    "   \"rootfsPropagation\": \"rslave\", \"maskedPaths\": [\"/proc/kcore\"], "
	    "\"readonlyPaths\": [\"/proc/sys\"],"
	    "   \"timeOffsets\": {\"monotonic\": {\"secs\": 1}}, \"intelRdt\": {\"l3CacheSchema\": "
	    "\"L3:0=f\"}}}";
	struct oci_dropped drop;
	char err[256];
	Grpc__Spec *s = convert(cfg, &drop, err);
	if (!s)
		fail_msg("%s", err);
	assert_string_equal(s->version, "1.1.0");
	assert_true(s->process->terminal);
	assert_int_equal(s->process->consolesize->height, 24);
	assert_int_equal(s->process->user->uid, 1000);
	assert_int_equal(s->process->user->n_additionalgids, 2);
	assert_int_equal(s->process->n_args, 3);
	assert_string_equal(s->process->cwd, "/w");
	assert_string_equal(s->process->capabilities->bounding[0], "CAP_CHOWN");
	assert_int_equal(s->process->rlimits[0]->soft, 512);
	assert_true(s->process->nonewprivileges);
	assert_int_equal(s->process->oomscoreadj, -5);
	assert_string_equal(s->root->path, "rootfs");
	assert_true(s->root->readonly);
	assert_int_equal(s->n_mounts, 2);
	assert_string_equal(s->mounts[1]->options[1], "mode=755");
	assert_int_equal(s->n_annotations, 1);
	assert_non_null(s->linux_);
	assert_int_equal(s->linux_->uidmappings[0]->hostid, 1000);
	assert_int_equal(s->linux_->n_sysctl, 1);
	assert_int_equal(s->linux_->resources->memory->limit, 1048576);
	assert_int_equal(s->linux_->resources->cpu->shares, 512);
	assert_string_equal(s->linux_->namespaces[1]->path, "/n");
	assert_int_equal(s->linux_->devices[0]->minor, 229);
	assert_int_equal(s->linux_->devices[0]->filemode, 438);
	assert_string_equal(s->linux_->seccomp->syscalls[0]->names[0], "read");
	assert_string_equal(s->linux_->rootfspropagation, "rslave");
	assert_string_equal(s->linux_->maskedpaths[0], "/proc/kcore");
	assert_string_equal(s->linux_->intelrdt->l3cacheschema, "L3:0=f");
	/* what the proto cannot carry is listed, not an error */
	assert_int_equal(drop.n, 2);
	assert_string_equal(drop.names[0], "process.user.umask");
	assert_string_equal(drop.names[1], "linux.timeOffsets");
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_errors_name_the_field(void **state _unused_)
{
	char err[256];
	assert_null(convert("{\"process\": {\"args\": \"not-an-array\"}}", NULL, err));
	assert_non_null(strstr(err, "Args"));
	assert_null(convert("{\"process\": {\"user\": {\"uid\": \"abc\"}}}", NULL, err));
	assert_non_null(strstr(err, "UID"));
	assert_null(convert("[1, 2]", NULL, err));
}

static void test_root_path(void **state _unused_)
{
	char err[256];
	Grpc__Spec *s = convert("{\"root\": {\"path\": \"/abs\"}}", NULL, err);
	assert_non_null(s);
	assert_int_equal(oci_spec_fix_root(s, "/tmp", err, sizeof(err)), 0);
	assert_string_equal(s->root->path, "/abs");
	protobuf_c_message_free_unpacked(&s->base, NULL);
	s = convert("{\"root\": {\"path\": \".\"}}", NULL, err);
	assert_int_equal(oci_spec_fix_root(s, "/tmp", err, sizeof(err)), 0);
	assert_string_equal(s->root->path, "/tmp");
	protobuf_c_message_free_unpacked(&s->base, NULL);
	s = convert("{\"root\": {\"path\": \"no/such/dir\"}}", NULL, err);
	assert_true(oci_spec_fix_root(s, "/tmp", err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "no/such/dir"));
	protobuf_c_message_free_unpacked(&s->base, NULL);
	s = convert("{}", NULL, err);
	assert_true(oci_spec_fix_root(s, "/tmp", err, sizeof(err)) < 0);
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_config),
	    cmocka_unit_test(test_errors_name_the_field),
	    cmocka_unit_test(test_root_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
