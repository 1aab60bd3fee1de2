/* SPDX-License-Identifier: Apache-2.0 */
/* uevent/: message parsing, PCI path resolution, matches and waits against a scratch sysfs
 * tree built in a temp dir (the real listener socket, fed by hand). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "uevent/uevent.h"

#include <fcntl.h>
#include <sys/stat.h>

static char root[64];

static void mkfile(const char *rel, const char *content)
{
	char path[512], dir[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(loop_write(fd, content, strlen(content)), 0);
	close(fd);
}

static void mkdirs(const char *rel)
{
	char path[512];
	snprintf(path, sizeof(path), "%s%s", root, rel);
	assert_int_equal(mkdir_p(path, 0755), 0);
}

/* /sys/class/<subsystem>/<name> -> ../../<devpath without the leading slash> */
static void mkdev(const char *subsystem, const char *name, const char *devpath, const char *uevent)
{
	char rel[512], link[512], target[512];
	snprintf(rel, sizeof(rel), "%s/uevent", devpath);
	mkfile(rel, uevent);
	snprintf(rel, sizeof(rel), "/class/%s", subsystem);
	mkdirs(rel);
	snprintf(link, sizeof(link), "%s/class/%s/%s", root, subsystem, name);
	snprintf(target, sizeof(target), "../..%s", devpath);
	assert_int_equal(symlink(target, link), 0);
}

static int setup(void **state _unused_)
{
	strcpy(root, "/tmp/ember-sysfs-XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state _unused_)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

/* ---- parsing ---- */

static void test_uevent_parse(void **state _unused_)
{
	static const char msg[] =
	    "add@/devices/pci0000:00/0000:00:02.0/virtio1/block/vda\0"
	    "ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:02.0/virtio1/block/vda\0"
	    "SUBSYSTEM=block\0MAJOR=254\0MINOR=0\0DEVNAME=vda\0DEVTYPE=disk\0"
	    "SEQNUM=1234";
	struct uevent ev;
	/* The kernel terminates every field; an unterminated last one is dropped. */
	assert_int_equal(uevent_parse(msg, sizeof(msg) - 1, &ev), 0);
	assert_int_equal(ev.seqnum, 0);
	assert_int_equal(uevent_parse(msg, sizeof(msg), &ev), 0);
	assert_string_equal(ev.action, "add");
	assert_string_equal(ev.subsystem, "block");
	assert_string_equal(ev.devname, "vda");
	assert_string_equal(ev.devtype, "disk");
	assert_int_equal(ev.major, 254);
	assert_int_equal(ev.minor, 0);
	assert_int_equal(ev.seqnum, 1234);
	assert_null(ev.interface);

	/* libudev's re-broadcasts and garbage are not kernel uevents. */
	static const char udev[] = "libudev\0\xfe\xed\xca\xfe";
	assert_int_equal(uevent_parse(udev, sizeof(udev), &ev), -EBADMSG);
	assert_int_equal(uevent_parse("", 0, &ev), -EBADMSG);
	static const char noaction[] = "add@/x\0DEVPATH=/x\0SUBSYSTEM=block";
	assert_int_equal(uevent_parse(noaction, sizeof(noaction), &ev), -EBADMSG);
	/* A truncated last field is dropped, never read past. */
	static const char trunc[] = "add@/x\0ACTION=add\0DEVPATH=/x\0SUBSYSTEM=net\0INTERF";
	assert_int_equal(uevent_parse(trunc, sizeof(trunc) - 1, &ev), 0);
	assert_null(ev.interface);
	static const char bad_major[] = "add@/x\0ACTION=add\0DEVPATH=/x\0SUBSYSTEM=block\0MAJOR=-3";
	assert_int_equal(uevent_parse(bad_major, sizeof(bad_major), &ev), 0);
	assert_int_equal(ev.major, -1);
}

/* ---- PCI paths ---- */

static void test_pci_path_parse(void **state _unused_)
{
	struct pci_path p;
	assert_int_equal(pci_path_parse("02", &p), 0);
	assert_int_equal(p.n, 1);
	assert_int_equal(p.slot[0], 2);
	assert_int_equal(p.func[0], 0);
	assert_int_equal(p.root_bus, 0);

	assert_int_equal(pci_path_parse("1f.7/03.1", &p), 0);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.slot[0], 0x1f);
	assert_int_equal(p.func[0], 7);
	assert_int_equal(p.slot[1], 3);
	assert_int_equal(p.func[1], 1);

	/* pxb-pcie root complex: bus 0x20, then a root port and the device. */
	assert_int_equal(pci_path_parse("20/00/02", &p), 0);
	assert_int_equal(p.root_bus, 0x20);
	assert_int_equal(p.n, 2);
	assert_int_equal(p.slot[0], 0);
	assert_int_equal(p.slot[1], 2);

	static const char *const bad[] = {
	    "",	      "/",     "02/",	 "/02",
	    "0g",     "123",   "02.8",	 "02.",
	    ".1",     "20/00", "02.1.2", "00/00/00/00/00/00/00/00/00/00/00/00/00/00/00/00/00",
	    "02//03", "-1",    "2 ",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (pci_path_parse(bad[i], &p) != -EINVAL)
			fail_msg("'%s' parsed as a PCI path", bad[i]);
	assert_int_equal(pci_path_parse(NULL, &p), -EINVAL);
}

static char *resolve(const char *s)
{
	struct pci_path p;
	char *out = NULL;
	assert_int_equal(pci_path_parse(s, &p), 0);
	int r = pci_path_to_devpath(root, &p, &out);
	if (r < 0) {
		errno = -r;
		return NULL;
	}
	return out;
}

static void test_pci_path_to_devpath(void **state _unused_)
{
	/* Root bus 00: a device at 02.0, a bridge at 03.0 to bus 01 with a device 01:04.0,
	 * and a bridge on bus 01 at 05.0 to bus 02. */
	mkdirs("/devices/pci0000:00/0000:00:02.0");
	mkdirs("/devices/pci0000:00/0000:00:03.0/pci_bus/0000:01");
	mkdirs("/devices/pci0000:00/0000:00:03.0/0000:01:05.0/pci_bus/0000:02");
	/* A bridge with two secondary buses is an inconsistent tree. */
	mkdirs("/devices/pci0000:00/0000:00:06.0/pci_bus/0000:03");
	mkdirs("/devices/pci0000:00/0000:00:06.0/pci_bus/0000:04");

	char *s = resolve("02");
	assert_string_equal(s, "/devices/pci0000:00/0000:00:02.0");
	free(s);
	/* The last device may not be plugged yet: its path is still known. */
	s = resolve("03/04");
	assert_string_equal(s, "/devices/pci0000:00/0000:00:03.0/0000:01:04.0");
	free(s);
	s = resolve("03/05/01.2");
	assert_string_equal(s, "/devices/pci0000:00/0000:00:03.0/0000:01:05.0/0000:02:01.2");
	free(s);

	assert_null(resolve("02/00")); /* 02.0 is not a bridge */
	assert_int_equal(errno, ENOENT);
	assert_null(resolve("07/00")); /* no such bridge */
	assert_null(resolve("06/00"));
	assert_int_equal(errno, ENODEV);

	/* pxb-pcie: bus 0x20 under its own root. */
	mkdirs("/devices/pci0000:20/0000:20:00.0/pci_bus/0000:21");
	s = resolve("20/00/02");
	assert_string_equal(s, "/devices/pci0000:20/0000:20:00.0/0000:21:02.0");
	free(s);
}

static void test_pci_path_platform_root(void **state _unused_)
{
	/* device-tree arm64: the root bus hangs off the PCIe controller's platform device. */
	mkdirs("/devices/platform/4010000000.pcie/pci0000:00/0000:00:01.0/pci_bus/0000:01");
	char *s = resolve("01/00");
	assert_string_equal(
	    s, "/devices/platform/4010000000.pcie/pci0000:00/0000:00:01.0/0000:01:00.0");
	free(s);
	assert_null(resolve("20/00/02")); /* no pxb root there */
}

/* ---- matches against present devices ---- */

static void test_find_present_pci_block(void **state _unused_)
{
	const char *pci = "/devices/pci0000:00/0000:00:02.0";
	mkdev("block", "vda", "/devices/pci0000:00/0000:00:02.0/virtio1/block/vda",
	      "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
	mkdev("block", "vda1", "/devices/pci0000:00/0000:00:02.0/virtio1/block/vda/vda1",
	      "MAJOR=254\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\n");
	/* A decoy an unescaped "." would match. */
	mkdev("block", "vdz", "/devices/pci0000:00/0000:00:0210/virtio9/block/vdz",
	      "MAJOR=254\nMINOR=48\nDEVNAME=vdz\nDEVTYPE=disk\n");

	char *re = NULL;
	assert_int_equal(uevent_regex_pci_block(pci, &re), 0);
	assert_string_equal(re, "^/devices/pci0000:00/0000:00:02\\.0/virtio[0-9]+/block/[^/]+$");
	struct uevent_match m = {.subsystem = "block", .devpath_regex = re, .need_devname = true};
	struct uevent_device d;
	assert_int_equal(uevent_find_present(root, &m, &d), 1);
	assert_string_equal(d.devname, "vda"); /* the disk, never its partition */
	assert_int_equal(d.major, 254);
	assert_int_equal(d.minor, 0);
	assert_string_equal(d.devpath, "/devices/pci0000:00/0000:00:02.0/virtio1/block/vda");
	free(re);

	assert_int_equal(uevent_regex_pci_block("/devices/pci0000:00/0000:00:02.1", &re), 0);
	m.devpath_regex = re;
	assert_int_equal(uevent_find_present(root, &m, &d), 0);
	free(re);

	/* By node name (mmioblk, nvdimm, a /dev path): partitions too. */
	struct uevent_match byname = {.subsystem = "block", .devname = "vda1"};
	assert_int_equal(uevent_find_present(root, &byname, &d), 1);
	assert_int_equal(d.minor, 1);
	byname.devname = "vdb";
	assert_int_equal(uevent_find_present(root, &byname, &d), 0);

	/* A subsystem that is a path, or a bad regex, is refused. */
	struct uevent_match bad = {.subsystem = "../block"};
	assert_int_equal(uevent_find_present(root, &bad, &d), -EINVAL);
	bad = (struct uevent_match){.subsystem = "block", .devpath_regex = "(["};
	assert_int_equal(uevent_find_present(root, &bad, &d), -EINVAL);
}

static void test_find_present_scsi(void **state _unused_)
{
	mkdev("block", "sdb", "/devices/platform/host0/target0:0:1/0:0:1:2/block/sdb",
	      "MAJOR=8\nMINOR=16\nDEVNAME=sdb\nDEVTYPE=disk\n");
	char *re = NULL;
	assert_int_equal(uevent_regex_scsi_block(1, 2, &re), 0);
	struct uevent_match m = {.subsystem = "block", .devpath_regex = re, .need_devname = true};
	struct uevent_device d;
	assert_int_equal(uevent_find_present(root, &m, &d), 1);
	assert_string_equal(d.devname, "sdb");
	free(re);
	assert_int_equal(uevent_regex_scsi_block(1, 3, &re), 0);
	m.devpath_regex = re;
	assert_int_equal(uevent_find_present(root, &m, &d), 0);
	free(re);
}

/* ---- the listener ---- */

struct wait_result {
	int calls;
	int r;
	struct uevent_device dev;
	struct ev_loop *loop;
};

static void wait_cb(void *data, int r, const struct uevent_device *dev)
{
	struct wait_result *w = data;
	w->calls++;
	w->r = r;
	if (dev)
		w->dev = *dev;
	if (w->loop)
		ev_loop_exit(w->loop, 0);
}

static void feed(struct uevent_listener *l, const char *action, const char *devpath,
		 const char *subsystem, const char *extra)
{
	char buf[1024];
	int n = snprintf(buf, sizeof(buf), "%s@%s", action, devpath) + 1;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "ACTION=%s", action) + 1;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "DEVPATH=%s", devpath) + 1;
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "SUBSYSTEM=%s", subsystem) + 1;
	for (const char *e = extra; e && *e; e += strlen(e) + 1)
		n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s", e) + 1;
	uevent_listener_feed(l, buf, (size_t)n);
}

static void test_wait_then_uevent(void **state _unused_)
{
	_cleanup_(ev_loop_freep) struct ev_loop *loop = NULL;
	struct uevent_listener *l = NULL;
	assert_int_equal(ev_loop_new(&loop), 0);
	assert_int_equal(uevent_listener_new(loop, root, &l), 0);

	struct uevent_match m = {.subsystem = "block", .devname = "vdb"};
	struct wait_result w = {0};
	struct uevent_waiter *waiter = NULL;
	struct uevent_device d;
	assert_int_equal(uevent_wait(l, &m, 60000, wait_cb, &w, &waiter, &d), 0);
	assert_non_null(waiter);
	assert_int_equal(uevent_listener_waiters(l), 1);

	/* Other devices, and a remove of the right one, do not wake it. */
	feed(l, "add", "/devices/virtio-mmio/virtio3/block/vdc", "block", "DEVNAME=vdc\0");
	feed(l, "remove", "/devices/virtio-mmio/virtio2/block/vdb", "block", "DEVNAME=vdb\0");
	feed(l, "add", "/devices/virtio-mmio/virtio2/block/vdb", "net", "DEVNAME=vdb\0");
	assert_int_equal(w.calls, 0);
	feed(l, "add", "/devices/virtio-mmio/virtio2/block/vdb", "block",
	     "MAJOR=254\0MINOR=16\0DEVNAME=vdb\0DEVTYPE=disk\0");
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.r, 0);
	assert_string_equal(w.dev.devname, "vdb");
	assert_int_equal(w.dev.major, 254);
	assert_int_equal(w.dev.minor, 16);
	assert_int_equal(uevent_listener_waiters(l), 0);
	/* Exactly once. */
	feed(l, "add", "/devices/virtio-mmio/virtio2/block/vdb", "block", "DEVNAME=vdb\0");
	assert_int_equal(w.calls, 1);

	/* Net by PCI devpath prefix, as the network module waits for a NIC. */
	struct uevent_match net = {.subsystem = "net",
				   .devpath_regex = "^/devices/pci0000:00/0000:00:03\\.0/",
				   .need_interface = true};
	struct wait_result wn = {0};
	assert_int_equal(uevent_wait(l, &net, 60000, wait_cb, &wn, &waiter, &d), 0);
	feed(l, "add", "/devices/pci0000:00/0000:00:03.0/virtio2/net/eth1", "net",
	     "INTERFACE=eth1\0IFINDEX=3\0");
	assert_int_equal(wn.calls, 1);
	assert_string_equal(wn.dev.interface, "eth1");

	/* A present device answers at once, without a waiter. */
	mkdev("block", "pmem0", "/devices/LNXSYSTM:00/ndbus0/region0/namespace0.0/block/pmem0",
	      "MAJOR=259\nMINOR=0\nDEVNAME=pmem0\nDEVTYPE=disk\n");
	struct uevent_match pm = {.subsystem = "block", .devname = "pmem0"};
	waiter = NULL;
	assert_int_equal(uevent_wait(l, &pm, 1000, wait_cb, &w, &waiter, &d), 1);
	assert_null(waiter);
	assert_int_equal(d.major, 259);

	/* Cancelled waits never call back; freeing the listener cancels the rest. */
	struct wait_result wc = {0}, wf = {0};
	struct uevent_match never = {.subsystem = "block", .devname = "vdq"};
	assert_int_equal(uevent_wait(l, &never, 60000, wait_cb, &wc, &waiter, &d), 0);
	uevent_wait_cancel(waiter);
	assert_int_equal(uevent_wait(l, &never, 60000, wait_cb, &wf, &waiter, &d), 0);
	uevent_listener_free(l);
	assert_int_equal(wc.calls, 0);
	assert_int_equal(wf.calls, 1);
	assert_int_equal(wf.r, -ECANCELED);
}

static void test_wait_timeout(void **state _unused_)
{
	_cleanup_(ev_loop_freep) struct ev_loop *loop = NULL;
	struct uevent_listener *l = NULL;
	assert_int_equal(ev_loop_new(&loop), 0);
	assert_int_equal(uevent_listener_new(loop, root, &l), 0);
	struct uevent_match m = {.subsystem = "block", .devname = "vdzz"};
	struct wait_result w = {.loop = loop};
	struct uevent_waiter *waiter;
	struct uevent_device d;
	assert_int_equal(uevent_wait(l, &m, 50, wait_cb, &w, &waiter, &d), 0);
	assert_int_equal(ev_loop_run(loop), 0);
	assert_int_equal(w.calls, 1);
	assert_int_equal(w.r, -ETIMEDOUT);
	assert_int_equal(uevent_listener_waiters(l), 0);
	uevent_listener_free(l);
}

static void test_memory_online(void **state _unused_)
{
	_cleanup_(ev_loop_freep) struct ev_loop *loop = NULL;
	struct uevent_listener *l = NULL;
	assert_int_equal(ev_loop_new(&loop), 0);
	assert_int_equal(uevent_listener_new(loop, root, &l), 0);
	mkfile("/devices/system/memory/memory32/online", "0");
	mkfile("/devices/system/memory/memory33/online", "0");

	feed(l, "add", "/devices/system/memory/memory32", "memory", NULL);
	feed(l, "change", "/devices/system/memory/memory33", "memory", NULL);
	/* Not a memory block, even if it says so. */
	feed(l, "add", "/devices/system/memory/../memory33", "memory", NULL);

	char path[256], *s = NULL;
	snprintf(path, sizeof(path), "%s/devices/system/memory/memory32/online", root);
	assert_int_equal(read_file(path, 16, &s, NULL), 0);
	assert_string_equal(s, "1");
	free(s);
	snprintf(path, sizeof(path), "%s/devices/system/memory/memory33/online", root);
	assert_int_equal(read_file(path, 16, &s, NULL), 0);
	assert_string_equal(s, "0");
	free(s);
	uevent_listener_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_uevent_parse),
	    cmocka_unit_test(test_pci_path_parse),
	    cmocka_unit_test_setup_teardown(test_pci_path_to_devpath, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pci_path_platform_root, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_present_pci_block, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_find_present_scsi, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_then_uevent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wait_timeout, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_memory_online, setup, teardown),
	};
	log_set_level(LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
