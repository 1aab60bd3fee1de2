/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The device policy: Resources.Devices parsing (proto3 wildcards, errors naming the rule),
 * Kata's whitelist with the spec's rules (last match wins per access bit, "a *:* rwm" as a
 * reset), and the BPF program generated from it, run here by a small interpreter of the
 * instructions the generator emits. The interpreter also checks what the kernel's verifier
 * checks first (every instruction reachable, jumps forward and in range, no falling off the
 * end). The program is held to a table of hand-computed cases and to the reference semantics
 * (cgroup_devices_allows) on random policies. Loading into the kernel is the integration
 * tests' (test-cgroup-devices.c).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cgroup/cgroup.h"

#include <linux/bpf.h>

#define R   CGROUP_DEV_READ
#define W   CGROUP_DEV_WRITE
#define M   CGROUP_DEV_MKNOD
#define RWM CGROUP_DEV_RWM

/* ---- the interpreter ---- */

static void check_cfg(const struct bpf_insn *p, size_t n)
{
	bool seen[8192] = {0};
	size_t stack[8192], sp = 0;
	assert_true(n > 0 && n <= 4096); /* BPF_MAXINSNS: loadable on any kernel */
	stack[sp++] = 0;
	seen[0] = true;
	while (sp) {
		size_t pc = stack[--sp], next[2];
		int nn = 0;
		const struct bpf_insn *i = &p[pc];
		if (i->code == (BPF_JMP | BPF_EXIT))
			continue;
		if (BPF_CLASS(i->code) == BPF_JMP) {
			assert_true(i->off >= 0); /* forward only: no loop */
			next[nn++] = pc + 1 + (size_t)i->off;
			if (BPF_OP(i->code) != BPF_JA)
				next[nn++] = pc + 1;
		} else {
			next[nn++] = pc + 1;
		}
		for (int k = 0; k < nn; k++) {
			if (next[k] >= n)
				fail_msg(
				    "instruction %zu jumps or falls to %zu, past the end (%zu)", pc,
				    next[k], n);
			if (!seen[next[k]]) {
				seen[next[k]] = true;
				stack[sp++] = next[k];
			}
		}
	}
	for (size_t pc = 0; pc < n; pc++)
		if (!seen[pc])
			fail_msg("instruction %zu is unreachable (the verifier refuses that)", pc);
}

/* struct bpf_cgroup_dev_ctx */
static int run(const struct bpf_insn *p, size_t n, char type, uint32_t major, uint32_t minor,
	       unsigned access)
{
	uint32_t ctx[3] = {(type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR) | access << 16,
			   major, minor};
	uint64_t r[11] = {0};
	bool set[11] = {[1] = true};
	for (size_t pc = 0; pc < n;) {
		const struct bpf_insn *i = &p[pc++];
		uint64_t imm = (uint64_t)(int64_t)i->imm;
		if (i->code != (BPF_JMP | BPF_EXIT) && i->code != (BPF_JMP | BPF_JA) &&
		    !(BPF_CLASS(i->code) == BPF_ALU64 && BPF_OP(i->code) == BPF_MOV) &&
		    BPF_CLASS(i->code) != BPF_LDX && !set[i->dst_reg])
			fail_msg("instruction %zu reads r%d before it is set", pc - 1, i->dst_reg);
		switch (i->code) {
		case BPF_LDX | BPF_W | BPF_MEM:
			assert_int_equal(i->src_reg, 1);
			assert_true(i->off == 0 || i->off == 4 || i->off == 8);
			r[i->dst_reg] = ctx[i->off / 4];
			set[i->dst_reg] = true;
			break;
		case BPF_ALU | BPF_AND | BPF_K:
			r[i->dst_reg] = (uint32_t)r[i->dst_reg] & (uint32_t)i->imm;
			break;
		case BPF_ALU | BPF_RSH | BPF_K:
			r[i->dst_reg] = (uint32_t)r[i->dst_reg] >> i->imm;
			break;
		case BPF_ALU64 | BPF_MOV | BPF_K:
			r[i->dst_reg] = imm;
			set[i->dst_reg] = true;
			break;
		case BPF_JMP | BPF_JA:
			pc += (size_t)i->off;
			break;
		case BPF_JMP | BPF_JNE | BPF_K:
			pc += r[i->dst_reg] != imm ? (size_t)i->off : 0;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += r[i->dst_reg] == imm ? (size_t)i->off : 0;
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += r[i->dst_reg] & imm ? (size_t)i->off : 0;
			break;
		case BPF_JMP | BPF_EXIT:
			assert_true(set[0]);
			assert_true(r[0] == 0 || r[0] == 1);
			return (int)r[0];
		default:
			fail_msg("instruction %zu: opcode 0x%02x is not one the generator emits",
				 pc - 1, i->code);
		}
	}
	fail_msg("the program ran off its end");
	return -1;
}

/* ---- helpers ---- */

struct spec_rule {
	bool allow;
	const char *type;
	int64_t major, minor;
	const char *access;
};

/* Resources.Devices as the wire has them (d and v hold n entries). */
static void to_wire(const struct spec_rule *s, size_t n, Grpc__LinuxDeviceCgroup *d,
		    Grpc__LinuxDeviceCgroup **v)
{
	for (size_t i = 0; i < n; i++) {
		grpc__linux_device_cgroup__init(&d[i]);
		d[i].allow = s[i].allow;
		d[i].type = (char *)s[i].type;
		d[i].major = s[i].major;
		d[i].minor = s[i].minor;
		d[i].access = (char *)s[i].access;
		v[i] = &d[i];
	}
}

/* ... -> the container's policy (creation only). */
static void policy_of(const struct spec_rule *s, size_t n, struct cgroup_dev_policy *p)
{
	Grpc__LinuxDeviceCgroup d[64], *v[64];
	struct cgroup_dev_rule *rules = NULL;
	char err[CGROUP_ERR_MAX] = "";
	assert_true(n <= 64);
	to_wire(s, n, d, v);
	int r = cgroup_devices_parse(v, n, &rules, err, sizeof(err));
	if (r < 0)
		fail_msg("parse: %s", err);
	assert_int_equal(cgroup_devices_policy(rules, n, NULL, 0, p), 0);
	free(rules);
}

/* The program and the reference agree on the case, and both say `expect`. */
static void expect_access(const struct cgroup_dev_policy *p, char type, uint32_t major,
			  uint32_t minor, unsigned access, bool expect)
{
	struct bpf_insn *prog = NULL;
	size_t n = 0;
	assert_int_equal(cgroup_devices_compile(p, &prog, &n), 0);
	bool ref = cgroup_devices_allows(p, type, major, minor, access);
	bool got = true;
	if (n) {
		check_cfg(prog, n);
		got = run(prog, n, type, major, minor, access) == 1;
	}
	free(prog);
	if (ref != expect || got != expect)
		fail_msg("%c %u:%u access %u: expected %s, reference says %s, program says %s",
			 type, major, minor, access, expect ? "allow" : "deny",
			 ref ? "allow" : "deny", got ? "allow" : "deny");
}

static int parse_err(const struct spec_rule *s, size_t n, char *err)
{
	Grpc__LinuxDeviceCgroup d[4], *v[4];
	struct cgroup_dev_rule *rules = NULL;
	assert_true(n <= 4);
	to_wire(s, n, d, v);
	err[0] = '\0';
	int r = cgroup_devices_parse(v, n, &rules, err, CGROUP_ERR_MAX);
	free(rules);
	return r;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in '%s'", needle, hay);
}

/* ---- tests ---- */

/* A container whose spec has no device rule (what the Go runtime sends): Kata's whitelist. */
static void test_default_whitelist(void **state _unused_)
{
	struct cgroup_dev_policy p;
	policy_of(NULL, 0, &p);
	assert_false(p.default_allow);
	expect_access(&p, 'c', 1, 3, R | W, true); /* /dev/null, O_RDWR */
	expect_access(&p, 'c', 1, 5, R, true);	   /* zero */
	expect_access(&p, 'c', 1, 7, W, true);	   /* full */
	expect_access(&p, 'c', 1, 8, R, true);	   /* random */
	expect_access(&p, 'c', 1, 9, R, true);	   /* urandom */
	expect_access(&p, 'c', 5, 0, R | W, true); /* tty */
	expect_access(&p, 'c', 5, 1, R | W, true); /* console */
	expect_access(&p, 'c', 5, 2, R | W, true); /* ptmx */
	expect_access(&p, 'c', 136, 0, R | W, true);
	expect_access(&p, 'c', 136, 4095, R | W, true); /* any pts */
	expect_access(&p, 'c', 10, 200, R | W, true);	/* tun */
	/* mknod of anything, opening nothing else */
	expect_access(&p, 'b', 8, 0, M, true);
	expect_access(&p, 'b', 8, 0, R, false);
	expect_access(&p, 'b', 8, 0, W, false);
	expect_access(&p, 'b', 253, 1, R | W, false);
	expect_access(&p, 'c', 10, 229, M, true); /* fuse */
	expect_access(&p, 'c', 10, 229, R | W, false);
	expect_access(&p, 'c', 1, 1, R, false); /* /dev/mem */
	expect_access(&p, 'c', 4, 0, W, false); /* tty0 */
	expect_access(&p, 'c', 5, 3, R, false);
	expect_access(&p, 'b', 1, 3, R, false); /* the type counts */
	expect_access(&p, 'c', 1, 3, R | W | M, true);
	cgroup_dev_policy_free(&p);
}

/* Spec rules come after the whitelist and the last match wins, bit by bit. */
static void test_last_match_wins(void **state _unused_)
{
	struct cgroup_dev_policy p;
	const struct spec_rule deny_null_write[] = {{false, "c", 1, 3, "w"}};
	policy_of(deny_null_write, 1, &p);
	expect_access(&p, 'c', 1, 3, R, true);
	expect_access(&p, 'c', 1, 3, W, false);
	/* O_RDWR asks for both at once: the write bit is denied, so is the open (a test of
	 * "the rule covers the whole request" would let this through) */
	expect_access(&p, 'c', 1, 3, R | W, false);
	expect_access(&p, 'c', 1, 5, R | W, true);
	cgroup_dev_policy_free(&p);

	/* a later allow reopens what an earlier deny closed, for its bits only */
	const struct spec_rule reopen[] = {{false, "c", 1, -1, "rwm"}, {true, "c", 1, 5, "r"}};
	policy_of(reopen, 2, &p);
	expect_access(&p, 'c', 1, 5, R, true);
	expect_access(&p, 'c', 1, 5, W, false);
	expect_access(&p, 'c', 1, 3, R, false);
	expect_access(&p, 'c', 1, 3, M, false);
	expect_access(&p, 'c', 136, 2, R | W, true);
	cgroup_dev_policy_free(&p);

	/* and a later deny shadows an earlier allow */
	const struct spec_rule shadow[] = {{true, "b", 8, -1, "rw"}, {false, "b", 8, 2, "w"}};
	policy_of(shadow, 2, &p);
	expect_access(&p, 'b', 8, 1, R | W, true);
	expect_access(&p, 'b', 8, 2, R, true);
	expect_access(&p, 'b', 8, 2, R | W, false);
	expect_access(&p, 'b', 9, 2, R, false);
	cgroup_dev_policy_free(&p);

	/* allows of separate bits add up (as cgroup v1's exceptions) */
	const struct spec_rule split[] = {{true, "b", 7, 1, "r"}, {true, "b", 7, 1, "w"}};
	policy_of(split, 2, &p);
	expect_access(&p, 'b', 7, 1, R | W, true);
	expect_access(&p, 'b', 7, 2, R, false);
	cgroup_dev_policy_free(&p);
}

/* Wildcards: -1, proto3's 0 for an unset number, and type a (both kinds). */
static void test_wildcards(void **state _unused_)
{
	struct cgroup_dev_policy p;
	const struct spec_rule rules[] = {
	    {true, "b", 8, -1, "r"},  /* b 8:* r */
	    {true, "a", 7, -1, "rw"}, /* a 7:* rw */
	    {true, "c", 0, 0, "rw"},  /* OCI "c *:* rw" as the Go runtime sends it */
	    {false, "", 0, 0, "w"},   /* OCI "a *:* w" with the type unset */
	    {true, "b", 9, 0, "r"},   /* minor 0 of a real major is minor 0 */
	    {true, "b", -1, 5, "w"},  /* b *:5 w */
	};
	policy_of(rules, ARRAY_SIZE(rules), &p);
	expect_access(&p, 'b', 8, 0, R, true);
	expect_access(&p, 'b', 8, 17, R, true);
	expect_access(&p, 'b', 8, 17, W, false); /* the later "a *:* w" deny */
	expect_access(&p, 'b', 7, 3, R, true);
	expect_access(&p, 'c', 7, 3, R, true);
	expect_access(&p, 'c', 42, 42, R, true);
	expect_access(&p, 'c', 42, 42, W, false);
	expect_access(&p, 'b', 42, 42, R, false);
	expect_access(&p, 'b', 9, 0, R, true);
	expect_access(&p, 'b', 9, 1, R, false);
	expect_access(&p, 'b', 100, 5, W, true); /* after the deny */
	expect_access(&p, 'b', 100, 6, W, false);
	cgroup_dev_policy_free(&p);
}

/* "a *:* rwm": allow = allowed all (no program at all), deny = back to the whitelist. */
static void test_all_devices_rules(void **state _unused_)
{
	struct cgroup_dev_policy p;
	struct bpf_insn *prog = NULL;
	size_t n = 1;

	/* containerd's privileged spec, through the Go runtime (type and numbers unset) */
	const struct spec_rule all[] = {{true, "", 0, 0, "rwm"}};
	policy_of(all, 1, &p);
	assert_true(p.default_allow);
	assert_int_equal(p.n, 0);
	assert_int_equal(cgroup_devices_compile(&p, &prog, &n), 0);
	assert_int_equal(n, 0);
	assert_null(prog);
	expect_access(&p, 'b', 8, 0, R | W, true);
	cgroup_dev_policy_free(&p);

	/* rules after it still apply, on a default of allow */
	const struct spec_rule all_but[] = {{true, "a", -1, -1, "rwm"}, {false, "b", 8, 0, "rw"}};
	policy_of(all_but, 2, &p);
	expect_access(&p, 'b', 8, 0, R, false);
	expect_access(&p, 'b', 8, 0, M, true);
	expect_access(&p, 'b', 8, 1, R | W, true);
	expect_access(&p, 'c', 4, 0, W, true);
	cgroup_dev_policy_free(&p);

	/* runtimes' default specs start with a deny-all: the whitelist stays (Kata drops it) */
	const struct spec_rule deny_first[] = {{false, "a", 0, 0, "rwm"},
					       {true, "c", 10, 229, "rwm"}};
	policy_of(deny_first, 2, &p);
	assert_false(p.default_allow);
	expect_access(&p, 'c', 1, 3, R | W, true);
	expect_access(&p, 'c', 10, 229, R | W, true);
	expect_access(&p, 'b', 8, 0, R, false);
	cgroup_dev_policy_free(&p);

	/* a later reset undoes everything before it */
	const struct spec_rule undo[] = {
	    {true, "a", 0, 0, "rwm"}, {true, "b", 8, 0, "r"}, {false, "a", -1, -1, "rwm"}};
	policy_of(undo, 3, &p);
	expect_access(&p, 'b', 8, 0, R, false);
	expect_access(&p, 'c', 1, 5, R, true);
	cgroup_dev_policy_free(&p);

	/* an "a" rule without all of rwm is an ordinary rule */
	const struct spec_rule partial[] = {{true, "a", 0, 0, "rw"}};
	policy_of(partial, 1, &p);
	assert_false(p.default_allow);
	expect_access(&p, 'b', 8, 0, R | W, true);
	expect_access(&p, 'b', 8, 0, M, true); /* the whitelist's */
	cgroup_dev_policy_free(&p);

	/* an empty access matches nothing (cgroup v1 took it as a no-op too) */
	const struct spec_rule empty[] = {{false, "c", 1, 3, ""}};
	policy_of(empty, 1, &p);
	expect_access(&p, 'c', 1, 3, R | W, true);
	cgroup_dev_policy_free(&p);
}

/* UpdateContainer's rules follow the creation's; a later update replaces an earlier one. */
static void test_update_follows_creation(void **state _unused_)
{
	const struct cgroup_dev_rule create[] = {{'b', 7, 3, RWM, true}}; /* a hot-plugged disk */
	const struct cgroup_dev_rule upd1[] = {{'c', 10, 229, RWM, true}};
	const struct cgroup_dev_rule upd2[] = {{'b', 7, 3, W, false}};
	const struct cgroup_dev_rule reset_[] = {{'a', -1, -1, RWM, false}};
	struct cgroup_dev_policy p;

	assert_int_equal(cgroup_devices_policy(create, 1, upd1, 1, &p), 0);
	expect_access(&p, 'b', 7, 3, R | W, true);
	expect_access(&p, 'c', 10, 229, R | W, true);
	cgroup_dev_policy_free(&p);

	assert_int_equal(cgroup_devices_policy(create, 1, upd2, 1, &p), 0);
	expect_access(&p, 'b', 7, 3, R, true);
	expect_access(&p, 'b', 7, 3, W, false);
	expect_access(&p, 'c', 10, 229, R, false); /* upd1 is gone */
	cgroup_dev_policy_free(&p);

	assert_int_equal(cgroup_devices_policy(create, 1, reset_, 1, &p), 0);
	expect_access(&p, 'b', 7, 3, R, false);
	expect_access(&p, 'c', 1, 3, R, true);
	cgroup_dev_policy_free(&p);
}

/* Bad rules are refused naming the rule and the value; the count is bounded. */
static void test_parse_errors(void **state _unused_)
{
	char err[CGROUP_ERR_MAX];
	const struct spec_rule ok = {true, "c", 1, 3, "rwm"};

	struct spec_rule bad[2] = {ok, {true, "x", 1, 3, "rwm"}};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "device rule 1");
	assert_contains(err, "type 'x'");
	bad[1] = (struct spec_rule){true, "u", 1, 3, "rwm"};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "type 'u'");
	bad[1] = (struct spec_rule){true, "c", 1, 3, "rwx"};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "access 'rwx'");
	bad[1] = (struct spec_rule){true, "c", 1, 3, "r\n"};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "access 'r?'"); /* no control character reaches the message */
	bad[1] = (struct spec_rule){true, "b", 4096, 0, "r"};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "major 4096");
	bad[1] = (struct spec_rule){true, "b", -2, 0, "r"};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "major -2");
	bad[1] = (struct spec_rule){true, "b", 8, 1048576, "r"};
	assert_int_equal(parse_err(bad, 2, err), -EINVAL);
	assert_contains(err, "minor 1048576");

	/* CGROUP_MAX_DEVCG_RULES + 1 */
	size_t n = CGROUP_MAX_DEVCG_RULES + 1;
	Grpc__LinuxDeviceCgroup d = GRPC__LINUX_DEVICE_CGROUP__INIT;
	Grpc__LinuxDeviceCgroup **v = calloc(n, sizeof(*v));
	struct cgroup_dev_rule *rules = NULL;
	for (size_t i = 0; i < n; i++)
		v[i] = &d;
	assert_int_equal(cgroup_devices_parse(v, n, &rules, err, sizeof(err)), -EINVAL);
	assert_contains(err, "257 device rules");
	assert_null(rules);
	free(v);

	/* and the resources plan refuses them too (CreateContainer, UpdateContainer) */
	Grpc__LinuxDeviceCgroup x = GRPC__LINUX_DEVICE_CGROUP__INIT, *xv[] = {&x};
	x.type = "z";
	Grpc__LinuxResources res = GRPC__LINUX_RESOURCES__INIT;
	res.devices = xv;
	res.n_devices = 1;
	struct cgroup_writes ws;
	assert_int_equal(cgroup_plan_resources(&res, &ws, err, sizeof(err)), -EINVAL);
	assert_contains(err, "type 'z'");
	x.type = "b";
	x.major = 8;
	x.access = "r";
	assert_int_equal(cgroup_plan_resources(&res, &ws, err, sizeof(err)), 0);
	assert_int_equal(ws.n_devices, 1);
	assert_int_equal(ws.devices[0].type, 'b');
	assert_int_equal(ws.devices[0].major, 8);
	assert_int_equal(ws.devices[0].minor, 0);
	assert_int_equal(ws.devices[0].access, R);
	assert_int_equal(ws.n, 0); /* no file to write */
	assert_string_equal(ws.ignored, "");
	cgroup_writes_free(&ws);
}

/* The largest policy (the whitelist, 256 rules of the creation and 256 of an update, each
 * with every check) stays within BPF_MAXINSNS, which every kernel loads. */
static void test_largest_program(void **state _unused_)
{
	struct cgroup_dev_rule v[CGROUP_MAX_DEVCG_RULES];
	for (size_t i = 0; i < ARRAY_SIZE(v); i++)
		v[i] = (struct cgroup_dev_rule){'b', (int32_t)(i % 4000) + 1, (int32_t)i, R, true};
	struct cgroup_dev_policy p;
	assert_int_equal(cgroup_devices_policy(v, ARRAY_SIZE(v), v, ARRAY_SIZE(v), &p), 0);
	struct bpf_insn *prog = NULL;
	size_t n = 0;
	assert_int_equal(cgroup_devices_compile(&p, &prog, &n), 0);
	check_cfg(prog, n);
	assert_true(n < 4096);
	assert_int_equal(run(prog, n, 'b', 10, 9, R), 1);
	assert_int_equal(run(prog, n, 'b', 10, 9, W), 0);
	free(prog);
	cgroup_dev_policy_free(&p);
}

/* Random policies over a small space of numbers, so that rules overlap: the program and the
 * reference agree on every device of the space and every access. */
static uint32_t rnd_state = 12345;
static uint32_t rnd(uint32_t n)
{
	rnd_state = rnd_state * 1103515245 + 12345;
	return (rnd_state >> 16) % n;
}

static void test_random_policies(void **state _unused_)
{
	static const char types[] = {'a', 'b', 'c'};
	static const int32_t majors[] = {-1, 1, 5, 8}, minors[] = {-1, 0, 3, 5};
	for (int round = 0; round < 400; round++) {
		struct cgroup_dev_rule v[12];
		size_t n = rnd(ARRAY_SIZE(v) + 1);
		for (size_t i = 0; i < n; i++)
			v[i] =
			    (struct cgroup_dev_rule){types[rnd(3)], majors[rnd(4)], minors[rnd(4)],
						     (uint8_t)rnd(8), rnd(2) == 0};
		struct cgroup_dev_policy p;
		size_t split = n ? rnd((uint32_t)n + 1) : 0;
		assert_int_equal(cgroup_devices_policy(v, split, v + split, n - split, &p), 0);
		struct bpf_insn *prog = NULL;
		size_t len = 0;
		assert_int_equal(cgroup_devices_compile(&p, &prog, &len), 0);
		if (len)
			check_cfg(prog, len);
		for (int t = 0; t < 2; t++)
			for (uint32_t maj = 0; maj < 10; maj++)
				for (uint32_t min = 0; min < 7; min++)
					for (unsigned acc = 1; acc <= RWM; acc++) {
						char type = t ? 'b' : 'c';
						bool ref =
						    cgroup_devices_allows(&p, type, maj, min, acc);
						bool got = !len ||
							   run(prog, len, type, maj, min, acc) == 1;
						if (ref != got)
							fail_msg("round %d: %c %u:%u access %u: "
								 "reference %d, program %d",
								 round, type, maj, min, acc, ref,
								 got);
					}
		free(prog);
		cgroup_dev_policy_free(&p);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_default_whitelist),
	    cmocka_unit_test(test_last_match_wins),
	    cmocka_unit_test(test_wildcards),
	    cmocka_unit_test(test_all_devices_rules),
	    cmocka_unit_test(test_update_follows_creation),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_largest_program),
	    cmocka_unit_test(test_random_policies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
