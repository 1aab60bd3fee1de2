/* SPDX-License-Identifier: Apache-2.0 */
/*
 * agent/security seccomp: OCI profiles compiled with libseccomp, including malformed ones.
 * Compiled programs are loaded in a forked child (with no_new_privs, no root needed) to
 * check that they do what the profile says, not just that something compiled.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent/security/security.h"

#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* A small builder for profiles. */
struct prof {
	Grpc__LinuxSeccomp s;
	Grpc__LinuxSyscall sc[24];
	Grpc__LinuxSyscall *scp[24];
	Grpc__LinuxSeccompArg arg[24][4];
	Grpc__LinuxSeccompArg *argp[24][4];
	char *names[24][4];
};

static void prof_init(struct prof *p, const char *def)
{
	memset(p, 0, sizeof(*p));
	grpc__linux_seccomp__init(&p->s);
	p->s.defaultaction = (char *)def;
	p->s.syscalls = p->scp;
}

static Grpc__LinuxSyscall *prof_add(struct prof *p, const char *name, const char *action)
{
	size_t i = p->s.n_syscalls++;
	assert_true(i < ARRAY_SIZE(p->sc));
	grpc__linux_syscall__init(&p->sc[i]);
	p->scp[i] = &p->sc[i];
	p->names[i][0] = (char *)name;
	p->sc[i].names = p->names[i];
	p->sc[i].n_names = 1;
	p->sc[i].action = (char *)action;
	p->sc[i].args = p->argp[i];
	return &p->sc[i];
}

static void prof_arg(struct prof *p, Grpc__LinuxSyscall *sc, uint64_t index, const char *op,
		     uint64_t value, uint64_t value2)
{
	size_t i = (size_t)(sc - p->sc), a = sc->n_args++;
	assert_true(a < ARRAY_SIZE(p->arg[0]));
	grpc__linux_seccomp_arg__init(&p->arg[i][a]);
	p->argp[i][a] = &p->arg[i][a];
	p->arg[i][a].index = index;
	p->arg[i][a].op = (char *)op;
	p->arg[i][a].value = value;
	p->arg[i][a].valuetwo = value2;
}

static void compile_ok(struct prof *p, struct security_bpf *b)
{
	char err[SECURITY_ERR_MAX] = "";
	int r = security_seccomp_compile(&p->s, b, err, sizeof(err));
	if (r < 0)
		fail_msg("compile: %d %s", r, err);
	assert_non_null(b->insns);
	assert_true(b->len > 0 && b->len <= 4096);
}

static void compile_fails(struct prof *p, const char *want1, const char *want2)
{
	char err[SECURITY_ERR_MAX] = "";
	struct security_bpf b;
	assert_int_equal(security_seccomp_compile(&p->s, &b, err, sizeof(err)), -EINVAL);
	assert_null(b.insns);
	if (!strstr(err, want1) || (want2 && !strstr(err, want2)))
		fail_msg("error '%s' lacks '%s' / '%s'", err, want1, want2 ? want2 : "");
}

/* Runs fn in a child that loaded b; returns fn's result (an errno or 0) via the exit code. */
static int in_filtered_child(const struct security_bpf *b, int (*fn)(void))
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			_exit(200);
		struct sock_fprog prog = {.len = b->len, .filter = b->insns};
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, b->flags, &prog) < 0)
			_exit(201);
		/* straight to exit_group: no atexit work under the filter */
		syscall(SYS_exit_group, fn());
		_exit(202);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFSIGNALED(st))
		return -WTERMSIG(st);
	assert_true(WIFEXITED(st));
	return WEXITSTATUS(st);
}

static int do_mkdir(void)
{
	char path[64];
	snprintf(path, sizeof(path), "/tmp/ember-seccomp-%d", (int)getpid());
	if (mkdir(path, 0700) < 0)
		return errno;
	rmdir(path);
	return 0;
}

static int do_getppid_twice(void)
{
	/* Not filtered by the profiles below: the process stays usable. */
	return getppid() > 0 && getppid() > 0 ? 0 : 99;
}

static int dup_result(int fd)
{
	int r = dup(fd);
	if (r >= 0) {
		close(r);
		return 0;
	}
	return errno;
}
static int dup_0x13(void)
{
	return dup_result(0x13);
}
static int dup_0x23(void)
{
	return dup_result(0x23);
}
static int dup_5(void)
{
	return dup_result(5);
}
static int dup_6(void)
{
	return dup_result(6);
}
static int dup_7(void)
{
	return dup_result(7);
}

static void test_errno_rule(void **state _unused_)
{
	struct prof p;
	struct security_bpf b;
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "mkdir", "SCMP_ACT_ERRNO");
	prof_add(&p, "mkdirat", "SCMP_ACT_ERRNO");
	compile_ok(&p, &b);
	assert_int_equal(b.flags, 0);
	assert_int_equal(in_filtered_child(&b, do_mkdir), EPERM); /* the default errno */
	assert_int_equal(in_filtered_child(&b, do_getppid_twice), 0);
	security_bpf_free(&b);

	/* errnoret overrides EPERM */
	prof_init(&p, "SCMP_ACT_ALLOW");
	Grpc__LinuxSyscall *a = prof_add(&p, "mkdir", "SCMP_ACT_ERRNO");
	a->errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	a->errnoret = ENOSPC;
	a = prof_add(&p, "mkdirat", "SCMP_ACT_ERRNO");
	a->errno_ret_case = GRPC__LINUX_SYSCALL__ERRNO_RET_ERRNORET;
	a->errnoret = ENOSPC;
	compile_ok(&p, &b);
	assert_int_equal(in_filtered_child(&b, do_mkdir), ENOSPC);
	security_bpf_free(&b);

	/* an allow list with an ERRNO default (Docker's shape) */
	prof_init(&p, "SCMP_ACT_ERRNO");
	/* what the child and a sanitizer runtime use on the way out */
	const char *allowed[] = {"exit",    "exit_group",   "getppid",	    "write",
				 "close",   "rt_sigreturn", "brk",	    "mmap",
				 "munmap",  "sigaltstack",  "rt_sigaction", "rt_sigprocmask",
				 "madvise", "mprotect",	    "getpid",	    "gettid"};
	for (size_t i = 0; i < ARRAY_SIZE(allowed); i++)
		prof_add(&p, allowed[i], "SCMP_ACT_ALLOW");
	compile_ok(&p, &b);
	assert_int_equal(in_filtered_child(&b, do_getppid_twice), 0);
	assert_int_equal(in_filtered_child(&b, do_mkdir), EPERM);
	security_bpf_free(&b);
}

static void test_kill_and_flags(void **state _unused_)
{
	struct prof p;
	struct security_bpf b;
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "mkdir", "SCMP_ACT_KILL_PROCESS");
	prof_add(&p, "mkdirat", "SCMP_ACT_KILL_PROCESS");
	char *flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
			 "SECCOMP_FILTER_FLAG_SPEC_ALLOW"};
	p.s.flags = flags;
	p.s.n_flags = 3;
	compile_ok(&p, &b);
	assert_int_equal(b.flags, SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_LOG |
				      SECCOMP_FILTER_FLAG_SPEC_ALLOW);
	assert_int_equal(in_filtered_child(&b, do_mkdir), -SIGSYS);
	security_bpf_free(&b);
}

static void test_arg_operators(void **state _unused_)
{
	struct prof p;
	struct security_bpf b;
	/* MASKED_EQ: Value is the mask, ValueTwo the value (OCI, runc): fds 0x10-0x1f */
	prof_init(&p, "SCMP_ACT_ALLOW");
	Grpc__LinuxSyscall *sc = prof_add(&p, "dup", "SCMP_ACT_ERRNO");
	prof_arg(&p, sc, 0, "SCMP_CMP_MASKED_EQ", 0xf0, 0x10);
	compile_ok(&p, &b);
	assert_int_equal(in_filtered_child(&b, dup_0x13), EPERM);
	assert_int_equal(in_filtered_child(&b, dup_0x23),
			 EBADF); /* not matched: the kernel's answer */
	security_bpf_free(&b);

	/* two comparisons of the same argument OR (each its own rule, like runc) */
	prof_init(&p, "SCMP_ACT_ALLOW");
	sc = prof_add(&p, "dup", "SCMP_ACT_ERRNO");
	prof_arg(&p, sc, 0, "SCMP_CMP_EQ", 5, 0);
	prof_arg(&p, sc, 0, "SCMP_CMP_EQ", 6, 0);
	compile_ok(&p, &b);
	assert_int_equal(in_filtered_child(&b, dup_5), EPERM);
	assert_int_equal(in_filtered_child(&b, dup_6), EPERM);
	assert_int_equal(in_filtered_child(&b, dup_7), EBADF);
	security_bpf_free(&b);

	/* GE */
	prof_init(&p, "SCMP_ACT_ALLOW");
	sc = prof_add(&p, "dup", "SCMP_ACT_ERRNO");
	prof_arg(&p, sc, 0, "SCMP_CMP_GE", 0x20, 0);
	compile_ok(&p, &b);
	assert_int_equal(in_filtered_child(&b, dup_0x13), EBADF);
	assert_int_equal(in_filtered_child(&b, dup_0x23), EPERM);
	security_bpf_free(&b);

	/* every operator name is known */
	const char *ops[] = {"SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE",	"SCMP_CMP_EQ",
			     "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		prof_init(&p, "SCMP_ACT_ALLOW");
		sc = prof_add(&p, "personality", "SCMP_ACT_ERRNO");
		prof_arg(&p, sc, 0, ops[i], 8, 8);
		compile_ok(&p, &b);
		security_bpf_free(&b);
	}
}

static void test_names_and_arches(void **state _unused_)
{
	struct prof p;
	struct security_bpf b;
	/* unknown syscall names are skipped (profiles name other kernels' syscalls) */
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "no_such_syscall_ever", "SCMP_ACT_ERRNO");
	prof_add(&p, "mkdir", "SCMP_ACT_ERRNO");
	prof_add(&p, "mkdirat", "SCMP_ACT_ERRNO");
	compile_ok(&p, &b);
	assert_int_equal(in_filtered_child(&b, do_mkdir), EPERM);
	security_bpf_free(&b);

	/* Docker's x86 architecture list */
	char *arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"};
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "mkdir", "SCMP_ACT_ERRNO");
	p.s.architectures = arches;
	p.s.n_architectures = 3;
	compile_ok(&p, &b);
	security_bpf_free(&b);

	/* a rule with the default action changes nothing and is not an error */
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "getppid", "SCMP_ACT_ALLOW");
	compile_ok(&p, &b);
	security_bpf_free(&b);

	/* absent or empty profile: no filter */
	char err[SECURITY_ERR_MAX];
	assert_int_equal(security_seccomp_compile(NULL, &b, err, sizeof(err)), 0);
	assert_null(b.insns);
	Grpc__LinuxSeccomp empty = GRPC__LINUX_SECCOMP__INIT;
	assert_int_equal(security_seccomp_compile(&empty, &b, err, sizeof(err)), 0);
	assert_null(b.insns);
}

static void test_malformed(void **state _unused_)
{
	struct prof p;
	Grpc__LinuxSyscall *sc;

	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "mkdir", "SCMP_ACT_ERRNO");
	prof_add(&p, "chmod", "SCMP_ACT_FOO");
	compile_fails(&p, "Syscalls[1] (chmod)", "unknown action 'SCMP_ACT_FOO'");

	prof_init(&p, "SCMP_ACT_ALLOW");
	sc = prof_add(&p, "dup", "SCMP_ACT_ERRNO");
	prof_arg(&p, sc, 0, "SCMP_CMP_BETWEEN", 1, 2);
	compile_fails(&p, "Syscalls[0] (dup)", "unknown operator 'SCMP_CMP_BETWEEN'");

	prof_init(&p, "SCMP_ACT_ALLOW");
	sc = prof_add(&p, "dup", "SCMP_ACT_ERRNO");
	prof_arg(&p, sc, 6, "SCMP_CMP_EQ", 1, 0);
	compile_fails(&p, "Syscalls[0] (dup)", "index 6");

	prof_init(&p, "SCMP_ACT_BOGUS");
	compile_fails(&p, "DefaultAction", "'SCMP_ACT_BOGUS'");

	prof_init(&p, "SCMP_ACT_NOTIFY");
	compile_fails(&p, "SCMP_ACT_NOTIFY", NULL);
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "mkdir", "SCMP_ACT_NOTIFY");
	compile_fails(&p, "Syscalls[0] (mkdir)", "SCMP_ACT_NOTIFY");

	prof_init(&p, "");
	prof_add(&p, "mkdir", "SCMP_ACT_ERRNO");
	compile_fails(&p, "DefaultAction is empty", NULL);

	char *arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_Z80"};
	prof_init(&p, "SCMP_ACT_ALLOW");
	p.s.architectures = arches;
	p.s.n_architectures = 2;
	compile_fails(&p, "Architectures[1]", "'SCMP_ARCH_Z80'");
	char *native[] = {"x86_64"};
	p.s.architectures = native;
	p.s.n_architectures = 1;
	compile_fails(&p, "Architectures[0]", "'x86_64'");

	char *flags[] = {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_NEW_LISTENER"};
	prof_init(&p, "SCMP_ACT_ALLOW");
	p.s.flags = flags;
	p.s.n_flags = 2;
	compile_fails(&p, "Flags[1]", "'SECCOMP_FILTER_FLAG_NEW_LISTENER'");

	/* a control character in a name is not echoed raw */
	prof_init(&p, "SCMP_ACT_ALLOW");
	prof_add(&p, "mkdir", "SCMP_ACT_\n\x1b[31m");
	compile_fails(&p, "unknown action 'SCMP_ACT_??[31m'", NULL);
}

static void test_bounds(void **state _unused_)
{
	/* too many entries: refused before libseccomp sees them */
	Grpc__LinuxSeccomp s = GRPC__LINUX_SECCOMP__INIT;
	s.defaultaction = "SCMP_ACT_ALLOW";
	size_t n = 1025;
	Grpc__LinuxSyscall *scs = calloc(n, sizeof(*scs));
	Grpc__LinuxSyscall **scp = calloc(n, sizeof(*scp));
	char *name[] = {"mkdir"};
	for (size_t i = 0; i < n; i++) {
		grpc__linux_syscall__init(&scs[i]);
		scs[i].names = name;
		scs[i].n_names = 1;
		scs[i].action = "SCMP_ACT_ERRNO";
		scp[i] = &scs[i];
	}
	s.syscalls = scp;
	s.n_syscalls = n;
	struct security_bpf b;
	char err[SECURITY_ERR_MAX];
	assert_int_equal(security_seccomp_compile(&s, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "1025 entries"));
	/* at the limit it compiles (duplicate rules merge) */
	s.n_syscalls = 1024;
	assert_int_equal(security_seccomp_compile(&s, &b, err, sizeof(err)), 0);
	security_bpf_free(&b);

	/* the compile-time budget: rules x architectures^2, argument rules weigh more */
	char *arches[] = {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
			  "SCMP_ARCH_AARCH64"};
	s.architectures = arches;
	s.n_architectures = 4;
	s.n_syscalls = 600; /* 600 x 16 units */
	assert_int_equal(security_seccomp_compile(&s, &b, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "too large"));
	assert_non_null(strstr(err, "Syscalls[512]"));
	s.n_architectures = 3; /* Docker's x86 list: 600 x 9 units fit */
	assert_int_equal(security_seccomp_compile(&s, &b, err, sizeof(err)), 0);
	security_bpf_free(&b);
	free(scs);
	free(scp);
}

static void test_supported(void **state _unused_)
{
	/* this host's kernel has filter mode and libseccomp works: GetGuestDetails says so */
	assert_true(security_seccomp_supported());
	assert_true(security_seccomp_supported()); /* cached */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_errno_rule),	  cmocka_unit_test(test_kill_and_flags),
	    cmocka_unit_test(test_arg_operators), cmocka_unit_test(test_names_and_arches),
	    cmocka_unit_test(test_malformed),	  cmocka_unit_test(test_bounds),
	    cmocka_unit_test(test_supported),
	};
	log_set_level(LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
