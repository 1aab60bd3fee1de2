/* SPDX-License-Identifier: Apache-2.0 */
/* The parent half: the spec's security settings -> struct security_plan (plain data). */
#define LOG_SUBSYSTEM "security"
#include "internal.h"

#define MAX_PATHS	 256 /* MaskedPaths, ReadonlyPaths each; Docker's lists have ~15 */
#define MAX_SYSCTLS	 256
#define SYSCTL_VALUE_MAX 4096

struct security_profile {
	unsigned refs;
	bool caps_set;
	struct security_caps caps;
	struct security_bpf bpf;
};

struct plan_block {
	struct plan_block *next;
	max_align_t data[];
};

void *security_plan_alloc(struct security_plan *p, size_t n)
{
	struct plan_block *b = calloc(1, sizeof(*b) + n);
	if (!b)
		return NULL;
	b->next = p->mem;
	p->mem = b;
	return b->data;
}

char *security_plan_strdup(struct security_plan *p, const char *s)
{
	size_t l = strlen(s);
	char *d = security_plan_alloc(p, l + 1);
	if (d)
		memcpy(d, s, l + 1);
	return d;
}

struct security_profile *security_profile_ref(struct security_profile *sp)
{
	if (sp)
		sp->refs++;
	return sp;
}

void security_profile_unref(struct security_profile *sp)
{
	if (!sp || --sp->refs > 0)
		return;
	security_bpf_free(&sp->bpf);
	free(sp);
}

void security_plan_init(struct security_plan *p)
{
	*p = (struct security_plan){0};
}

void security_plan_done(struct security_plan *p)
{
	security_profile_unref(p->profile);
	while (p->mem) {
		struct plan_block *b = p->mem;
		p->mem = b->next;
		free(b);
	}
	*p = (struct security_plan){0};
}

/* ---- sysctls ---- */

int security_sysctl_check(const char *key, const struct security_ns *ns, char *err, size_t errsz)
{
	char b[80];
	const char *need = NULL;
	bool ok = false;

	if (startswith(key, "kernel.msg") || startswith(key, "kernel.sem") ||
	    startswith(key, "kernel.shm") || startswith(key, "fs.mqueue.")) {
		need = "an ipc";
		ok = ns->ipc;
	} else if (startswith(key, "net.")) {
		need = "a network";
		ok = ns->net;
	} else if (streq(key, "kernel.domainname")) {
		need = "a uts";
		ok = ns->uts;
	} else if (streq(key, "kernel.hostname")) {
		snprintf(err, errsz, "sysctl 'kernel.hostname' is refused: set Spec.Hostname");
		return -EINVAL;
	} else {
		snprintf(err, errsz,
			 "sysctl '%s' is not namespaced: it would change the whole guest",
			 security_printable(key, b));
		return -EINVAL;
	}
	if (!ok) {
		snprintf(err, errsz, "sysctl '%s' needs %s namespace, which the container lacks",
			 security_printable(key, b), need);
		return -EINVAL;
	}
	return 0;
}

/* key ("net.ipv4.ip_forward", or the slash form "net/ipv4/conf/eth0.100/forwarding"
 * that interface names with dots need) -> "/proc/sys/net/ipv4/ip_forward" and the dotted
 * form the namespace rules speak. */
static int sysctl_key_parse(const char *key, char *path, size_t psz, char *dotted, size_t dsz)
{
	size_t l = strlen(key);
	if (l == 0 || l + sizeof("/proc/sys/") > psz || l >= dsz)
		return -EINVAL;
	bool slash_form = strchr(key, '/') != NULL;
	char sep = slash_form ? '/' : '.';
	/* components: non-empty, not "." or "..", printable without spaces */
	for (const char *c = key;;) {
		const char *e = strchrnul(c, sep);
		size_t cl = (size_t)(e - c);
		if (cl == 0 || (cl == 1 && c[0] == '.') || (cl == 2 && c[0] == '.' && c[1] == '.'))
			return -EINVAL;
		for (const char *k = c; k < e; k++)
			if (*k <= 0x20 || *k >= 0x7f || (!slash_form && *k == '/'))
				return -EINVAL;
		if (!*e)
			break;
		c = e + 1;
	}
	int n = snprintf(path, psz, "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= psz)
		return -EINVAL;
	for (size_t i = 0; i < l; i++) {
		char c = key[i];
		if (!slash_form && c == '.')
			path[10 + i] = '/';
		dotted[i] = slash_form && c == '/' ? '.' : c;
	}
	dotted[l] = '\0';
	return 0;
}

static int plan_sysctls(struct security_plan *p, const Grpc__Linux *lx,
			const struct security_ns *ns, char *err, size_t errsz)
{
	char b[80], path[512], dotted[512];
	if (lx->n_sysctl > MAX_SYSCTLS) {
		snprintf(err, errsz, "Linux.Sysctl has %zu entries (limit %d)", lx->n_sysctl,
			 MAX_SYSCTLS);
		return -EINVAL;
	}
	p->sysctl_paths = security_plan_alloc(p, (lx->n_sysctl + 1) * sizeof(char *));
	p->sysctl_values = security_plan_alloc(p, (lx->n_sysctl + 1) * sizeof(char *));
	if (!p->sysctl_paths || !p->sysctl_values)
		return -ENOMEM;
	for (size_t i = 0; i < lx->n_sysctl; i++) {
		const char *key = lx->sysctl[i]->key ? lx->sysctl[i]->key : "";
		const char *value = lx->sysctl[i]->value ? lx->sysctl[i]->value : "";
		if (sysctl_key_parse(key, path, sizeof(path), dotted, sizeof(dotted)) < 0) {
			snprintf(err, errsz, "sysctl key '%s' is not a valid name",
				 security_printable(key, b));
			return -EINVAL;
		}
		int r = security_sysctl_check(dotted, ns, err, errsz);
		if (r < 0)
			return r;
		if (strlen(value) > SYSCTL_VALUE_MAX) {
			snprintf(err, errsz, "sysctl '%s': value longer than %d bytes",
				 security_printable(key, b), SYSCTL_VALUE_MAX);
			return -EINVAL;
		}
		const char *pc = security_plan_strdup(p, path);
		const char *vc = security_plan_strdup(p, value);
		if (!pc || !vc)
			return -ENOMEM;
		p->sysctl_paths[p->n_sysctls] = pc;
		p->sysctl_values[p->n_sysctls++] = vc;
	}
	return 0;
}

/* ---- masked and read-only paths ---- */

static int plan_paths(struct security_plan *p, const char *what, char **in, size_t n,
		      const char ***out, size_t *n_out, char *err, size_t errsz)
{
	char clean[4096], b[80];
	if (n > MAX_PATHS) {
		snprintf(err, errsz, "Linux.%s has %zu entries (limit %d)", what, n, MAX_PATHS);
		return -EINVAL;
	}
	*out = security_plan_alloc(p, (n + 1) * sizeof(char *));
	if (!*out)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const char *path = in[i] ? in[i] : "";
		if (security_path_clean(path, clean, sizeof(clean)) < 0 || streq(clean, "/")) {
			snprintf(err, errsz,
				 "Linux.%s[%zu] '%s' must be an absolute path without '..'", what,
				 i, security_printable(path, b));
			return -EINVAL;
		}
		const char *c = security_plan_strdup(p, clean);
		if (!c)
			return -ENOMEM;
		(*out)[(*n_out)++] = c;
	}
	return 0;
}

/* ---- mounts ---- */

static bool mount_is_bind(const Grpc__Mount *m)
{
	if (m->type && streq(m->type, "bind"))
		return true;
	for (size_t i = 0; i < m->n_options; i++)
		if (m->options[i] &&
		    (streq(m->options[i], "bind") || streq(m->options[i], "rbind")))
			return true;
	return false;
}

static void warn_ignored(const Grpc__Process *proc)
{
	char b[80];
	if (!proc)
		return;
	if (proc->apparmorprofile && *proc->apparmorprofile)
		log_warn("Process.ApparmorProfile '%s' ignored: the guest has no AppArmor",
			 security_printable(proc->apparmorprofile, b));
	if (proc->selinuxlabel && *proc->selinuxlabel)
		log_warn("Process.SelinuxLabel '%s' ignored: the guest has no SELinux",
			 security_printable(proc->selinuxlabel, b));
}

static int plan_caps(struct security_plan *p, const Grpc__Process *proc, char *err, size_t errsz)
{
	if (!proc || !proc->capabilities)
		return 0;
	int r = security_caps_from_spec(proc->capabilities, p->cap_last, &p->caps, err, errsz);
	if (r < 0)
		return r;
	p->caps_set = true;
	return 0;
}

int security_plan_from_spec(struct security_plan *p, const Grpc__Spec *spec,
			    const struct security_ns *ns, char *err, size_t errsz)
{
	const Grpc__Linux *lx = spec->linux_;
	int r;

	p->cap_last = security_cap_last();
	p->profile = calloc(1, sizeof(*p->profile));
	if (!p->profile)
		return -ENOMEM;
	p->profile->refs = 1;

	warn_ignored(spec->process);
	if (lx && lx->mountlabel && *lx->mountlabel)
		log_warn("Linux.MountLabel ignored: the guest has no SELinux");

	r = plan_caps(p, spec->process, err, errsz);
	if (r < 0)
		return r;
	p->profile->caps_set = p->caps_set;
	p->profile->caps = p->caps;

	for (size_t i = 0; i < spec->n_mounts; i++) {
		const Grpc__Mount *m = spec->mounts[i];
		r = security_check_mount(m->destination ? m->destination : "", m->type, m->source,
					 mount_is_bind(m), err, errsz);
		if (r < 0)
			return r;
	}
	if (!lx)
		return 0;

	r = security_seccomp_compile(lx->seccomp, &p->profile->bpf, err, errsz);
	if (r < 0)
		return r;
	p->bpf = p->profile->bpf.insns;
	p->bpf_len = p->profile->bpf.len;
	p->seccomp_flags = p->profile->bpf.flags;

	r = plan_paths(p, "MaskedPaths", lx->maskedpaths, lx->n_maskedpaths, &p->masked_paths,
		       &p->n_masked_paths, err, errsz);
	if (r < 0)
		return r;
	r = plan_paths(p, "ReadonlyPaths", lx->readonlypaths, lx->n_readonlypaths,
		       &p->readonly_paths, &p->n_readonly_paths, err, errsz);
	if (r < 0)
		return r;
	return plan_sysctls(p, lx, ns, err, errsz);
}

int security_plan_for_exec(struct security_plan *p, const Grpc__Process *proc,
			   struct security_profile *container, char *err, size_t errsz)
{
	p->cap_last = security_cap_last();
	warn_ignored(proc);
	int r = plan_caps(p, proc, err, errsz);
	if (r < 0)
		return r;
	if (!container)
		return 0;
	/* Kata (§7.4): an exec process without capabilities of its own gets the
	 * container's; the container's seccomp filter always applies. */
	if (!p->caps_set && container->caps_set) {
		p->caps_set = true;
		p->caps = container->caps;
	}
	p->profile = security_profile_ref(container);
	p->bpf = container->bpf.insns;
	p->bpf_len = container->bpf.len;
	p->seccomp_flags = container->bpf.flags;
	return 0;
}
