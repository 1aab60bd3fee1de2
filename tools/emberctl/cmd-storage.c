/* SPDX-License-Identifier: Apache-2.0 */
/* Storage commands: copy-file (CopyFile in 1 MiB chunks, as the Go runtime's copyFile),
 * guest-details (GetGuestDetails), volume-stats (GetVolumeStats). */
#include "emberctl.h"
#include "agent.pb-c.h"
#include "csi.pb-c.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>

/* The Go runtime's chunk size (kata_agent.go copyFile: grpcMaxDataSize = 1 MiB). */
#define CHUNK (1u << 20)
/* Go's DirMode for the parents CopyFile creates: 0750 (the os.ModeDir bit is dropped by
 * the agent's & 0777). */
#define DIR_MODE 0750

static int copy_call(struct ctl *ctl, Grpc__CopyFileRequest *req)
{
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.AgentService", "CopyFile", &req->base,
			 &google__protobuf__empty__descriptor, &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_copy_file(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 3)
		return CTL_EXIT_USAGE;
	const char *local = argv[1], *remote = argv[2];
	struct stat st;
	if (lstat(local, &st) < 0) {
		fprintf(stderr, "emberctl: %s: %m\n", local);
		return CTL_EXIT_USAGE;
	}
	Grpc__CopyFileRequest req = GRPC__COPY_FILE_REQUEST__INIT;
	req.path = (char *)remote;
	req.file_mode = st.st_mode;
	req.dir_mode = DIR_MODE;
	req.uid = (int32_t)st.st_uid;
	req.gid = (int32_t)st.st_gid;

	if (S_ISDIR(st.st_mode))
		return copy_call(ctl, &req);
	if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(local, target, sizeof(target));
		if (n < 0 || (size_t)n >= sizeof(target)) {
			fprintf(stderr, "emberctl: readlink %s: %m\n", local);
			return CTL_EXIT_USAGE;
		}
		req.data.data = (uint8_t *)target;
		req.data.len = (size_t)n;
		return copy_call(ctl, &req);
	}
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "emberctl: %s: only files, directories and symlinks\n", local);
		return CTL_EXIT_USAGE;
	}

	_cleanup_close_ int fd = open(local, O_RDONLY | O_CLOEXEC);
	_cleanup_free_ uint8_t *buf = malloc(CHUNK);
	if (fd < 0 || !buf) {
		fprintf(stderr, "emberctl: %s: %m\n", local);
		return CTL_EXIT_USAGE;
	}
	req.file_size = st.st_size;
	int64_t off = 0;
	do {
		ssize_t n = loop_read(fd, buf, CHUNK);
		if (n < 0) {
			errno = (int)-n;
			fprintf(stderr, "emberctl: read %s: %m\n", local);
			return CTL_EXIT_USAGE;
		}
		if (off + n > st.st_size) {
			fprintf(stderr, "emberctl: %s grew while being copied\n", local);
			return CTL_EXIT_USAGE;
		}
		req.offset = off;
		req.data.data = buf;
		req.data.len = (size_t)n;
		int r = copy_call(ctl, &req);
		if (r != CTL_EXIT_OK)
			return r;
		off += n;
		if (n == 0)
			break;
	} while (off < st.st_size);
	if (off != st.st_size) {
		fprintf(stderr, "emberctl: %s shrank while being copied\n", local);
		return CTL_EXIT_USAGE;
	}
	return CTL_EXIT_OK;
}

static int cmd_guest_details(struct ctl *ctl, int argc, char **argv _unused_)
{
	if (argc != 1)
		return CTL_EXIT_USAGE;
	Grpc__GuestDetailsRequest req = GRPC__GUEST_DETAILS_REQUEST__INIT;
	req.mem_block_size = true;
	req.mem_hotplug_probe = true;
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.AgentService", "GetGuestDetails", &req.base,
			 &grpc__guest_details_response__descriptor, &resp);
	if (r != CTL_EXIT_OK)
		return r;
	Grpc__GuestDetailsResponse *g = (Grpc__GuestDetailsResponse *)resp;
	printf("mem_block_size_bytes: %llu\n", (unsigned long long)g->mem_block_size_bytes);
	printf("support_mem_hotplug_probe: %s\n", g->support_mem_hotplug_probe ? "true" : "false");
	if (g->agent_details) {
		Grpc__AgentDetails *d = g->agent_details;
		printf("version: %s\ninit_daemon: %s\nsupports_seccomp: %s\nstorage_handlers:",
		       d->version, d->init_daemon ? "true" : "false",
		       d->supports_seccomp ? "true" : "false");
		for (size_t i = 0; i < d->n_storage_handlers; i++)
			printf(" %s", d->storage_handlers[i]);
		printf("\ndevice_handlers:");
		for (size_t i = 0; i < d->n_device_handlers; i++)
			printf(" %s", d->device_handlers[i]);
		printf("\nextra_features:");
		for (size_t i = 0; i < d->n_extra_features; i++)
			printf(" %s", d->extra_features[i]);
		printf("\n");
	}
	protobuf_c_message_free_unpacked(resp, NULL);
	return CTL_EXIT_OK;
}

static int cmd_volume_stats(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 2)
		return CTL_EXIT_USAGE;
	Grpc__VolumeStatsRequest req = GRPC__VOLUME_STATS_REQUEST__INIT;
	req.volume_guest_path = argv[1];
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.AgentService", "GetVolumeStats", &req.base,
			 &grpc__volume_stats_response__descriptor, &resp);
	if (r != CTL_EXIT_OK)
		return r;
	Grpc__VolumeStatsResponse *v = (Grpc__VolumeStatsResponse *)resp;
	for (size_t i = 0; i < v->n_usage; i++) {
		Grpc__VolumeUsage *u = v->usage[i];
		printf("%s: total %llu used %llu available %llu\n",
		       u->unit == GRPC__VOLUME_USAGE__UNIT__BYTES    ? "bytes"
		       : u->unit == GRPC__VOLUME_USAGE__UNIT__INODES ? "inodes"
								     : "unknown",
		       (unsigned long long)u->total, (unsigned long long)u->used,
		       (unsigned long long)u->available);
	}
	if (v->volume_condition)
		printf("condition: %s%s\n", v->volume_condition->abnormal ? "abnormal: " : "",
		       v->volume_condition->message);
	r = v->volume_condition && v->volume_condition->abnormal ? CTL_EXIT_RPC : CTL_EXIT_OK;
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

const struct ctl_command ctl_commands_storage[] = {
    {"copy-file", "LOCAL REMOTE", "CopyFile: push a file, directory or symlink (1 MiB chunks)",
     cmd_copy_file},
    {"guest-details", NULL, "GetGuestDetails", cmd_guest_details},
    {"volume-stats", "PATH", "GetVolumeStats: bytes and inodes of a guest volume",
     cmd_volume_stats},
    {},
};
