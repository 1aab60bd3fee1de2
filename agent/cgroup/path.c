/* SPDX-License-Identifier: Apache-2.0 */
/* Linux.CgroupsPath -> a path below the agent's base cgroup. */
#include "cgroup.h"

/* Appends one component, refusing the names that would leave the base or collide with
 * what the agent keeps there. */
static int append_component(char *ret, size_t retsz, size_t *len, const char *c, size_t n,
			    const char *orig, char *err, size_t errsz)
{
	if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
		return errbuf_printf(err, errsz, -EINVAL,
				     "cgroups path '%.200s': '%.*s' is not allowed", orig, (int)n,
				     c);
	if (n > 255)
		return errbuf_printf(err, errsz, -ENAMETOOLONG,
				     "cgroups path '%.200s': a component is longer than 255 bytes",
				     orig);
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)c[i] < 0x20 || c[i] == 0x7f)
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "cgroups path '%.200s': control character in a component", orig);
	if (*len == 0 && n == STRLEN(CGROUP_AGENT_LEAF) && !memcmp(c, CGROUP_AGENT_LEAF, n))
		return errbuf_printf(err, errsz, -EINVAL,
				     "cgroups path '%.200s': '" CGROUP_AGENT_LEAF
				     "' is the agent's own cgroup",
				     orig);
	size_t need = *len + (*len ? 1 : 0) + n;
	if (need >= retsz || need >= CGROUP_PATH_MAX)
		return errbuf_printf(err, errsz, -ENAMETOOLONG,
				     "cgroups path '%.200s...' is too long", orig);
	if (*len)
		ret[(*len)++] = '/';
	memcpy(ret + *len, c, n);
	*len += n;
	ret[*len] = '\0';
	return 0;
}

int cgroup_path_from_spec(const char *cgroups_path, const char *cid, char *ret, size_t retsz,
			  char *err, size_t errsz)
{
	const char *p = cgroups_path && *cgroups_path ? cgroups_path : cid;
	size_t len = 0;
	int r, depth = 0;

	if (!p || !*p)
		return errbuf_printf(err, errsz, -EINVAL, "empty cgroups path and container id");
	if (retsz == 0)
		return -EINVAL;
	ret[0] = '\0';

	/* The systemd form "slice:prefix:name" (no slash anywhere) is converted the way
	 * Kata's agent does for cgroupfs: a/b/c. */
	bool systemd = !strchr(p, '/') && strchr(p, ':');
	char sep = systemd ? ':' : '/';

	const char *s = p;
	while (*s) {
		while (*s == sep)
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && *e != sep)
			e++;
		if (++depth > CGROUP_MAX_DEPTH)
			return errbuf_printf(err, errsz, -ENAMETOOLONG,
					     "cgroups path '%.200s': more than %d components", p,
					     CGROUP_MAX_DEPTH);
		r = append_component(ret, retsz, &len, s, (size_t)(e - s), p, err, errsz);
		if (r < 0)
			return r;
		s = e;
	}
	if (len == 0)
		return errbuf_printf(err, errsz, -EINVAL,
				     "cgroups path '%.200s' names the root cgroup", p);
	return 0;
}
