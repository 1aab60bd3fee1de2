/* SPDX-License-Identifier: Apache-2.0 */
#include "mount.h"

#include <libmount.h>
#include <sys/mount.h>

#define PROPAGATION_FLAGS (MS_SHARED | MS_SLAVE | MS_PRIVATE | MS_UNBINDABLE)

void mount_opts_done(struct mount_opts *o)
{
	free(o->data);
	o->data = NULL;
}

static int join_options(char *const *opts, size_t n, char **ret)
{
	size_t len = 1;
	for (size_t i = 0; i < n; i++)
		len += strlen(opts[i]) + 1;
	char *s = malloc(len), *p = s;
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!*opts[i])
			continue;
		if (p != s)
			*p++ = ',';
		p = stpcpy(p, opts[i]);
	}
	*p = '\0';
	*ret = s;
	return 0;
}

/* Kata refuses the `loop` option (it would make mount(8) set up a loop device on a file
 * the host named); we never run mount(8), but say so instead of passing it on. */
static int find_refused(const char *optstr, char **ret_bad)
{
	_cleanup_free_ char *copy = strdup(optstr);
	if (!copy)
		return -ENOMEM;
	char *p = copy, *name, *value;
	size_t namesz, valuesz;
	while (mnt_optstr_next_option(&p, &name, &namesz, &value, &valuesz) == 0) {
		if (namesz == 4 && strncmp(name, "loop", 4) == 0) {
			*ret_bad = strdup("loop");
			return *ret_bad ? -EINVAL : -ENOMEM;
		}
	}
	return 0;
}

int mount_opts_parse(char *const *opts, size_t n, unsigned long initial_flags,
		     struct mount_opts *ret, char **ret_bad)
{
	_cleanup_free_ char *optstr = NULL;
	*ret = (struct mount_opts){.flags = initial_flags};
	if (ret_bad)
		*ret_bad = NULL;

	int r = join_options(opts, n, &optstr);
	if (r < 0)
		return r;
	if (!*optstr)
		return 0;
	char *bad = NULL;
	r = find_refused(optstr, &bad);
	if (r < 0) {
		if (ret_bad)
			*ret_bad = bad;
		else
			free(bad);
		return r;
	}

	unsigned long flags = initial_flags;
	/* libmount returns -errno or, for a malformed string, a positive parser error. */
	r = mnt_optstr_get_flags(optstr, &flags, mnt_get_builtin_optmap(MNT_LINUX_MAP));
	if (r != 0)
		return r < 0 ? r : -EINVAL;
	char *user = NULL, *vfs = NULL, *fs = NULL;
	r = mnt_split_optstr(optstr, &user, &vfs, &fs, 0, 0);
	free(user);
	free(vfs);
	if (r != 0) {
		free(fs);
		return r < 0 ? r : -EINVAL;
	}

	/* Propagation cannot be combined with a mount: mount(2) wants it in a second call.
	 * MS_REC stays with MS_BIND (rbind) and also applies to the propagation (rslave). */
	unsigned long prop = flags & PROPAGATION_FLAGS;
	if (prop) {
		prop |= flags & MS_REC;
		flags &= ~PROPAGATION_FLAGS;
		if (!(flags & MS_BIND))
			flags &= ~MS_REC;
	}
	ret->flags = flags;
	ret->propagation = prop;
	ret->data = fs && *fs ? fs : NULL;
	if (ret->data != fs)
		free(fs);
	return 0;
}
