/* SPDX-License-Identifier: Apache-2.0 */
/* OCI spec (Kata's protobuf mirror) -> plan. Runs in the agent; everything that needs
 * libraries, allocation or the container's files happens here, never in the child. */
#include "container.h"

#include <fcntl.h>
#include <libmount/libmount.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define MAX_MOUNTS  512
#define MAX_DEVICES 256
#define MAX_GROUPS  64
#define MAX_ARGS    4096
#define PASSWD_MAX  (4u << 20)

/* "/a/b", no "..": the destinations and paths a spec may name. */
static bool path_is_clean_absolute(const char *p)
{
	if (!p || p[0] != '/')
		return false;
	for (const char *c = p; *c;) {
		while (*c == '/')
			c++;
		const char *e = strchrnul(c, '/');
		if (e - c == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c = e;
	}
	return true;
}

/* ---- mount options ---- */

static const struct {
	const char *name;
	unsigned long flags;
} propagation_words[] = {
    {"shared", MS_SHARED},	   {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},	   {"rslave", MS_SLAVE | MS_REC},
    {"private", MS_PRIVATE},	   {"rprivate", MS_PRIVATE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

static int propagation_from_word(const char *w, unsigned long *ret)
{
	for (size_t i = 0; i < ARRAY_SIZE(propagation_words); i++)
		if (streq(w, propagation_words[i].name)) {
			*ret = propagation_words[i].flags;
			return 0;
		}
	return -EINVAL;
}

int ct_mount_parse_options(struct ct_arena *a, char **options, size_t n, struct ct_mount *m)
{
	_cleanup_free_ char *optstr = NULL;
	size_t len = 0;

	/* bind/rbind and the propagation words are taken out first: libmount would fold
	 * rbind's MS_REC into rslave's and we could not tell them apart. */
	for (size_t i = 0; i < n; i++) {
		const char *w = options[i];
		unsigned long prop;
		if (!w || !*w)
			continue;
		if (streq(w, "bind")) {
			m->bind = true;
			continue;
		}
		if (streq(w, "rbind")) {
			m->bind = m->recursive = true;
			continue;
		}
		if (propagation_from_word(w, &prop) == 0) {
			m->propagation = prop;
			continue;
		}
		size_t wl = strlen(w);
		char *s = realloc(optstr, len + wl + 2);
		if (!s)
			return -ENOMEM;
		optstr = s;
		if (len)
			optstr[len++] = ',';
		memcpy(optstr + len, w, wl + 1);
		len += wl;
	}
	m->flags = 0;
	m->data = NULL;
	if (!optstr)
		return 0;

	unsigned long flags = 0;
	int r = mnt_optstr_get_flags(optstr, &flags, mnt_get_builtin_optmap(MNT_LINUX_MAP));
	if (r < 0)
		return -EINVAL;
	char *fs = NULL;
	r = mnt_split_optstr(optstr, NULL, NULL, &fs, 1, 1);
	if (r < 0)
		return -EINVAL;
	if (fs && *fs) {
		m->data = ct_arena_strdup(a, fs);
		free(fs);
		if (!m->data)
			return -ENOMEM;
	} else {
		free(fs);
	}
	/* remount/move/bind bits make no sense in a spec: they are ours to decide. */
	m->flags = flags & ~(unsigned long)(MS_REMOUNT | MS_MOVE | MS_BIND | MS_REC);
	if (m->flags & MS_RDONLY)
		m->attr_set |= MOUNT_ATTR_RDONLY;
	if (m->flags & MS_NOSUID)
		m->attr_set |= MOUNT_ATTR_NOSUID;
	if (m->flags & MS_NODEV)
		m->attr_set |= MOUNT_ATTR_NODEV;
	if (m->flags & MS_NOEXEC)
		m->attr_set |= MOUNT_ATTR_NOEXEC;
	if (m->flags & MS_NODIRATIME)
		m->attr_set |= MOUNT_ATTR_NODIRATIME;
	return 0;
}

/* ---- rlimits ---- */

static const struct {
	const char *name;
	int resource;
} rlimit_names[] = {
    {"RLIMIT_CPU", RLIMIT_CPU},		  {"RLIMIT_FSIZE", RLIMIT_FSIZE},
    {"RLIMIT_DATA", RLIMIT_DATA},	  {"RLIMIT_STACK", RLIMIT_STACK},
    {"RLIMIT_CORE", RLIMIT_CORE},	  {"RLIMIT_RSS", RLIMIT_RSS},
    {"RLIMIT_NPROC", RLIMIT_NPROC},	  {"RLIMIT_NOFILE", RLIMIT_NOFILE},
    {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},	  {"RLIMIT_AS", RLIMIT_AS},
    {"RLIMIT_LOCKS", RLIMIT_LOCKS},	  {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
    {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE}, {"RLIMIT_NICE", RLIMIT_NICE},
    {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},	  {"RLIMIT_RTTIME", RLIMIT_RTTIME},
};

static int rlimit_from_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
		if (streq(name, rlimit_names[i].name))
			return rlimit_names[i].resource;
	return -EINVAL;
}

/* ---- the process ---- */

static const char *env_get(char **envp, size_t n, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; i < n; i++)
		if (strncmp(envp[i], key, kl) == 0 && envp[i][kl] == '=')
			return envp[i] + kl + 1;
	return NULL;
}

int ct_plan_process(struct ct_plan *p, const Grpc__Process *proc, int root_fd, char *err,
		    size_t errsz)
{
	struct ct_arena *a = &p->arena;
	int r;

	if (!proc)
		return errbuf_printf(err, errsz, -EINVAL, "the spec has no Process");
	if (proc->n_args == 0 || !proc->args[0] || !*proc->args[0])
		return errbuf_printf(err, errsz, -EINVAL, "Process.Args is empty: nothing to run");
	if (proc->n_args > MAX_ARGS)
		return errbuf_printf(err, errsz, -EINVAL, "Process.Args has %zu entries (limit %d)",
				     proc->n_args, MAX_ARGS);

	p->argv = ct_arena_alloc(a, (proc->n_args + 1) * sizeof(char *));
	p->envp = ct_arena_alloc(a, (proc->n_env + 2) * sizeof(char *));
	if (!p->argv || !p->envp)
		return -ENOMEM;
	for (size_t i = 0; i < proc->n_args; i++)
		if (!(p->argv[i] = ct_arena_strdup(a, proc->args[i])))
			return -ENOMEM;
	size_t ne = 0;
	for (size_t i = 0; i < proc->n_env; i++)
		if (proc->env[i] && strchr(proc->env[i], '=') && proc->env[i][0] != '=')
			if (!(p->envp[ne++] = ct_arena_strdup(
				  a, proc->env[i]))) /* Kata drops entries without '=' */
				return -ENOMEM;

	/* The user: numeric ids, or Username from the container's own passwd/group. */
	const Grpc__User *u = proc->user;
	p->uid = u ? u->uid : 0;
	p->gid = u ? u->gid : 0;
	_cleanup_free_ char *passwd = NULL, *group = NULL;
	struct ct_passwd pw = {0};
	bool have_pw = false;
	(void)ct_read_in_root(root_fd, "/etc/passwd", PASSWD_MAX, &passwd);
	(void)ct_read_in_root(root_fd, "/etc/group", PASSWD_MAX, &group);
	if (u && u->username && *u->username) {
		char name[256];
		snprintf(name, sizeof(name), "%s", u->username);
		char *colon = strchr(name, ':'); /* "user:group" as docker accepts it */
		if (colon)
			*colon++ = '\0';
		if (!passwd || ct_passwd_lookup(passwd, name, 0, &pw) < 0)
			return errbuf_printf(err, errsz, -EINVAL,
					     "user '%s' not found in the container's /etc/passwd",
					     name);
		have_pw = true;
		p->uid = pw.uid;
		p->gid = pw.gid;
		if (colon && *colon) {
			gid_t g;
			if (!group || ct_group_lookup(group, colon, &g) < 0)
				return errbuf_printf(
				    err, errsz, -EINVAL,
				    "group '%s' not found in the container's /etc/group", colon);
			p->gid = g;
		}
	} else if (passwd && ct_passwd_lookup(passwd, NULL, p->uid, &pw) == 0) {
		have_pw = true;
	}

	gid_t groups[MAX_GROUPS];
	size_t ng = 0;
	if (u) {
		if (u->n_additionalgids > MAX_GROUPS)
			return errbuf_printf(err, errsz, -EINVAL, "%zu additional gids (limit %d)",
					     u->n_additionalgids, MAX_GROUPS);
		for (size_t i = 0; i < u->n_additionalgids; i++)
			groups[ng++] = u->additionalgids[i];
	}
	if (have_pw && group && u && u->username && *u->username) {
		/* Like runc: a named user also gets the groups that list it as a member. */
		char name[256];
		snprintf(name, sizeof(name), "%s", u->username);
		char *colon = strchr(name, ':');
		if (colon)
			*colon = '\0';
		gid_t extra[MAX_GROUPS];
		size_t nx = 0;
		(void)ct_group_members(group, name, extra, MAX_GROUPS, &nx);
		for (size_t i = 0; i < nx && ng < MAX_GROUPS; i++) {
			bool dup = false;
			for (size_t k = 0; k < ng; k++)
				dup |= groups[k] == extra[i];
			if (!dup)
				groups[ng++] = extra[i];
		}
	}
	p->groups = ct_arena_alloc(a, (ng + 1) * sizeof(gid_t));
	if (!p->groups)
		return -ENOMEM;
	memcpy(p->groups, groups, ng * sizeof(gid_t));
	p->n_groups = ng;

	if (!env_get(p->envp, ne, "HOME")) {
		p->envp[ne] = ct_arena_printf(a, "HOME=%s", have_pw && *pw.home ? pw.home : "/");
		if (!p->envp[ne++])
			return -ENOMEM;
	}
	p->envp[ne] = NULL;

	const char *cwd = proc->cwd && *proc->cwd ? proc->cwd : "/";
	if (cwd[0] != '/')
		return errbuf_printf(err, errsz, -EINVAL,
				     "Process.Cwd '%s' is not an absolute path", cwd);
	p->cwd = ct_arena_strdup(a, cwd);
	if (!p->cwd)
		return -ENOMEM;

	r = ct_find_executable(a, root_fd, proc->args[0], env_get(p->envp, ne, "PATH"), &p->exe);
	if (r == -ENOENT)
		return snprintf(err, errsz, "executable '%s' not found in the container (PATH %s)",
				proc->args[0], env_get(p->envp, ne, "PATH") ?: "default"),
		       -ENOENT;
	if (r < 0) {
		snprintf(err, errsz, "executable '%s': %s", proc->args[0], strerror(-r));
		return r;
	}

	if (proc->n_rlimits > 32)
		return errbuf_printf(err, errsz, -EINVAL, "%zu rlimits", proc->n_rlimits);
	p->rlimits = ct_arena_alloc(a, (proc->n_rlimits + 1) * sizeof(*p->rlimits));
	if (!p->rlimits)
		return -ENOMEM;
	for (size_t i = 0; i < proc->n_rlimits; i++) {
		const Grpc__POSIXRlimit *rl = proc->rlimits[i];
		int res = rlimit_from_name(rl->type ? rl->type : "");
		if (res < 0)
			return errbuf_printf(err, errsz, -EINVAL, "unknown rlimit '%s'",
					     rl->type ? rl->type : "");
		if (rl->soft > rl->hard)
			return errbuf_printf(
			    err, errsz, -EINVAL, "rlimit %s: soft %llu above hard %llu", rl->type,
			    (unsigned long long)rl->soft, (unsigned long long)rl->hard);
		p->rlimits[p->n_rlimits++] =
		    (struct ct_rlimit){res, {.rlim_cur = rl->soft, .rlim_max = rl->hard}};
	}

	p->tty = proc->terminal;
	p->no_new_privs = proc->nonewprivileges;
	if (proc->oomscoreadj < -1000 || proc->oomscoreadj > 1000)
		return errbuf_printf(err, errsz, -EINVAL, "OOMScoreAdj %lld out of [-1000, 1000]",
				     (long long)proc->oomscoreadj);
	/* proto3 cannot tell 0 from unset; writing 0 keeps containers from inheriting the
	 * agent's own (protective) score. */
	p->oom_score_adj_set = true;
	p->oom_score_adj = (int)proc->oomscoreadj;
	return 0;
}

/* ---- the container ---- */

static const struct {
	const char *name;
	enum ct_ns ns;
} ns_types[] = {
    {"pid", CT_NS_PID}, {"network", CT_NS_NET}, {"mount", CT_NS_MNT},	  {"ipc", CT_NS_IPC},
    {"uts", CT_NS_UTS}, {"user", CT_NS_USER},	{"cgroup", CT_NS_CGROUP},
};

static char *id_map_text(struct ct_arena *a, Grpc__LinuxIDMapping **m, size_t n)
{
	size_t cap = n * 40 + 1;
	char *s = ct_arena_alloc(a, cap);
	if (!s)
		return NULL;
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(s + len, cap - len, "%u %u %u\n", m[i]->containerid,
					m[i]->hostid, m[i]->size);
	return s;
}

static const struct ct_device default_devices[] = {
    {"/dev/null", S_IFCHR | 0666, 0, 0, 0},   {"/dev/zero", S_IFCHR | 0666, 0, 0, 0},
    {"/dev/full", S_IFCHR | 0666, 0, 0, 0},   {"/dev/tty", S_IFCHR | 0666, 0, 0, 0},
    {"/dev/random", S_IFCHR | 0666, 0, 0, 0}, {"/dev/urandom", S_IFCHR | 0666, 0, 0, 0},
};
static const unsigned default_devnums[][2] = {{1, 3}, {1, 5}, {1, 7}, {5, 0}, {1, 8}, {1, 9}};

static int plan_devices(struct ct_plan *p, const Grpc__Linux *lx, char *err, size_t errsz)
{
	size_t extra = lx ? lx->n_devices : 0;
	if (extra > MAX_DEVICES)
		return errbuf_printf(err, errsz, -EINVAL, "%zu devices (limit %d)", extra,
				     MAX_DEVICES);
	p->devices =
	    ct_arena_alloc(&p->arena, (ARRAY_SIZE(default_devices) + extra) * sizeof(*p->devices));
	if (!p->devices)
		return -ENOMEM;
	for (size_t i = 0; i < ARRAY_SIZE(default_devices); i++) {
		p->devices[p->n_devices] = default_devices[i];
		p->devices[p->n_devices++].dev =
		    makedev(default_devnums[i][0], default_devnums[i][1]);
	}
	for (size_t i = 0; i < extra; i++) {
		const Grpc__LinuxDevice *d = lx->devices[i];
		const char *path = d->path ? d->path : "";
		if (!startswith(path, "/dev/") || !path_is_clean_absolute(path))
			return errbuf_printf(err, errsz, -EINVAL,
					     "device path '%s' is not below /dev", path);
		mode_t type;
		const char *t = d->type ? d->type : "";
		if (streq(t, "c") || streq(t, "u"))
			type = S_IFCHR;
		else if (streq(t, "b"))
			type = S_IFBLK;
		else if (streq(t, "p"))
			type = S_IFIFO;
		else
			return errbuf_printf(err, errsz, -EINVAL, "device '%s': unknown type '%s'",
					     path, t);
		if (d->major < 0 || d->minor < 0 || d->major > 0xfff || d->minor > 0xfffff)
			return errbuf_printf(err, errsz, -EINVAL,
					     "device '%s': bad number %lld:%lld", path,
					     (long long)d->major, (long long)d->minor);
		struct ct_device *cd = NULL;
		for (size_t k = 0; k < p->n_devices; k++) /* a spec entry overrides a default */
			if (streq(p->devices[k].path, path))
				cd = &p->devices[k];
		if (!cd)
			cd = &p->devices[p->n_devices++];
		cd->path = ct_arena_strdup(&p->arena, path);
		if (!cd->path)
			return -ENOMEM;
		cd->mode = type | (d->filemode ? (d->filemode & 07777) : 0666);
		cd->dev = makedev((unsigned)d->major, (unsigned)d->minor);
		cd->uid = d->uid;
		cd->gid = d->gid;
	}
	return 0;
}

static int plan_mounts(struct ct_plan *p, const Grpc__Spec *spec, char *err, size_t errsz)
{
	struct ct_arena *a = &p->arena;
	size_t n = spec->n_mounts;
	if (n > MAX_MOUNTS)
		return errbuf_printf(err, errsz, -EINVAL, "%zu mounts (limit %d)", n, MAX_MOUNTS);
	bool have_dev = false;
	for (size_t i = 0; i < n; i++)
		if (spec->mounts[i]->destination && streq(spec->mounts[i]->destination, "/dev"))
			have_dev = true;

	p->mounts = ct_arena_alloc(a, (n + 1) * sizeof(*p->mounts));
	if (!p->mounts)
		return -ENOMEM;
	p->default_dev = true;
	p->mount_pts = p->mount_shm = true;
	if (!have_dev) {
		/* The runtime's default spec mounts a tmpfs on /dev; without one the container
		 * still gets a private /dev, never the agent's. */
		p->mounts[p->n_mounts++] = (struct ct_mount){.source = "tmpfs",
							     .dest = "/dev",
							     .fstype = "tmpfs",
							     .data = "mode=755,size=65536k",
							     .flags = MS_NOSUID | MS_STRICTATIME};
	}
	for (size_t i = 0; i < n; i++) {
		const Grpc__Mount *sm = spec->mounts[i];
		struct ct_mount *m = &p->mounts[p->n_mounts];
		const char *dest = sm->destination ? sm->destination : "";
		const char *type = sm->type ? sm->type : "";
		*m = (struct ct_mount){0};
		if (!path_is_clean_absolute(dest))
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "mount destination '%s' must be an absolute path without '..'", dest);
		int r = ct_mount_parse_options(a, sm->options, sm->n_options, m);
		if (r == -EINVAL)
			return errbuf_printf(err, errsz, -EINVAL, "mount '%s': invalid options",
					     dest);
		if (r < 0)
			return r;
		if (streq(type, "bind"))
			m->bind = true;
		if (!m->bind && !*type)
			return errbuf_printf(err, errsz, -EINVAL,
					     "mount '%s' has no type and is not a bind mount",
					     dest);
		m->dest = ct_arena_strdup(a, dest);
		m->source = ct_arena_strdup(a, sm->source && *sm->source ? sm->source : type);
		if (!m->dest || !m->source)
			return -ENOMEM;
		if (m->bind) {
			struct stat st;
			if (m->source[0] != '/')
				return errbuf_printf(err, errsz, -EINVAL,
						     "bind mount '%s': source '%s' is not absolute",
						     dest, m->source);
			if (stat(m->source, &st) < 0) {
				int e = errno;
				snprintf(err, errsz, "bind mount '%s': source '%s': %s", dest,
					 m->source, strerror(e));
				return -e;
			}
			m->dest_is_file = !S_ISDIR(st.st_mode);
			m->fstype = NULL;
		} else {
			/* The guest is cgroup v2: a v1 "cgroup" request gets the unified tree. */
			m->fstype = streq(type, "cgroup") ? "cgroup2" : ct_arena_strdup(a, type);
			if (!m->fstype)
				return -ENOMEM;
		}
		if (streq(dest, "/dev")) {
			if (m->bind)
				p->default_dev = false; /* Kata: a bound /dev is taken as it is */
		}
		if (streq(dest, "/dev/pts"))
			p->mount_pts = false;
		if (streq(dest, "/dev/shm"))
			p->mount_shm = false;
		p->n_mounts++;
	}
	return 0;
}

int ct_plan_from_spec(struct ct_plan *p, const Grpc__Spec *spec, const char *rootfs,
		      const struct ct_ns_config *nsc, char *err, size_t errsz)
{
	const Grpc__Linux *lx = spec->linux_;
	int r;

	p->setup_rootfs = true;
	p->rootfs = ct_arena_strdup(&p->arena, rootfs);
	if (!p->rootfs)
		return -ENOMEM;
	p->no_pivot = nsc->no_pivot;
	p->root_readonly = spec->root && spec->root->readonly;

	p->root_propagation = MS_SLAVE | MS_REC;
	if (lx && lx->rootfspropagation && *lx->rootfspropagation &&
	    propagation_from_word(lx->rootfspropagation, &p->root_propagation) < 0)
		return errbuf_printf(err, errsz, -EINVAL, "unknown RootfsPropagation '%s'",
				     lx->rootfspropagation);

	/* Namespaces (reference §7.2): new mount and cgroup always; pid new or the
	 * sandbox's; ipc and uts the sandbox's; network and user only when listed. */
	bool want_user = false, want_net = false;
	const char *net_path = NULL, *user_path = NULL;
	for (size_t i = 0; lx && i < lx->n_namespaces; i++) {
		const Grpc__LinuxNamespace *ns = lx->namespaces[i];
		const char *t = ns->type ? ns->type : "";
		size_t k;
		for (k = 0; k < ARRAY_SIZE(ns_types); k++)
			if (streq(t, ns_types[k].name))
				break;
		if (k == ARRAY_SIZE(ns_types))
			return errbuf_printf(err, errsz, -EINVAL, "unknown namespace type '%s'", t);
		const char *path = ns->path && *ns->path ? ns->path : NULL;
		if (ns_types[k].ns == CT_NS_NET) {
			want_net = true;
			net_path = path;
		} else if (ns_types[k].ns == CT_NS_USER) {
			want_user = true;
			user_path = path;
		}
	}
	p->clone_flags = CLONE_NEWNS | CLONE_NEWCGROUP;
	if (want_user && user_path)
		return errbuf_printf(err, errsz, -EINVAL,
				     "joining user namespace '%s' is not supported", user_path);
	if (want_user) {
		if (!lx->n_uidmappings || !lx->n_gidmappings)
			return errbuf_printf(err, errsz, -EINVAL,
					     "a user namespace needs UIDMappings and GIDMappings");
		p->userns = true;
		p->dev_bind = true;
		p->clone_flags |= CLONE_NEWUSER;
		p->uid_map = id_map_text(&p->arena, lx->uidmappings, lx->n_uidmappings);
		p->gid_map = id_map_text(&p->arena, lx->gidmappings, lx->n_gidmappings);
		if (!p->uid_map || !p->gid_map)
			return -ENOMEM;
	} else if (lx && (lx->n_uidmappings || lx->n_gidmappings)) {
		return errbuf_printf(err, errsz, -EINVAL,
				     "UIDMappings/GIDMappings given without a user namespace");
	}
	if (want_net && net_path)
		return errbuf_printf(err, errsz, -EINVAL,
				     "network namespace paths are not supported ('%s')", net_path);
	if (want_net)
		p->clone_flags |= CLONE_NEWNET;
	if (nsc->pidns_fd >= 0)
		p->join_fd[CT_NS_PID] = nsc->pidns_fd;
	else
		p->clone_flags |= CLONE_NEWPID;
	/* A container in a user namespace of its own cannot join namespaces owned by the
	 * agent's (setns needs CAP_SYS_ADMIN there): it gets its own ipc and uts. */
	if (nsc->ipc_fd >= 0 && !p->userns)
		p->join_fd[CT_NS_IPC] = nsc->ipc_fd;
	else
		p->clone_flags |= CLONE_NEWIPC;
	if (nsc->uts_fd >= 0 && !p->userns) {
		p->join_fd[CT_NS_UTS] = nsc->uts_fd;
	} else {
		p->clone_flags |= CLONE_NEWUTS;
		if (spec->hostname && *spec->hostname)
			p->hostname = ct_arena_strdup(&p->arena, spec->hostname);
	}
	if (p->hostname && strlen(p->hostname) > 64)
		return errbuf_printf(err, errsz, -EINVAL,
				     "hostname '%.64s...' is longer than 64 characters",
				     p->hostname);

	r = plan_mounts(p, spec, err, errsz);
	if (r < 0)
		return r;
	r = plan_devices(p, lx, err, errsz);
	if (r < 0)
		return r;
	/* issue 7 (agent/security): capabilities, seccomp, masked/read-only paths, sysctls and
	 * the /proc mount rules. Every container has ipc and uts namespaces (the pod's or its
	 * own) and a network namespace that is its own or the pod's: the VM's, which the
	 * runtime strips from the spec (reference §2.4), so net.* keys are the pod's too. */
	const struct security_ns sns = {.ipc = true, .uts = true, .net = true};
	r = security_plan_from_spec(&p->sec, spec, &sns, err, errsz);
	if (r < 0)
		return r;

	_cleanup_close_ int root_fd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0) {
		int e = errno;
		snprintf(err, errsz, "rootfs '%s': %s", rootfs, strerror(e));
		return -e;
	}
	return ct_plan_process(p, spec->process, root_fd, err, errsz);
}

int ct_plan_for_exec(struct ct_plan *p, const Grpc__Process *proc, const int ns_fds[CT_NS_COUNT],
		     int root_fd, char *err, size_t errsz)
{
	for (int i = 0; i < CT_NS_COUNT; i++)
		p->join_fd[i] = ns_fds[i];
	p->root_fd = root_fd;
	p->setup_rootfs = false;
	return ct_plan_process(p, proc, root_fd, err, errsz);
}
