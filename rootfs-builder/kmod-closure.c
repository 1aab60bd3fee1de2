/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ember-kmod-closure: which module files an image needs, resolved with the same code
 * (kmod/) that ember-init loads them with.
 *
 *   ember-kmod-closure MODDIR NAME...
 *
 * MODDIR is a /lib/modules/<release> directory. Prints, in load order:
 *   dep PATH     every module file of the closure (path as written in modules.dep)
 *   want NAME    each requested module that resolved to a file (for /etc/ember/modules)
 * A built-in module is noted on stderr; a module the kernel does not know is a warning on
 * stderr (exit status 0: an image without one optional driver still boots), and a
 * dependency cycle fails with status 1.
 */
#include "kmod/kmod.h"

int main(int argc, char **argv)
{
	_cleanup_(kmod_db_freep) struct kmod_db *db = NULL;
	struct kmod_plan plan;
	int r, status = EXIT_SUCCESS;

	if (argc < 2) {
		fprintf(stderr, "usage: %s MODDIR NAME...\n", argv[0]);
		return 2;
	}
	r = kmod_db_open(argv[1], &db);
	if (r < 0) {
		fprintf(stderr, "%s: cannot read %s/modules.dep: %s\n", argv[0], argv[1],
			strerror(-r));
		return EXIT_FAILURE;
	}
	if (kmod_plan_init(&plan, db) < 0)
		return EXIT_FAILURE;

	/* "want" lines are printed after all "dep" lines: collect them first. */
	const char **want = calloc((size_t)argc, sizeof(*want));
	size_t n_want = 0;
	if (!want)
		return EXIT_FAILURE;
	for (int i = 2; i < argc; i++) {
		r = kmod_plan_add(&plan, argv[i]);
		if (r == KMOD_BUILTIN) {
			fprintf(stderr, "%s: %s is built into the kernel\n", argv[0], argv[i]);
		} else if (r == -ENOENT) {
			fprintf(stderr,
				"%s: warning: module %s (or a dependency) not in modules.dep\n",
				argv[0], argv[i]);
		} else if (r < 0) {
			fprintf(stderr, "%s: module %s: %s\n", argv[0], argv[i], strerror(-r));
			status = EXIT_FAILURE;
		} else {
			want[n_want++] = argv[i];
		}
	}
	for (size_t i = 0; i < plan.n; i++)
		printf("dep %s\n", kmod_db_path(db, plan.order[i]));
	for (size_t i = 0; i < n_want; i++) {
		char name[64];
		if (kmod_name_normalize(want[i], name, sizeof(name)) >= 0)
			printf("want %s\n", name);
	}
	free(want);
	kmod_plan_done(&plan);
	if (fflush(stdout) != 0)
		return EXIT_FAILURE;
	return status;
}
