/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/security path resolution against a scratch rootfs full of evil symlinks, once with
 * openat2 and once with the component walk used when openat2 is missing: both must give
 * the same answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/security/security.h"

#include <fcntl.h>
#include <sys/stat.h>

static char top[64], root[128], outside[128];
static int root_fd = -1;

static void mk(const char *base, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s%s", base, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static void mkfile(const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	close(fd);
}

static void ln(const char *target, const char *rel)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(symlink(target, p), 0);
}

static int setup(void **state _unused_)
{
	snprintf(top, sizeof(top), "/tmp/ember-sec-paths-XXXXXX");
	assert_non_null(mkdtemp(top));
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(outside, sizeof(outside), "%s/outside", top);
	mk(root, "");
	mk(outside, "");
	char p[512];
	snprintf(p, sizeof(p), "%s/secret", outside);
	int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);

	mk(root, "/a");
	mk(root, "/a/b");
	mkfile("a/b/file");
	ln("/a", "abs");		 /* absolute, inside */
	ln("b", "a/rel");		 /* relative, inside */
	ln("../../outside", "evil_rel"); /* relative escape attempt */
	ln(outside, "evil_abs");	 /* absolute path of the host directory */
	ln("../../../../../..", "dotdot");
	ln("a/../../outside/secret", "evil_mid");
	ln("loop", "loop");
	ln("../..", "a/up");
	ln("/a/b/file", "filelink");
	root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(root_fd >= 0);
	return 0;
}

static int teardown(void **state _unused_)
{
	close(root_fd);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static ino_t ino_of(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	assert_int_equal(lstat(p, &st), 0);
	return st.st_ino;
}

static void expect_ino(const char *path, int flags, const char *real)
{
	int fd = security_open_in_root(root_fd, path, flags);
	if (fd < 0)
		fail_msg("%s (walk=%d): %s", path, security_resolve_force_walk, strerror(-fd));
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	if (st.st_ino != ino_of(real))
		fail_msg("%s resolved to the wrong file (walk=%d)", path,
			 security_resolve_force_walk);
	close(fd);
}

static void expect_err(const char *path, int flags, int err)
{
	int fd = security_open_in_root(root_fd, path, flags);
	if (fd >= 0)
		close(fd);
	if (fd != -err)
		fail_msg("%s (walk=%d): got %d (%s), want -%s", path, security_resolve_force_walk,
			 fd, fd < 0 ? strerror(-fd) : "an fd", strerror(err));
}

static void resolution_cases(void)
{
	expect_ino("/a/b/file", O_PATH, "a/b/file");
	expect_ino("a/b/file", O_RDONLY, "a/b/file");
	expect_ino("/abs/b/file", O_PATH, "a/b/file");
	expect_ino("/a/rel/file", O_PATH, "a/b/file");
	expect_ino("/dotdot/a/b/file", O_PATH, "a/b/file");
	expect_ino("/a/up/a/b/./file", O_PATH, "a/b/file");
	expect_ino("/../../a/b/file", O_PATH, "a/b/file");
	expect_ino("/filelink", O_RDONLY, "a/b/file");
	expect_ino("/a/b/", O_PATH | O_DIRECTORY, "a/b");
	expect_ino("/", O_PATH | O_DIRECTORY, ".");
	expect_ino("/a/b/../../a", O_RDONLY | O_DIRECTORY, "a");

	/* nothing outside the root is reachable */
	expect_err("/evil_rel/secret", O_PATH, ENOENT);
	expect_err("/evil_abs/secret", O_PATH, ENOENT);
	expect_err("/evil_mid", O_PATH, ENOENT);
	expect_err("/../outside/secret", O_PATH, ENOENT);
	expect_err("/dotdot/outside/secret", O_PATH, ENOENT);

	expect_err("/loop", O_PATH, ELOOP);
	expect_err("/a/b/file/x", O_PATH, ENOTDIR);
	expect_err("/a/b/file", O_PATH | O_DIRECTORY, ENOTDIR);
	expect_err("/filelink", O_RDONLY | O_NOFOLLOW, ELOOP);
	expect_err("/nope", O_PATH, ENOENT);

	/* O_PATH | O_NOFOLLOW opens the link itself */
	int fd = security_open_in_root(root_fd, "/abs", O_PATH | O_NOFOLLOW);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	close(fd);

	/* writable opens go through as well */
	fd = security_open_in_root(root_fd, "/abs/b/file", O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "x", 1), 1);
	close(fd);
}

static void test_openat2(void **state _unused_)
{
	security_resolve_force_walk = false;
	resolution_cases();
}

static void test_walk(void **state _unused_)
{
	security_resolve_force_walk = true;
	resolution_cases();
	security_resolve_force_walk = false;
}

/* Magic links (procfs links to open files and to other roots) are refused in both modes;
 * the ordinary procfs links (self, mounts) are followed. */
static void magic_cases(void)
{
	int host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	assert_true(host_root >= 0);
	int fd = security_open_in_root(host_root, "/proc/self/cwd", O_PATH);
	assert_int_equal(fd, -ELOOP);
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", root_fd);
	fd = security_open_in_root(host_root, p, O_PATH);
	assert_int_equal(fd, -ELOOP);
	fd = security_open_in_root(host_root, "/proc/self/root/etc", O_PATH);
	assert_int_equal(fd, -ELOOP);
	fd = security_open_in_root(host_root, "/proc/self/status", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	fd = security_open_in_root(host_root, "/proc/mounts", O_RDONLY);
	assert_true(fd >= 0);
	close(fd);
	close(host_root);
}

static void test_magic_links(void **state _unused_)
{
	security_resolve_force_walk = false;
	magic_cases();
	security_resolve_force_walk = true;
	magic_cases();
	security_resolve_force_walk = false;
}

static void test_walk_limits(void **state _unused_)
{
	security_resolve_force_walk = true;
	char *longp = malloc(5000);
	memset(longp, 'a', 4999);
	longp[0] = '/';
	longp[4999] = '\0';
	expect_err(longp, O_PATH, ENAMETOOLONG);
	free(longp);
	expect_err("", O_PATH, ENOENT);
	expect_err("/a", O_CREAT | O_WRONLY, EINVAL);
	security_resolve_force_walk = false;
}

static bool exists(const char *rel)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", root, rel);
	return lstat(p, &st) == 0;
}

static void test_mkdir_in_root(void **state _unused_)
{
	char p[512];
	struct stat st;
	/* plain */
	int fd = security_mkdir_in_root(root_fd, "/new/deeper/dir", false);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	close(fd);
	assert_true(exists("new/deeper/dir"));
	fd = security_mkdir_in_root(root_fd, "/new/deeper/dir", false); /* again: fine */
	assert_true(fd >= 0);
	close(fd);

	/* a file as the last component */
	fd = security_mkdir_in_root(root_fd, "/new/file", true);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	close(fd);

	/* through symlinks that point out of the root: created inside it */
	ln("/ghost/town", "dangling_abs");
	fd = security_mkdir_in_root(root_fd, "/dangling_abs/sub", false);
	assert_true(fd >= 0);
	close(fd);
	assert_true(exists("ghost/town/sub"));
	fd = security_mkdir_in_root(root_fd, "/evil_rel/sub", false);
	assert_true(fd >= 0);
	close(fd);
	assert_true(exists("outside/sub"));
	fd = security_mkdir_in_root(root_fd, "/evil_abs/sub", false);
	assert_true(fd >= 0);
	close(fd);
	snprintf(p, sizeof(p), "%s/sub", outside);
	assert_int_equal(lstat(p, &st), -1); /* the real outside directory is untouched */
	snprintf(p, sizeof(p), "%s/sub", outside + 1);
	assert_true(exists(p)); /* <root>/<the host path of outside>/sub was made */

	assert_int_equal(security_mkdir_in_root(root_fd, "/a/b/file/x", false), -ENOTDIR);
	assert_int_equal(security_mkdir_in_root(root_fd, "/loop/x", false), -ELOOP);

	int host_root = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	char magic[64];
	snprintf(magic, sizeof(magic), "/proc/self/fd/%d/x", root_fd);
	assert_int_equal(security_mkdir_in_root(host_root, magic, false), -ELOOP);
	close(host_root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_openat2),	  cmocka_unit_test(test_walk),
	    cmocka_unit_test(test_magic_links),	  cmocka_unit_test(test_walk_limits),
	    cmocka_unit_test(test_mkdir_in_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
