/* SPDX-License-Identifier: Apache-2.0 */
/* Capability names -> bit masks (parent, libcap), and applying them (child, raw syscalls). */
#define LOG_SUBSYSTEM "security"
#include "internal.h"

#include <linux/capability.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define CAP_NAMES_MAX 128 /* per set: there are 41 capabilities today */

int security_cap_from_name(const char *name)
{
	/* libcap is lenient (case-insensitive, numbers, stops at a comma: "CAP_CHOWN,x" is
	 * CAP_CHOWN); the spec's names are exact upper-case "CAP_*" words. */
	const char *rest = name ? startswith(name, "CAP_") : NULL;
	if (!rest || !*rest || strlen(name) > 64)
		return -EINVAL;
	for (const char *c = rest; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_'))
			return -EINVAL;
	cap_value_t v;
	if (cap_from_name(name, &v) < 0 || v < 0 || v > 63)
		return -EINVAL;
	return (int)v;
}

unsigned security_cap_last(void)
{
	_cleanup_free_ char *text = NULL;
	if (read_file("/proc/sys/kernel/cap_last_cap", 64, &text, NULL) >= 0) {
		char *end;
		unsigned long v = strtoul(text, &end, 10);
		if (end != text && v <= 63)
			return (unsigned)v;
	}
	return CAP_LAST_CAP;
}

static int caps_set_from_names(const char *set, char **names, size_t n, unsigned cap_last,
			       uint64_t *mask, char *err, size_t errsz)
{
	*mask = 0;
	if (n > CAP_NAMES_MAX) {
		snprintf(err, errsz, "Capabilities.%s has %zu entries (limit %d)", set, n,
			 CAP_NAMES_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		const char *name = names[i] ? names[i] : "";
		int cap = security_cap_from_name(name);
		if (cap < 0) {
			snprintf(err, errsz, "Capabilities.%s: unknown capability '%.64s'", set,
				 name);
			return -EINVAL;
		}
		if ((unsigned)cap > cap_last) {
			/* libcap knows it, this kernel does not: runc and Kata skip it. */
			log_warn("Capabilities.%s: %s is not supported by this kernel, skipped",
				 set, name);
			continue;
		}
		*mask |= UINT64_C(1) << cap;
	}
	return 0;
}

int security_caps_from_spec(const Grpc__LinuxCapabilities *c, unsigned cap_last,
			    struct security_caps *ret, char *err, size_t errsz)
{
	int r;
	*ret = (struct security_caps){0};
	if (!c)
		return 0;
	if ((r = caps_set_from_names("Bounding", c->bounding, c->n_bounding, cap_last,
				     &ret->bounding, err, errsz)) < 0 ||
	    (r = caps_set_from_names("Effective", c->effective, c->n_effective, cap_last,
				     &ret->effective, err, errsz)) < 0 ||
	    (r = caps_set_from_names("Inheritable", c->inheritable, c->n_inheritable, cap_last,
				     &ret->inheritable, err, errsz)) < 0 ||
	    (r = caps_set_from_names("Permitted", c->permitted, c->n_permitted, cap_last,
				     &ret->permitted, err, errsz)) < 0 ||
	    (r = caps_set_from_names("Ambient", c->ambient, c->n_ambient, cap_last, &ret->ambient,
				     err, errsz)) < 0)
		return r;
	return 0;
}

/* ---- child ---- */

static int capset_raw(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2] = {
	    {(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
	    {(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)},
	};
	return syscall(SYS_capset, &hdr, data) < 0 ? -errno : 0;
}

static int capget_raw(uint64_t *perm, uint64_t *inh)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2];
	if (syscall(SYS_capget, &hdr, data) < 0)
		return -errno;
	*perm = data[0].permitted | ((uint64_t)data[1].permitted << 32);
	*inh = data[0].inheritable | ((uint64_t)data[1].inheritable << 32);
	return 0;
}

int security_child_before_setuid(const struct security_plan *p, int *where)
{
	/* Without keep-caps a switch away from uid 0 clears the permitted set, and the
	 * capabilities the spec grants a non-root user would be lost. */
	if (!p->caps_set)
		return 0;
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0) {
		*where = SECURITY_WHERE(SECURITY_STEP_KEEPCAPS, 0);
		return -errno;
	}
	return 0;
}

int security_child_after_setuid(const struct security_plan *p, int *where)
{
	if (!p->caps_set)
		return 0;
	*where = SECURITY_WHERE(SECURITY_STEP_KEEPCAPS, 0);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return -errno;
	/* setresuid to non-root cleared the effective set; the bounding drop needs
	 * CAP_SETPCAP and an early seccomp load CAP_SYS_ADMIN in it again (Kata resets the
	 * effective set the same way). */
	uint64_t perm = 0, inh = 0;
	int r = capget_raw(&perm, &inh);
	if (r < 0)
		return r;
	return capset_raw(perm, perm, inh);
}

int security_child_apply_caps(const struct security_plan *p, bool no_new_privs, int *where)
{
	int r;
	if (p->caps_set) {
		for (unsigned cap = 0; cap <= p->cap_last; cap++) {
			if (p->caps.bounding & (UINT64_C(1) << cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL) {
				*where = SECURITY_WHERE(SECURITY_STEP_BOUNDING, cap);
				return -errno;
			}
			/* Verify like Kata: a bounding set that silently kept a capability
			 * would defeat the drop. */
			if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) > 0) {
				*where = SECURITY_WHERE(SECURITY_STEP_BOUNDING, cap);
				return -EPERM;
			}
		}
	}
	/* Without no_new_privs the kernel only accepts a filter from a task holding
	 * CAP_SYS_ADMIN: load it before the capabilities go. */
	if (!no_new_privs && p->bpf) {
		r = security_child_load_seccomp(p, where);
		if (r < 0)
			return r;
	}
	if (!p->caps_set)
		return 0;
	*where = SECURITY_WHERE(SECURITY_STEP_CAPSET, 0);
	r = capset_raw(p->caps.effective, p->caps.permitted, p->caps.inheritable);
	if (r < 0)
		return r;
	/* Ambient capabilities are best effort, as in Kata: each needs to be permitted and
	 * inheritable, and kernels before 4.3 have none at all. */
	(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	for (unsigned cap = 0; cap <= p->cap_last; cap++)
		if (p->caps.ambient & (UINT64_C(1) << cap))
			(void)prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0);
	return 0;
}
