/* SPDX-License-Identifier: Apache-2.0 */
/*
 * uevent: the agent's single NETLINK_KOBJECT_UEVENT listener, device waits keyed by a match,
 * and Kata's PCI path -> sysfs resolution.
 *
 * Contract:
 *  - One listener per agent, on its ev_loop (kernel multicast group 1; only messages from
 *    the kernel, nl_pid 0, are believed).
 *  - uevent_wait() first registers nothing and scans sysfs for a device that is already
 *    there (returns 1 and fills *ret_dev); otherwise it parks a waiter (returns 0) whose
 *    callback runs exactly once from the loop: r = 0 with the device, -ETIMEDOUT when
 *    timeout_ms passed, -ECANCELED when the listener is freed. uevent_wait_cancel() forgets
 *    a waiter without calling it. There is no race between the scan and the uevent: both
 *    happen on the loop thread and uevents that arrive meanwhile wait in the socket.
 *  - When the socket overflows (ENOBUFS, uevents lost) every waiter is re-checked by a
 *    sysfs scan, so a lost uevent never turns into a timeout.
 *  - Memory-block "add" uevents are onlined (1 > /sys/<devpath>/online) as Kata does.
 *  - sysfs_root is "/sys" in the agent; tests point it at a scratch tree.
 *  - Every waiter count and string a peer can influence is bounded.
 */
#pragma once

#include "common/common.h"

/* ---- parsing ------------------------------------------------------------------------ */

/* One kernel uevent; pointers point into the parsed buffer. Absent keys are NULL / -1. */
struct uevent {
	const char *action;
	const char *devpath;
	const char *subsystem;
	const char *devname;
	const char *devtype;
	const char *interface;
	int major, minor;
	uint64_t seqnum;
};

/* Parses a kernel uevent message "action@devpath\0KEY=VALUE\0...\0" of len bytes. Every
 * field is NUL-terminated as the kernel sends it; an unterminated last field is dropped,
 * never read past. -EBADMSG when it is not one (libudev messages start with "libudev";
 * garbage; no ACTION, DEVPATH or SUBSYSTEM). */
int uevent_parse(const char *buf, size_t len, struct uevent *ret);

/* ---- waits ----------------------------------------------------------------------------- */

/* The device a wait found, copied. */
struct uevent_device {
	char devpath[512]; /* "/devices/pci0000:00/0000:00:02.0/virtio1/block/vda" */
	char subsystem[32];
	char devname[128];  /* "vda", relative to /dev; "" when the device has no node */
	char interface[32]; /* net devices */
	int major, minor;   /* -1 when absent */
};

/* What to wait for. All strings are copied by uevent_wait(). A device matches when every
 * non-NULL criterion holds. Only "add" uevents (and devices already present) match. */
struct uevent_match {
	const char *subsystem;	   /* required: "block", "net", ...; also the sysfs dir scanned */
	const char *devname;	   /* exact DEVNAME ("vdb", "pmem0") */
	const char *devpath_regex; /* POSIX extended regex on DEVPATH */
	const char *devtype;	   /* exact DEVTYPE ("disk" excludes partitions) */
	bool need_devname;	   /* has a /dev node */
	bool need_interface;	   /* has an INTERFACE (net) */
};

struct uevent_listener;
struct uevent_waiter;

typedef void (*uevent_wait_fn)(void *data, int r, const struct uevent_device *dev);

/* sysfs_root: NULL = "/sys". Fails when the netlink socket cannot be created. */
int uevent_listener_new(struct ev_loop *loop, const char *sysfs_root, struct uevent_listener **ret);
/* Calls every pending waiter with -ECANCELED, then frees. NULL is fine. */
void uevent_listener_free(struct uevent_listener *l);
const char *uevent_listener_sysfs(const struct uevent_listener *l);

/* Returns 1 with *ret_dev filled when the device is already there; 0 when a waiter was
 * parked (*ret_waiter set); -EINVAL for a bad match (bad regex, no subsystem); -EAGAIN when
 * too many waiters are parked. */
int uevent_wait(struct uevent_listener *l, const struct uevent_match *m, uint64_t timeout_ms,
		uevent_wait_fn cb, void *data, struct uevent_waiter **ret_waiter,
		struct uevent_device *ret_dev);
void uevent_wait_cancel(struct uevent_waiter *w);
unsigned uevent_listener_waiters(const struct uevent_listener *l);

/* Looks for a present device only (the scan part of uevent_wait): 1 found, 0 not. */
int uevent_find_present(const char *sysfs_root, const struct uevent_match *m,
			struct uevent_device *ret_dev);

/* Processes one raw message as if the kernel had sent it (tests; replaying). */
void uevent_listener_feed(struct uevent_listener *l, const char *buf, size_t len);

/* ---- PCI paths (Kata: src/agent/src/pci.rs, device/mod.rs pcipath_to_sysfs) -------------- */

#define PCI_PATH_MAX 16

/* "02/00" or "02.1/03": one SS[.F] element (hex slot <= 0x1f, function <= 7) per bus hop from
 * the root bus. A first element >= 0x20 with >= 3 elements names a pxb-pcie root complex
 * ("20/00/02": bus 0x20, then 00, 02). */
struct pci_path {
	unsigned n;
	int root_bus; /* 0, or the pxb root complex's bus number */
	uint8_t slot[PCI_PATH_MAX];
	uint8_t func[PCI_PATH_MAX];
};

int pci_path_parse(const char *s, struct pci_path *ret);
/* The PCI device's sysfs DEVPATH, e.g. "/devices/pci0000:00/0000:00:02.0/0000:01:00.0", found
 * by reading each bridge's pci_bus/ directory under sysfs_root. The final device need not
 * exist yet (it may be hot-plugged); its bridges must. -ENOENT names nothing: callers name
 * the path they resolved. */
int pci_path_to_devpath(const char *sysfs_root, const struct pci_path *p, char **ret);

/* Escapes regex metacharacters so s matches literally in an extended regex. */
int uevent_regex_escape(const char *s, char **ret);
/* Regex for the whole-disk block device of the virtio device under a PCI devpath:
 * "^<devpath>/virtio[0-9]+/block/[^/]+$" (Kata's VirtioBlkPciMatcher). */
int uevent_regex_pci_block(const char *pci_devpath, char **ret);
/* Regex for the block device of SCSI address 0:0:<target>:<lun> (Kata's ScsiBlockMatcher). */
int uevent_regex_scsi_block(unsigned target, unsigned lun, char **ret);
