/* SPDX-License-Identifier: Apache-2.0 */
/* Boot modules: /etc/ember/modules and ember.modules, loaded through kmod/. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"
#include "kmod/kmod.h"

#include <ctype.h>
#include <limits.h>
#include <sys/utsname.h>

int modules_file_foreach(char *text, int (*fn)(const char *name, const char *params, void *data),
			 void *data)
{
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = line;
		while (isspace((unsigned char)*s))
			s++;
		char *e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		if (e > s) {
			char *params = NULL;
			if (*e) {
				*e = '\0';
				params = e + 1;
				while (isspace((unsigned char)*params))
					params++;
				size_t len = strlen(params);
				while (len > 0 && isspace((unsigned char)params[len - 1]))
					params[--len] = '\0';
				if (len == 0)
					params = NULL;
			}
			int r = fn(s, params, data);
			if (r < 0)
				return r;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

struct wanted {
	const char *name;
	const char *params; /* from /etc/ember/modules */
};

struct load_ctx {
	const struct init_config *cfg;
	struct wanted *wanted;
	size_t n_wanted;
	char *params; /* the last string handed to kmod */
	unsigned loaded, already, failed;
};

static int want_add(const char *name, const char *params, void *data)
{
	struct load_ctx *c = data;
	struct wanted *w = realloc(c->wanted, (c->n_wanted + 1) * sizeof(*w));
	if (!w)
		return -ENOMEM;
	c->wanted = w;
	w[c->n_wanted++] = (struct wanted){name, params};
	return 0;
}

/* The parameters of a module: its /etc/ember/modules line first, then ember.modopt (the
 * kernel applies them in order, so the command line wins). */
static const char *params_for(const char *module, void *data)
{
	struct load_ctx *c = data;
	_cleanup_free_ char *opts = NULL;
	const char *file = NULL;
	char norm[64];

	free(c->params);
	c->params = NULL;
	for (size_t i = 0; i < c->n_wanted; i++)
		if (c->wanted[i].params &&
		    kmod_name_normalize(c->wanted[i].name, norm, sizeof(norm)) >= 0 &&
		    streq(norm, module))
			file = c->wanted[i].params;
	if (init_config_modparams(c->cfg, module, &opts) < 0)
		return file;
	if (!file && !opts)
		return NULL;
	if (asprintf(&c->params, "%s%s%s", file ? file : "", file && opts ? " " : "",
		     opts ? opts : "") < 0)
		c->params = NULL;
	return c->params;
}

static void report(const char *module, const char *path, int result, uint64_t ns, void *data)
{
	struct load_ctx *c = data;
	if (result == KMOD_ALREADY) {
		c->already++;
		log_debug("module %s was already loaded", module);
	} else if (result >= 0) {
		c->loaded++;
		log_debug("loaded module %s in %llu us", module,
			  (unsigned long long)(ns / NSEC_PER_USEC));
	} else {
		c->failed++;
		if (result == -EOPNOTSUPP)
			log_warn(
			    "cannot load module %s: the kernel cannot decompress %s; build the "
			    "image with decompressed modules",
			    module, path);
		else
			log_warn_errno(result, "cannot load module %s (%s): %m", module, path);
	}
}

int boot_modules_load(const struct init_config *cfg)
{
	_cleanup_free_ char *file = NULL;
	_cleanup_(kmod_db_freep) struct kmod_db *db = NULL;
	struct load_ctx c = {.cfg = cfg};
	struct kmod_plan plan = {0};
	char path[PATH_MAX];
	struct utsname u;
	int r;

	uint64_t t0 = now_monotonic_ns();
	snprintf(path, sizeof(path), "%s%s", cfg->root, INIT_MODULES_FILE);
	r = read_file(path, 1 << 20, &file, NULL);
	if (r < 0 && r != -ENOENT)
		log_warn_errno(r, "cannot read %s: %m", path);
	if (file && modules_file_foreach(file, want_add, &c) < 0)
		goto oom;
	for (size_t i = 0; i < cfg->n_modules; i++)
		if (want_add(cfg->modules[i], NULL, &c) < 0)
			goto oom;
	if (c.n_wanted == 0) {
		free(c.wanted);
		return 0;
	}

	uname(&u);
	snprintf(path, sizeof(path), "%s/lib/modules/%s", cfg->root, u.release);
	r = kmod_db_open(path, &db);
	if (r < 0) {
		log_warn_errno(r, "cannot read the module index of %s, loading no modules: %m",
			       path);
		free(c.wanted);
		return (int)c.n_wanted;
	}
	if (kmod_plan_init(&plan, db) < 0)
		goto oom;
	unsigned missing = 0;
	for (size_t i = 0; i < c.n_wanted; i++) {
		r = kmod_plan_add(&plan, c.wanted[i].name);
		if (r == KMOD_BUILTIN)
			log_debug("module %s is built into the kernel", c.wanted[i].name);
		else if (r == -ENOENT)
			log_warn("module %s (or one of its dependencies) is not in %s/modules.dep",
				 c.wanted[i].name, path);
		else if (r == -ELOOP)
			log_warn("module %s has a dependency cycle in %s/modules.dep",
				 c.wanted[i].name, path);
		if (r < 0)
			missing++;
	}
	kmod_plan_load(&plan, params_for, report, &c);
	log_info("modules: %u loaded, %u already present, %u failed, %u not found, in %llu ms",
		 c.loaded, c.already, c.failed, missing,
		 (unsigned long long)((now_monotonic_ns() - t0) / NSEC_PER_MSEC));
	kmod_plan_done(&plan);
	free(c.params);
	free(c.wanted);
	return (int)(c.failed + missing);
oom:
	kmod_plan_done(&plan);
	free(c.params);
	free(c.wanted);
	return log_warn_errno(-ENOMEM, "cannot load modules: %m");
}
