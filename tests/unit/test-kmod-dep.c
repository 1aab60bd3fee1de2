/* SPDX-License-Identifier: Apache-2.0 */
/* kmod/: modules.dep parsing and dependency resolution. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "kmod/kmod.h"

#include <limits.h>
#include <sys/stat.h>

/* A chain (virtio_blk -> virtio_ring -> virtio), a diamond (9pnet_virtio and 9p share 9pnet),
 * dependency lists written in modprobe's reverse order, a dash in a file name, compressed and
 * absolute paths, a cycle (cyc_a <-> cyc_b), a self cycle and a dependency with no line. */
static const char fixture[] =
    "kernel/drivers/virtio/virtio.ko:\n"
    "kernel/drivers/virtio/virtio_ring.ko: kernel/drivers/virtio/virtio.ko\n"
    "kernel/drivers/block/virtio_blk.ko: kernel/drivers/virtio/virtio_ring.ko "
    "kernel/drivers/virtio/virtio.ko\n"
    "kernel/net/9p/9pnet.ko:\n"
    "kernel/net/9p/9pnet_virtio.ko: kernel/drivers/virtio/virtio_ring.ko "
    "kernel/drivers/virtio/virtio.ko kernel/net/9p/9pnet.ko\n"
    "kernel/fs/fscache/fscache.ko.xz:\n"
    "kernel/fs/netfs/netfs.ko.xz: kernel/fs/fscache/fscache.ko.xz\n"
    "kernel/fs/9p/9p.ko.xz:   kernel/net/9p/9pnet.ko\tkernel/fs/netfs/netfs.ko.xz\n"
    "kernel/drivers/net/dummy-dev.ko:\n"
    "/opt/extra/abs.ko: kernel/drivers/virtio/virtio.ko\n"
    "kernel/cyc_a.ko: kernel/cyc_b.ko\n"
    "kernel/cyc_b.ko: kernel/cyc_a.ko\n"
    "kernel/uses_cyc.ko: kernel/cyc_a.ko\n"
    "kernel/selfish.ko: kernel/selfish.ko\n"
    "kernel/orphan.ko: kernel/not_there.ko\n"
    "\n"
    "garbage line without colon\n";

static const char builtin[] = "kernel/drivers/virtio/virtio_mmio.ko\nkernel/fs/ext4/ext4.ko\n";

static struct kmod_db *fixture_db(void)
{
	struct kmod_db *db = NULL;
	char *text = strdup(fixture);
	assert_non_null(text);
	assert_int_equal(kmod_db_parse("/lib/modules/test", text, builtin, &db), 0);
	return db;
}

/* The plan as "a b c". */
static void plan_string(const struct kmod_plan *p, char *buf, size_t size)
{
	size_t len = 0;
	buf[0] = '\0';
	for (size_t i = 0; i < p->n; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%s", i ? " " : "",
					kmod_db_name(p->db, p->order[i]));
}

static void test_name_normalize(void **state _unused_)
{
	char b[64];
	assert_int_equal(kmod_name_normalize("virtio-blk", b, sizeof(b)), 0);
	assert_string_equal(b, "virtio_blk");
	assert_int_equal(kmod_name_normalize("kernel/fs/9p/9p.ko.xz", b, sizeof(b)), 0);
	assert_string_equal(b, "9p");
	assert_int_equal(kmod_name_normalize("/x/dummy-dev.ko", b, sizeof(b)), 0);
	assert_string_equal(b, "dummy_dev");
	/* ".ko" only counts as a suffix: "kobject" keeps its name. */
	assert_int_equal(kmod_name_normalize("kobject_test", b, sizeof(b)), 0);
	assert_string_equal(b, "kobject_test");
	assert_int_equal(kmod_name_normalize("", b, sizeof(b)), -EINVAL);
	assert_int_equal(kmod_name_normalize(".ko", b, sizeof(b)), -EINVAL);
	char longname[200];
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(kmod_name_normalize(longname, b, sizeof(b)), -ENAMETOOLONG);
}

static void test_parse_lookup(void **state _unused_)
{
	struct kmod_db *db = fixture_db();
	assert_int_equal(kmod_db_count(db), 15);
	assert_string_equal(kmod_db_moddir(db), "/lib/modules/test");
	int i = kmod_db_find(db, "virtio-blk");
	assert_true(i >= 0);
	assert_string_equal(kmod_db_name(db, (size_t)i), "virtio_blk");
	assert_string_equal(kmod_db_path(db, (size_t)i), "kernel/drivers/block/virtio_blk.ko");
	assert_true(kmod_db_find(db, "dummy_dev") >= 0);
	assert_true(kmod_db_find(db, "dummy-dev") >= 0);
	assert_int_equal(kmod_db_find(db, "nope"), -ENOENT);
	assert_true(kmod_db_is_builtin(db, "ext4"));
	assert_true(kmod_db_is_builtin(db, "virtio-mmio"));
	assert_false(kmod_db_is_builtin(db, "virtio_blk"));
	assert_null(kmod_db_name(db, 1000));
	kmod_db_free(db);
}

static void test_chain(void **state _unused_)
{
	struct kmod_db *db = fixture_db();
	struct kmod_plan p;
	char s[512];
	assert_int_equal(kmod_plan_init(&p, db), 0);
	assert_int_equal(kmod_plan_add(&p, "virtio_blk"), 0);
	plan_string(&p, s, sizeof(s));
	assert_string_equal(s, "virtio virtio_ring virtio_blk");
	/* Already planned modules are not added twice; shared dependencies appear once. */
	assert_int_equal(kmod_plan_add(&p, "9p"), 0);
	assert_int_equal(kmod_plan_add(&p, "9pnet_virtio"), 0);
	assert_int_equal(kmod_plan_add(&p, "virtio_ring"), 0);
	plan_string(&p, s, sizeof(s));
	assert_string_equal(s, "virtio virtio_ring virtio_blk 9pnet fscache netfs 9p 9pnet_virtio");
	assert_int_equal(kmod_plan_add(&p, "abs"), 0);
	assert_string_equal(kmod_db_path(db, p.order[p.n - 1]), "/opt/extra/abs.ko");
	kmod_plan_done(&p);
	kmod_db_free(db);
}

static void test_cycle_missing_builtin(void **state _unused_)
{
	struct kmod_db *db = fixture_db();
	struct kmod_plan p;
	char s[512];
	assert_int_equal(kmod_plan_init(&p, db), 0);
	assert_int_equal(kmod_plan_add(&p, "virtio"), 0);
	assert_int_equal(kmod_plan_add(&p, "cyc_a"), -ELOOP);
	assert_int_equal(kmod_plan_add(&p, "uses_cyc"), -ELOOP);
	assert_int_equal(kmod_plan_add(&p, "selfish"), -ELOOP);
	assert_int_equal(kmod_plan_add(&p, "orphan"), -ENOENT);
	assert_int_equal(kmod_plan_add(&p, "nope"), -ENOENT);
	assert_int_equal(kmod_plan_add(&p, "ext4"), KMOD_BUILTIN);
	/* Failures left the plan as it was, and it still works afterwards. */
	plan_string(&p, s, sizeof(s));
	assert_string_equal(s, "virtio");
	assert_int_equal(kmod_plan_add(&p, "cyc_b"), -ELOOP);
	assert_int_equal(kmod_plan_add(&p, "virtio_blk"), 0);
	plan_string(&p, s, sizeof(s));
	assert_string_equal(s, "virtio virtio_ring virtio_blk");
	kmod_plan_done(&p);
	kmod_db_free(db);
}

static void test_db_open(void **state _unused_)
{
	char dir[] = "/tmp/test-kmod-XXXXXX", path[PATH_MAX];
	struct kmod_db *db = NULL;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(kmod_db_open(dir, &db), -ENOENT);
	snprintf(path, sizeof(path), "%s/modules.dep", dir);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	fputs("kernel/a.ko: kernel/b.ko\nkernel/b.ko:\n", f);
	fclose(f);
	/* modules.builtin is optional. */
	assert_int_equal(kmod_db_open(dir, &db), 0);
	assert_int_equal(kmod_db_count(db), 2);
	assert_false(kmod_db_is_builtin(db, "a"));
	kmod_db_free(db);
	unlink(path);
	rmdir(dir);
}

static void test_load_missing_file(void **state _unused_)
{
	/* Loading needs CAP_SYS_MODULE; a missing file fails before any syscall. The names
	 * are ones no host has loaded (/sys/module/NAME would make them "already loaded"). */
	assert_int_equal(kmod_load_file("/nonexistent/x.ko", "ember_test_x", NULL), -ENOENT);
	struct kmod_db *db = NULL;
	char *text =
	    strdup("kernel/ember_test_a.ko: kernel/ember_test_b.ko\nkernel/ember_test_b.ko:\n");
	assert_int_equal(kmod_db_parse("/nonexistent", text, NULL, &db), 0);
	struct kmod_plan p;
	assert_int_equal(kmod_plan_init(&p, db), 0);
	assert_int_equal(kmod_plan_add(&p, "ember_test_a"), 0);
	assert_int_equal(kmod_plan_load(&p, NULL, NULL, NULL), 2);
	kmod_plan_done(&p);
	/* The agent's entry point: unknown names and missing files come back as errors. */
	assert_int_equal(kmod_load_with_deps(db, "ember-test-a", "x=1"), -ENOENT);
	assert_int_equal(kmod_load_with_deps(db, "ember_test_nope", NULL), -ENOENT);
	kmod_db_free(db);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_name_normalize), cmocka_unit_test(test_parse_lookup),
	    cmocka_unit_test(test_chain),	   cmocka_unit_test(test_cycle_missing_builtin),
	    cmocka_unit_test(test_db_open),	   cmocka_unit_test(test_load_missing_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
