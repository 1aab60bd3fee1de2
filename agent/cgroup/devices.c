/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device policy of a container: Resources.Devices on top of Kata's whitelist, enforced by
 * a BPF_PROG_TYPE_CGROUP_DEVICE program on the container's cgroup (cgroup v2 has no devices.*
 * files). Without it a container keeps CAP_MKNOD (in the default capability set) and can
 * mknod the guest's disks and read what other containers wrote to them.
 *
 * Order: last match wins, as crun and systemd evaluate the list and as OCI's "apply in order"
 * means for cgroup v1's sequence of devices.allow/deny writes. Unlike crun's program, each
 * requested access bit is decided on its own: the kernel asks for read and write in one call
 * for an O_RDWR open, and a rule "deny c 1:3 w" must deny that call, not fall through because
 * it does not cover the read (crun's "rule covers the whole request" test lets it through).
 *
 * The program walks the rules from the last to the first with the undecided bits in R3: a deny
 * rule that matches the device and has an undecided bit denies; an allow rule that matches
 * clears its bits; the bits left at the end get the default. The kernel's struct
 * bpf_cgroup_dev_ctx: u32 access_type (type in the low 16 bits, access in the high 16), u32
 * major, u32 minor. At most 6 instructions a rule: 3 153 for the largest policy (12 + 256 +
 * 256 rules), below BPF_MAXINSNS (4096), which any kernel loads.
 */
#define LOG_SUBSYSTEM "cgroup"
#include "internal.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#ifndef BPF_F_REPLACE
#define BPF_F_REPLACE (1U << 2) /* Linux 5.6 */
#endif

_Static_assert((int)CGROUP_DEV_MKNOD == (int)BPF_DEVCG_ACC_MKNOD &&
		   (int)CGROUP_DEV_READ == (int)BPF_DEVCG_ACC_READ &&
		   (int)CGROUP_DEV_WRITE == (int)BPF_DEVCG_ACC_WRITE,
	       "the access bits are the kernel's");

#define MAJOR_MAX    4095    /* dev_t: 12 bits of major */
#define MINOR_MAX    1048575 /* and 20 of minor */
#define LOG_BUF_SIZE (64 * 1024)
#define PROG_NAME    "ember_devices"

/* ---- rules ---- */

/* A peer's string, fit for a message: printable ASCII, at most 32 characters. */
static const char *shown(const char *s, char buf[static 36])
{
	size_t i = 0;
	for (; s[i] && i < 32; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	strcpy(buf + i, s[i] ? "..." : "");
	return buf;
}

static int parse_one(const Grpc__LinuxDeviceCgroup *d, size_t i, struct cgroup_dev_rule *ret,
		     char *err, size_t errsz)
{
	const char *type = d->type ? d->type : "", *access = d->access ? d->access : "";
	char b[36];

	if (!*type || streq(type, "a") || streq(type, "b") || streq(type, "c"))
		ret->type = *type ? *type : 'a';
	else
		return errbuf_printf(err, errsz, -EINVAL,
				     "device rule %zu: type '%s' is not a (all), b (block) or c "
				     "(char)",
				     i, shown(type, b));
	ret->access = 0;
	for (const char *a = access; *a; a++) {
		if (*a == 'r')
			ret->access |= CGROUP_DEV_READ;
		else if (*a == 'w')
			ret->access |= CGROUP_DEV_WRITE;
		else if (*a == 'm')
			ret->access |= CGROUP_DEV_MKNOD;
		else
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "device rule %zu: access '%s' is not made of r, w and m", i,
			    shown(access, b));
	}
	if (d->major < -1 || d->major > MAJOR_MAX)
		return errbuf_printf(err, errsz, -EINVAL,
				     "device rule %zu: major %lld is not -1 (any) or 0..%d", i,
				     (long long)d->major, MAJOR_MAX);
	if (d->minor < -1 || d->minor > MINOR_MAX)
		return errbuf_printf(err, errsz, -EINVAL,
				     "device rule %zu: minor %lld is not -1 (any) or 0..%d", i,
				     (long long)d->minor, MINOR_MAX);
	bool any_major = d->major <= 0;
	ret->major = any_major ? -1 : (int32_t)d->major;
	ret->minor = d->minor < 0 || (any_major && d->minor == 0) ? -1 : (int32_t)d->minor;
	ret->allow = d->allow;
	return 0;
}

int cgroup_devices_parse(Grpc__LinuxDeviceCgroup *const *v, size_t n, struct cgroup_dev_rule **ret,
			 char *err, size_t errsz)
{
	*ret = NULL;
	if (n == 0)
		return 0;
	if (n > CGROUP_MAX_DEVCG_RULES)
		return errbuf_printf(err, errsz, -EINVAL, "%zu device rules: at most %d", n,
				     CGROUP_MAX_DEVCG_RULES);
	_cleanup_free_ struct cgroup_dev_rule *rules = calloc(n, sizeof(*rules));
	if (!rules)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			return errbuf_printf(err, errsz, -EINVAL, "device rule %zu is empty", i);
		int r = parse_one(v[i], i, &rules[i], err, errsz);
		if (r < 0)
			return r;
	}
	*ret = TAKE_PTR(rules);
	return 0;
}

/* ---- the policy ---- */

/* rustjail's DEFAULT_DEVICES (rwm) and DEFAULT_ALLOWED_DEVICES, in Kata's order. */
static const struct cgroup_dev_rule whitelist[] = {
    {'c', 1, 3, CGROUP_DEV_RWM, true},	   /* /dev/null */
    {'c', 1, 5, CGROUP_DEV_RWM, true},	   /* /dev/zero */
    {'c', 1, 7, CGROUP_DEV_RWM, true},	   /* /dev/full */
    {'c', 5, 0, CGROUP_DEV_RWM, true},	   /* /dev/tty */
    {'c', 1, 9, CGROUP_DEV_RWM, true},	   /* /dev/urandom */
    {'c', 1, 8, CGROUP_DEV_RWM, true},	   /* /dev/random */
    {'c', -1, -1, CGROUP_DEV_MKNOD, true}, /* mknod of any char device */
    {'b', -1, -1, CGROUP_DEV_MKNOD, true}, /* and any block device */
    {'c', 5, 1, CGROUP_DEV_RWM, true},	   /* /dev/console */
    {'c', 136, -1, CGROUP_DEV_RWM, true},  /* /dev/pts/N */
    {'c', 5, 2, CGROUP_DEV_RWM, true},	   /* /dev/ptmx */
    {'c', 10, 200, CGROUP_DEV_RWM, true},  /* /dev/net/tun */
};

static bool all_devices(const struct cgroup_dev_rule *r)
{
	return r->type == 'a' && r->major < 0 && r->minor < 0 && r->access == CGROUP_DEV_RWM;
}

void cgroup_dev_policy_free(struct cgroup_dev_policy *p)
{
	free(p->rules);
	*p = (struct cgroup_dev_policy){0};
}

static void reset(struct cgroup_dev_policy *p, bool allow)
{
	p->default_allow = allow;
	p->n = 0;
	if (!allow) {
		memcpy(p->rules, whitelist, sizeof(whitelist));
		p->n = ARRAY_SIZE(whitelist);
	}
}

static void add_rules(struct cgroup_dev_policy *p, const struct cgroup_dev_rule *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (all_devices(&v[i]))
			reset(p, v[i].allow);
		else
			p->rules[p->n++] = v[i];
	}
}

int cgroup_devices_policy(const struct cgroup_dev_rule *create, size_t n_create,
			  const struct cgroup_dev_rule *update, size_t n_update,
			  struct cgroup_dev_policy *ret)
{
	*ret = (struct cgroup_dev_policy){0};
	ret->rules = calloc(ARRAY_SIZE(whitelist) + n_create + n_update, sizeof(*ret->rules));
	if (!ret->rules)
		return -ENOMEM;
	reset(ret, false);
	add_rules(ret, create, n_create);
	add_rules(ret, update, n_update);
	return 0;
}

static bool rule_matches(const struct cgroup_dev_rule *r, char type, uint32_t major, uint32_t minor)
{
	return (r->type == 'a' || r->type == type) &&
	       (r->major < 0 || (uint32_t)r->major == major) &&
	       (r->minor < 0 || (uint32_t)r->minor == minor);
}

bool cgroup_devices_allows(const struct cgroup_dev_policy *p, char type, uint32_t major,
			   uint32_t minor, unsigned access)
{
	for (unsigned bit = 1; bit <= CGROUP_DEV_WRITE; bit <<= 1) {
		if (!(access & bit))
			continue;
		bool allow = p->default_allow;
		for (size_t i = 0; i < p->n; i++)
			if ((p->rules[i].access & bit) &&
			    rule_matches(&p->rules[i], type, major, minor))
				allow = p->rules[i].allow;
		if (!allow)
			return false;
	}
	return true;
}

/* ---- the program ---- */

#define INSN(c, d, s, o, i)                                                                        \
	((struct bpf_insn){.code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i)})
#define LDX_W(dst, src, off)	   INSN(BPF_LDX | BPF_W | BPF_MEM, dst, src, off, 0)
#define ALU32_IMM(op, dst, imm)	   INSN(BPF_ALU | (op) | BPF_K, dst, 0, 0, imm)
#define MOV64_IMM(dst, imm)	   INSN(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JMP_IMM(op, dst, imm, off) INSN(BPF_JMP | (op) | BPF_K, dst, 0, off, imm)
#define EXIT()			   INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* A rule at most: the type test, a load and a test for each number, the action. */
#define RULE_MAX_INSNS 6
#define PROLOGUE_INSNS 4
#define EPILOGUE_INSNS 5

enum { R0, R1, R2, R3, R4, R5 };

static void emit(struct bpf_insn *v, size_t *len, struct bpf_insn insn)
{
	v[(*len)++] = insn;
}

int cgroup_devices_compile(const struct cgroup_dev_policy *p, struct bpf_insn **ret, size_t *n)
{
	*ret = NULL;
	*n = 0;
	bool any_deny = false;
	for (size_t i = 0; i < p->n; i++)
		any_deny |= !p->rules[i].allow && p->rules[i].access;
	if (p->default_allow && !any_deny)
		return 0; /* everything is allowed: no program */

	size_t cap = PROLOGUE_INSNS + p->n * RULE_MAX_INSNS + EPILOGUE_INSNS, len = 0;
	_cleanup_free_ struct bpf_insn *v = calloc(cap, sizeof(*v));
	/* the deny rules' jumps to the exit that denies, patched at the end */
	_cleanup_free_ size_t *deny = calloc(p->n + 1, sizeof(size_t));
	size_t n_deny = 0;
	if (!v || !deny)
		return -ENOMEM;
		/* (a function: `len` in an argument is read before it grows) */
#define EMIT(insn) emit(v, &len, insn)

	EMIT(LDX_W(R2, R1, 0)); /* type */
	EMIT(ALU32_IMM(BPF_AND, R2, 0xFFFF));
	EMIT(LDX_W(R3, R1, 0)); /* access: the bits no rule decided yet */
	EMIT(ALU32_IMM(BPF_RSH, R3, 16));

	/* Bits a rule for every device decided already: earlier rules cannot change them. */
	unsigned decided = 0;
	for (size_t k = p->n; k-- > 0;) {
		const struct cgroup_dev_rule *r = &p->rules[k];
		unsigned access = r->access & ~decided;
		if (!access)
			continue;
		bool has_type = r->type != 'a', has_major = r->major >= 0,
		     has_minor = r->minor >= 0;
		/* each test jumps past the rule when it fails */
		size_t rule_end = len + has_type + 2 * has_major + 2 * has_minor + 1;
		if (has_type)
			EMIT(JMP_IMM(BPF_JNE, R2,
				     r->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
				     (int16_t)(rule_end - len - 1)));
		/* Loaded again for each test: a register found equal to a number is known to the
		 * verifier, which then explores each later test of it on both paths, over and
		 * over (quadratic: 48 ms to load 256 rules here; 7 ms so). */
		if (has_major) {
			EMIT(LDX_W(R4, R1, 4));
			EMIT(JMP_IMM(BPF_JNE, R4, r->major, (int16_t)(rule_end - len - 1)));
		}
		if (has_minor) {
			EMIT(LDX_W(R5, R1, 8));
			EMIT(JMP_IMM(BPF_JNE, R5, r->minor, (int16_t)(rule_end - len - 1)));
		}
		/* A deny rule denies when it has a bit still undecided; an allow rule decides its
		 * bits. (No early exit once all are allowed: fewer branches, a faster verifier.) */
		if (r->allow) {
			EMIT(ALU32_IMM(BPF_AND, R3, (int32_t)~access));
		} else {
			deny[n_deny++] = len;
			EMIT(JMP_IMM(BPF_JSET, R3, (int32_t)access, 0));
		}
		if (!has_type && !has_major && !has_minor)
			decided |= access;
	}
	/* What no rule decided gets the default. */
	size_t deny_exit;
	if (p->default_allow) {
		EMIT(MOV64_IMM(R0, 1));
		EMIT(EXIT());
		deny_exit = len;
		/* (only when a jump needs it: the verifier refuses unreachable code) */
		if (n_deny) {
			EMIT(MOV64_IMM(R0, 0));
			EMIT(EXIT());
		}
	} else {
		EMIT(JMP_IMM(BPF_JEQ, R3, 0, 2));
		deny_exit = len;
		EMIT(MOV64_IMM(R0, 0));
		EMIT(EXIT());
		EMIT(MOV64_IMM(R0, 1));
		EMIT(EXIT());
	}
#undef EMIT
	for (size_t i = 0; i < n_deny; i++)
		v[deny[i]].off = (int16_t)(deny_exit - deny[i] - 1);
	*n = len;
	*ret = TAKE_PTR(v);
	return 0;
}

/* ---- the kernel ---- */

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(SYS_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

static int prog_load(union bpf_attr *a)
{
	int fd = sys_bpf(BPF_PROG_LOAD, a);
	if (fd != -EPERM)
		return fd;
	/* Before Linux 5.11 programs are charged to RLIMIT_MEMLOCK (64 KiB by default on older
	 * kernels). Raise it for the load only: containers inherit the agent's limits. */
	struct rlimit old, unlimited = {RLIM_INFINITY, RLIM_INFINITY};
	if (getrlimit(RLIMIT_MEMLOCK, &old) < 0 || setrlimit(RLIMIT_MEMLOCK, &unlimited) < 0)
		return fd;
	fd = sys_bpf(BPF_PROG_LOAD, a);
	(void)setrlimit(RLIMIT_MEMLOCK, &old);
	return fd;
}

/* The verifier's last words, which say why. */
static const char *log_tail(char *log)
{
	size_t l = strlen(log);
	while (l && log[l - 1] == '\n')
		log[--l] = '\0';
	char *nl = strrchr(log, '\n');
	return nl ? nl + 1 : log;
}

static int load(const struct bpf_insn *insns, size_t n, char *err, size_t errsz)
{
	union bpf_attr a = {0};
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = (uint32_t)n;
	/* Device programs call no GPL-only helper. */
	a.license = (uint64_t)(uintptr_t) "Apache-2.0";
	memcpy(a.prog_name, PROG_NAME, sizeof(PROG_NAME));
	int fd = prog_load(&a);
	if (fd >= 0)
		return fd;
	if (fd == -ENOSYS)
		return errbuf_printf(err, errsz, -CGROUP_ENOCTRL,
				     "device cgroup policy: the kernel has no bpf() system call "
				     "(CONFIG_BPF_SYSCALL)");
	if (fd == -EPERM)
		return errbuf_printf(err, errsz, fd,
				     "device cgroup policy: loading a BPF program is not permitted "
				     "(CAP_SYS_ADMIN or CAP_BPF, kernel lockdown?)");
	if (fd != -EINVAL && fd != -EACCES)
		return errbuf_printf(err, errsz, fd,
				     "device cgroup policy: loading the BPF program: %s",
				     strerror(-fd));
	/* Again with the verifier's log: it is empty when the kernel does not know the program
	 * type at all. */
	_cleanup_free_ char *log = calloc(1, LOG_BUF_SIZE);
	if (!log)
		return -ENOMEM;
	a.log_level = 1;
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = LOG_BUF_SIZE;
	fd = prog_load(&a);
	if (fd >= 0)
		return fd;
	if (!*log && fd == -EINVAL)
		return errbuf_printf(err, errsz, -CGROUP_ENOCTRL,
				     "device cgroup policy: the kernel has no BPF device cgroup "
				     "programs (BPF_PROG_TYPE_CGROUP_DEVICE, CONFIG_CGROUP_BPF)");
	/* Ours to fix: the program is built here. */
	return errbuf_printf(err, errsz, -EPROTO,
			     "device cgroup policy: the kernel refused the program of %zu "
			     "instructions: %s (%s)",
			     n, *log ? log_tail(log) : "no verifier log", strerror(-fd));
}

int devices_load(struct cgroup_mgr *m, const struct bpf_insn *insns, size_t n, char *err,
		 size_t errsz)
{
	/* One program may be attached to many cgroups. */
	if (m->dev_cache_fd >= 0 && n == m->dev_cache_n &&
	    !memcmp(insns, m->dev_cache_insns, n * sizeof(*insns))) {
		int fd = fcntl(m->dev_cache_fd, F_DUPFD_CLOEXEC, 3);
		return fd < 0 ? -errno : fd;
	}
	_cleanup_close_ int fd = load(insns, n, err, errsz);
	if (fd < 0)
		return fd;
	_cleanup_free_ struct bpf_insn *copy = malloc(n * sizeof(*insns));
	int cache_fd = copy ? fcntl(fd, F_DUPFD_CLOEXEC, 3) : -1;
	if (cache_fd >= 0) {
		memcpy(copy, insns, n * sizeof(*insns));
		safe_close(m->dev_cache_fd);
		free(m->dev_cache_insns);
		m->dev_cache_fd = cache_fd;
		m->dev_cache_insns = TAKE_PTR(copy);
		m->dev_cache_n = n;
	}
	return TAKE_FD(fd);
}

static void warm_up(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct cgroup_mgr *m = t->data;
	_cleanup_(cgroup_dev_policy_free) struct cgroup_dev_policy p = {0};
	_cleanup_free_ struct bpf_insn *insns = NULL;
	char err[CGROUP_ERR_MAX] = "";
	size_t n = 0;
	int r = cgroup_devices_policy(NULL, 0, NULL, 0, &p);
	if (r >= 0)
		r = cgroup_devices_compile(&p, &insns, &n);
	if (r >= 0)
		r = devices_load(m, insns, n, err, sizeof(err));
	if (r < 0) {
		/* Each container will fail with this message: say it once up front. */
		if (*err)
			log_warn("%s", err);
		else
			log_warn_errno(r, "device cgroup policy: %m");
		return;
	}
	safe_close(r);
}

void devices_warm_up(struct cgroup_mgr *m)
{
	if (ev_timer_start(m->loop, &m->dev_warm_timer, 0, warm_up, m) < 0)
		log_debug("device cgroup policy: no warm-up");
}

static int prog_detach(int cgroup_fd, int prog_fd)
{
	union bpf_attr a = {0};
	a.target_fd = (uint32_t)cgroup_fd;
	a.attach_bpf_fd = (uint32_t)prog_fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	return sys_bpf(BPF_PROG_DETACH, &a);
}

int devices_attach(int cgroup_fd, int prog_fd, int old_fd, char *err, size_t errsz)
{
	union bpf_attr a = {0};
	int r = 0;

	if (prog_fd < 0) {
		r = old_fd >= 0 ? prog_detach(cgroup_fd, old_fd) : 0;
		if (r < 0 && r != -ENOENT)
			return errbuf_printf(err, errsz, r,
					     "device cgroup policy: detaching the BPF program: %s",
					     strerror(-r));
		return 0;
	}
	/* ALLOW_MULTI as runc, crun and systemd: programs of ancestors and descendants all
	 * apply (each must allow), and a cgroup below ours cannot drop ours. */
	a.target_fd = (uint32_t)cgroup_fd;
	a.attach_bpf_fd = (uint32_t)prog_fd;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (old_fd >= 0) {
		a.attach_flags |= BPF_F_REPLACE;
		a.replace_bpf_fd = (uint32_t)old_fd;
	}
	r = sys_bpf(BPF_PROG_ATTACH, &a);
	if (r == -EINVAL && old_fd >= 0) {
		/* Before Linux 5.6 (no BPF_F_REPLACE): the new one, then the old one goes.
		 * Meanwhile both apply, which can only deny more. */
		a.attach_flags = BPF_F_ALLOW_MULTI;
		a.replace_bpf_fd = 0;
		r = sys_bpf(BPF_PROG_ATTACH, &a);
		if (r >= 0) {
			r = prog_detach(cgroup_fd, old_fd);
			if (r == -ENOENT)
				r = 0;
		}
	}
	if (r == -EINVAL || r == -EOPNOTSUPP)
		return errbuf_printf(err, errsz, -CGROUP_ENOCTRL,
				     "device cgroup policy: the kernel cannot attach BPF device "
				     "programs to cgroups (%s; CONFIG_CGROUP_BPF)",
				     strerror(-r));
	if (r < 0)
		return errbuf_printf(err, errsz, r,
				     "device cgroup policy: attaching the BPF program: %s",
				     strerror(-r));
	return 0;
}

#define QUERY_MAX                                                                                  \
	64 /* the kernel's own bound on programs per attach point (BPF_CGROUP_MAX_PROGS) */

int devices_detach_all(int cgroup_fd)
{
	uint32_t ids[QUERY_MAX];
	union bpf_attr a = {0};
	a.query.target_fd = (uint32_t)cgroup_fd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)ids;
	a.query.prog_cnt = QUERY_MAX;
	int r = sys_bpf(BPF_PROG_QUERY, &a);
	if (r < 0)
		return r;
	for (uint32_t i = 0; i < a.query.prog_cnt && i < QUERY_MAX; i++) {
		union bpf_attr g = {0};
		g.prog_id = ids[i];
		_cleanup_close_ int fd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &g);
		if (fd == -ENOENT)
			continue; /* gone meanwhile */
		if (fd < 0)
			return fd;
		r = prog_detach(cgroup_fd, fd);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}
