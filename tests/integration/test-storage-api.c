/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage module through its API (mount/mount.h), on a real event loop with the real
 * uevent listener, mounting for real inside a private mount namespace with its own /run:
 * tmpfs, overlay, bind, ext4 on a loop device (by /dev node), hugetlbfs, refcounts across
 * owners, confinement, device waits (a loop device created while we wait; one that never
 * comes), the CreateContainer device rewrite, and an in-process rpc server proving that a
 * parked storage call does not stop other calls. Root only.
 */
#include "harness.h"
#include "mount/mount.h"
#include "health.pb-c.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <pthread.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#define RUN "/run/kata-containers"

static struct ev_loop *loop;
static struct uevent_listener *uev;
static struct storage_table *tab;      /* hotplug timeout 3 s (Kata's default) */
static struct storage_table *tab_fast; /* 300 ms, for devices that never come */
static char scratch[64];
static char loopdev[64]; /* an ext4 image attached to a loop device */

/* ---- helpers ---- */

struct st {
	Grpc__Storage s;
	char *opts[8];
	Grpc__FSGroup fsg;
};

static Grpc__Storage *mk(struct st *x, const char *driver, const char *source, const char *fstype,
			 const char *mp, const char *const *opts)
{
	memset(x, 0, sizeof(*x));
	grpc__storage__init(&x->s);
	x->s.driver = (char *)driver;
	x->s.source = (char *)source;
	x->s.fstype = (char *)fstype;
	x->s.mount_point = (char *)mp;
	for (size_t i = 0; opts && opts[i]; i++)
		x->opts[x->s.n_options++] = (char *)opts[i];
	x->s.options = x->opts;
	return &x->s;
}

static void with_fs_group(struct st *x, gid_t gid, bool on_root_mismatch)
{
	grpc__fsgroup__init(&x->fsg);
	x->fsg.group_id = gid;
	x->fsg.group_change_policy = on_root_mismatch ? TYPES__FSGROUP_CHANGE_POLICY__OnRootMismatch
						      : TYPES__FSGROUP_CHANGE_POLICY__Always;
	x->s.fs_group = &x->fsg;
}

struct done_rec {
	int calls;
	int r;
	char msg[STORAGE_MSG_MAX];
};

static void done_cb(void *data, int r, const char *msg)
{
	struct done_rec *d = data;
	d->calls++;
	d->r = r;
	snprintf(d->msg, sizeof(d->msg), "%s", msg);
	ev_loop_exit(loop, 0);
}

static int add_on(struct storage_table *t, Grpc__Storage **v, size_t n, const char *owner,
		  char *msg)
{
	struct done_rec d = {0};
	assert_int_equal(storage_add(t, v, n, owner, done_cb, &d, NULL), 0);
	assert_int_equal(d.calls, 0); /* never from inside storage_add */
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(d.calls, 1);
	if (msg)
		snprintf(msg, STORAGE_MSG_MAX, "%s", d.msg);
	return d.r;
}

static int add(Grpc__Storage **v, size_t n, const char *owner, char *msg)
{
	return add_on(tab, v, n, owner, msg);
}

static void add_ok(Grpc__Storage **v, size_t n, const char *owner)
{
	char msg[STORAGE_MSG_MAX];
	int r = add(v, n, owner, msg);
	if (r < 0)
		fail_msg("storage_add: %s (%d)", msg, r);
}

static bool is_mount(const char *path)
{
	struct statx sx;
	if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx) < 0)
		return false;
	return sx.stx_attributes & STATX_ATTR_MOUNT_ROOT;
}

static bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

static long fs_type(const char *path)
{
	struct statfs sf;
	assert_int_equal(statfs(path, &sf), 0);
	return (long)sf.f_type;
}

static void write_text(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	assert_int_equal(loop_write(fd, s, strlen(s)), 0);
	close(fd);
}

static void contains(const char *msg, const char *what)
{
	if (!strstr(msg, what))
		fail_msg("message '%s' does not name '%s'", msg, what);
}

/* ---- fixture ---- */

static int group_setup(void **state _unused_)
{
	/* Everything mounted here stays in this process's own mount namespace. */
	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
		fail_msg("private mount namespace: %s", strerror(errno));
	assert_int_equal(ev_loop_new(&loop), 0);
	assert_int_equal(uevent_listener_new(loop, NULL, &uev), 0);
	struct storage_config cfg = {.loop = loop, .uevents = uev, .hotplug_timeout_ms = 3000};
	assert_int_equal(storage_table_new(&cfg, &tab), 0);
	cfg.hotplug_timeout_ms = 300;
	assert_int_equal(storage_table_new(&cfg, &tab_fast), 0);

	strcpy(scratch, "/tmp/ember-st-XXXXXX");
	assert_non_null(mkdtemp(scratch));
	/* An ext4 image with content owned by root, mode 0600 / 0755. */
	assert_int_equal(
	    harness_sh("mkdir -p %s/seed/d1 && echo one > %s/seed/f1 && "
		       "echo two > %s/seed/d1/f2 && chmod 0600 %s/seed/f1 %s/seed/d1/f2 && "
		       "chmod 0755 %s/seed/d1 && "
		       "mkfs.ext4 -q -F -d %s/seed %s/img 16M",
		       scratch, scratch, scratch, scratch, scratch, scratch, scratch, scratch),
	    0);
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "losetup -f --show %s/img", scratch);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(loopdev, sizeof(loopdev), p));
	assert_int_equal(pclose(p), 0);
	loopdev[strcspn(loopdev, "\n")] = '\0';
	assert_true(startswith(loopdev, "/dev/loop") != NULL);
	return 0;
}

static int group_teardown(void **state _unused_)
{
	storage_release_all(tab);
	storage_table_free(tab);
	storage_table_free(tab_fast);
	uevent_listener_free(uev);
	ev_loop_free(loop);
	harness_sh("losetup -d %s", loopdev);
	harness_sh("rm -rf %s", scratch);
	return 0;
}

static int each_teardown(void **state _unused_)
{
	storage_release_all(tab);
	storage_release_all(tab_fast);
	assert_int_equal(storage_count(tab), 0);
	return 0;
}

/* ---- drivers ---- */

static void test_ephemeral_tmpfs(void **state _unused_)
{
	struct st a, b;
	const char *shm_opts[] = {"noexec", "nosuid", "nodev", "mode=1777", "size=1048576", NULL};
	const char *e_opts[] = {"fsgid=3000", NULL};
	Grpc__Storage *v[] = {
	    mk(&a, "ephemeral", "shm", "tmpfs", RUN "/sandbox/shm", shm_opts),
	    mk(&b, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/ephemeral/e1", e_opts),
	};
	add_ok(v, 2, STORAGE_OWNER_SANDBOX);

	assert_true(is_mount(RUN "/sandbox/shm"));
	assert_int_equal(fs_type(RUN "/sandbox/shm"), TMPFS_MAGIC);
	struct statvfs sv;
	assert_int_equal(statvfs(RUN "/sandbox/shm", &sv), 0);
	assert_true(sv.f_flag & ST_NOEXEC);
	assert_true(sv.f_flag & ST_NOSUID);
	assert_true(sv.f_flag & ST_NODEV);
	assert_int_equal((uint64_t)sv.f_blocks * sv.f_frsize, 1048576);
	struct stat st;
	assert_int_equal(stat(RUN "/sandbox/shm", &st), 0);
	assert_int_equal(st.st_mode & 07777, 01777);
	/* fsgid is ours, not tmpfs's: group + setgid on the mount's root. */
	assert_int_equal(stat(RUN "/sandbox/ephemeral/e1", &st), 0);
	assert_int_equal(st.st_gid, 3000);
	assert_true(st.st_mode & S_ISGID);
	assert_int_equal(storage_refcount(tab, RUN "/sandbox/shm"), 1);

	storage_release(tab, STORAGE_OWNER_SANDBOX);
	assert_false(exists(RUN "/sandbox/shm"));
	assert_false(exists(RUN "/sandbox/ephemeral/e1"));
	assert_int_equal(storage_count(tab), 0);
}

static void test_local(void **state _unused_)
{
	struct st a;
	const char *opts[] = {"mode=0777", "fsgid=4000", NULL};
	const char *mp = RUN "/shared/containers/sid/rootfs/local/vol";
	Grpc__Storage *v[] = {mk(&a, "local", "local", "local", mp, opts)};
	add_ok(v, 1, "sid");
	struct stat st;
	assert_int_equal(stat(mp, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 02777);
	assert_int_equal(st.st_gid, 4000);
	assert_false(is_mount(mp));
	storage_release(tab, "sid");
	assert_false(exists(mp));
}

static void test_overlay_rw(void **state _unused_)
{
	assert_int_equal(mkdir_p(RUN "/test-lower", 0755), 0);
	write_text(RUN "/test-lower/a", "lower");
	struct st a;
	const char *opts[] = {"lowerdir=" RUN "/test-lower", "io.katacontainers.fs-opt.overlay-rw",
			      NULL};
	Grpc__Storage *v[] = {mk(&a, "overlayfs", "none", "overlay", RUN "/c1/rootfs", opts)};
	add_ok(v, 1, "c1");
	assert_int_equal(fs_type(RUN "/c1/rootfs"), OVERLAYFS_SUPER_MAGIC);
	char *s = NULL;
	assert_int_equal(read_file(RUN "/c1/rootfs/a", 64, &s, NULL), 0);
	assert_string_equal(s, "lower");
	free(s);
	write_text(RUN "/c1/rootfs/b", "upper");
	assert_true(exists(RUN "/c1/upper/b")); /* Kata's /run/kata-containers/<cid>/upper */
	assert_true(exists(RUN "/c1/work"));
	assert_false(exists(RUN "/test-lower/b"));
	storage_release(tab, "c1");
	assert_false(is_mount(RUN "/c1/rootfs"));

	/* A writable overlay needs a container to hang its upper dir on. */
	char msg[STORAGE_MSG_MAX];
	assert_int_equal(add(v, 1, STORAGE_OWNER_SANDBOX, msg), -EINVAL);
	contains(msg, "io.katacontainers.fs-opt.overlay-rw");
}

static void test_bind(void **state _unused_)
{
	assert_int_equal(mkdir_p(RUN "/src", 0755), 0);
	write_text(RUN "/src/f", "x");
	struct st a;
	const char *opts[] = {"rbind", "ro", NULL};
	Grpc__Storage *v[] = {mk(&a, "virtio-fs", RUN "/src", "bind", RUN "/sandbox/bound", opts)};
	add_ok(v, 1, "c2");
	assert_true(is_mount(RUN "/sandbox/bound"));
	assert_true(exists(RUN "/sandbox/bound/f"));
	assert_int_equal(open(RUN "/sandbox/bound/g", O_WRONLY | O_CREAT | O_CLOEXEC, 0644), -1);
	assert_int_equal(errno, EROFS);
	storage_release(tab, "c2");
	assert_false(is_mount(RUN "/sandbox/bound"));

	/* A bind mount must not hand the guest's own files to a container. */
	char msg[STORAGE_MSG_MAX];
	mk(&a, "virtio-fs", "/etc", "bind", RUN "/sandbox/etc", opts);
	assert_int_equal(add(v, 1, "c2", msg), -EPERM);
	contains(msg, "'/etc'");
	assert_false(exists(RUN "/sandbox/etc"));
}

static void test_blk_by_dev_node_with_fs_group(void **state _unused_)
{
	const char *mp = RUN "/sandbox/storage/vol";
	struct st a;
	Grpc__Storage *v[] = {mk(&a, "mmioblk", loopdev, "ext4", mp, NULL)};
	with_fs_group(&a, 2345, false);
	add_ok(v, 1, "c3");
	assert_int_equal(fs_type(mp), EXT4_SUPER_MAGIC);
	struct stat st;
	assert_int_equal(stat(RUN "/sandbox/storage/vol/f1", &st), 0);
	assert_int_equal(st.st_gid, 2345);
	assert_int_equal(st.st_mode & 07777, 0660);
	assert_int_equal(stat(RUN "/sandbox/storage/vol/d1", &st), 0);
	assert_int_equal(st.st_mode & 07777, 02775);
	assert_int_equal(stat(RUN "/sandbox/storage/vol/d1/f2", &st), 0);
	assert_int_equal(st.st_gid, 2345);
	assert_int_equal(stat(mp, &st), 0);
	assert_int_equal(st.st_gid, 2345);
	/* Something changes a file behind kubelet's back. */
	assert_int_equal(chown(RUN "/sandbox/storage/vol/f1", 0, 0), 0);
	write_text(RUN "/sandbox/storage/vol/written", "kept");
	storage_release(tab, "c3");
	assert_false(is_mount(mp));

	/* OnRootMismatch: the root still matches, so nothing below is touched. */
	mk(&a, "blk", loopdev, "ext4", mp, NULL);
	with_fs_group(&a, 2345, true);
	add_ok(v, 1, "c3");
	assert_int_equal(stat(RUN "/sandbox/storage/vol/f1", &st), 0);
	assert_int_equal(st.st_gid, 0);
	char *s = NULL;
	assert_int_equal(read_file(RUN "/sandbox/storage/vol/written", 64, &s, NULL), 0);
	assert_string_equal(s, "kept"); /* the data is on the disk */
	free(s);
	storage_release(tab, "c3");

	/* Always: it is. */
	mk(&a, "blk", loopdev, "ext4", mp, NULL);
	with_fs_group(&a, 2345, false);
	add_ok(v, 1, "c3");
	assert_int_equal(stat(RUN "/sandbox/storage/vol/f1", &st), 0);
	assert_int_equal(st.st_gid, 2345);
	storage_release(tab, "c3");
	assert_false(exists(mp));
}

static void test_refcount_and_shared(void **state _unused_)
{
	struct st a, b;
	const char *mp = RUN "/sandbox/ephemeral/refd";
	Grpc__Storage *v[] = {mk(&a, "ephemeral", "tmpfs", "tmpfs", mp, NULL)};
	add_ok(v, 1, "c1");
	/* The second user only bumps the count, however it spells the path (the Go runtime
	 * sends the share with a trailing slash). */
	struct st a2;
	Grpc__Storage *v2[] = {
	    mk(&a2, "ephemeral", "tmpfs", "tmpfs", RUN "//sandbox/ephemeral/refd/", NULL)};
	add_ok(v2, 1, "c2");
	assert_int_equal(storage_refcount(tab, mp), 2);
	assert_int_equal(storage_count(tab), 1);
	storage_release(tab, "c1");
	assert_true(is_mount(mp));
	assert_int_equal(storage_refcount(tab, mp), 1);
	storage_release(tab, "c1"); /* twice is harmless */
	assert_true(is_mount(mp));
	storage_release(tab, "c2");
	assert_false(is_mount(mp));
	assert_int_equal(storage_refcount(tab, mp), -ENOENT);

	/* A second user must mean the same storage. */
	char msg[STORAGE_MSG_MAX];
	add_ok(v, 1, "c1");
	Grpc__Storage *w[] = {mk(&b, "local", "local", "local", mp, NULL)};
	assert_int_equal(add(w, 1, "c2", msg), -EEXIST);
	contains(msg, mp);
	assert_int_equal(storage_refcount(tab, mp), 1);
	storage_release(tab, "c1");

	/* shared: outlives its container, goes at sandbox destroy. */
	const char *sp = RUN "/sandbox/ephemeral/shared";
	mk(&b, "ephemeral", "tmpfs", "tmpfs", sp, NULL);
	b.s.shared = true;
	add_ok(w, 1, "c1");
	storage_release(tab, "c1");
	assert_true(is_mount(sp));
	assert_int_equal(storage_refcount(tab, sp), 0);
	add_ok(w, 1, "c2"); /* and is found again */
	assert_int_equal(storage_refcount(tab, sp), 1);
	storage_release_all(tab);
	assert_false(is_mount(sp));
	assert_int_equal(storage_count(tab), 0);
}

static void test_refused(void **state _unused_)
{
	char msg[STORAGE_MSG_MAX];
	struct st a, b;
	Grpc__Storage *v[] = {mk(&a, "foo", "x", "tmpfs", RUN "/sandbox/x", NULL)};
	assert_int_equal(add(v, 1, "c1", msg), -EINVAL);
	contains(msg, "'foo'");

	static const char *const outside[] = {
	    "/etc/x",	 RUN, RUN "/../../etc", "relative/x", "/run/kata-containers-evil/x",
	    RUN "/a/./b"};
	for (size_t i = 0; i < ARRAY_SIZE(outside); i++) {
		mk(&a, "ephemeral", "tmpfs", "tmpfs", outside[i], NULL);
		int r = add(v, 1, "c1", msg);
		if (r != -EPERM && r != -EINVAL)
			fail_msg("mount point '%s': %d", outside[i], r);
		contains(msg, outside[i]);
	}

	/* A symlink inside the tree that points out of it. */
	char outdir[128], link[] = RUN "/evil";
	snprintf(outdir, sizeof(outdir), "%s/outside", scratch);
	assert_int_equal(mkdir_p(outdir, 0755), 0);
	assert_int_equal(mkdir_p(RUN, 0755), 0);
	assert_int_equal(symlink(outdir, link), 0);
	mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/evil/m", NULL);
	assert_true(add(v, 1, "c1", msg) < 0);
	contains(msg, RUN "/evil/m");
	char p[160];
	snprintf(p, sizeof(p), "%s/m", outdir);
	assert_false(exists(p));
	assert_int_equal(unlink(link), 0);

	/* Options Kata refuses or that would move/remount guest mounts. */
	const char *loopo[] = {"loop", NULL}, *remount[] = {"remount", NULL};
	mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/l", loopo);
	assert_int_equal(add(v, 1, "c1", msg), -EINVAL);
	contains(msg, "'loop'");
	mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/l", remount);
	assert_int_equal(add(v, 1, "c1", msg), -EINVAL);
	contains(msg, "'remount'");
	mk(&a, "ephemeral", loopdev, "ext4", RUN "/sandbox/l", NULL);
	assert_int_equal(add(v, 1, "c1", msg), -EINVAL);
	contains(msg, "'ext4'");
	assert_false(exists(RUN "/sandbox/l"));

	/* A failure rolls back what the request mounted before it. */
	Grpc__Storage *two[] = {mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/first", NULL),
				mk(&b, "nope", "x", "x", RUN "/sandbox/second", NULL)};
	assert_int_equal(add(two, 2, "c1", msg), -EINVAL);
	contains(msg, "storage 1");
	assert_false(is_mount(RUN "/sandbox/first"));
	assert_int_equal(storage_count(tab), 0);

	/* The block driver options that need tools ember's guest does not have. */
	char *dopts[] = {"create_filesystem"};
	mk(&a, "blk", loopdev, "ext4", RUN "/sandbox/mkfs", NULL);
	a.s.driver_options = dopts;
	a.s.n_driver_options = 1;
	assert_int_equal(add(v, 1, "c1", msg), -EOPNOTSUPP);
	contains(msg, "create_filesystem");
}

static void test_kata_shared(void **state _unused_)
{
	char msg[STORAGE_MSG_MAX];
	struct st a;
	const char *opts[] = {"trans=virtio,version=9p2000.L,cache=mmap", "nodev", "msize=8192",
			      NULL};
	Grpc__Storage *v[] = {mk(&a, "9p", "kataShared", "9p", RUN "/shared/containers", opts)};
	assert_int_equal(harness_sh("rm -rf " RUN "/shared"), 0);
	/* No 9p transport on this host: the mount fails, naming the tag, and leaves nothing. */
	assert_true(add(v, 1, STORAGE_OWNER_SANDBOX, msg) < 0);
	contains(msg, "kataShared");
	assert_false(exists(RUN "/shared/containers"));

	/* Already mounted (a rootfs image's fstab did it): used as it is, never unmounted. */
	assert_int_equal(mkdir_p(RUN "/shared/containers", 0755), 0);
	assert_int_equal(mount("tmpfs", RUN "/shared/containers", "tmpfs", 0, NULL), 0);
	add_ok(v, 1, STORAGE_OWNER_SANDBOX);
	mk(&a, "virtio-fs", "kataShared", "virtiofs", RUN "/shared/containers", NULL);
	storage_release_all(tab);
	assert_true(is_mount(RUN "/shared/containers"));
	assert_int_equal(umount(RUN "/shared/containers"), 0);
}

static void test_hugetlbfs(void **state _unused_)
{
	/* nr_hugepages is global: a scratch sysfs stands in for it; the mount is real. */
	char sys[128], nr[192];
	snprintf(sys, sizeof(sys), "%s/sys", scratch);
	snprintf(nr, sizeof(nr), "%s/kernel/mm/hugepages/hugepages-2048kB", sys);
	assert_int_equal(mkdir_p(nr, 0755), 0);
	strcat(nr, "/nr_hugepages");
	write_text(nr, "1"); /* the guest booted with one */
	struct storage_table *t;
	struct storage_config cfg = {.loop = loop, .uevents = uev, .sysfs_root = sys};
	assert_int_equal(storage_table_new(&cfg, &t), 0);

	struct st a, b;
	const char *o1[] = {"pagesize=2M", "size=4M", NULL},
		   *o2[] = {"pagesize=2097152,size=2097152", NULL};
	Grpc__Storage *v1[] = {mk(&a, "ephemeral", "nodev", "hugetlbfs", RUN "/sandbox/huge1", o1)};
	Grpc__Storage *v2[] = {mk(&b, "ephemeral", "nodev", "hugetlbfs", RUN "/sandbox/huge2", o2)};
	char msg[STORAGE_MSG_MAX], *s = NULL;
	int r = add_on(t, v1, 1, "c1", msg);
	if (r < 0)
		fail_msg("%s", msg);
	assert_int_equal(fs_type(RUN "/sandbox/huge1"), HUGETLBFS_MAGIC);
	assert_int_equal(read_file(nr, 32, &s, NULL), 0);
	assert_string_equal(s, "3");
	free(s);
	assert_int_equal(add_on(t, v2, 1, "c2", msg), 0);
	assert_int_equal(read_file(nr, 32, &s, NULL), 0);
	assert_string_equal(s, "4");
	free(s);
	storage_release(t, "c1");
	assert_int_equal(read_file(nr, 32, &s, NULL), 0);
	assert_string_equal(s, "2"); /* given back */
	free(s);
	storage_release_all(t);
	assert_int_equal(read_file(nr, 32, &s, NULL), 0);
	assert_string_equal(s, "1");
	free(s);

	const char *o3[] = {"pagesize=2M", NULL}, *o4[] = {"pagesize=1M", "size=4M", NULL};
	mk(&a, "ephemeral", "nodev", "hugetlbfs", RUN "/sandbox/huge3", o3);
	assert_int_equal(add_on(t, v1, 1, "c1", msg), -EINVAL);
	contains(msg, "size=");
	mk(&a, "ephemeral", "nodev", "hugetlbfs", RUN "/sandbox/huge3", o4);
	assert_int_equal(add_on(t, v1, 1, "c1", msg), -EINVAL); /* no 1 MiB pool */
	contains(msg, "1024 kB");
	storage_table_free(t);
}

/* ---- device waits ---- */

static void test_device_never_appears(void **state _unused_)
{
	char msg[STORAGE_MSG_MAX];
	struct st a, b;
	Grpc__Storage *v[] = {mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/before", NULL),
			      mk(&b, "mmioblk", "/dev/vdzz", "ext4", RUN "/sandbox/never", NULL)};
	assert_int_equal(add_on(tab_fast, v, 2, "c1", msg), -ETIMEDOUT);
	contains(msg, "/dev/vdzz");
	contains(msg, "300 ms");
	assert_false(is_mount(RUN "/sandbox/before")); /* rolled back */
	assert_int_equal(storage_count(tab_fast), 0);
	assert_int_equal(uevent_listener_waiters(uev), 0);

	mk(&b, "scsi", "1:2", "ext4", RUN "/sandbox/never", NULL);
	assert_int_equal(add_on(tab_fast, v + 1, 1, "c1", msg), -ETIMEDOUT);
	contains(msg, "SCSI device 1:2");
	mk(&b, "blk", "1f/00", "ext4", RUN "/sandbox/never", NULL);
	assert_int_equal(add_on(tab_fast, v + 1, 1, "c1", msg), -ENODEV); /* no bridge at 1f */
	contains(msg, "'1f/00'");
	mk(&b, "blk", "zz", "ext4", RUN "/sandbox/never", NULL);
	assert_int_equal(add_on(tab_fast, v + 1, 1, "c1", msg), -EINVAL);
	contains(msg, "'zz'");
	mk(&b, "nvdimm", "/dev/../etc/passwd", "ext4", RUN "/sandbox/never", NULL);
	assert_int_equal(add_on(tab_fast, v + 1, 1, "c1", msg), -EINVAL);
	contains(msg, "/dev/../etc/passwd");
}

static void test_cancel(void **state _unused_)
{
	struct st a, b;
	struct done_rec d = {0};
	struct storage_op *op = NULL;
	Grpc__Storage *v[] = {mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/c-first", NULL),
			      mk(&b, "mmioblk", "/dev/vdzy", "ext4", RUN "/sandbox/c-never", NULL)};
	assert_int_equal(storage_add(tab, v, 2, "c1", done_cb, &d, &op), 0);
	assert_non_null(op);
	assert_true(is_mount(RUN "/sandbox/c-first"));
	assert_int_equal(uevent_listener_waiters(uev), 1);
	/* The call went away (connection closed, deadline): everything goes, silently. */
	storage_op_cancel(op);
	assert_int_equal(d.calls, 0);
	assert_int_equal(uevent_listener_waiters(uev), 0);
	assert_false(is_mount(RUN "/sandbox/c-first"));
	assert_int_equal(storage_count(tab), 0);
}

/* A loop device index nobody uses. */
static int unused_loop_index(void)
{
	for (int n = 200 + getpid() % 300;; n++) {
		char p[64];
		snprintf(p, sizeof(p), "/sys/class/block/loop%d", n);
		if (!exists(p))
			return n;
	}
}

struct hotplug {
	struct ev_timer timer;
	int index;
	bool attach;
};

/* Plays the VMM: the device appears (and gets its disk) while the ops wait. */
static void hotplug_cb(struct ev_loop *l _unused_, struct ev_timer *t)
{
	struct hotplug *h = t->data;
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	assert_true(ctl >= 0);
	assert_int_equal(ioctl(ctl, LOOP_CTL_ADD, h->index), h->index);
	close(ctl);
	if (h->attach)
		assert_int_equal(harness_sh("losetup /dev/loop%d %s/img", h->index, scratch), 0);
}

static void loop_remove(int index)
{
	harness_sh("losetup -d /dev/loop%d 2>/dev/null", index);
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl >= 0) {
		(void)ioctl(ctl, LOOP_CTL_REMOVE, index);
		close(ctl);
	}
}

static void test_device_appears_while_two_wait(void **state _unused_)
{
	struct hotplug h = {.index = unused_loop_index(), .attach = true};
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/loop%d", h.index);
	const char *mp = RUN "/sandbox/storage/late";
	struct st a, b;
	Grpc__Storage *v1[] = {mk(&a, "blk", dev, "ext4", mp, NULL)};
	Grpc__Storage *v2[] = {mk(&b, "blk", dev, "ext4", mp, NULL)};
	struct done_rec d1 = {0}, d2 = {0};
	assert_int_equal(storage_add(tab, v1, 1, "c1", done_cb, &d1, NULL), 0);
	/* The second user of the mount point waits for the first to finish mounting it. */
	assert_int_equal(storage_add(tab, v2, 1, "c2", done_cb, &d2, NULL), 0);
	assert_int_equal(uevent_listener_waiters(uev), 1);
	ev_timer_init(&h.timer);
	assert_int_equal(ev_timer_start(loop, &h.timer, 0, hotplug_cb, &h), 0);
	while (d1.calls + d2.calls < 2)
		assert_int_equal(ev_loop_run(loop), 0);
	if (d1.r < 0 || d2.r < 0)
		fail_msg("%s / %s", d1.msg, d2.msg);
	assert_int_equal(fs_type(mp), EXT4_SUPER_MAGIC);
	assert_true(exists(RUN "/sandbox/storage/late/f1"));
	assert_int_equal(storage_refcount(tab, mp), 2);
	storage_release(tab, "c1");
	storage_release(tab, "c2");
	assert_false(is_mount(mp));
	loop_remove(h.index);
}

static Grpc__Spec *spec_with_device(const char *path, int64_t maj, int64_t min)
{
	Grpc__Spec *s = calloc(1, sizeof(*s));
	grpc__spec__init(s);
	s->linux_ = calloc(1, sizeof(*s->linux_));
	grpc__linux__init(s->linux_);
	s->linux_->devices = calloc(1, sizeof(Grpc__LinuxDevice *));
	Grpc__LinuxDevice *d = calloc(1, sizeof(*d));
	grpc__linux_device__init(d);
	d->path = strdup(path);
	d->type = strdup("b");
	d->major = maj;
	d->minor = min;
	s->linux_->devices[0] = d;
	s->linux_->n_devices = 1;
	return s;
}

static void test_container_devices(void **state _unused_)
{
	/* A device hot-plugged while CreateContainer waits: its guest numbers land in the
	 * spec, and the container's storages are mounted after it. */
	struct hotplug h = {.index = unused_loop_index()};
	char dev[32];
	snprintf(dev, sizeof(dev), "/dev/loop%d", h.index);
	Grpc__Device d = GRPC__DEVICE__INIT, *devs[] = {&d};
	d.type = (char *)"mmioblk";
	d.vm_path = dev;
	d.container_path = (char *)"/dev/xvdb";
	struct st a;
	Grpc__Storage *v[] = {mk(&a, "ephemeral", "tmpfs", "tmpfs", RUN "/sandbox/ctr-eph", NULL)};
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)"c7";
	req.devices = devs;
	req.n_devices = 1;
	req.storages = v;
	req.n_storages = 1;
	req.oci = spec_with_device("/dev/xvdb", 8, 16);

	struct done_rec dr = {0};
	assert_int_equal(storage_setup_container(tab, &req, done_cb, &dr, NULL), 0);
	assert_false(is_mount(RUN "/sandbox/ctr-eph")); /* devices first, as Kata */
	ev_timer_init(&h.timer);
	assert_int_equal(ev_timer_start(loop, &h.timer, 0, hotplug_cb, &h), 0);
	while (dr.calls == 0)
		assert_int_equal(ev_loop_run(loop), 0);
	if (dr.r < 0)
		fail_msg("%s", dr.msg);
	assert_int_equal(req.oci->linux_->devices[0]->major, 7);
	assert_int_equal(req.oci->linux_->devices[0]->minor, h.index);
	Grpc__LinuxResources *res = req.oci->linux_->resources;
	assert_non_null(res);
	assert_int_equal(res->n_devices, 1);
	assert_int_equal(res->devices[0]->major, 7);
	assert_string_equal(res->devices[0]->access, "rwm");
	assert_true(is_mount(RUN "/sandbox/ctr-eph"));
	storage_release(tab, "c7");
	assert_false(is_mount(RUN "/sandbox/ctr-eph"));
	protobuf_c_message_free_unpacked(&req.oci->base, NULL);
	loop_remove(h.index);

	/* Types ember does not handle say so, naming them. */
	d.type = (char *)"vfio-pci";
	req.oci = spec_with_device("/dev/xvdb", 8, 16);
	dr = (struct done_rec){0};
	assert_int_equal(storage_setup_container(tab, &req, done_cb, &dr, NULL), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(dr.r, -EOPNOTSUPP);
	contains(dr.msg, "'vfio-pci'");
	d.type = (char *)"gpu";
	dr = (struct done_rec){0};
	assert_int_equal(storage_setup_container(tab, &req, done_cb, &dr, NULL), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(dr.r, -EINVAL);
	contains(dr.msg, "'gpu'");
	/* A device the spec does not list. */
	d.type = (char *)"mmioblk";
	d.vm_path = loopdev;
	d.container_path = (char *)"/dev/other";
	dr = (struct done_rec){0};
	assert_int_equal(storage_setup_container(tab, &req, done_cb, &dr, NULL), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(dr.r, -EINVAL);
	contains(dr.msg, "/dev/other");
	assert_int_equal(storage_count(tab), 0);
	protobuf_c_message_free_unpacked(&req.oci->base, NULL);
}

/* The host's own virtio-blk disk, by PCI path, on the real sysfs: only resolved, never
 * mounted. Skipped where the host has no virtio-blk PCI disk. */
static void test_blk_pci_path_real_sysfs(void **state _unused_)
{
	DIR *d = opendir("/sys/bus/pci/devices");
	char slot[8] = "", name[64] = "";
	struct dirent *de;
	while (d && !*slot && (de = readdir(d))) {
		unsigned dom, bus, sl, fn;
		if (sscanf(de->d_name, "%x:%x:%x.%x", &dom, &bus, &sl, &fn) != 4 || dom || bus ||
		    fn)
			continue;
		char glob[512];
		snprintf(glob, sizeof(glob),
			 "ls /sys/bus/pci/devices/%.64s/virtio*/block 2>/dev/null", de->d_name);
		FILE *p = popen(glob, "r");
		if (p && fgets(name, sizeof(name), p)) {
			name[strcspn(name, "\n")] = '\0';
			snprintf(slot, sizeof(slot), "%02x", sl);
		}
		if (p)
			pclose(p);
	}
	if (d)
		closedir(d);
	if (!*slot) {
		skip();
		return;
	}
	char node[80];
	struct stat st;
	snprintf(node, sizeof(node), "/dev/%s", name);
	assert_int_equal(stat(node, &st), 0);

	Grpc__Device dv = GRPC__DEVICE__INIT, *devs[] = {&dv};
	dv.type = (char *)"blk";
	dv.id = slot;
	dv.container_path = (char *)"/dev/xvda";
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)"c8";
	req.devices = devs;
	req.n_devices = 1;
	req.oci = spec_with_device("/dev/xvda", 8, 0);
	struct done_rec dr = {0};
	assert_int_equal(storage_setup_container(tab, &req, done_cb, &dr, NULL), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	if (dr.r < 0)
		fail_msg("PCI path %s: %s", slot, dr.msg);
	assert_int_equal(req.oci->linux_->devices[0]->major, major(st.st_rdev));
	assert_int_equal(req.oci->linux_->devices[0]->minor, minor(st.st_rdev));
	protobuf_c_message_free_unpacked(&req.oci->base, NULL);
}

/* ---- the call contract: a parked storage call while the server keeps answering ---- */

struct call_ctx {
	struct rpc_call *call;
	struct storage_op *op;
};

static void sandbox_done(void *data, int r, const char *msg)
{
	struct call_ctx *c = data;
	if (r < 0)
		rpc_call_reply_errno(c->call, r, "CreateSandbox: %s", msg);
	else {
		Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
		rpc_call_reply(c->call, &e.base);
	}
	free(c);
}

static void sandbox_cancel(struct rpc_call *call _unused_, void *data)
{
	struct call_ctx *c = data;
	storage_op_cancel(c->op);
	free(c);
}

/* What the lead wires into CreateSandbox. */
static void h_create_sandbox(struct rpc_call *call, void *request)
{
	Grpc__CreateSandboxRequest *req = request;
	struct call_ctx *c = calloc(1, sizeof(*c));
	c->call = call;
	int r = storage_add(tab, req->storages, req->n_storages, STORAGE_OWNER_SANDBOX,
			    sandbox_done, c, &c->op);
	if (r < 0) {
		free(c);
		rpc_call_reply_errno(call, r, "CreateSandbox: %m");
		return;
	}
	rpc_call_park(call, sandbox_cancel, c);
}

static void h_check(struct rpc_call *call, void *request _unused_)
{
	Grpc__HealthCheckResponse resp = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	resp.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	rpc_call_reply(call, &resp.base);
}

static const struct rpc_method agent_methods[] = {
    {"CreateSandbox", &grpc__create_sandbox_request__descriptor, h_create_sandbox},
};
static const struct rpc_method health_methods[] = {
    {"Check", &grpc__check_request__descriptor, h_check},
};
static const struct rpc_service agent_svc = {"grpc.AgentService", agent_methods, 1};
static const struct rpc_service health_svc = {"grpc.Health", health_methods, 1};

struct client_result {
	char addr[160];
	int efd;
	int checks_while_parked;
	struct rpc_status create;
	bool create_came_first;
};

static void *client_thread(void *arg)
{
	struct client_result *res = arg;
	struct rpc_client *c1 = NULL, *c2 = NULL;
	if (rpc_client_connect(res->addr, 5000, &c1) < 0 ||
	    rpc_client_connect(res->addr, 5000, &c2) < 0)
		goto out;
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	Grpc__Storage s = GRPC__STORAGE__INIT, *sv[] = {&s};
	s.driver = (char *)"mmioblk";
	s.source = (char *)"/dev/vdzz";
	s.fstype = (char *)"ext4";
	s.mount_point = (char *)RUN "/sandbox/storage/never";
	req.storages = sv;
	req.n_storages = 1;
	uint8_t buf[512];
	size_t len = protobuf_c_message_pack(&req.base, buf);
	if (rpc_client_send(c1, "grpc.AgentService", "CreateSandbox", buf, len, 0, NULL) < 0 ||
	    rpc_client_flush(c1) < 0)
		goto out;
	for (int i = 0; i < 5; i++) {
		struct rpc_status st;
		ProtobufCMessage *resp = NULL;
		Grpc__CheckRequest cr = GRPC__CHECK_REQUEST__INIT;
		if (rpc_client_call(c2, "grpc.Health", "Check", &cr.base,
				    &grpc__health_check_response__descriptor, &resp,
				    5 * NSEC_PER_SEC, &st) < 0 ||
		    st.code != RPC_OK)
			break;
		protobuf_c_message_free_unpacked(resp, NULL);
		/* CreateSandbox has not answered yet: it is still parked. */
		struct pollfd p = {rpc_client_fd(c1), POLLIN, 0};
		if (poll(&p, 1, 0) == 1)
			res->create_came_first = true;
		res->checks_while_parked++;
	}
	uint32_t id;
	struct ttrpc_slice pl;
	(void)rpc_client_recv(c1, &id, &res->create, &pl);
out:
	rpc_client_free(c1);
	rpc_client_free(c2);
	uint64_t one = 1;
	(void)!write(res->efd, &one, sizeof(one));
	return NULL;
}

static void efd_cb(struct ev_loop *l, struct ev_io *io _unused_, uint32_t revents _unused_)
{
	ev_loop_exit(l, 0);
}

static void test_parked_call_does_not_block_the_server(void **state _unused_)
{
	struct rpc_server *srv = NULL;
	struct client_result res = {0};
	snprintf(res.addr, sizeof(res.addr), "unix://%s/s.sock", scratch);
	assert_int_equal(rpc_server_new(loop, &rpc_default_limits, NULL, &srv), 0);
	assert_int_equal(rpc_server_add_service(srv, &agent_svc), 0);
	assert_int_equal(rpc_server_add_service(srv, &health_svc), 0);
	assert_int_equal(rpc_server_listen(srv, res.addr), 0);
	res.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct ev_io io;
	assert_int_equal(ev_io_start(loop, &io, res.efd, EPOLLIN, efd_cb, NULL), 0);

	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, client_thread, &res), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	pthread_join(th, NULL);
	ev_io_stop(loop, &io);
	close(res.efd);
	rpc_server_free(srv);

	assert_int_equal(res.checks_while_parked, 5);
	assert_false(res.create_came_first);
	assert_int_equal(res.create.code, RPC_DEADLINE_EXCEEDED);
	contains(res.create.message, "/dev/vdzz");
	contains(res.create.message, "hotplug_timeout");
	assert_int_equal(uevent_listener_waiters(uev), 0);
	assert_int_equal(storage_count(tab), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_teardown(test_ephemeral_tmpfs, each_teardown),
	    cmocka_unit_test_teardown(test_local, each_teardown),
	    cmocka_unit_test_teardown(test_overlay_rw, each_teardown),
	    cmocka_unit_test_teardown(test_bind, each_teardown),
	    cmocka_unit_test_teardown(test_blk_by_dev_node_with_fs_group, each_teardown),
	    cmocka_unit_test_teardown(test_refcount_and_shared, each_teardown),
	    cmocka_unit_test_teardown(test_refused, each_teardown),
	    cmocka_unit_test_teardown(test_kata_shared, each_teardown),
	    cmocka_unit_test_teardown(test_hugetlbfs, each_teardown),
	    cmocka_unit_test_teardown(test_device_never_appears, each_teardown),
	    cmocka_unit_test_teardown(test_cancel, each_teardown),
	    cmocka_unit_test_teardown(test_device_appears_while_two_wait, each_teardown),
	    cmocka_unit_test_teardown(test_container_devices, each_teardown),
	    cmocka_unit_test_teardown(test_blk_pci_path_real_sysfs, each_teardown),
	    cmocka_unit_test_teardown(test_parked_call_does_not_block_the_server, each_teardown),
	};
	log_set_level(LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
