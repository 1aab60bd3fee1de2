/* SPDX-License-Identifier: Apache-2.0 */
/* The container's own /etc/passwd and /etc/group, parsed in the parent: NSS would load
 * the agent's modules and read the agent's files, never the container's. */
#include "container.h"

/* Splits a colon-separated line into at most max fields (in place). */
static size_t split_fields(char *line, char **f, size_t max)
{
	size_t n = 0;
	f[n++] = line;
	for (char *p = line; *p && n < max; p++)
		if (*p == ':') {
			*p = '\0';
			f[n++] = p + 1;
		}
	return n;
}

/* Calls fn for each non-comment line (a private copy, split into fields). */
static int foreach_entry(const char *text, size_t nfields,
			 int (*fn)(char **f, size_t n, void *data), void *data)
{
	_cleanup_free_ char *copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (char *line = copy; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *f[8];
		if (*line && *line != '#') {
			size_t n = split_fields(line, f, MIN(nfields, ARRAY_SIZE(f)));
			int r = fn(f, n, data);
			if (r != 0)
				return r;
		}
		line = nl ? nl + 1 : NULL;
	}
	return 0;
}

struct pw_query {
	const char *name;
	uid_t uid;
	struct ct_passwd *ret;
};

static int pw_match(char **f, size_t n, void *data)
{
	struct pw_query *q = data;
	uint32_t uid, gid;
	if (n < 7 || parse_u32(f[2], &uid) < 0 || parse_u32(f[3], &gid) < 0)
		return 0; /* malformed lines are skipped, as glibc's files module does */
	if (q->name ? !streq(f[0], q->name) : uid != q->uid)
		return 0;
	q->ret->uid = uid;
	q->ret->gid = gid;
	snprintf(q->ret->home, sizeof(q->ret->home), "%s", f[5]);
	return 1;
}

int ct_passwd_lookup(const char *text, const char *name, uid_t uid, struct ct_passwd *ret)
{
	struct pw_query q = {name, uid, ret};
	int r = foreach_entry(text, 7, pw_match, &q);
	return r < 0 ? r : r == 1 ? 0 : -ENOENT;
}

struct gr_query {
	const char *user;
	const char *name;
	gid_t *gids;
	size_t max, n;
	gid_t gid;
	bool found;
};

static int gr_match(char **f, size_t n, void *data)
{
	struct gr_query *q = data;
	uint32_t gid;
	if (n < 4 || parse_u32(f[2], &gid) < 0)
		return 0;
	if (q->name) {
		if (streq(f[0], q->name)) {
			q->gid = gid;
			q->found = true;
			return 1;
		}
		return 0;
	}
	/* members: comma separated */
	for (char *m = f[3]; m && *m;) {
		char *c = strchr(m, ',');
		size_t l = c ? (size_t)(c - m) : strlen(m);
		if (l == strlen(q->user) && strncmp(m, q->user, l) == 0) {
			if (q->n >= q->max)
				return -E2BIG;
			q->gids[q->n++] = gid;
			break;
		}
		m = c ? c + 1 : NULL;
	}
	return 0;
}

int ct_group_members(const char *text, const char *user, gid_t *gids, size_t max, size_t *n)
{
	struct gr_query q = {.user = user, .gids = gids, .max = max};
	int r = foreach_entry(text, 4, gr_match, &q);
	*n = q.n;
	return r < 0 ? r : 0;
}

int ct_group_lookup(const char *text, const char *name, gid_t *gid_ret)
{
	struct gr_query q = {.name = name};
	int r = foreach_entry(text, 4, gr_match, &q);
	if (r < 0)
		return r;
	if (!q.found)
		return -ENOENT;
	*gid_ret = q.gid;
	return 0;
}
