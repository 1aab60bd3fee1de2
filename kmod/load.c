/* SPDX-License-Identifier: Apache-2.0 */
/* finit_module(2) loading of one module file and of a whole plan. */
#include "kmod/kmod.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>

/* include/uapi/linux/module.h; older userspace headers lack the compressed flag (5.17). */
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static bool is_compressed(const char *path)
{
	const char *ko = strstr(path, ".ko.");
	return ko && (streq(ko, ".ko.xz") || streq(ko, ".ko.zst") || streq(ko, ".ko.gz"));
}

static bool is_loaded(const char *name)
{
	/* The kernel creates initstate for every loadable module once it is in the module
	 * list; built-in modules with parameters have /sys/module/<name> but no initstate. */
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "/sys/module/%s/initstate", name);
	return access(p, F_OK) == 0;
}

int kmod_load_file(const char *path, const char *name, const char *params)
{
	if (name && is_loaded(name))
		return KMOD_ALREADY;

	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	unsigned flags = is_compressed(path) ? MODULE_INIT_COMPRESSED_FILE : 0;
	if (syscall(SYS_finit_module, fd, params ? params : "", flags) == 0)
		return 0;
	int r = -errno;
	if (r == -EEXIST)
		return KMOD_ALREADY;
	/* Kernels before 5.17 reject the unknown flag with EINVAL; later ones without
	 * CONFIG_MODULE_DECOMPRESS say EOPNOTSUPP. Both mean "decompress it beforehand". */
	if (flags && r == -EINVAL)
		return -EOPNOTSUPP;
	return r;
}

int kmod_plan_load(const struct kmod_plan *plan, kmod_params_fn params, kmod_report_fn report,
		   void *data)
{
	const char *moddir = kmod_db_moddir(plan->db);
	int failed = 0;

	for (size_t i = 0; i < plan->n; i++) {
		const char *name = kmod_db_name(plan->db, plan->order[i]);
		const char *rel = kmod_db_path(plan->db, plan->order[i]);
		char path[PATH_MAX];
		int r;

		if (rel[0] == '/')
			r = snprintf(path, sizeof(path), "%s", rel);
		else
			r = snprintf(path, sizeof(path), "%s/%s", moddir, rel);
		uint64_t t0 = now_monotonic_ns();
		if (r < 0 || (size_t)r >= sizeof(path))
			r = -ENAMETOOLONG;
		else
			r = kmod_load_file(path, name, params ? params(name, data) : NULL);
		if (r < 0)
			failed++;
		if (report)
			report(name, path, r, now_monotonic_ns() - t0, data);
	}
	return failed;
}

struct one_ctx {
	const char *name; /* normalised */
	const char *params;
	int first_error;
	int result; /* of the requested module itself */
};

static const char *one_params(const char *module, void *data)
{
	struct one_ctx *c = data;
	return streq(module, c->name) ? c->params : NULL;
}

static void one_report(const char *module, const char *path _unused_, int result,
		       uint64_t ns _unused_, void *data)
{
	struct one_ctx *c = data;
	if (result < 0 && c->first_error == 0)
		c->first_error = result;
	if (streq(module, c->name))
		c->result = result;
}

int kmod_load_with_deps(const struct kmod_db *db, const char *name, const char *params)
{
	struct kmod_plan plan;
	char norm[64];
	int r;

	r = kmod_name_normalize(name, norm, sizeof(norm));
	if (r < 0)
		return r;
	r = kmod_plan_init(&plan, db);
	if (r < 0)
		return r;
	r = kmod_plan_add(&plan, norm);
	if (r == 0) {
		struct one_ctx c = {.name = norm, .params = params};
		kmod_plan_load(&plan, one_params, one_report, &c);
		r = c.first_error < 0 ? c.first_error : c.result;
	}
	kmod_plan_done(&plan);
	return r;
}
