/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The OCI seccomp profile -> a BPF program, compiled with libseccomp in the parent
 * (reference §7.7), and loaded by the child with seccomp(2). libseccomp is never called
 * after clone: it allocates, and its own loader would also set no_new_privs behind our back.
 */
#define LOG_SUBSYSTEM "security"
#include "internal.h"

#include "agent/agent.h"

#include <linux/seccomp.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* Bounds on what a peer can make us compile on the agent's loop. libseccomp's time grows
 * with the rules and faster than linearly with the architectures (Docker's default profile,
 * about 380 rules: 3 ms native only, 14-20 ms with its 3 x86 architectures), and an
 * argument-filtered rule costs more than a plain one (the OR-split of repeated comparisons
 * most). The budget weighs a rule 1, 4 or 8 per resulting rule, times architectures
 * squared; at the budget a compile stays around 100 ms here. Docker's profile uses about
 * 3800 units. */
#define SECCOMP_MAX_ENTRIES 1024
#define SECCOMP_MAX_NAMES   4096
#define SECCOMP_MAX_ARGS    32
#define SECCOMP_MAX_ARCHES  8
#define SECCOMP_MAX_FLAGS   8
#define SECCOMP_MAX_UNITS   8192 /* rule weight x architectures^2 */
#define SECCOMP_ARGS	    6	 /* syscall arguments the kernel passes to filters */

static const struct {
	const char *name;
	uint32_t action;
	bool errno_data; /* the rule's errnoret (default EPERM) is the action's data */
} actions[] = {
    {"SCMP_ACT_KILL", SCMP_ACT_KILL, false},
    {"SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false},
    {"SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false},
    {"SCMP_ACT_TRAP", SCMP_ACT_TRAP, false},
    {"SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true},
    {"SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true},
    {"SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false},
    {"SCMP_ACT_LOG", SCMP_ACT_LOG, false},
};

static const struct {
	const char *name;
	enum scmp_compare op;
} operators[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE},
    {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE},
    {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE},
    {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

static const struct {
	const char *name;
	unsigned flag;
} filter_flags[] = {
    {"SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC},
    {"SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG},
    {"SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW},
};

/* -EINVAL for an unknown name, -EOPNOTSUPP for SCMP_ACT_NOTIFY. */
static int action_parse(const char *name, bool has_errno, uint32_t errno_ret, uint32_t *ret)
{
	if (streq(name, "SCMP_ACT_NOTIFY"))
		return -EOPNOTSUPP;
	for (size_t i = 0; i < ARRAY_SIZE(actions); i++) {
		if (!streq(name, actions[i].name))
			continue;
		*ret = actions[i].action;
		if (actions[i].errno_data)
			/* The kernel caps the value at MAX_ERRNO; only 16 bits fit. */
			*ret |= (has_errno ? errno_ret : (uint32_t)EPERM) & 0xffffu;
		return 0;
	}
	return -EINVAL;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token; 0 when unknown. */
static uint32_t arch_parse(const char *name)
{
	const char *rest = startswith(name, "SCMP_ARCH_");
	char lower[32];
	size_t i;
	if (!rest || !*rest || strlen(rest) >= sizeof(lower))
		return 0;
	for (i = 0; rest[i]; i++)
		lower[i] = (char)(rest[i] >= 'A' && rest[i] <= 'Z' ? rest[i] - 'A' + 'a' : rest[i]);
	lower[i] = '\0';
	if (streq(lower, "native"))
		return 0;
	return seccomp_arch_resolve_name(lower);
}

static void ctx_releasep(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* The first name of an entry, for messages. */
static const char *entry_label(const Grpc__LinuxSyscall *sc, char buf[static 80])
{
	return security_printable(sc->n_names && sc->names[0] ? sc->names[0] : "", buf);
}

struct compile_state {
	size_t arches;	    /* listed architectures, at least 1 */
	size_t names_total; /* SECCOMP_MAX_NAMES */
	size_t units;	    /* SECCOMP_MAX_UNITS */
	size_t unknown;	    /* syscall names skipped */
	char first_unknown[80];
};

static int add_entry(scmp_filter_ctx ctx, uint32_t def, size_t idx, const Grpc__LinuxSyscall *sc,
		     struct compile_state *cs, char *err, size_t errsz)
{
	char b1[80], b2[80];
	uint32_t act;
	const char *an = sc->action ? sc->action : "";
	int r = action_parse(an, sc->errno_ret_case == GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET,
			     sc->errnoret, &act);
	if (r == -EOPNOTSUPP)
		return errbuf_printf(
		    err, errsz, -EINVAL,
		    "Seccomp.Syscalls[%zu] (%s): action SCMP_ACT_NOTIFY is not supported "
		    "(the protocol carries no listener)",
		    idx, entry_label(sc, b1));
	if (r < 0)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp.Syscalls[%zu] (%s): unknown action '%s'", idx,
				     entry_label(sc, b1), security_printable(an, b2));
	if (sc->n_args > SECCOMP_MAX_ARGS)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp.Syscalls[%zu] (%s): %zu arguments (limit %d)", idx,
				     entry_label(sc, b1), sc->n_args, SECCOMP_MAX_ARGS);
	cs->names_total += sc->n_names;
	if (cs->names_total > SECCOMP_MAX_NAMES)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp.Syscalls: more than %d syscall names in total",
				     SECCOMP_MAX_NAMES);

	struct scmp_arg_cmp conds[SECCOMP_MAX_ARGS];
	unsigned per_index[SECCOMP_ARGS] = {0};
	bool repeated_index = false;
	for (size_t a = 0; a < sc->n_args; a++) {
		const Grpc__LinuxSeccompArg *arg = sc->args[a];
		const char *on = arg->op ? arg->op : "";
		size_t k;
		if (arg->index >= SECCOMP_ARGS)
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "Seccomp.Syscalls[%zu] (%s): Args[%zu]: index %llu out of range "
			    "(0-5)",
			    idx, entry_label(sc, b1), a, (unsigned long long)arg->index);
		for (k = 0; k < ARRAY_SIZE(operators); k++)
			if (streq(on, operators[k].name))
				break;
		if (k == ARRAY_SIZE(operators))
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "Seccomp.Syscalls[%zu] (%s): Args[%zu]: unknown operator '%s'", idx,
			    entry_label(sc, b1), a, security_printable(on, b2));
		/* MASKED_EQ: Value is the mask, ValueTwo the value compared (OCI, runc). */
		conds[a] = (struct scmp_arg_cmp){
		    .arg = (unsigned)arg->index,
		    .op = operators[k].op,
		    .datum_a = arg->value,
		    .datum_b = arg->valuetwo,
		};
		if (++per_index[arg->index] > 1)
			repeated_index = true;
	}

	/* A rule whose action is the default one changes nothing (libseccomp refuses it). */
	if (act == def)
		return 0;

	size_t weight = repeated_index ? 8 * sc->n_args : sc->n_args ? 4 : 1;
	cs->units += sc->n_names * weight * cs->arches * cs->arches;
	if (cs->units > SECCOMP_MAX_UNITS)
		return errbuf_printf(
		    err, errsz, -EINVAL,
		    "Seccomp: the profile is too large at Syscalls[%zu] (%s): more than %d "
		    "units of rules x architectures^2",
		    idx, entry_label(sc, b1), SECCOMP_MAX_UNITS);

	for (size_t n = 0; n < sc->n_names; n++) {
		const char *name = sc->names[n] ? sc->names[n] : "";
		int nr = seccomp_syscall_resolve_name(name);
		if (nr == __NR_SCMP_ERROR) {
			/* Profiles list syscalls of newer kernels and other arches (OCI, Kata);
			 * counted here, logged once by the caller. */
			if (cs->unknown++ == 0)
				security_printable(name, cs->first_unknown);
			continue;
		}
		if (!repeated_index) {
			r = seccomp_rule_add_array(ctx, act, nr, (unsigned)sc->n_args, conds);
		} else {
			/* libseccomp cannot AND two comparisons of the same argument; like runc,
			 * each one becomes a rule of its own (they OR). */
			r = 0;
			for (size_t a = 0; a < sc->n_args && r >= 0; a++)
				r = seccomp_rule_add_array(ctx, act, nr, 1, &conds[a]);
		}
		if (r < 0)
			return errbuf_printf(
			    err, errsz, -EINVAL, "Seccomp.Syscalls[%zu] (%s): rule for '%s': %s",
			    idx, entry_label(sc, b1), security_printable(name, b2), strerror(-r));
	}
	return 0;
}

static int export_bpf(scmp_filter_ctx ctx, struct security_bpf *ret, char *err, size_t errsz)
{
	_cleanup_close_ int fd = memfd_create("ember-seccomp", MFD_CLOEXEC);
	if (fd < 0)
		return -errno;
	int r = seccomp_export_bpf(ctx, fd);
	if (r < 0)
		return r == -ECANCELED ? -ENOMEM : r;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	size_t len = (size_t)st.st_size;
	if (len == 0 || len % sizeof(struct sock_filter) != 0)
		return -EIO;
	if (len / sizeof(struct sock_filter) > BPF_MAXINSNS)
		return errbuf_printf(
		    err, errsz, -EINVAL,
		    "Seccomp: the profile compiles to %zu BPF instructions (kernel limit %d)",
		    len / sizeof(struct sock_filter), BPF_MAXINSNS);
	struct sock_filter *insns = malloc(len);
	if (!insns)
		return -ENOMEM;
	ssize_t n = pread(fd, insns, len, 0);
	if (n < 0 || (size_t)n != len) {
		free(insns);
		return n < 0 ? -errno : -EIO;
	}
	ret->insns = insns;
	ret->len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

int security_seccomp_compile(const Grpc__LinuxSeccomp *s, struct security_bpf *ret, char *err,
			     size_t errsz)
{
	char b1[80];
	uint32_t def;
	int r;

	*ret = (struct security_bpf){0};
	if (!s)
		return 0;
	const char *dn = s->defaultaction ? s->defaultaction : "";
	if (!*dn) {
		if (!s->n_syscalls && !s->n_architectures && !s->n_flags)
			return 0; /* an empty message: no filter */
		return errbuf_printf(err, errsz, -EINVAL, "Seccomp.DefaultAction is empty");
	}
	/* No DefaultErrnoRet in Kata's protocol: ERRNO as the default means EPERM. */
	r = action_parse(dn, false, 0, &def);
	if (r == -EOPNOTSUPP)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp.DefaultAction SCMP_ACT_NOTIFY is not supported");
	if (r < 0)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp.DefaultAction: unknown action '%s'",
				     security_printable(dn, b1));
	if (s->n_syscalls > SECCOMP_MAX_ENTRIES)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp.Syscalls has %zu entries (limit %d)", s->n_syscalls,
				     SECCOMP_MAX_ENTRIES);
	if (s->n_architectures > SECCOMP_MAX_ARCHES || s->n_flags > SECCOMP_MAX_FLAGS)
		return errbuf_printf(err, errsz, -EINVAL,
				     "Seccomp: too many Architectures or Flags");

	unsigned flags = 0;
	for (size_t i = 0; i < s->n_flags; i++) {
		const char *fn = s->flags[i] ? s->flags[i] : "";
		size_t k;
		for (k = 0; k < ARRAY_SIZE(filter_flags); k++)
			if (streq(fn, filter_flags[k].name))
				break;
		if (k == ARRAY_SIZE(filter_flags))
			return errbuf_printf(err, errsz, -EINVAL,
					     "Seccomp.Flags[%zu]: unsupported flag '%s'", i,
					     security_printable(fn, b1));
		flags |= filter_flags[k].flag;
	}

	_cleanup_(ctx_releasep) scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return -ENOMEM;
	/* A binary tree of syscall numbers: fewer instructions run per syscall with long
	 * allow lists (libseccomp >= 2.5; older ones keep the linear list). */
	(void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);

	for (size_t i = 0; i < s->n_architectures; i++) {
		const char *an = s->architectures[i] ? s->architectures[i] : "";
		uint32_t arch = arch_parse(an);
		if (!arch)
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "Seccomp.Architectures[%zu]: unknown architecture '%s'", i,
			    security_printable(an, b1));
		r = seccomp_arch_add(ctx, arch);
		if (r < 0 && r != -EEXIST)
			return errbuf_printf(err, errsz, -EINVAL,
					     "Seccomp.Architectures[%zu] '%s': %s", i,
					     security_printable(an, b1), strerror(-r));
	}

	struct compile_state cs = {.arches = s->n_architectures ? s->n_architectures : 1};
	for (size_t i = 0; i < s->n_syscalls; i++) {
		r = add_entry(ctx, def, i, s->syscalls[i], &cs, err, errsz);
		if (r < 0)
			return r;
	}
	if (cs.unknown)
		log_warn("seccomp: %zu syscall name(s) unknown to libseccomp skipped (first: '%s')",
			 cs.unknown, cs.first_unknown);

	r = export_bpf(ctx, ret, err, errsz);
	if (r < 0)
		return r;
	ret->flags = flags;
	return 0;
}

void security_bpf_free(struct security_bpf *b)
{
	free(b->insns);
	*b = (struct security_bpf){0};
}

bool security_seccomp_supported(void)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;

	/* Filter mode exists (CONFIG_SECCOMP_FILTER) when the kernel can tell whether it
	 * has an action (Linux 4.14); older kernels fault on a NULL program (EFAULT) instead
	 * of refusing the mode (EINVAL), the probe libseccomp and Docker use. */
	uint32_t action = SECCOMP_RET_ERRNO;
	bool kernel = syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
	if (!kernel)
		kernel =
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL, 0, 0) < 0 && errno == EFAULT;

	/* And libseccomp compiles a profile here. */
	char *names[] = {(char *)"mkdir"};
	Grpc__LinuxSyscall sc = GRPC__LINUX_SYSCALL__INIT;
	Grpc__LinuxSyscall *scs[] = {&sc};
	Grpc__LinuxSeccomp prof = GRPC__LINUX_SECCOMP__INIT;
	sc.names = names;
	sc.n_names = 1;
	sc.action = (char *)"SCMP_ACT_ERRNO";
	prof.defaultaction = (char *)"SCMP_ACT_ALLOW";
	prof.syscalls = scs;
	prof.n_syscalls = 1;
	struct security_bpf bpf;
	char err[SECURITY_ERR_MAX];
	bool compiles = security_seccomp_compile(&prof, &bpf, err, sizeof(err)) == 0 && bpf.insns;
	security_bpf_free(&bpf);

	cached = kernel && compiles;
	if (!cached)
		log_warn("seccomp is not available (kernel filter mode %s, compile %s): "
			 "supports_seccomp = false",
			 kernel ? "yes" : "no", compiles ? "ok" : "failed");
	return cached;
}

/* ---- child ---- */

int security_child_load_seccomp(const struct security_plan *p, int *where)
{
	struct sock_fprog prog = {.len = p->bpf_len, .filter = (struct sock_filter *)p->bpf};
	if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, p->seccomp_flags, &prog) == 0)
		return 0;
	int e = errno;
	if (e == ENOSYS && p->seccomp_flags == 0) {
		/* Before Linux 3.17 there is only the prctl, without flags. */
		if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0, 0) == 0)
			return 0;
		e = errno;
	}
	*where = SECURITY_WHERE(SECURITY_STEP_SECCOMP, 0);
	return -e;
}

/* The hook GetGuestDetails calls (agent.h; a weak "false" stands in until this links). */
bool agent_supports_seccomp(void)
{
	return security_seccomp_supported();
}
