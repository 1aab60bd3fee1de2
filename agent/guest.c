/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Start-up and shut-down of the guest module, its options, and access control: which vsock
 * peers may connect, and which RPCs they may call.
 */
#define LOG_SUBSYSTEM "guest"
#include "guest.h"

#include <fcntl.h>
#include <sys/stat.h>

struct guest_options {
	char *policy_file;
};

static bool rpc_accept_hook(const struct sockaddr *peer, socklen_t len, void *data)
{
	return guest_peer_allowed(data, peer, len, "rpc");
}

/* Health is always allowed: a runtime must be able to tell a locked-down agent from a dead
 * one. The policy covers every AgentService method. */
static bool rpc_allow_hook(const char *service, const char *method, void *data)
{
	struct guest *g = data;
	if (!streq(service, agent_agent_service.name))
		return true;
	return policy_allows(g->policy, method);
}

static int cmdline_option(const char *key, const char *value, void *data)
{
	struct guest_options *o = data;
	if (streq(key, "ember.policy")) {
		if (!value || !*value) {
			log_warn("ignoring ember.policy without a file");
			return 0;
		}
		free(o->policy_file);
		o->policy_file = strdup(value);
		return o->policy_file ? 0 : -ENOMEM;
	}
	return 0;
}

static int allow_cid_option(const char *key, const char *value, void *data)
{
	struct guest *g = data;
	if (!streq(key, "ember.allow_cid"))
		return 0;
	size_t n = 0;
	int r = guest_parse_cid_list(value, g->allow_cids, ARRAY_SIZE(g->allow_cids), &n);
	if (r < 0) {
		g->n_allow_cids = 0;
		log_warn("ignoring invalid ember.allow_cid=%s (expected up to %zu comma-separated "
			 "CIDs)",
			 value ? value : "", ARRAY_SIZE(g->allow_cids));
		return 0;
	}
	g->n_allow_cids = n;
	log_info("vsock peers allowed besides the host: ember.allow_cid=%s", value);
	return 0;
}

/* A policy that cannot be read or parsed denies everything (but Health): an image that
 * asked for a policy must never run without one. */
static void load_policy(struct guest *g, const char *path)
{
	_cleanup_free_ char *text = NULL;
	char err[256];
	size_t len = 0;

	int r = read_file(path, POLICY_MAX_SIZE, &text, &len);
	if (r < 0) {
		log_error_errno(r, "cannot read the policy %s: %m; denying every AgentService call",
				path);
	} else {
		r = policy_parse(text, len, &agent_agent_service, &g->policy, err, sizeof(err));
		if (r == -ENOMEM)
			log_error("out of memory loading the policy %s", path);
		else if (r < 0)
			log_error("%s: %s; denying every AgentService call", path, err);
		else
			log_info("policy %s loaded", path);
	}
	if (r < 0 && policy_deny_all(&agent_agent_service, &g->policy) < 0)
		log_critical("out of memory: cannot even deny every call");
}

/* EMBER_INIT_LOG_FD: the read end of ember-init's log pipe (the contract is at the top of
 * logport.c). Validated, made close-on-exec and removed from the environment, so that
 * nothing the agent spawns inherits it. */
static int take_init_log_fd(void)
{
	const char *v = getenv("EMBER_INIT_LOG_FD");
	uint32_t fd;
	struct stat st;

	if (!v)
		return -1;
	if (parse_u32(v, &fd) < 0 || fd <= STDERR_FILENO || fd > INT32_MAX ||
	    fstat((int)fd, &st) < 0 || !S_ISFIFO(st.st_mode)) {
		log_warn("ignoring EMBER_INIT_LOG_FD=%s: not an inherited pipe", v);
		unsetenv("EMBER_INIT_LOG_FD");
		return -1;
	}
	/* Nothing we spawn may hold init's pipe. */
	(void)fcntl((int)fd, F_SETFD, FD_CLOEXEC);
	unsetenv("EMBER_INIT_LOG_FD");
	return (int)fd;
}

int guest_start(struct agent *a)
{
	struct guest *g = calloc(1, sizeof(*g));
	_cleanup_free_ char *cmdline = NULL, *policy_file = NULL;
	char addr[64];

	if (!g)
		return -ENOMEM;
	g->agent = a;
	list_init(&g->cpu_ops);
	a->guest = g;

	/* ember.* options: config.c reads agent.* only. */
	if (cmdline_read(&cmdline) >= 0) {
		struct guest_options o = {0};
		int r = cmdline_foreach(cmdline, cmdline_option, &o);
		if (r == -ENOMEM)
			return r;
		policy_file = o.policy_file;
		(void)cmdline_foreach(cmdline, allow_cid_option, g);
	}
	const char *env = getenv("KATA_AGENT_POLICY_FILE");
	if (env && *env) {
		free(policy_file);
		policy_file = strdup(env);
		if (!policy_file)
			return -ENOMEM;
	}
	if (policy_file)
		load_policy(g, policy_file);
	rpc_server_set_access(a->server, rpc_accept_hook, rpc_allow_hook, g);

	/* The log port first, so that the console and everything after logs through it. */
	const char *log_addr = getenv("EMBER_LOG_LISTEN");
	if (!log_addr && a->cfg.log_vport > 0) {
		snprintf(addr, sizeof(addr), "vsock://-1:%u", a->cfg.log_vport);
		log_addr = addr;
	}
	int init_fd = take_init_log_fd();
	if (log_addr || init_fd >= 0) {
		int r = logport_start(a, log_addr, init_fd, &g->logport);
		if (r < 0)
			log_error_errno(r, "cannot start the log port on %s: %m",
					log_addr ? log_addr : "(init relay only)");
		else if (log_addr)
			log_info("streaming logs to the peer of %s", log_addr);
	}

	const char *console_addr = getenv("EMBER_DEBUG_CONSOLE_LISTEN");
	if (console_addr || a->cfg.debug_console) {
		if (!console_addr && a->cfg.debug_console_vport > 0) {
			snprintf(addr, sizeof(addr), "vsock://-1:%u", a->cfg.debug_console_vport);
			console_addr = addr;
		}
		int r = debug_console_start(a, console_addr, &g->console);
		if (r < 0)
			log_error_errno(r, "cannot start the debug console on %s: %m",
					console_addr ? console_addr : "/dev/console");
		else
			log_warn("debug console enabled on %s: anyone who can connect gets a root "
				 "shell",
				 console_addr ? console_addr : "/dev/console");
	}
	return 0;
}

void guest_stop(struct agent *a)
{
	struct guest *g = a->guest;
	if (!g)
		return;
	guest_cpu_ops_free(g);
	debug_console_free(g->console);
	logport_free(g->logport); /* last: the others may log while stopping */
	policy_free(g->policy);
	free(g);
	a->guest = NULL;
}
