/* SPDX-License-Identifier: Apache-2.0 */
/* mount/ internals, shared by the files of mount/ only: not part of the module contract. */
#pragma once

#include "mount.h"

/* Bounds on what a peer can make the table hold. */
#define MAX_STORAGES	   1024 /* mount points in the table */
#define MAX_OP_ITEMS	   256	/* storages or devices in one request */
#define MAX_OWNERS	   1024 /* owners referencing one storage */
#define MAX_HUGEPAGE_POOLS 8

struct hugepage_pool {
	unsigned long kb;
	uint64_t base; /* nr_hugepages before our first reservation */
	uint64_t ours;
};

struct storage_table {
	struct ev_loop *loop;
	struct uevent_listener *uevents;
	uint64_t hotplug_timeout_ms;
	char *sysfs_root;
	struct list_head storages; /* struct storage, oldest first */
	size_t n_storages;
	struct list_head ops; /* struct storage_op in flight */
	struct hugepage_pool pools[MAX_HUGEPAGE_POOLS];
	size_t n_pools;
};

struct storage_owner {
	struct list_head link;
	char *owner;
	unsigned count;
};

struct storage {
	struct list_head link;
	char *mount_point;
	char *driver;
	char *source; /* as requested: a second user must name the same */
	bool shared;
	bool mounted;  /* we mounted it: unmount at the end */
	bool external; /* a pre-mounted kataShared: never ours to unmount */
	bool created;  /* we created the mount point: remove it at the end */
	unsigned long hugepage_kb;
	uint64_t hugepages;
	unsigned refs;
	struct list_head owners;    /* struct storage_owner */
	struct storage_op *pending; /* the op still mounting it */
	struct list_head waiting;   /* ops that want it once pending is done */
};

/* Which block device a storage or device names, and how to wait for it. */
struct device_query {
	char what[192]; /* for messages: "block device '/dev/vdb'", "PCI path '02/00'" */
	char node[160]; /* a /dev node named directly: used when present */
	char devname[128];
	char *regex;
	bool scsi;
	unsigned scsi_target, scsi_lun;
	struct uevent_match match;
};

/* devices.c */
int device_query_init(struct storage_table *t, const char *kind, const char *id,
		      struct device_query *q, char *msg, size_t msgsz);
void device_query_done(struct device_query *q);
/* 1: found, *ret filled; 0: parked (*ret_waiter); < 0 with msg. */
int device_query_find(struct storage_table *t, struct device_query *q, uevent_wait_fn cb,
		      void *data, struct uevent_waiter **ret_waiter, struct storage_device *ret,
		      char *msg, size_t msgsz);
/* Fills type/major/minor of ret from its node; the node must be a block device. */
int device_stat(struct storage_device *ret, const char *what, char *msg, size_t msgsz);
/* The kind of device a storage driver needs, NULL when none. */
const char *driver_device_kind(const char *driver);

/* drivers.c */
bool driver_known(const char *driver);
/* Mounts (or, for `local`, creates) e->mount_point as s says; source is the device node
 * found for block drivers, else NULL. */
int driver_mount(struct storage_table *t, struct storage *e, const Grpc__Storage *s,
		 const char *devnode, const char *owner, char *msg, size_t msgsz);
void driver_teardown(struct storage_table *t, struct storage *e);
int run_root_open(int *ret_fd);

/* hugepages.c */
int hugepages_reserve(struct storage_table *t, char *const *opts, size_t n, unsigned long *ret_kb,
		      uint64_t *ret_pages, char *msg, size_t msgsz);
void hugepages_release(struct storage_table *t, unsigned long kb, uint64_t pages);

/* ownership.c: Kata's set_ownership for fs_group. */
int fs_group_apply(int rootfd, gid_t gid, bool on_root_mismatch, bool read_only);

/* Formats msg and returns r (< 0). */
int errmsg_set(char *msg, size_t msgsz, int r, const char *fmt, ...) _printf_(4, 5);
