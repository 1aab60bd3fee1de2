/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Storage RPCs: CopyFile, GetVolumeStats, UpdateEphemeralMounts,
 * RemoveStaleVirtiofsShareMounts; and the agent's storage state (uevent listener, storage
 * table, filesystem worker jobs) that CreateSandbox/CreateContainer use through mount/mount.h.
 *
 * CopyFile, GetVolumeStats and RemoveStaleVirtiofsShareMounts touch files that may live on
 * virtio-fs: a hung virtiofsd would hang the syscall, so they run as fs jobs on a worker
 * thread while the call is parked, and the loop keeps serving everybody else.
 */
#define LOG_SUBSYSTEM "storage"
#include "agent.h"
#include "mount/mount.h"
#include "uevent/uevent.h"

#include "agent.pb-c.h"
#include "csi.pb-c.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* Concurrent filesystem jobs; beyond it calls get RESOURCE_EXHAUSTED, not a queue. */
#define MAX_FS_JOBS	 8
#define MAX_STALE_MOUNTS 4096
#define SHARED_DIR_SLASH STORAGE_SHARED_DIR "/"

int agent_storage_init(struct agent *a)
{
	int r = uevent_listener_new(a->loop, NULL, &a->uevents);
	if (r < 0)
		/* Devices already present still work; hot-plugged ones cannot be waited for. */
		log_error_errno(r, "cannot listen for uevents, device waits will fail: %m");
	struct storage_config cfg = {
	    .loop = a->loop,
	    .uevents = a->uevents,
	    .hotplug_timeout_ms = a->cfg.hotplug_timeout_ms,
	};
	r = storage_table_new(&cfg, &a->storages);
	if (r < 0)
		return r;
	return fs_jobs_new(a->loop, MAX_FS_JOBS, &a->fs_jobs);
}

void agent_storage_done(struct agent *a)
{
	storage_table_free(a->storages);
	a->storages = NULL;
	fs_jobs_free(a->fs_jobs);
	a->fs_jobs = NULL;
	uevent_listener_free(a->uevents);
	a->uevents = NULL;
}

/* ---- parked calls served by a worker job ---- */

struct storage_job {
	struct fs_job job;
	struct rpc_call *call; /* NULL once the call is gone */
	int r;
	char msg[STORAGE_MSG_MAX];
	/* CopyFile: the request's path and data, taken over from it */
	Grpc__CopyFileRequest copy;
	/* GetVolumeStats */
	char *path;
	struct statvfs sv;
	/* RemoveStaleVirtiofsShareMounts */
	char **paths;
	size_t n_paths;
};

static void job_free(struct storage_job *j)
{
	free(j->copy.path);
	free(j->copy.data.data);
	free(j->path);
	for (size_t i = 0; i < j->n_paths; i++)
		free(j->paths[i]);
	free(j->paths);
	free(j);
}

static void job_discard(struct fs_job *fj)
{
	job_free(container_of(fj, struct storage_job, job));
}

static void job_cancel(struct rpc_call *call _unused_, void *data)
{
	struct storage_job *j = data;
	j->call = NULL;
}

static void job_start(struct rpc_call *call, struct storage_job *j)
{
	struct agent *a = rpc_call_userdata(call);
	j->call = call;
	j->job.discard = job_discard;
	int r = fs_job_submit(a->fs_jobs, &j->job);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "%s: %d filesystem calls are already running",
				     rpc_call_method(call), MAX_FS_JOBS);
		job_free(j);
		return;
	}
	rpc_call_park(call, job_cancel, j);
}

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &e.base);
}

/* ---- CopyFile ---- */

static void copy_work(struct fs_job *fj)
{
	struct storage_job *j = container_of(fj, struct storage_job, job);
	j->r = copy_file(&j->copy, j->msg, sizeof(j->msg));
}

static void copy_done(struct fs_job *fj)
{
	struct storage_job *j = container_of(fj, struct storage_job, job);
	if (j->call) {
		if (j->r < 0)
			rpc_call_reply_errno(j->call, j->r, "CopyFile: %s", j->msg);
		else
			reply_empty(j->call);
	}
	if (j->r < 0)
		log_warn("CopyFile: %s", j->msg);
	job_free(j);
}

void agent_copy_file(struct rpc_call *call, void *request)
{
	Grpc__CopyFileRequest *req = request;
	if (req->data.len > COPY_FILE_MAX_DATA) {
		rpc_call_reply_errno(call, -EMSGSIZE,
				     "CopyFile '%s': %zu bytes of data, at most %u", req->path,
				     req->data.len, COPY_FILE_MAX_DATA);
		return;
	}
	struct storage_job *j = calloc(1, sizeof(*j));
	if (!j) {
		rpc_call_reply_errno(call, -ENOMEM, "CopyFile: out of memory");
		return;
	}
	/* The worker may outlive the call (cancelled, deadline): it takes the request's
	 * buffers over instead of copying up to 4 MiB. */
	j->copy = *req;
	if (req->path == protobuf_c_empty_string)
		j->copy.path = strdup("");
	else
		req->path = NULL;
	req->data.data = NULL;
	req->data.len = 0;
	if (!j->copy.path) {
		job_free(j);
		rpc_call_reply_errno(call, -ENOMEM, "CopyFile: out of memory");
		return;
	}
	j->job.work = copy_work;
	j->job.done = copy_done;
	job_start(call, j);
}

/* ---- GetVolumeStats ---- */

static void stats_work(struct fs_job *fj)
{
	struct storage_job *j = container_of(fj, struct storage_job, job);
	const char *rel;
	int fd = open(STORAGE_RUN_ROOT, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		j->r = -errno;
		return;
	}
	(void)path_below(j->path, STORAGE_RUN_ROOT, &rel);
	int vfd = open_beneath(fd, rel, O_PATH, 0);
	close(fd);
	if (vfd < 0) {
		j->r = vfd;
		return;
	}
	j->r = fstatvfs(vfd, &j->sv) < 0 ? -errno : 0;
	if (j->r < 0)
		snprintf(j->msg, sizeof(j->msg), "statfs failed: %s", strerror(-j->r));
	close(vfd);
	j->r = j->r < 0 ? 1 : 0; /* the volume exists: a statfs failure is a condition */
}

static void stats_done(struct fs_job *fj)
{
	struct storage_job *j = container_of(fj, struct storage_job, job);
	if (j->call && j->r < 0) {
		rpc_call_reply_errno(j->call, j->r, "GetVolumeStats: volume '%s': %m", j->path);
	} else if (j->call) {
		Grpc__VolumeStatsResponse resp = GRPC__VOLUME_STATS_RESPONSE__INIT;
		Grpc__VolumeCondition cond = GRPC__VOLUME_CONDITION__INIT;
		Grpc__VolumeUsage bytes = GRPC__VOLUME_USAGE__INIT,
				  inodes = GRPC__VOLUME_USAGE__INIT;
		Grpc__VolumeUsage *usage[2] = {&bytes, &inodes};
		if (j->r == 0) {
			/* kubelet's figures: available is what unprivileged writers get
			 * (f_bavail), used excludes the reserve (f_blocks - f_bfree). */
			uint64_t bs = j->sv.f_frsize ? j->sv.f_frsize : j->sv.f_bsize;
			bytes.unit = GRPC__VOLUME_USAGE__UNIT__BYTES;
			bytes.total = (uint64_t)j->sv.f_blocks * bs;
			bytes.available = (uint64_t)j->sv.f_bavail * bs;
			bytes.used = (uint64_t)(j->sv.f_blocks - j->sv.f_bfree) * bs;
			inodes.unit = GRPC__VOLUME_USAGE__UNIT__INODES;
			inodes.total = j->sv.f_files;
			inodes.available = j->sv.f_ffree;
			inodes.used = j->sv.f_files - j->sv.f_ffree;
			resp.n_usage = 2;
			resp.usage = usage;
			cond.message = (char *)"OK";
		} else {
			cond.abnormal = true;
			cond.message = j->msg;
		}
		resp.volume_condition = &cond;
		rpc_call_reply(j->call, &resp.base);
	}
	job_free(j);
}

void agent_get_volume_stats(struct rpc_call *call, void *request)
{
	Grpc__VolumeStatsRequest *req = request;
	const char *rel;
	int r = path_below(req->volume_guest_path, STORAGE_RUN_ROOT, &rel);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "GetVolumeStats: volume path '%s' is not below %s/",
				     req->volume_guest_path, STORAGE_RUN_ROOT);
		return;
	}
	struct storage_job *j = calloc(1, sizeof(*j));
	if (!j || !(j->path = strdup(req->volume_guest_path))) {
		free(j);
		rpc_call_reply_errno(call, -ENOMEM, "GetVolumeStats: out of memory");
		return;
	}
	j->job.work = stats_work;
	j->job.done = stats_done;
	job_start(call, j);
}

/* ---- RemoveStaleVirtiofsShareMounts ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
	char *o = s;
	for (char *p = s; *p;) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 4;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
}

static int collect_share_mounts(struct storage_job *j)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file("/proc/self/mountinfo", 16u << 20, &text, NULL);
	if (r < 0)
		return r;
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		/* "36 35 98:0 /root /mnt/point opts ..." : the 5th field */
		char *f = line;
		for (int k = 0; k < 4 && f; k++) {
			f = strchr(f, ' ');
			if (f)
				f++;
		}
		if (!f)
			continue;
		f[strcspn(f, " ")] = '\0';
		unescape_octal(f);
		if (!startswith(f, SHARED_DIR_SLASH) || !f[STRLEN(SHARED_DIR_SLASH)])
			continue;
		if (j->n_paths >= MAX_STALE_MOUNTS) {
			log_warn("more than %d mounts below %s: stat'ing the first ones",
				 MAX_STALE_MOUNTS, STORAGE_SHARED_DIR);
			break;
		}
		char **v = realloc(j->paths, (j->n_paths + 1) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		j->paths = v;
		if (!(j->paths[j->n_paths] = strdup(f)))
			return -ENOMEM;
		j->n_paths++;
	}
	return 0;
}

/* Kata (issue #6455): stat'ing each mount below the share makes virtiofsd notice the
 * mounts whose host side is gone and drop its stale inodes and fds. */
static void stale_work(struct fs_job *fj)
{
	struct storage_job *j = container_of(fj, struct storage_job, job);
	struct stat st;
	for (size_t i = 0; i < j->n_paths; i++)
		if (stat(j->paths[i], &st) < 0)
			j->r++; /* counted, not an error: a vanished mount is what we look for */
}

static void stale_done(struct fs_job *fj)
{
	struct storage_job *j = container_of(fj, struct storage_job, job);
	log_debug("RemoveStaleVirtiofsShareMounts: stat'ed %zu mounts, %d failed", j->n_paths,
		  j->r);
	if (j->call)
		reply_empty(j->call);
	job_free(j);
}

void agent_remove_stale_virtiofs_share_mounts(struct rpc_call *call, void *request _unused_)
{
	struct storage_job *j = calloc(1, sizeof(*j));
	if (!j) {
		rpc_call_reply_errno(call, -ENOMEM,
				     "RemoveStaleVirtiofsShareMounts: out of memory");
		return;
	}
	int r = collect_share_mounts(j);
	if (r < 0) {
		rpc_call_reply_errno(call, r,
				     "RemoveStaleVirtiofsShareMounts: /proc/self/mountinfo: %m");
		job_free(j);
		return;
	}
	if (j->n_paths == 0) {
		reply_empty(call);
		job_free(j);
		return;
	}
	j->job.work = stale_work;
	j->job.done = stale_done;
	job_start(call, j);
}

/* ---- UpdateEphemeralMounts ---- */

void agent_update_ephemeral_mounts(struct rpc_call *call, void *request)
{
	Grpc__UpdateEphemeralMountsRequest *req = request;
	char msg[STORAGE_MSG_MAX] = "";
	int r = storage_update_ephemeral(req->storages, req->n_storages, msg, sizeof(msg));
	if (r < 0) {
		log_warn("UpdateEphemeralMounts: %s", msg);
		rpc_call_reply_errno(call, r, "UpdateEphemeralMounts: %s", msg);
		return;
	}
	reply_empty(call);
}
