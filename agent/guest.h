/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest operations, metrics, the log port, the debug console and access control.
 *
 * Contract:
 *  - guest_start() runs once, after the rpc server exists and before it listens: it reads
 *    the options below, installs the access hooks on the rpc server (vsock peer CID filter,
 *    RPC policy), and starts the log port, ember-init's log relay and the debug console as
 *    configured. A part that cannot start is logged and left off; the agent still comes up.
 *    guest_stop() runs after the rpc server is freed (no parked call of ours is left) and
 *    before the loop is freed.
 *  - Options beyond struct agent_config:
 *      kernel command line  ember.allow_cid=CID[,CID...]  vsock peers allowed besides the host
 *                           ember.policy=FILE             the RPC policy (docs/policy.md)
 *      environment          KATA_AGENT_POLICY_FILE=FILE   Kata's name; wins over ember.policy
 *                           EMBER_LOG_LISTEN=ADDR         log port on any rpc address (tests:
 *                                                         unix:///path; wins over log_vport)
 *                           EMBER_DEBUG_CONSOLE_LISTEN=ADDR  debug console on ADDR (tests)
 *                           EMBER_INIT_LOG_FD=N           read end of ember-init's log pipe
 *  - Nothing here blocks the event loop on a peer: OnlineCPUMem retries on a timer with its
 *    call parked; the log sink never blocks (bounded ring, non-blocking socket); the debug
 *    console proxies through bounded buffers with back-pressure.
 */
#pragma once

#include "agent.h"

#include <sys/socket.h>

#define GUEST_MAX_ALLOW_CIDS 16

struct policy;
struct logport;
struct debug_console;

struct guest {
	struct agent *agent;
	struct policy *policy; /* NULL: every RPC is allowed */
	uint32_t allow_cids[GUEST_MAX_ALLOW_CIDS];
	size_t n_allow_cids;
	struct logport *logport;
	struct debug_console *console;
	struct list_head cpu_ops; /* parked OnlineCPUMem calls */
	uint64_t scrape_count;
};

int guest_start(struct agent *a);
void guest_stop(struct agent *a);

/* Cancels and frees parked OnlineCPUMem operations (shutdown). */
void guest_cpu_ops_free(struct guest *g);

/* ---- policy.c: an allowlist of AgentService methods (docs/policy.md), allowed CIDs ---- */

#define POLICY_MAX_SIZE (64 * 1024)

/* Parses policy text against the methods of svc. On failure returns -EINVAL (or -E2BIG for
 * text beyond POLICY_MAX_SIZE, -ENOMEM) and writes a message naming the line into err. */
int policy_parse(const char *text, size_t len, const struct rpc_service *svc, struct policy **ret,
		 char *err, size_t errsz);
/* A policy that denies every method (what a broken ember.policy file yields: fail closed). */
int policy_deny_all(const struct rpc_service *svc, struct policy **ret);
bool policy_allows(const struct policy *p, const char *method);
/* ember.allow_cid: "1,3" -> {1, 3}; -EINVAL on anything but comma-separated u32s, -E2BIG
 * beyond max. */
int guest_parse_cid_list(const char *s, uint32_t *cids, size_t max, size_t *ret_n);
/* True for unix peers, the host (VMADDR_CID_HOST) and the CIDs of ember.allow_cid;
 * otherwise logs a warning naming the CID and `what` (the service) and returns false. */
bool guest_peer_allowed(const struct guest *g, const struct sockaddr *peer, socklen_t len,
			const char *what);
void policy_free(struct policy *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct policy *, policy_free)

/* ---- metrics.c: Prometheus text exposition (docs/metrics.md) ---- */

/* One family header (# HELP, # TYPE). type: "gauge" or "counter". */
int metrics_family(struct bytebuf *out, const char *name, const char *type, const char *help);
/* One sample; label pairs l1/v1 and l2/v2 are optional (NULL name = absent). Label values are
 * escaped as the exposition format requires. */
int metrics_sample_u64(struct bytebuf *out, const char *name, const char *l1, const char *v1,
		       const char *l2, const char *v2, uint64_t value);
int metrics_sample_f64(struct bytebuf *out, const char *name, const char *l1, const char *v1,
		       const char *l2, const char *v2, double value);
/* Parsers of /proc text into kata_guest_* families (Kata's names, labels and units). */
int metrics_guest_meminfo(struct bytebuf *out, const char *meminfo);
int metrics_guest_loadavg(struct bytebuf *out, const char *loadavg);
int metrics_guest_cpu_time(struct bytebuf *out, const char *stat, long ticks_per_sec);
int metrics_guest_vmstat(struct bytebuf *out, const char *vmstat);
int metrics_guest_netdev(struct bytebuf *out, const char *netdev);
int metrics_guest_diskstats(struct bytebuf *out, const char *diskstats);

/* Figures of the agent process, gathered from /proc/self by metrics_collect(). */
struct metrics_proc {
	const char *stat;   /* /proc/self/stat */
	const char *status; /* /proc/self/status */
	const char *io;	    /* /proc/self/io, NULL when the kernel has no task io accounting */
	uint64_t open_fds, max_fds;
	long ticks_per_sec, page_size;
	uint64_t boot_time_sec; /* btime of /proc/stat */
	uint64_t scrape_count;
};
int metrics_agent_process(struct bytebuf *out, const struct metrics_proc *p);
/* Everything GetMetrics returns; NUL-terminated in out. */
int metrics_collect(struct agent *a, struct bytebuf *out);

/* ---- logport.c: log lines to the host ---- */

#define LOGPORT_RING_MAX (256 * 1024)

/* addr (may be NULL): where the host connects (vsock://-1:N in a VM). Installs the log sink:
 * from then on every log line is queued (bounded, oldest dropped and counted) and streamed
 * in Kata's JSON form to the one connected peer.
 * init_fd (-1: none): ember-init's log pipe, whose newline-terminated lines are relayed
 * into the agent's log output (the log port when on, else the log fd). Taken even on
 * failure. */
int logport_start(struct agent *a, const char *addr, int init_fd, struct logport **ret);
void logport_free(struct logport *lp);

/* ---- debug-console.c ---- */

#define DEBUG_CONSOLE_MAX_SESSIONS 4

/* addr NULL: one shell on /dev/console, respawned when it exits. Otherwise each connection
 * to addr gets a shell on a new pty. */
int debug_console_start(struct agent *a, const char *addr, struct debug_console **ret);
void debug_console_free(struct debug_console *dc);
