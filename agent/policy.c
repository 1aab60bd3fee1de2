/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Access control data: the RPC policy, which grpc.AgentService methods a host may call
 * (docs/policy.md), and the list of vsock peers allowed besides the host.
 *
 * Kata gates every RPC through an OPA/Rego policy (agent-policy builds). ember keeps the
 * part images actually need, forbidding whole methods such as ExecProcess or CopyFile, in
 * a format a person can audit at a glance. Unknown words are errors, never ignored: a typo
 * in a security allowlist must not silently allow or deny something else.
 */
#define LOG_SUBSYSTEM "policy"
#include "guest.h"

#include <linux/vm_sockets.h>

enum verdict {
	VERDICT_UNSET = 0,
	VERDICT_ALLOW,
	VERDICT_DENY,
};

struct policy {
	const struct rpc_service *svc;
	enum verdict dflt;
	/* Per method of svc, in table order; the line that set it, for error messages. */
	enum verdict *verdict;
	unsigned *line;
};

void policy_free(struct policy *p)
{
	if (!p)
		return;
	free(p->verdict);
	free(p->line);
	free(p);
}

static int policy_new(const struct rpc_service *svc, struct policy **ret)
{
	_cleanup_(policy_freep) struct policy *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->svc = svc;
	p->verdict = calloc(svc->n_methods ? svc->n_methods : 1, sizeof(*p->verdict));
	p->line = calloc(svc->n_methods ? svc->n_methods : 1, sizeof(*p->line));
	if (!p->verdict || !p->line)
		return -ENOMEM;
	*ret = TAKE_PTR(p);
	return 0;
}

int policy_deny_all(const struct rpc_service *svc, struct policy **ret)
{
	int r = policy_new(svc, ret);
	if (r >= 0)
		(*ret)->dflt = VERDICT_DENY;
	return r;
}

static ssize_t method_index(const struct rpc_service *svc, const char *name)
{
	for (size_t i = 0; i < svc->n_methods; i++)
		if (streq(svc->methods[i].name, name))
			return (ssize_t)i;
	return -1;
}

bool policy_allows(const struct policy *p, const char *method)
{
	if (!p)
		return true;
	ssize_t i = method_index(p->svc, method);
	enum verdict v = i >= 0 && p->verdict[i] != VERDICT_UNSET ? p->verdict[i] : p->dflt;
	return v == VERDICT_ALLOW;
}

/* Words from the peer are quoted bounded and with non-printable bytes replaced. */
static void printable(const char *s, char *out, size_t outsz)
{
	size_t n = 0;
	for (; *s && n + 1 < outsz; s++)
		out[n++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?';
	out[n] = '\0';
	if (*s && outsz > 4)
		memcpy(out + outsz - 4, "...", 4);
}

_printf_(4, 5) static int parse_error(char *err, size_t errsz, unsigned line, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(err, errsz, "policy line %u: ", line);
	if (n < 0 || (size_t)n >= errsz)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + n, errsz - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Splits a line into whitespace-separated words, in place; '#' starts a comment. */
static size_t split_words(char *line, char **words, size_t max, bool *too_many)
{
	size_t n = 0;
	char *s = line;
	*too_many = false;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\r')
			s++;
		if (!*s || *s == '#')
			break;
		if (n == max) {
			*too_many = true;
			break;
		}
		words[n++] = s;
		while (*s && *s != ' ' && *s != '\t' && *s != '\r' && *s != '#')
			s++;
		if (*s == '#') {
			*s = '\0';
			break;
		}
		if (*s)
			*s++ = '\0';
	}
	return n;
}

static int parse_line(struct policy *p, char *text, unsigned lineno, unsigned *default_line,
		      char *err, size_t errsz)
{
	char *words[64], q[80];
	bool too_many;
	size_t n = split_words(text, words, ARRAY_SIZE(words), &too_many);

	if (too_many)
		return parse_error(err, errsz, lineno, "more than %zu words; split the line",
				   ARRAY_SIZE(words) - 1);
	if (n == 0)
		return 0;
	if (streq(words[0], "default")) {
		if (n != 2 || (!streq(words[1], "allow") && !streq(words[1], "deny")))
			return parse_error(err, errsz, lineno,
					   "expected 'default allow' or 'default deny'");
		if (*default_line)
			return parse_error(err, errsz, lineno, "second default (first on line %u)",
					   *default_line);
		p->dflt = streq(words[1], "allow") ? VERDICT_ALLOW : VERDICT_DENY;
		*default_line = lineno;
		return 0;
	}
	enum verdict v;
	if (streq(words[0], "allow"))
		v = VERDICT_ALLOW;
	else if (streq(words[0], "deny"))
		v = VERDICT_DENY;
	else {
		printable(words[0], q, sizeof(q));
		return parse_error(err, errsz, lineno,
				   "unknown keyword '%s' (expected allow, deny or default)", q);
	}
	if (n < 2)
		return parse_error(err, errsz, lineno, "'%s' needs at least one method name",
				   words[0]);
	for (size_t i = 1; i < n; i++) {
		ssize_t m = method_index(p->svc, words[i]);
		if (m < 0) {
			printable(words[i], q, sizeof(q));
			return parse_error(err, errsz, lineno, "unknown method '%s' of %s", q,
					   p->svc->name);
		}
		if (p->verdict[m] != VERDICT_UNSET && p->verdict[m] != v)
			return parse_error(err, errsz, lineno, "%s is %s on line %u", words[i],
					   p->verdict[m] == VERDICT_ALLOW ? "allowed" : "denied",
					   p->line[m]);
		p->verdict[m] = v;
		p->line[m] = lineno;
	}
	return 0;
}

int policy_parse(const char *text, size_t len, const struct rpc_service *svc, struct policy **ret,
		 char *err, size_t errsz)
{
	_cleanup_(policy_freep) struct policy *p = NULL;
	unsigned lineno = 0, default_line = 0;
	int r;

	if (errsz)
		err[0] = '\0';
	if (len > POLICY_MAX_SIZE) {
		snprintf(err, errsz, "policy is %zu bytes; at most %d", len, POLICY_MAX_SIZE);
		return -E2BIG;
	}
	if (memchr(text, '\0', len)) {
		snprintf(err, errsz, "policy contains a NUL byte");
		return -EINVAL;
	}
	r = policy_new(svc, &p);
	if (r < 0)
		return r;
	_cleanup_free_ char *copy = strndup(text, len);
	if (!copy)
		return -ENOMEM;
	for (char *line = copy, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		r = parse_line(p, line, lineno, &default_line, err, errsz);
		if (r < 0)
			return r;
	}
	if (!default_line) {
		snprintf(err, errsz, "policy has no 'default allow' or 'default deny' line");
		return -EINVAL;
	}
	*ret = TAKE_PTR(p);
	return 0;
}

/* ember.allow_cid: the vsock peers allowed besides the host. */
int guest_parse_cid_list(const char *s, uint32_t *cids, size_t max, size_t *ret_n)
{
	size_t n = 0;
	char word[16];

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		uint32_t cid;
		if (len == 0 || len >= sizeof(word))
			return -EINVAL;
		memcpy(word, p, len);
		word[len] = '\0';
		if (parse_u32(word, &cid) < 0)
			return -EINVAL;
		if (n == max)
			return -E2BIG;
		cids[n++] = cid;
		if (!comma)
			break;
		p = comma + 1;
	}
	*ret_n = n;
	return 0;
}

bool guest_peer_allowed(const struct guest *g, const struct sockaddr *peer, socklen_t len,
			const char *what)
{
	if (peer->sa_family != AF_VSOCK)
		return true; /* unix sockets: only processes of this guest reach them */
	if (len < sizeof(struct sockaddr_vm)) {
		log_warn("refusing a %s connection: vsock peer address truncated", what);
		return false;
	}
	uint32_t cid = ((const struct sockaddr_vm *)peer)->svm_cid;
	if (cid == VMADDR_CID_HOST)
		return true;
	for (size_t i = 0; i < g->n_allow_cids; i++)
		if (g->allow_cids[i] == cid)
			return true;
	log_warn("refusing a %s connection from vsock CID %u: only the host (CID %u) may connect "
		 "unless ember.allow_cid lists it",
		 what, cid, VMADDR_CID_HOST);
	return false;
}
