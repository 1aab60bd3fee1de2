/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the OCI spec of a CreateContainer request, through everything the agent
 * derives from it in the parent before any child exists: the plan (namespaces, mounts with
 * libmount's option parsing, devices, the process with the container's own passwd/group and
 * PATH lookup, rlimits, capabilities and seccomp compiled with libseccomp, masked paths,
 * sysctls), the hooks and the cgroup path and resources. None of it may crash, leak or hang
 * whatever the peer sends; errors are only counted.
 */
#include "cgroup/cgroup.h"
#include "container/container.h"
#include "hook/hook.h"
#include "oci.pb-c.h"

#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static char rootfs[64];

static void put(const char *rel, const char *text, mode_t mode)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", rootfs, rel);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static void cleanup(void)
{
	static const char *const files[] = {"bin/link", "bin/noexec", "bin/sh", "etc/group",
					    "etc/passwd"};
	static const char *const dirs[] = {"home/app", "home", "bin", "etc", ""};
	char path[256];
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs, files[i]);
		unlink(path);
	}
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs, dirs[i]);
		rmdir(path);
	}
}

/* A small rootfs for the plan's lookups: users, groups, a binary on PATH. */
int LLVMFuzzerInitialize(int *argc _unused_, char ***argv _unused_)
{
	char path[256];
	strcpy(rootfs, "/tmp/ember-fuzz-rootfs-XXXXXX");
	if (!mkdtemp(rootfs))
		abort();
	static const char *const dirs[] = {"etc", "bin", "home", "home/app"};
	for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
		snprintf(path, sizeof(path), "%s/%s", rootfs, dirs[i]);
		mkdir(path, 0755);
	}
	put("etc/passwd", "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
	    0644);
	put("etc/group", "root:x:0:\napp:x:1000:app\nextra:x:2000:app,root\n", 0644);
	put("bin/sh", "#!/bin/true\n", 0755);
	put("bin/noexec", "", 0644);
	snprintf(path, sizeof(path), "%s/bin/link", rootfs);
	(void)!symlink("/bin/sh", path);
	atexit(cleanup);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Grpc__Spec *spec = grpc__spec__unpack(NULL, size, data);
	if (!spec)
		return 0;
	char err[CT_ERR_MAX];

	struct ct_plan plan;
	ct_plan_init(&plan);
	struct ct_ns_config nsc = {.pidns_fd = -1, .ipc_fd = -1, .uts_fd = -1};
	(void)ct_plan_from_spec(&plan, spec, rootfs, &nsc, err, sizeof(err));
	ct_plan_done(&plan);

	struct hook_set hooks = {0};
	(void)hook_set_from_spec(&hooks, spec->hooks, err, sizeof(err));
	hook_set_free(&hooks);

	if (spec->linux_) {
		char path[CGROUP_PATH_MAX];
		(void)cgroup_path_from_spec(spec->linux_->cgroupspath, "fuzz", path, sizeof(path),
					    err, sizeof(err));
		struct cgroup_writes ws = {0};
		if (spec->linux_->resources &&
		    cgroup_plan_resources(spec->linux_->resources, &ws, err, sizeof(err)) == 0)
			cgroup_writes_free(&ws);
	}
	grpc__spec__free_unpacked(spec, NULL);
	return 0;
}
