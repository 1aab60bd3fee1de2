/* SPDX-License-Identifier: Apache-2.0 */
/* mount/: option parsing (libmount), lexical and fd-based path confinement, and the OCI
 * spec rewrite for CreateContainer's devices. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "mount/mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

/* ---- options ---- */

static void parse_ok(char *const *opts, size_t n, unsigned long init, struct mount_opts *o)
{
	char *bad = NULL;
	int r = mount_opts_parse(opts, n, init, o, &bad);
	if (r < 0)
		fail_msg("mount_opts_parse: %d (bad '%s')", r, bad ? bad : "");
	assert_null(bad);
}

static void test_options_9p_as_the_go_runtime_sends_them(void **state _unused_)
{
	char *opts[] = {"trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=8192"};
	struct mount_opts o;
	parse_ok(opts, 3, 0, &o);
	assert_int_equal(o.flags, MS_NODEV);
	assert_int_equal(o.propagation, 0);
	assert_string_equal(o.data, "trans=virtio,version=9p2000.L,cache=mmap,msize=8192");
	mount_opts_done(&o);
}

static void test_options_flags_and_data(void **state _unused_)
{
	char *shm[] = {"noexec", "nosuid", "nodev", "mode=1777", "size=67108864"};
	struct mount_opts o;
	parse_ok(shm, ARRAY_SIZE(shm), 0, &o);
	assert_int_equal(o.flags, MS_NOEXEC | MS_NOSUID | MS_NODEV);
	assert_string_equal(o.data, "mode=1777,size=67108864");
	mount_opts_done(&o);

	char *ro[] = {"ro", "", "relatime", "x-systemd.automount", "nofail", "_netdev"};
	parse_ok(ro, ARRAY_SIZE(ro), 0, &o);
	assert_int_equal(o.flags, MS_RDONLY | MS_RELATIME);
	assert_null(o.data); /* userspace-only options never reach the kernel */
	mount_opts_done(&o);

	/* Propagation goes to a second mount(2); MS_REC stays with rbind and applies to it. */
	char *bind[] = {"rbind", "rslave"};
	parse_ok(bind, 2, 0, &o);
	assert_int_equal(o.flags, MS_BIND | MS_REC);
	assert_int_equal(o.propagation, MS_SLAVE | MS_REC);
	mount_opts_done(&o);
	char *priv[] = {"private"};
	parse_ok(priv, 1, 0, &o);
	assert_int_equal(o.flags, 0);
	assert_int_equal(o.propagation, MS_PRIVATE);
	mount_opts_done(&o);

	/* Remounts start from the mount's flags: only what the options name changes. */
	char *upd[] = {"exec", "size=2M"};
	parse_ok(upd, 2, MS_NOEXEC | MS_NOSUID | MS_NODEV, &o);
	assert_int_equal(o.flags, MS_NOSUID | MS_NODEV);
	assert_string_equal(o.data, "size=2M");
	mount_opts_done(&o);

	parse_ok(NULL, 0, 0, &o);
	assert_int_equal(o.flags, 0);
	assert_null(o.data);
}

static void test_options_loop_refused(void **state _unused_)
{
	char *opts[] = {"ro", "loop=/dev/loop3,offset=0"};
	struct mount_opts o;
	char *bad = NULL;
	assert_int_equal(mount_opts_parse(opts, 2, 0, &o, &bad), -EINVAL);
	assert_string_equal(bad, "loop");
	free(bad);
	char *plain[] = {"loop"};
	assert_int_equal(mount_opts_parse(plain, 1, 0, &o, &bad), -EINVAL);
	free(bad);
	/* "loopy" is someone's filesystem option, not loop. */
	char *other[] = {"loopy=1"};
	parse_ok(other, 1, 0, &o);
	assert_string_equal(o.data, "loopy=1");
	mount_opts_done(&o);
}

/* ---- paths ---- */

static void test_path_below(void **state _unused_)
{
	const char *rel;
	assert_int_equal(path_below("/run/kata-containers/a/b", "/run/kata-containers", &rel), 0);
	assert_string_equal(rel, "a/b");
	assert_int_equal(path_below("/run/kata-containers//a", "/run/kata-containers", &rel), 0);
	assert_string_equal(rel, "a");

	static const char *const outside[] = {
	    "/run/kata-containers",
	    "/run/kata-containers/",
	    "/run/kata-containers-x/a",
	    "/run/kata",
	    "/etc/passwd",
	    "/run/kata-containers/a/../../../etc",
	    "/run/kata-containers/..",
	    "/run/kata-containers/./a",
	    "/run/kata-containers/a/.",
	};
	for (size_t i = 0; i < ARRAY_SIZE(outside); i++)
		if (path_below(outside[i], "/run/kata-containers", &rel) != -EPERM)
			fail_msg("'%s' accepted", outside[i]);
	assert_int_equal(path_below("run/kata-containers/a", "/run/kata-containers", &rel),
			 -EINVAL);
	assert_int_equal(path_below("", "/run/kata-containers", &rel), -EINVAL);
	assert_int_equal(path_below(NULL, "/run/kata-containers", &rel), -EINVAL);
	/* Names that merely start with dots are names. */
	assert_int_equal(path_below("/run/kata-containers/..data/.x", "/run/kata-containers", &rel),
			 0);
}

static void test_path_normalize(void **state _unused_)
{
	static const char *const cases[][2] = {
	    {"/run/kata-containers/shared/containers/", "/run/kata-containers/shared/containers"},
	    {"/run//kata-containers///x//", "/run/kata-containers/x"},
	    {"/", "/"},
	    {"//", "/"},
	    {"a/b", "a/b"},
	    {"", ""},
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *out = NULL;
		assert_int_equal(path_normalize(cases[i][0], &out), 0);
		assert_string_equal(out, cases[i][1]);
		free(out);
	}
}

static void test_beneath(void **state _unused_)
{
	char dir[] = "/tmp/ember-beneath-XXXXXX", out[] = "/tmp/ember-outside-XXXXXX";
	assert_non_null(mkdtemp(dir));
	assert_non_null(mkdtemp(out));
	int root = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root >= 0);

	int fd = mkdir_beneath(root, "a/b/c", 0750, (uid_t)-1, (gid_t)-1);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750); /* the umask does not decide */
	close(fd);
	fd = mkdir_beneath(root, "", 0755, (uid_t)-1, (gid_t)-1);
	assert_true(fd >= 0);
	close(fd);

	/* Symlinks inside are fine; out of the root, by absolute or relative target, not. */
	char p[256];
	snprintf(p, sizeof(p), "%s/in", dir);
	assert_int_equal(symlink("a/b", p), 0);
	snprintf(p, sizeof(p), "%s/abs", dir);
	assert_int_equal(symlink(out, p), 0);
	snprintf(p, sizeof(p), "%s/a/up", dir);
	assert_int_equal(symlink("../..", p), 0);
	fd = mkdir_beneath(root, "in/c/d", 0755, (uid_t)-1, (gid_t)-1);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/a/b/c/d", dir);
	assert_int_equal(access(p, F_OK), 0);

	assert_int_equal(mkdir_beneath(root, "abs/x", 0755, (uid_t)-1, (gid_t)-1), -EXDEV);
	assert_int_equal(mkdir_beneath(root, "a/up/x", 0755, (uid_t)-1, (gid_t)-1), -EXDEV);
	assert_int_equal(open_beneath(root, "abs", O_RDONLY, 0), -EXDEV);
	assert_int_equal(open_beneath(root, "../etc/passwd", O_RDONLY, 0), -EXDEV);
	assert_int_equal(open_beneath(root, "/etc/passwd", O_RDONLY, 0), -EXDEV);
	assert_int_equal(open_beneath(root, "proc-self", O_RDONLY, 0), -ENOENT);
	snprintf(p, sizeof(p), "%s/x", out);
	assert_int_equal(access(p, F_OK), -1); /* nothing was created outside */
	close(root);

	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf %s %s", dir, out);
	assert_int_equal(system(cmd), 0);
}

/* ---- spec rewrite ---- */

static Grpc__LinuxDevice *spec_dev(const char *path, const char *type, int64_t maj, int64_t min)
{
	Grpc__LinuxDevice *d = malloc(sizeof(*d));
	grpc__linux_device__init(d);
	d->path = strdup(path);
	d->type = strdup(type);
	d->major = maj;
	d->minor = min;
	return d;
}

static Grpc__LinuxDeviceCgroup *rule(bool allow, const char *type, int64_t maj, int64_t min,
				     const char *access)
{
	Grpc__LinuxDeviceCgroup *r = malloc(sizeof(*r));
	grpc__linux_device_cgroup__init(r);
	r->allow = allow;
	r->type = strdup(type);
	r->major = maj;
	r->minor = min;
	r->access = strdup(access);
	return r;
}

/* A spec as protobuf-c would unpack it: everything heap-allocated. */
static Grpc__Spec *make_spec(void)
{
	Grpc__Spec *s = malloc(sizeof(*s));
	grpc__spec__init(s);
	s->linux_ = malloc(sizeof(*s->linux_));
	grpc__linux__init(s->linux_);
	s->linux_->n_devices = 2;
	s->linux_->devices = malloc(2 * sizeof(Grpc__LinuxDevice *));
	s->linux_->devices[0] = spec_dev("/dev/xvda", "b", 8, 0);
	s->linux_->devices[1] = spec_dev("/dev/xvdb", "b", 8, 16);
	s->linux_->resources = malloc(sizeof(*s->linux_->resources));
	grpc__linux_resources__init(s->linux_->resources);
	s->linux_->resources->n_devices = 3;
	s->linux_->resources->devices = malloc(3 * sizeof(Grpc__LinuxDeviceCgroup *));
	s->linux_->resources->devices[0] = rule(false, "a", -1, -1, "rwm");
	s->linux_->resources->devices[1] = rule(true, "b", 8, 16, "rw");
	s->linux_->resources->devices[2] = rule(true, "c", 8, 16, "rw"); /* other type */
	return s;
}

static void test_spec_update_devices(void **state _unused_)
{
	Grpc__Spec *s = make_spec();
	struct storage_device devs[] = {
	    {.container_path = "/dev/xvdb",
	     .type = 'b',
	     .major = 254,
	     .minor = 32,
	     .node = "/dev/vdc"},
	    {.container_path = "", .type = 'b', .major = 254, .minor = 48, .node = "/dev/vdd"},
	};
	char msg[STORAGE_MSG_MAX] = "";
	assert_int_equal(storage_spec_update_devices(s, devs, 2, msg, sizeof(msg)), 0);
	Grpc__Linux *l = s->linux_;
	assert_int_equal(l->devices[0]->major, 8); /* untouched */
	assert_int_equal(l->devices[1]->major, 254);
	assert_int_equal(l->devices[1]->minor, 32);
	Grpc__LinuxResources *res = l->resources;
	assert_int_equal(res->devices[1]->major, 254);
	assert_int_equal(res->devices[1]->minor, 32);
	assert_string_equal(res->devices[1]->access, "rw");
	assert_int_equal(res->devices[2]->major, 8); /* a char rule with the same numbers */
	assert_int_equal(res->n_devices, 4);
	Grpc__LinuxDeviceCgroup *added = res->devices[3];
	assert_true(added->allow);
	assert_string_equal(added->type, "b");
	assert_int_equal(added->major, 254);
	assert_int_equal(added->minor, 32);
	assert_string_equal(added->access, "rwm");
	/* What was added is owned by the spec, like what protobuf-c unpacked. */
	protobuf_c_message_free_unpacked(&s->base, NULL);
}

static void test_spec_update_devices_errors(void **state _unused_)
{
	char msg[STORAGE_MSG_MAX] = "";
	Grpc__Spec *s = make_spec();
	struct storage_device missing = {
	    .container_path = "/dev/xvdz", .type = 'b', .major = 254, .node = "/dev/vde"};
	assert_int_equal(storage_spec_update_devices(s, &missing, 1, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "/dev/xvdz"));
	protobuf_c_message_free_unpacked(&s->base, NULL);

	s = make_spec();
	s->linux_->devices[0]->minor = 16; /* both spec entries now claim host 8:16 */
	struct storage_device two[] = {
	    {.container_path = "/dev/xvda",
	     .type = 'b',
	     .major = 254,
	     .minor = 0,
	     .node = "/dev/vda"},
	    {.container_path = "/dev/xvdb",
	     .type = 'b',
	     .major = 254,
	     .minor = 16,
	     .node = "/dev/vdb"},
	};
	assert_int_equal(storage_spec_update_devices(s, two, 2, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "8:16"));
	protobuf_c_message_free_unpacked(&s->base, NULL);

	/* No Linux section at all: a device that names a container path cannot be placed. */
	Grpc__Spec bare = GRPC__SPEC__INIT;
	assert_int_equal(storage_spec_update_devices(&bare, &missing, 1, msg, sizeof(msg)),
			 -EINVAL);
	assert_int_equal(storage_spec_update_devices(NULL, NULL, 0, msg, sizeof(msg)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_9p_as_the_go_runtime_sends_them),
	    cmocka_unit_test(test_options_flags_and_data),
	    cmocka_unit_test(test_options_loop_refused),
	    cmocka_unit_test(test_path_below),
	    cmocka_unit_test(test_path_normalize),
	    cmocka_unit_test(test_beneath),
	    cmocka_unit_test(test_spec_update_devices),
	    cmocka_unit_test(test_spec_update_devices_errors),
	};
	log_set_level(LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
