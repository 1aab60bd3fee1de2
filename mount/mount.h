/* SPDX-License-Identifier: Apache-2.0 */
/*
 * mount: Kata's storages (Storage messages of CreateSandbox/CreateContainer) and devices
 * (CreateContainerRequest.devices), mount options, confined path resolution, CopyFile, and
 * worker jobs for filesystem calls that may block on a remote filesystem.
 *
 * Contract:
 *  - Every path the host names is confined: mount points below STORAGE_RUN_ROOT
 *    (/run/kata-containers/), CopyFile below STORAGE_SHARED_DIR. Paths are resolved from a
 *    directory fd with openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) so neither "..",
 *    absolute symlinks nor symlinked parents lead out; mount(2) targets the resolved fd
 *    (/proc/self/fd/N), never the string again.
 *  - Storages are reference counted per mount point; each reference belongs to an owner
 *    (a container id, or STORAGE_OWNER_SANDBOX). storage_release(owner) drops the owner's
 *    references; a storage without references is unmounted and its directory removed,
 *    except `shared` storages, which stay until storage_release_all().
 *  - storage_add()/storage_setup_container() are asynchronous because a storage or device
 *    may name a block device that is not there yet: the op parks on the uevent listener
 *    (never blocking the loop) for at most the hotplug timeout. Mount syscalls run inline.
 *  - Errors: -errno plus a message naming the offending value (storage index, driver,
 *    mount point, device). A failed op rolls back everything it mounted.
 *  - Functions here never log errors they return; they log what they do at info/debug.
 */
#pragma once

#include "common/common.h"
#include "uevent/uevent.h"

#include "agent.pb-c.h"

#define STORAGE_RUN_ROOT   "/run/kata-containers"
#define STORAGE_SHARED_DIR "/run/kata-containers/shared/containers"
/* Owner of the storages of CreateSandbox (container ids are never empty). */
#define STORAGE_OWNER_SANDBOX ""

#define STORAGE_MSG_MAX 512

/* ---- the storage table ------------------------------------------------------------------ */

struct storage_config {
	struct ev_loop *loop;
	/* The agent's listener; NULL: a device that is not present fails at once (-ENODEV). */
	struct uevent_listener *uevents;
	uint64_t hotplug_timeout_ms; /* 0: Kata's default, 3 s */
	const char *sysfs_root;	     /* NULL: /sys (PCI paths, SCSI scan, hugepages) */
};

struct storage_table;
struct storage_op;

int storage_table_new(const struct storage_config *cfg, struct storage_table **ret);
/* Forgets the table WITHOUT unmounting (an agent that exits or restarts leaves running
 * containers their mounts; DestroySandbox calls storage_release_all() first). In-flight ops
 * complete with -ECANCELED. NULL is fine. */
void storage_table_free(struct storage_table *t);

/* Called exactly once from the loop (never from inside storage_add), unless the op was
 * cancelled first: r = 0 or -errno (-ETIMEDOUT: a device did not appear in time;
 * -ECANCELED: storage_release_all()/storage_table_free() ran); msg names what failed (empty on
 * success). The op is gone once it returns: forget the op pointer, never cancel it here. */
typedef void (*storage_done_fn)(void *data, int r, const char *msg);

/* Mounts storages[0..n) in order for owner (a container id, or STORAGE_OWNER_SANDBOX).
 * The array must stay valid until done runs or the op is cancelled (true for the request
 * of a parked call). Returns < 0 (nothing done, done never called) only when the op
 * cannot start; every other outcome goes through done. *ret_op may be NULL. */
int storage_add(struct storage_table *t, Grpc__Storage *const *storages, size_t n,
		const char *owner, storage_done_fn done, void *data, struct storage_op **ret_op);

/* CreateContainer's part, in Kata's order: wait for each of req->devices, rewrite
 * req->oci's Linux.Devices/Resources.Devices with the guest major:minor
 * (storage_spec_update_devices), then storage_add(req->storages) owned by
 * req->container_id. */
int storage_setup_container(struct storage_table *t, Grpc__CreateContainerRequest *req,
			    storage_done_fn done, void *data, struct storage_op **ret_op);

/* The RPC was cancelled: stops waiting, rolls back what the op mounted, never calls done. */
void storage_op_cancel(struct storage_op *op);

/* RemoveContainer: drops owner's references (shared storages stay mounted). */
void storage_release(struct storage_table *t, const char *owner);
/* DestroySandbox: fails the ops still in flight (their done runs with -ECANCELED before this
 * returns), then unmounts every storage, shared ones included, newest first. */
void storage_release_all(struct storage_table *t);

/* Inspection (tests, GetGuestDetails, metrics). */
size_t storage_count(const struct storage_table *t);
/* References on the storage at mount_point; -ENOENT when there is none. */
int storage_refcount(const struct storage_table *t, const char *mount_point);

/* The driver names ember handles (AgentDetails.storage_handlers), NULL-terminated. */
extern const char *const storage_driver_names[];

/* UpdateEphemeralMounts: remounts each `ephemeral` tmpfs mount point with its new options
 * (fsgid= and io.katacontainers.* stripped, current nosuid/nodev/noexec/ro kept unless the
 * options say otherwise). */
int storage_update_ephemeral(Grpc__Storage *const *storages, size_t n, char *msg, size_t msgsz);

/* ---- devices ------------------------------------------------------------------------------ */

/* A device of CreateContainerRequest.devices, found in the guest. */
struct storage_device {
	const char *container_path; /* points into the request */
	char type;		    /* 'b' or 'c' */
	int64_t major, minor;
	char node[160]; /* "/dev/vdb" */
};

/* Pure: for each device with a container_path, sets Linux.Devices[path == container_path]
 * .Major/.Minor to the guest numbers, rewrites Resources.Devices rules that named the old
 * (host) type:major:minor, and appends an allow "rwm" rule for the guest device (Kata's
 * update_spec_devices + cgroup rule). -EINVAL with msg when a device is not in the spec or
 * two devices claim the same host numbers. Memory it adds belongs to the spec (freed by
 * protobuf_c_message_free_unpacked). */
int storage_spec_update_devices(Grpc__Spec *spec, const struct storage_device *devs, size_t n,
				char *msg, size_t msgsz);

/* ---- mount options (libmount) --------------------------------------------------------------- */

struct mount_opts {
	unsigned long flags;	   /* MS_* for mount(2) */
	unsigned long propagation; /* MS_SHARED/SLAVE/PRIVATE/UNBINDABLE (+MS_REC), 2nd call */
	char *data;		   /* filesystem options, comma-joined; NULL when none */
};

/* Joins opts (each may hold several comma-separated options) and splits them into flags
 * and data. Userspace-only options (x-*, _netdev, nofail, ...) are dropped. flags starts
 * from initial_flags, so "exec"/"rw" can clear bits (remounts). -EINVAL with *ret_bad set
 * (strdup'ed) for "loop", which Kata rejects. */
int mount_opts_parse(char *const *opts, size_t n, unsigned long initial_flags,
		     struct mount_opts *ret, char **ret_bad);
void mount_opts_done(struct mount_opts *o);

/* ---- confined paths ----------------------------------------------------------------------------
 */

/* Lexical check: path is absolute, strictly below root, has no "." or ".." component and
 * fits PATH_MAX. *ret_rel points into path, past root and its slashes. -EPERM when outside,
 * -EINVAL when malformed. */
int path_below(const char *path, const char *root, const char **ret_rel);

/* Collapses repeated slashes and drops a trailing one ("/run/x//y/" -> "/run/x/y"): the Go
 * runtime names the share "/run/kata-containers/shared/containers/". */
int path_normalize(const char *path, char **ret);

/* openat2(dirfd, rel, flags | O_CLOEXEC, mode, RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS).
 * An escape attempt gives -EXDEV (".." or absolute symlink) or -ELOOP. */
int open_beneath(int dirfd, const char *rel, int flags, mode_t mode);

/* Opens directory rel below rootfd, creating missing components with mode (umask aside,
 * fixed with fchmod) and chown'ing the ones it created to uid:gid (-1: leave). Returns an
 * O_RDONLY|O_DIRECTORY fd. rel "" returns a dup of rootfd. */
int mkdir_beneath(int rootfd, const char *rel, mode_t mode, uid_t uid, gid_t gid);

/* ---- CopyFile ----------------------------------------------------------------------------------
 */

#define COPY_FILE_MAX_DATA (4u << 20)	/* per call: the ttrpc frame limit */
#define COPY_FILE_MAX_SIZE (1ull << 30) /* per file */

/* Kata's do_copy_file, confined to STORAGE_SHARED_DIR: directories, symlinks (never
 * followed), regular files written at offset into "<path>.tmp" and renamed over path once
 * their size reaches file_size. */
int copy_file(const Grpc__CopyFileRequest *req, char *msg, size_t msgsz);

/* ---- worker jobs -------------------------------------------------------------------------------
 */

/* For calls that may block without bound on a remote filesystem (stat/statfs on virtio-fs
 * whose daemon hangs): work runs on a worker thread and must touch nothing but the job;
 * done runs on the loop afterwards and owns (frees) the job. When the queue is freed
 * before a job finishes, discard runs on the worker instead of done. */
struct fs_job {
	void (*work)(struct fs_job *j);
	void (*done)(struct fs_job *j);
	void (*discard)(struct fs_job *j);
	struct fs_job *next;
};

struct fs_jobs;
int fs_jobs_new(struct ev_loop *loop, unsigned max_running, struct fs_jobs **ret);
void fs_jobs_free(struct fs_jobs *q);
/* -EAGAIN when max_running jobs are running. */
int fs_job_submit(struct fs_jobs *q, struct fs_job *j);
