/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage RPCs of the real agent (PID 1 of fresh namespaces, private /run): CopyFile and
 * its confinement (GHSA-q49m-57vm-c8cc), GetVolumeStats, UpdateEphemeralMounts,
 * RemoveStaleVirtiofsShareMounts, GetGuestDetails, and emberctl's storage commands.
 * The agent's files are checked through /proc/<pid>/root, i.e. in its mount namespace.
 */
#include "harness.h"
#include "agent.pb-c.h"
#include "csi.pb-c.h"
#include "health.pb-c.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#define SHARED "/run/kata-containers/shared/containers"

static struct agent_proc agent;
static struct rpc_client *client;
static char outside[64]; /* a host directory the agent can see: nothing may land there */

static int setup(void **state _unused_)
{
	harness_start_agent(&agent, HARNESS_ISOLATE, NULL);
	client = harness_connect(&agent);
	strcpy(outside, "/tmp/ember-outside-XXXXXX");
	assert_non_null(mkdtemp(outside));
	return 0;
}

static int teardown(void **state _unused_)
{
	rpc_client_free(client);
	harness_stop_agent(&agent);
	harness_sh("rm -rf %s", outside);
	return 0;
}

/* A path inside the agent's mount namespace. */
static const char *in_agent(const char *path)
{
	static char buf[4][512];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "/proc/%d/root%s", agent.pid, path);
	return buf[i];
}

static int in_agent_sh(const char *cmd)
{
	return harness_sh("nsenter -t %d -m sh -c '%s'", agent.pid, cmd);
}

static void assert_outside_empty(void)
{
	DIR *d = opendir(outside);
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d)))
		if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
			fail_msg("'%s/%s' was created outside the shared directory", outside,
				 de->d_name);
	closedir(d);
}

static void contains(const char *msg, const char *what)
{
	if (!strstr(msg, what))
		fail_msg("message '%s' does not name '%s'", msg, what);
}

static int copy(const char *path, uint32_t mode, const void *data, size_t len, int64_t offset,
		int64_t size, int32_t uid, int32_t gid, char *msg)
{
	Grpc__CopyFileRequest req = GRPC__COPY_FILE_REQUEST__INIT;
	req.path = (char *)path;
	req.file_mode = mode;
	req.dir_mode = 0750;
	req.uid = uid;
	req.gid = gid;
	req.offset = offset;
	req.file_size = size;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
	ProtobufCMessage *resp = NULL;
	char m[512];
	int code = harness_call(client, "CopyFile", &req.base, &google__protobuf__empty__descriptor,
				&resp, msg ? msg : m);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static void copy_ok(const char *path, uint32_t mode, const void *data, size_t len, int64_t offset,
		    int64_t size)
{
	char msg[512];
	int code = copy(path, mode, data, len, offset, size, 0, 0, msg);
	if (code != RPC_OK)
		fail_msg("CopyFile %s: %s: %s", path, rpc_code_name(code), msg);
}

static char *slurp(const char *path, size_t *len)
{
	char *s = NULL;
	int r = read_file(path, 8u << 20, &s, len);
	if (r < 0)
		fail_msg("read %s: %s", path, strerror(-r));
	return s;
}

/* ---- GetGuestDetails ---- */

static void test_guest_details(void **state _unused_)
{
	Grpc__GuestDetailsRequest req = GRPC__GUEST_DETAILS_REQUEST__INIT;
	req.mem_block_size = true;
	req.mem_hotplug_probe = true;
	ProtobufCMessage *resp = NULL;
	assert_int_equal(harness_call(client, "GetGuestDetails", &req.base,
				      &grpc__guest_details_response__descriptor, &resp, NULL),
			 RPC_OK);
	Grpc__GuestDetailsResponse *g = (Grpc__GuestDetailsResponse *)resp;

	char *s = NULL;
	uint64_t want = 0;
	if (read_file("/sys/devices/system/memory/block_size_bytes", 64, &s, NULL) == 0)
		want = strtoull(s, NULL, 16);
	free(s);
	assert_int_equal(g->mem_block_size_bytes, want);
	assert_int_equal(g->support_mem_hotplug_probe,
			 access("/sys/devices/system/memory/probe", F_OK) == 0);

	Grpc__AgentDetails *d = g->agent_details;
	assert_non_null(d);
	assert_true(d->init_daemon); /* PID 1 of its pid namespace */
	static const char *const drivers[] = {"blk", "mmioblk",	  "scsi",  "nvdimm",   "virtio-fs",
					      "9p",  "ephemeral", "local", "overlayfs"};
	assert_int_equal(d->n_storage_handlers, ARRAY_SIZE(drivers));
	for (size_t i = 0; i < ARRAY_SIZE(drivers); i++)
		assert_string_equal(d->storage_handlers[i], drivers[i]);
	assert_int_equal(d->n_device_handlers, 0);

	/* version is the agent's version, as Health/Version says. */
	struct rpc_status st;
	ProtobufCMessage *vr = NULL;
	Grpc__CheckRequest cr = GRPC__CHECK_REQUEST__INIT;
	assert_int_equal(rpc_client_call(client, "grpc.Health", "Version", &cr.base,
					 &grpc__version_check_response__descriptor, &vr,
					 5 * NSEC_PER_SEC, &st),
			 0);
	assert_string_equal(d->version, ((Grpc__VersionCheckResponse *)vr)->agent_version);
	protobuf_c_message_free_unpacked(vr, NULL);
	protobuf_c_message_free_unpacked(resp, NULL);

	/* Only what was asked for. */
	req.mem_block_size = false;
	req.mem_hotplug_probe = false;
	assert_int_equal(harness_call(client, "GetGuestDetails", &req.base,
				      &grpc__guest_details_response__descriptor, &resp, NULL),
			 RPC_OK);
	g = (Grpc__GuestDetailsResponse *)resp;
	assert_int_equal(g->mem_block_size_bytes, 0);
	assert_false(g->support_mem_hotplug_probe);
	assert_non_null(g->agent_details);
	protobuf_c_message_free_unpacked(resp, NULL);
}

/* ---- CopyFile ---- */

static void test_copy_file_in_chunks(void **state _unused_)
{
	enum { SIZE = (5 << 20) / 2 };
	uint8_t *data = malloc(SIZE);
	for (size_t i = 0; i < SIZE; i++)
		data[i] = (uint8_t)(i * 7 + i / 4096);
	const char *path = SHARED "/c1-0123456789abcdef-hosts/sub/hosts";
	char msg[512];
	/* Go's chunks: 1 MiB, 1 MiB, the rest. */
	assert_int_equal(copy(path, S_IFREG | 0640, data, 1 << 20, 0, SIZE, 1000, 1001, msg),
			 RPC_OK);
	assert_false(access(in_agent(path), F_OK) == 0);
	char tmp[256];
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_true(access(in_agent(tmp), F_OK) == 0); /* the part, under its own name */
	assert_int_equal(
	    copy(path, S_IFREG | 0640, data + (1 << 20), 1 << 20, 1 << 20, SIZE, 1000, 1001, msg),
	    RPC_OK);
	assert_int_equal(copy(path, S_IFREG | 0640, data + (2 << 20), SIZE - (2 << 20), 2 << 20,
			      SIZE, 1000, 1001, msg),
			 RPC_OK);
	size_t len;
	char *got = slurp(in_agent(path), &len);
	assert_int_equal(len, SIZE);
	assert_memory_equal(got, data, SIZE);
	free(got);
	assert_false(access(in_agent(tmp), F_OK) == 0);
	struct stat st;
	assert_int_equal(stat(in_agent(path), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	/* The parents it made: dir_mode & 0777, owned like the file. */
	assert_int_equal(stat(in_agent(SHARED "/c1-0123456789abcdef-hosts/sub"), &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_uid, 1000);

	/* An update starts over at offset 0 and replaces the file whole. */
	assert_int_equal(copy(path, S_IFREG | 0644, "new", 3, 0, 3, 0, 0, msg), RPC_OK);
	got = slurp(in_agent(path), &len);
	assert_int_equal(len, 3);
	assert_memory_equal(got, "new", 3);
	free(got);
	/* An empty file is complete at once. */
	assert_int_equal(copy(SHARED "/empty", S_IFREG | 0600, NULL, 0, 0, 0, 0, 0, msg), RPC_OK);
	assert_int_equal(stat(in_agent(SHARED "/empty"), &st), 0);
	assert_int_equal(st.st_size, 0);
	free(data);
}

static void test_copy_file_dirs_and_symlinks(void **state _unused_)
{
	struct stat st;
	char target[64];
	copy_ok(SHARED "/cm/..2024_01_01", S_IFDIR | 0711, NULL, 0, 0, 0);
	assert_int_equal(stat(in_agent(SHARED "/cm/..2024_01_01"), &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0711);
	copy_ok(SHARED "/cm/..2024_01_01/key", S_IFREG | 0644, "v1", 2, 0, 2);
	copy_ok(SHARED "/cm/..data", S_IFLNK | 0777, "..2024_01_01", 12, 0, 0);
	copy_ok(SHARED "/cm/key", S_IFLNK | 0777, "..data/key", 10, 0, 0);
	ssize_t n = readlink(in_agent(SHARED "/cm/..data"), target, sizeof(target));
	assert_int_equal(n, 12);
	char *v = slurp(in_agent(SHARED "/cm/key"), NULL);
	assert_string_equal(v, "v1");
	free(v);
	/* Kubernetes' update: a new timestamped dir, then ..data repointed. */
	copy_ok(SHARED "/cm/..2024_02_02/key", S_IFREG | 0644, "v2", 2, 0, 2);
	copy_ok(SHARED "/cm/..data", S_IFLNK | 0777, "..2024_02_02", 12, 0, 0);
	v = slurp(in_agent(SHARED "/cm/key"), NULL);
	assert_string_equal(v, "v2");
	free(v);
	/* A symlink never replaces a directory. */
	char msg[512];
	assert_int_equal(copy(SHARED "/cm/..2024_01_01", S_IFLNK | 0777, "x", 1, 0, 0, 0, 0, msg),
			 RPC_INVALID_ARGUMENT);
	contains(msg, "..2024_01_01");
}

static void test_copy_file_confinement(void **state _unused_)
{
	char msg[512], p[512], t[256];

	/* Plain escapes. */
	snprintf(p, sizeof(p), SHARED "/../../../..%s/pwn1", outside);
	assert_int_equal(copy(p, S_IFREG | 0644, "x", 1, 0, 1, 0, 0, msg), RPC_PERMISSION_DENIED);
	contains(msg, p);
	assert_int_equal(copy(SHARED "-evil/pwn", S_IFREG | 0644, "x", 1, 0, 1, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	assert_int_equal(copy("/etc/pwn", S_IFREG | 0644, "x", 1, 0, 1, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	contains(msg, "/etc/pwn");
	assert_int_equal(copy(SHARED, S_IFDIR | 0755, NULL, 0, 0, 0, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	assert_int_equal(copy("run/kata-containers/shared/containers/x", S_IFREG | 0644, "x", 1, 0,
			      1, 0, 0, msg),
			 RPC_INVALID_ARGUMENT);

	/* An absolute symlink made by CopyFile, then used as a parent. */
	copy_ok(SHARED "/esc", S_IFLNK | 0777, outside, strlen(outside), 0, 0);
	assert_int_equal(copy(SHARED "/esc/pwn2", S_IFREG | 0644, "x", 1, 0, 1, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	contains(msg, SHARED "/esc/pwn2");
	assert_int_equal(copy(SHARED "/esc/d/pwn", S_IFREG | 0644, "x", 1, 0, 1, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	assert_int_equal(copy(SHARED "/esc/sub", S_IFDIR | 0755, NULL, 0, 0, 0, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	assert_int_equal(copy(SHARED "/esc/lnk", S_IFLNK | 0777, "x", 1, 0, 0, 0, 0, msg),
			 RPC_PERMISSION_DENIED);
	/* A relative one climbing out. */
	snprintf(t, sizeof(t), "../../../..%s", outside);
	copy_ok(SHARED "/up", S_IFLNK | 0777, t, strlen(t), 0, 0);
	assert_int_equal(copy(SHARED "/up/pwn3", S_IFREG | 0644, "x", 1, 0, 1, 0, 0, msg),
			 RPC_PERMISSION_DENIED);

	/* The last component is never followed: a write replaces the symlink itself. */
	snprintf(t, sizeof(t), "%s/pwn4", outside);
	copy_ok(SHARED "/f", S_IFLNK | 0777, t, strlen(t), 0, 0);
	copy_ok(SHARED "/f", S_IFREG | 0644, "inside", 6, 0, 6);
	struct stat st;
	assert_int_equal(lstat(in_agent(SHARED "/f"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* Nor is a symlink planted at the temporary name. */
	snprintf(t, sizeof(t), "%s/pwn5", outside);
	copy_ok(SHARED "/g.tmp", S_IFLNK | 0777, t, strlen(t), 0, 0);
	copy_ok(SHARED "/g", S_IFREG | 0644, "12345", 5, 0, 10); /* first half */
	copy_ok(SHARED "/g", S_IFREG | 0644, "67890", 5, 5, 10);
	char *v = slurp(in_agent(SHARED "/g"), NULL);
	assert_string_equal(v, "1234567890");
	free(v);
	snprintf(t, sizeof(t), "%s/pwn6", outside);
	copy_ok(SHARED "/h.tmp", S_IFLNK | 0777, t, strlen(t), 0, 0);
	assert_int_equal(copy(SHARED "/h", S_IFREG | 0644, "67890", 5, 5, 10, 0, 0, msg),
			 RPC_INVALID_ARGUMENT); /* a continuation never opens a symlink */
	contains(msg, SHARED "/h");

	/* Symlinks that stay inside are fine. */
	copy_ok(SHARED "/a/x", S_IFDIR | 0755, NULL, 0, 0, 0);
	copy_ok(SHARED "/in", S_IFLNK | 0777, "a", 1, 0, 0);
	copy_ok(SHARED "/in/x/y", S_IFREG | 0644, "y", 1, 0, 1);
	assert_int_equal(access(in_agent(SHARED "/a/x/y"), F_OK), 0);

	/* Bad requests, named. */
	assert_int_equal(copy(SHARED "/fifo", S_IFIFO | 0644, NULL, 0, 0, 0, 0, 0, msg),
			 RPC_INVALID_ARGUMENT);
	contains(msg, SHARED "/fifo");
	assert_int_equal(copy(SHARED "/big", S_IFREG | 0644, "abc", 3, 8, 10, 0, 0, msg),
			 RPC_OUT_OF_RANGE);
	assert_int_equal(copy(SHARED "/big", S_IFREG | 0644, "abc", 3, -1, 10, 0, 0, msg),
			 RPC_OUT_OF_RANGE);
	assert_int_equal(copy(SHARED "/big", S_IFREG | 0644, "abc", 3, 0, 1ll << 40, 0, 0, msg),
			 RPC_RESOURCE_EXHAUSTED);
	contains(msg, SHARED "/big");
	assert_int_equal(copy(SHARED "/u", S_IFREG | 0644, "abc", 3, 0, 3, -5, 0, msg),
			 RPC_INVALID_ARGUMENT);
	assert_int_equal(copy(SHARED "/l2", S_IFLNK | 0777, NULL, 0, 0, 0, 0, 0, msg),
			 RPC_INVALID_ARGUMENT);
	assert_false(access(in_agent(SHARED "/big"), F_OK) == 0);
	assert_false(access(in_agent(SHARED "/big.tmp"), F_OK) == 0);

	assert_outside_empty();
	assert_true(harness_agent_alive(&agent));
}

/* ---- GetVolumeStats ---- */

static int volume_stats(const char *path, Grpc__VolumeStatsResponse **ret, char *msg)
{
	Grpc__VolumeStatsRequest req = GRPC__VOLUME_STATS_REQUEST__INIT;
	req.volume_guest_path = (char *)path;
	return harness_call(client, "GetVolumeStats", &req.base,
			    &grpc__volume_stats_response__descriptor, (ProtobufCMessage **)ret,
			    msg);
}

static void test_volume_stats(void **state _unused_)
{
	assert_int_equal(in_agent_sh("mkdir -p /run/kata-containers/sandbox/storage/v1 && "
				     "mount -t tmpfs -o size=8m,nr_inodes=1000 tmpfs "
				     "/run/kata-containers/sandbox/storage/v1 && "
				     "touch /run/kata-containers/sandbox/storage/v1/a"),
			 0);
	Grpc__VolumeStatsResponse *v = NULL;
	char msg[512];
	assert_int_equal(volume_stats("/run/kata-containers/sandbox/storage/v1", &v, msg), RPC_OK);
	assert_int_equal(v->n_usage, 2);
	assert_int_equal(v->usage[0]->unit, GRPC__VOLUME_USAGE__UNIT__BYTES);
	assert_int_equal(v->usage[0]->total, 8 << 20);
	assert_int_equal(v->usage[0]->used + v->usage[0]->available, 8 << 20);
	assert_int_equal(v->usage[1]->unit, GRPC__VOLUME_USAGE__UNIT__INODES);
	assert_int_equal(v->usage[1]->total, 1000);
	assert_true(v->usage[1]->used >= 2); /* the root and a */
	assert_int_equal(v->usage[1]->used + v->usage[1]->available, 1000);
	assert_non_null(v->volume_condition);
	assert_false(v->volume_condition->abnormal);
	protobuf_c_message_free_unpacked(&v->base, NULL);

	assert_int_equal(volume_stats("/etc", &v, msg), RPC_PERMISSION_DENIED);
	contains(msg, "'/etc'");
	assert_int_equal(volume_stats("/run/kata-containers/sandbox/storage/nope", &v, msg),
			 RPC_NOT_FOUND);
	contains(msg, "/run/kata-containers/sandbox/storage/nope");
	assert_int_equal(volume_stats("", &v, msg), RPC_INVALID_ARGUMENT);
}

/* ---- UpdateEphemeralMounts ---- */

static int update_ephemeral(const char *driver, const char *mp, const char *const *opts, char *msg)
{
	Grpc__UpdateEphemeralMountsRequest req = GRPC__UPDATE_EPHEMERAL_MOUNTS_REQUEST__INIT;
	Grpc__Storage s = GRPC__STORAGE__INIT, *sv[] = {&s};
	char *o[8];
	s.driver = (char *)driver;
	s.source = (char *)"tmpfs";
	s.fstype = (char *)"tmpfs";
	s.mount_point = (char *)mp;
	for (; opts && opts[s.n_options]; s.n_options++)
		o[s.n_options] = (char *)opts[s.n_options];
	s.options = o;
	req.storages = sv;
	req.n_storages = 1;
	ProtobufCMessage *resp = NULL;
	int code = harness_call(client, "UpdateEphemeralMounts", &req.base,
				&google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static void test_update_ephemeral_mounts(void **state _unused_)
{
	const char *mp = "/run/kata-containers/sandbox/ephemeral/e1";
	assert_int_equal(in_agent_sh("mkdir -p /run/kata-containers/sandbox/ephemeral/e1 "
				     "/run/kata-containers/sandbox/ephemeral/plain && "
				     "mount -t tmpfs -o size=1m,nosuid,nodev,noexec tmpfs "
				     "/run/kata-containers/sandbox/ephemeral/e1"),
			 0);
	char msg[512];
	const char *grow[] = {"size=2m", "fsgid=7", NULL};
	assert_int_equal(update_ephemeral("ephemeral", mp, grow, msg), RPC_OK);
	struct statvfs sv;
	assert_int_equal(statvfs(in_agent(mp), &sv), 0);
	assert_int_equal((uint64_t)sv.f_blocks * sv.f_frsize, 2 << 20);
	/* The flags it was mounted with survive a remount that does not name them. */
	assert_true(sv.f_flag & ST_NOSUID);
	assert_true(sv.f_flag & ST_NODEV);
	assert_true(sv.f_flag & ST_NOEXEC);

	assert_int_equal(update_ephemeral("local", mp, grow, msg), RPC_INVALID_ARGUMENT);
	contains(msg, "'local'");
	assert_int_equal(update_ephemeral("ephemeral",
					  "/run/kata-containers/sandbox/ephemeral/plain", grow,
					  msg),
			 RPC_FAILED_PRECONDITION);
	contains(msg, "/run/kata-containers/sandbox/ephemeral/plain");
	assert_int_equal(update_ephemeral("ephemeral", "/dev/shm", grow, msg),
			 RPC_PERMISSION_DENIED);
	contains(msg, "'/dev/shm'");
	const char *loopo[] = {"loop", NULL};
	assert_int_equal(update_ephemeral("ephemeral", mp, loopo, msg), RPC_INVALID_ARGUMENT);
	contains(msg, "'loop'");
	/* Nothing to change is not an error (Kata). */
	assert_int_equal(update_ephemeral("ephemeral", mp, NULL, msg), RPC_OK);
}

/* ---- RemoveStaleVirtiofsShareMounts ---- */

static void test_remove_stale_share_mounts(void **state _unused_)
{
	assert_int_equal(
	    in_agent_sh("mkdir -p " SHARED "/m1 && mount -t tmpfs tmpfs " SHARED "/m1"), 0);
	Grpc__RemoveStaleVirtiofsShareMountsRequest req =
	    GRPC__REMOVE_STALE_VIRTIOFS_SHARE_MOUNTS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	for (int i = 0; i < 3; i++) {
		assert_int_equal(harness_call(client, "RemoveStaleVirtiofsShareMounts", &req.base,
					      &google__protobuf__empty__descriptor, &resp, NULL),
				 RPC_OK);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	assert_true(harness_agent_alive(&agent));
}

/* ---- emberctl ---- */

static void test_emberctl(void **state _unused_)
{
	const char *ctl = getenv("EMBERCTL");
	assert_non_null(ctl);
	char local[128];
	snprintf(local, sizeof(local), "%s-src", outside);
	assert_int_equal(harness_sh("head -c 2621443 /dev/urandom > %s", local), 0);
	assert_int_equal(
	    harness_sh("%s --addr %s copy-file %s " SHARED "/ctl/blob", ctl, agent.addr, local), 0);
	assert_int_equal(harness_sh("cmp %s %s", local, in_agent(SHARED "/ctl/blob")), 0);
	assert_int_equal(harness_sh("%s --addr %s copy-file %s " SHARED "/../escape 2>&1 | "
				    "grep -q '^emberctl: PERMISSION_DENIED: '",
				    ctl, agent.addr, local),
			 0);
	assert_int_equal(harness_sh("%s --addr %s guest-details | grep -qx "
				    "'storage_handlers: blk mmioblk scsi nvdimm virtio-fs 9p "
				    "ephemeral local overlayfs'",
				    ctl, agent.addr),
			 0);
	assert_int_equal(harness_sh("%s --addr %s guest-details | grep -qx 'init_daemon: true'",
				    ctl, agent.addr),
			 0);
	assert_int_equal(
	    in_agent_sh("mkdir -p /run/kata-containers/sandbox/storage/v2 && "
			"mount -t tmpfs -o size=4m tmpfs /run/kata-containers/sandbox/storage/v2"),
	    0);
	assert_int_equal(
	    harness_sh("%s --addr %s volume-stats /run/kata-containers/sandbox/storage/v2 "
		       "| grep -q '^bytes: total 4194304 '",
		       ctl, agent.addr),
	    0);
	harness_sh("rm -f %s", local);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_guest_details),
	    cmocka_unit_test(test_copy_file_in_chunks),
	    cmocka_unit_test(test_copy_file_dirs_and_symlinks),
	    cmocka_unit_test(test_copy_file_confinement),
	    cmocka_unit_test(test_volume_stats),
	    cmocka_unit_test(test_update_ephemeral_mounts),
	    cmocka_unit_test(test_remove_stale_share_mounts),
	    cmocka_unit_test(test_emberctl),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
