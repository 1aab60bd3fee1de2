/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kmod: load kernel modules the way modprobe would, without libkmod.
 *
 * Used by ember-init (boot modules), by the agent (CreateSandbox.kernel_modules) and by the
 * image builder's resolver (tools that copy a module closure into an initrd).
 *
 * Contract:
 *  - A kmod_db is the parsed modules.dep (+ modules.builtin) of one kernel, i.e. of one
 *    /lib/modules/<release> directory. Module names are normalised the kernel's way:
 *    '-' and '_' are the same character ("virtio-blk" == "virtio_blk").
 *  - Resolution follows each module's own modules.dep line recursively (depth first), so the
 *    plan is in load order: every module comes after all of its dependencies, each module
 *    once, whatever order depmod wrote the dependency list in. A dependency cycle is -ELOOP.
 *  - Loading uses finit_module(2). A module that is already loaded (EEXIST, or
 *    /sys/module/<name>/initstate present) counts as success. Compressed modules (.ko.xz,
 *    .ko.zst, .ko.gz) are handed to the kernel with MODULE_INIT_COMPRESSED_FILE (Linux >= 5.17
 *    with CONFIG_MODULE_DECOMPRESS); there is no userspace decompressor, so without that
 *    kernel support the image builder must store them decompressed (rootfs-builder does).
 *  - Nothing here logs: results go back to the caller, per module through a callback.
 *  - All fds are O_CLOEXEC; nothing keeps an fd open between calls.
 */
#pragma once

#include "common/common.h"

struct kmod_db;

/* Parses /lib/modules/<release>/modules.dep (and modules.builtin when present) of moddir. */
int kmod_db_open(const char *moddir, struct kmod_db **ret);
/* Parses modules.dep text (taking ownership of the malloc'ed, NUL terminated buffer, also on
 * failure) and an optional modules.builtin text (copied). moddir is where relative module paths
 * live. For tests and for callers that already hold the files. */
int kmod_db_parse(const char *moddir, char *dep_text, const char *builtin_text,
		  struct kmod_db **ret);
void kmod_db_free(struct kmod_db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct kmod_db *, kmod_db_free)

size_t kmod_db_count(const struct kmod_db *db);
const char *kmod_db_moddir(const struct kmod_db *db);
/* Index of the module named name (any '-'/'_' spelling), or -ENOENT. */
int kmod_db_find(const struct kmod_db *db, const char *name);
bool kmod_db_is_builtin(const struct kmod_db *db, const char *name);
/* The module's normalised name and its path as written in modules.dep (relative to moddir
 * unless it starts with '/'). */
const char *kmod_db_name(const struct kmod_db *db, size_t index);
const char *kmod_db_path(const struct kmod_db *db, size_t index);

/* Normalises a module name into buf (size >= 64): '-' -> '_', and a path or file name is
 * reduced to the module name ("kernel/fs/9p/9p.ko.xz" -> "9p"). -ENAMETOOLONG/-EINVAL. */
int kmod_name_normalize(const char *in, char *buf, size_t size);

/* An ordered, duplicate-free list of modules to load. */
struct kmod_plan {
	const struct kmod_db *db;
	uint32_t *order; /* indexes into db, in load order */
	size_t n;
	uint8_t *state; /* per db entry: resolution state */
};

int kmod_plan_init(struct kmod_plan *plan, const struct kmod_db *db);
void kmod_plan_done(struct kmod_plan *plan);

#define KMOD_BUILTIN 1
/* Appends name and its dependency closure (dependencies first) to the plan; modules already
 * in the plan are not added again. Returns 0, KMOD_BUILTIN when the module is built into the
 * kernel (nothing to load), -ENOENT when the kernel knows no such module (or a dependency
 * is missing from modules.dep), -ELOOP on a dependency cycle. On failure the plan is left as
 * it was. */
int kmod_plan_add(struct kmod_plan *plan, const char *name);

/* Parameters for a module ("key=val key2=val2"), or NULL. */
typedef const char *(*kmod_params_fn)(const char *module, void *data);
/* Called once per module of a plan after the attempt: result 0 = loaded, KMOD_ALREADY =
 * was loaded already, -errno = failed. ns is the time the attempt took. */
#define KMOD_ALREADY 2
typedef void (*kmod_report_fn)(const char *module, const char *path, int result, uint64_t ns,
			       void *data);

/* Loads one module file. Returns 0, KMOD_ALREADY, or -errno (-ENOENT when the file is
 * missing, -EOPNOTSUPP when it is compressed and the kernel cannot decompress it). */
int kmod_load_file(const char *path, const char *name, const char *params);

/* Loads every module of the plan in order (a failure does not stop the others: a dependant
 * whose dependency failed then fails on its own). Returns the number of failures. */
int kmod_plan_load(const struct kmod_plan *plan, kmod_params_fn params, kmod_report_fn report,
		   void *data);

/* One module with its dependencies, for CreateSandbox.kernel_modules (name + parameters):
 * the parameters apply to name only. Returns 0 or KMOD_ALREADY for name itself, KMOD_BUILTIN,
 * -ENOENT (unknown module), -ELOOP, or the error of the first module that failed to load. */
int kmod_load_with_deps(const struct kmod_db *db, const char *name, const char *params);
