/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest operations, metrics, policy, log port and debug console of the real agent, on the
 * host. Nothing here changes the machine: RPCs that would (setting the clock, reseeding the
 * RNG, swapon, onlining CPUs) are only called with bad input, or against a scratch sysfs
 * mounted inside the agent's own mount namespace. The real thing runs in the VM suite
 * (tests/vm/guest-ops.sh).
 */
#include "harness.h"
#include "agent.pb-c.h"
#include "health.pb-c.h"
#include "google/protobuf/empty.pb-c.h"
#include "test-guest-prom.h"

#include <fcntl.h>
#include <poll.h>
#include <regex.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#define WAIT_MS 20000 /* generous bound for things that must happen; never asserted on */
/* DEBUG_CONSOLE_MAX_SESSIONS of agent/guest.h */
#define DEBUG_CONSOLE_MAX_SESSIONS_TEST 4

static char scratch[64];

static void scratch_dir(void)
{
	strcpy(scratch, "/tmp/ember-guest-XXXXXX");
	assert_non_null(mkdtemp(scratch));
}

static void scratch_done(void)
{
	harness_sh("rm -rf %s", scratch);
}

static int call(struct rpc_client *c, const char *method, const ProtobufCMessage *req,
		const ProtobufCMessageDescriptor *resp_desc, char *msg)
{
	ProtobufCMessage *resp = NULL;
	int code =
	    harness_call(c, method, req,
			 resp_desc ? resp_desc : &google__protobuf__empty__descriptor, &resp, msg);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return code;
}

static void expect(struct rpc_client *c, const char *method, const ProtobufCMessage *req, int code,
		   const char *needle)
{
	char msg[512] = "";
	int got = call(c, method, req, NULL, msg);
	if (got != code || (needle && !strstr(msg, needle)))
		fail_msg("%s: got %s '%s', want %s with '%s'", method, rpc_code_name(got), msg,
			 rpc_code_name(code), needle ? needle : "");
}

static void check_health(struct rpc_client *c)
{
	struct rpc_status st;
	ProtobufCMessage *resp = NULL;
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	assert_int_equal(rpc_client_call(c, "grpc.Health", "Check", &req.base,
					 &grpc__health_check_response__descriptor, &resp,
					 10 * NSEC_PER_SEC, &st),
			 0);
	assert_int_equal(st.code, RPC_OK);
	protobuf_c_message_free_unpacked(resp, NULL);
}

static char *get_metrics(struct rpc_client *c)
{
	Grpc__GetMetricsRequest req = GRPC__GET_METRICS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	char msg[512];
	int code = harness_call(c, "GetMetrics", &req.base, &grpc__metrics__descriptor, &resp, msg);
	if (code != RPC_OK)
		fail_msg("GetMetrics: %s: %s", rpc_code_name(code), msg);
	char *text = strdup(((Grpc__Metrics *)resp)->metrics);
	protobuf_c_message_free_unpacked(resp, NULL);
	return text;
}

/* ---- metrics ---- */

static uint64_t status_kb(pid_t pid, const char *key)
{
	char path[64], line[256];
	uint64_t v = 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, strlen(key)) == 0 && line[strlen(key)] == ':')
			v = strtoull(line + strlen(key) + 1, NULL, 10);
	fclose(f);
	return v;
}

static void test_metrics(void **state _unused_)
{
	struct agent_proc a;
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	struct rpc_client *c = harness_connect(&a);

	char *m = get_metrics(c);
	const char *e = prom_check(m);
	if (e)
		fail_msg("GetMetrics is not valid Prometheus text: %s", e);
	/* The agent's own RSS, as /proc says it (same order of magnitude: it moves). */
	double rss = prom_value(m, "kata_agent_total_rss ");
	double rss_kb = (double)status_kb(a.pid, "VmRSS");
	assert_true(rss > 0);
	assert_true(rss_kb > 0);
	assert_true(rss > rss_kb * 1024 / 4 && rss < rss_kb * 1024 * 4);
	assert_true(prom_value(m, "kata_agent_process_resident_memory_bytes ") > 0);
	assert_true(prom_value(m, "kata_agent_process_open_fds ") >= 3);
	assert_true(prom_value(m, "kata_guest_meminfo{item=\"mem_total\"} ") > 0);
	assert_true(prom_value(m, "kata_guest_load{item=\"load1\"} ") >= 0);
	assert_true(prom_value(m, "kata_guest_cpu_time{cpu=\"total\",item=\"user\"} ") >= 0);
	assert_true(prom_value(m, "kata_agent_scrape_count ") == 1);
	free(m);
	m = get_metrics(c);
	assert_true(prom_value(m, "kata_agent_scrape_count ") == 2);
	free(m);

	rpc_client_free(c);
	harness_stop_agent(&a);
}

/* ---- bad input of every guest RPC ---- */

static void test_bad_inputs(void **state _unused_)
{
	struct agent_proc a;
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	struct rpc_client *c = harness_connect(&a);

	Grpc__SetGuestDateTimeRequest dt = GRPC__SET_GUEST_DATE_TIME_REQUEST__INIT;
	dt.sec = -1;
	expect(c, "SetGuestDateTime", &dt.base, RPC_INVALID_ARGUMENT, "Sec -1");
	dt.sec = 1700000000;
	dt.usec = 1000000;
	expect(c, "SetGuestDateTime", &dt.base, RPC_INVALID_ARGUMENT, "Usec 1000000");
	dt.usec = -5;
	expect(c, "SetGuestDateTime", &dt.base, RPC_INVALID_ARGUMENT, "Usec -5");

	Grpc__ReseedRandomDevRequest rs = GRPC__RESEED_RANDOM_DEV_REQUEST__INIT;
	expect(c, "ReseedRandomDev", &rs.base, RPC_INVALID_ARGUMENT, "empty");
	static uint8_t big[64 * 1024 + 1];
	rs.data.data = big;
	rs.data.len = sizeof(big);
	expect(c, "ReseedRandomDev", &rs.base, RPC_INVALID_ARGUMENT, "65537 bytes");

	Grpc__GetDiagnosticDataRequest dd = GRPC__GET_DIAGNOSTIC_DATA_REQUEST__INIT;
	dd.log_type = "core_dump";
	expect(c, "GetDiagnosticData", &dd.base, RPC_INVALID_ARGUMENT, "'core_dump'");
	dd.log_type = "termination_log";
	expect(c, "GetDiagnosticData", &dd.base, RPC_INVALID_ARGUMENT, "container_id");
	dd.container_id = "no-such-container";
	expect(c, "GetDiagnosticData", &dd.base, RPC_NOT_FOUND, "'no-such-container'");

	Grpc__MemHotplugByProbeRequest mp = GRPC__MEM_HOTPLUG_BY_PROBE_REQUEST__INIT;
	static uint64_t addrs[4097];
	mp.memhotplugprobeaddr = addrs;
	mp.n_memhotplugprobeaddr = ARRAY_SIZE(addrs);
	expect(c, "MemHotplugByProbe", &mp.base, RPC_INVALID_ARGUMENT, "4097");

	Grpc__OnlineCPUMemRequest oc = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	oc.nb_cpus = 100000;
	oc.cpu_only = true;
	expect(c, "OnlineCPUMem", &oc.base, RPC_INVALID_ARGUMENT, "nb_cpus 100000");

	Grpc__AddSwapPathRequest sp = GRPC__ADD_SWAP_PATH_REQUEST__INIT;
	expect(c, "AddSwapPath", &sp.base, RPC_INVALID_ARGUMENT, "empty");
	sp.path = "swapfile";
	expect(c, "AddSwapPath", &sp.base, RPC_INVALID_ARGUMENT, "'swapfile'");
	sp.path = "/nonexistent/ember-swap";
	expect(c, "AddSwapPath", &sp.base, RPC_NOT_FOUND, "'/nonexistent/ember-swap'");

	Grpc__AddSwapRequest as = GRPC__ADD_SWAP_REQUEST__INIT;
	expect(c, "AddSwap", &as.base, RPC_INVALID_ARGUMENT, "PCIPath has 0 elements");
	uint32_t bad_slot[] = {2, 0x20};
	as.pcipath = bad_slot;
	as.n_pcipath = 2;
	expect(c, "AddSwap", &as.base, RPC_INVALID_ARGUMENT, "element 1 is slot 32");
	/* No bridge at 00:1f.0 leads to a bus with slot 1f: nothing to swap on (and nothing of
	 * the host's is touched). */
	uint32_t nowhere[] = {0x1f, 0x1f, 0x1f};
	as.pcipath = nowhere;
	as.n_pcipath = 3;
	expect(c, "AddSwap", &as.base, RPC_NOT_FOUND, "PCI path 1f/1f/1f");

	Grpc__MemAgentMemcgConfig mc = GRPC__MEM_AGENT_MEMCG_CONFIG__INIT;
	expect(c, "MemAgentMemcgSet", &mc.base, RPC_UNIMPLEMENTED, "mem-agent");
	Grpc__MemAgentCompactConfig cc = GRPC__MEM_AGENT_COMPACT_CONFIG__INIT;
	expect(c, "MemAgentCompactSet", &cc.base, RPC_UNIMPLEMENTED, "mem-agent");
	Grpc__ResizeVolumeRequest rv = GRPC__RESIZE_VOLUME_REQUEST__INIT;
	rv.volume_guest_path = "/x";
	expect(c, "ResizeVolume", &rv.base, RPC_UNIMPLEMENTED, "ResizeVolume");

	Grpc__SetPolicyRequest pol = GRPC__SET_POLICY_REQUEST__INIT;
	pol.policy = "default allow\nallow NoSuchMethod\n";
	expect(c, "SetPolicy", &pol.base, RPC_INVALID_ARGUMENT, "line 2");

	check_health(c);
	rpc_client_free(c);
	harness_stop_agent(&a);
}

/* ---- OnlineCPUMem and MemHotplugByProbe against a scratch sysfs ---- */

/* Mounts a tmpfs over path inside the agent's mount namespace only: the agent sees our
 * files where the kernel's would be, and the host's sysfs is untouched. */
static void agent_ns_tmpfs(struct agent_proc *a, const char *path)
{
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char ns[64];
		snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)a->pid);
		int fd = open(ns, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || setns(fd, CLONE_NEWNS) < 0)
			_exit(1);
		if (mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
			_exit(2);
		_exit(0);
	}
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* Writes a file in the agent's view of the file system. */
static void agent_write(struct agent_proc *a, const char *path, const char *content)
{
	char p[512];
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)a->pid, path);
	_cleanup_free_ char *dir = strdup(p);
	*strrchr(dir, '/') = '\0';
	assert_int_equal(mkdir_p(dir, 0755), 0);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(loop_write(fd, content, strlen(content)), 0);
	close(fd);
}

static char *agent_read(struct agent_proc *a, const char *path)
{
	char p[512];
	char *text = NULL;
	snprintf(p, sizeof(p), "/proc/%d/root%s", (int)a->pid, path);
	assert_int_equal(read_file(p, 4096, &text, NULL), 0);
	return text;
}

static void fake_sysfs(struct agent_proc *a)
{
	agent_ns_tmpfs(a, "/sys/devices/system/cpu");
	agent_ns_tmpfs(a, "/sys/devices/system/memory");
	agent_write(a, "/sys/devices/system/cpu/possible", "0-3\n");
	agent_write(a, "/sys/devices/system/cpu/online", "0-1\n");
	agent_write(a, "/sys/devices/system/cpu/cpu0/topology/core_id", "0\n"); /* no online file */
	agent_write(a, "/sys/devices/system/cpu/cpu1/online", "1\n");
	agent_write(a, "/sys/devices/system/cpu/cpu2/online", "0\n");
	agent_write(a, "/sys/devices/system/cpu/cpu3/online", "0\n");
	agent_write(a, "/sys/devices/system/cpu/cpufreq/online", "0\n"); /* not a cpuN */
	agent_write(a, "/sys/devices/system/memory/memory0/online", "1\n");
	agent_write(a, "/sys/devices/system/memory/memory1/online", "0\n");
	agent_write(a, "/sys/devices/system/memory/memory32/online", "0\n");
	agent_write(a, "/sys/devices/system/memory/probe", "");
}

static bool wait_file(struct agent_proc *a, const char *path, const char *prefix)
{
	for (int i = 0; i < WAIT_MS / 10; i++) {
		_cleanup_free_ char *t = agent_read(a, path);
		if (strncmp(t, prefix, strlen(prefix)) == 0)
			return true;
		usleep(10 * 1000);
	}
	return false;
}

static uint32_t send_online(struct rpc_client *c, uint32_t nb_cpus, bool cpu_only,
			    int64_t timeout_nano)
{
	Grpc__OnlineCPUMemRequest req = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	uint8_t buf[64];
	uint32_t id;
	req.nb_cpus = nb_cpus;
	req.cpu_only = cpu_only;
	size_t len = protobuf_c_message_pack(&req.base, buf);
	assert_int_equal(
	    rpc_client_send(c, "grpc.AgentService", "OnlineCPUMem", buf, len, timeout_nano, &id),
	    0);
	assert_int_equal(rpc_client_flush(c), 0);
	return id;
}

static int recv_status(struct rpc_client *c, uint32_t want_id, char *msg)
{
	struct rpc_status st;
	struct ttrpc_slice payload;
	uint32_t id;
	assert_int_equal(rpc_client_recv(c, &id, &st, &payload), 0);
	assert_int_equal(id, want_id);
	snprintf(msg, 512, "%s", st.message);
	return st.code;
}

static void test_online_cpu_mem(void **state _unused_)
{
	struct agent_proc a;
	char msg[512];
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	fake_sysfs(&a);
	struct rpc_client *c = harness_connect(&a), *c2 = harness_connect(&a);

	/* Already enough online: nothing is written. */
	uint32_t id = send_online(c, 2, true, 0);
	assert_int_equal(recv_status(c, id, msg), RPC_OK);

	/* Beyond what can ever be plugged: refused at once, naming the count. */
	Grpc__OnlineCPUMemRequest req = GRPC__ONLINE_CPUMEM_REQUEST__INIT;
	req.nb_cpus = 5;
	req.cpu_only = true;
	expect(c, "OnlineCPUMem", &req.base, RPC_INVALID_ARGUMENT, "nb_cpus 5 exceeds the 4");

	/* Three wanted: the agent onlines cpu2, but the (fake) kernel does not show it online
	 * yet, as with a vCPU still being plugged: the call stays parked and is retried... */
	id = send_online(c, 3, true, 0);
	assert_true(wait_file(&a, "/sys/devices/system/cpu/cpu2/online", "1"));
	/* ...without blocking the agent: another connection is served meanwhile. */
	check_health(c2);
	Grpc__GetDiagnosticDataRequest dd = GRPC__GET_DIAGNOSTIC_DATA_REQUEST__INIT;
	expect(c2, "GetDiagnosticData", &dd.base, RPC_INVALID_ARGUMENT, "log type");
	/* The CPU comes up: the next retry sees it and answers. */
	agent_write(&a, "/sys/devices/system/cpu/online", "0-2\n");
	assert_int_equal(recv_status(c, id, msg), RPC_OK);
	{
		_cleanup_free_ char *m1 =
		    agent_read(&a, "/sys/devices/system/memory/memory1/online");
		assert_string_equal(m1, "0\n"); /* cpu_only: memory untouched */
	}

	/* nb_cpus 0, cpu_only false: every offline memory block is onlined. */
	id = send_online(c, 0, false, 0);
	assert_int_equal(recv_status(c, id, msg), RPC_OK);
	assert_true(wait_file(&a, "/sys/devices/system/memory/memory1/online", "1"));
	assert_true(wait_file(&a, "/sys/devices/system/memory/memory32/online", "1"));
	assert_true(wait_file(&a, "/sys/devices/system/memory/memory0/online", "1"));

	/* A caller's deadline ends the retries (the parked call is cancelled). */
	agent_write(&a, "/sys/devices/system/cpu/cpu3/online", "0\n");
	id = send_online(c, 4, true, 300 * (int64_t)NSEC_PER_MSEC);
	assert_int_equal(recv_status(c, id, msg), RPC_DEADLINE_EXCEEDED);

	/* A caller that goes away while its call is parked: the agent forgets it. */
	struct rpc_client *gone = harness_connect(&a);
	send_online(gone, 4, true, 0);
	rpc_client_free(gone);

	/* Never enough: Kata's bound, 100 tries 50 ms apart, then an error naming the count. */
	id = send_online(c, 4, true, 0);
	assert_int_equal(recv_status(c, id, msg), RPC_INTERNAL);
	assert_non_null(strstr(msg, "failed to online 4 CPU(s) after 100 retries"));

	check_health(c);

	rpc_client_free(c);
	rpc_client_free(c2);
	harness_stop_agent(&a);
}

static void test_mem_hotplug_by_probe(void **state _unused_)
{
	struct agent_proc a;
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	fake_sysfs(&a);
	struct rpc_client *c = harness_connect(&a);

	Grpc__MemHotplugByProbeRequest req = GRPC__MEM_HOTPLUG_BY_PROBE_REQUEST__INIT;
	uint64_t addrs[] = {0x100000000ULL, 0xabc000000ULL};
	req.memhotplugprobeaddr = addrs;
	req.n_memhotplugprobeaddr = 2;
	expect(c, "MemHotplugByProbe", &req.base, RPC_OK, NULL);
	/* Kata's format: 0x, upper-case hex digits; one write per address (the last wins in
	 * a plain file). */
	_cleanup_free_ char *probe = agent_read(&a, "/sys/devices/system/memory/probe");
	assert_string_equal(probe, "0xABC000000");

	/* An empty list is a no-op. */
	req.n_memhotplugprobeaddr = 0;
	expect(c, "MemHotplugByProbe", &req.base, RPC_OK, NULL);

	/* A kernel without probe support: NOT_FOUND naming the address and the file. */
	char p[256];
	snprintf(p, sizeof(p), "/proc/%d/root/sys/devices/system/memory/probe", (int)a.pid);
	assert_int_equal(unlink(p), 0);
	req.n_memhotplugprobeaddr = 1;
	expect(c, "MemHotplugByProbe", &req.base, RPC_NOT_FOUND,
	       "0x100000000 via /sys/devices/system/memory/probe");

	rpc_client_free(c);
	harness_stop_agent(&a);
}

/* ---- the policy ---- */

static void start_with_policy(struct agent_proc *a, const char *policy)
{
	char path[128];
	scratch_dir();
	snprintf(path, sizeof(path), "%s/policy", scratch);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(loop_write(fd, policy, strlen(policy)), 0);
	close(fd);
	setenv("KATA_AGENT_POLICY_FILE", path, 1);
	harness_start_agent(a, HARNESS_ISOLATE, NULL);
	unsetenv("KATA_AGENT_POLICY_FILE");
}

static void test_policy_file(void **state _unused_)
{
	struct agent_proc a;
	start_with_policy(
	    &a, "# no metrics, no clock\ndefault allow\ndeny GetMetrics SetGuestDateTime\n");
	struct rpc_client *c = harness_connect(&a);

	Grpc__GetMetricsRequest gm = GRPC__GET_METRICS_REQUEST__INIT;
	expect(c, "GetMetrics", &gm.base, RPC_PERMISSION_DENIED, "GetMetrics");
	/* Denied before the payload is even decoded or validated. */
	Grpc__SetGuestDateTimeRequest dt = GRPC__SET_GUEST_DATE_TIME_REQUEST__INIT;
	dt.sec = -1;
	expect(c, "SetGuestDateTime", &dt.base, RPC_PERMISSION_DENIED, "SetGuestDateTime");
	/* Everything else follows the default. */
	Grpc__ReseedRandomDevRequest rs = GRPC__RESEED_RANDOM_DEV_REQUEST__INIT;
	expect(c, "ReseedRandomDev", &rs.base, RPC_INVALID_ARGUMENT, "empty");
	/* Health is never subject to the policy. */
	check_health(c);

	rpc_client_free(c);
	harness_stop_agent(&a);
	scratch_done();
}

static void test_policy_file_broken_fails_closed(void **state _unused_)
{
	struct agent_proc a;
	start_with_policy(&a, "default allow\nalow GetMetrics\n");
	struct rpc_client *c = harness_connect(&a);

	Grpc__GetMetricsRequest gm = GRPC__GET_METRICS_REQUEST__INIT;
	expect(c, "GetMetrics", &gm.base, RPC_PERMISSION_DENIED, "GetMetrics");
	Grpc__SetPolicyRequest pol = GRPC__SET_POLICY_REQUEST__INIT;
	pol.policy = "default allow\n";
	expect(c, "SetPolicy", &pol.base, RPC_PERMISSION_DENIED, "SetPolicy");
	check_health(c);
	/* The reason is in the log, naming the line. */
	assert_int_equal(harness_sh("grep -q 'policy line 2' %s", a.log), 0);

	rpc_client_free(c);
	harness_stop_agent(&a);
	scratch_done();
}

static void test_set_policy(void **state _unused_)
{
	struct agent_proc a;
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	struct rpc_client *c = harness_connect(&a);
	Grpc__SetPolicyRequest pol = GRPC__SET_POLICY_REQUEST__INIT;
	Grpc__GetMetricsRequest gm = GRPC__GET_METRICS_REQUEST__INIT;

	expect(c, "GetMetrics", &gm.base, RPC_OK, NULL);
	pol.policy = "default deny\nallow SetPolicy\n";
	expect(c, "SetPolicy", &pol.base, RPC_OK, NULL);
	expect(c, "GetMetrics", &gm.base, RPC_PERMISSION_DENIED, "GetMetrics");
	/* The policy applies to every connection, including new ones. */
	struct rpc_client *c2 = harness_connect(&a);
	expect(c2, "GetMetrics", &gm.base, RPC_PERMISSION_DENIED, "GetMetrics");
	rpc_client_free(c2);

	/* A bad policy is refused naming the line, and the current one stays. */
	pol.policy = "default allow\n\ndeny GetMetrics\nallow GetMetrics\n";
	expect(c, "SetPolicy", &pol.base, RPC_INVALID_ARGUMENT, "policy line 4");
	expect(c, "GetMetrics", &gm.base, RPC_PERMISSION_DENIED, "GetMetrics");

	pol.policy = "default allow\n";
	expect(c, "SetPolicy", &pol.base, RPC_OK, NULL);
	expect(c, "GetMetrics", &gm.base, RPC_OK, NULL);

	/* A policy may lock SetPolicy itself. */
	pol.policy = "default allow\ndeny SetPolicy\n";
	expect(c, "SetPolicy", &pol.base, RPC_OK, NULL);
	pol.policy = "default allow\n";
	expect(c, "SetPolicy", &pol.base, RPC_PERMISSION_DENIED, "SetPolicy");
	expect(c, "GetMetrics", &gm.base, RPC_OK, NULL);
	check_health(c);

	rpc_client_free(c);
	harness_stop_agent(&a);
}

/* ---- raw sockets: log port and debug console ---- */

static int unix_connect(const char *path)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	for (int i = 0; i < WAIT_MS / 10; i++) {
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == 0)
			return fd;
		usleep(10 * 1000);
	}
	fail_msg("cannot connect to %s: %m", path);
	return -1;
}

/* Reads into buf (appending, NUL-terminated) until needle (a regex) matches or EOF;
 * returns whether it matched. */
static bool read_until(int fd, struct bytebuf *buf, const char *regex, bool *eof)
{
	regex_t re;
	assert_int_equal(regcomp(&re, regex, REG_EXTENDED | REG_NOSUB), 0);
	bool found = false;
	*eof = false;
	for (int waited = 0; waited < WAIT_MS;) {
		if (buf->len > buf->head) {
			assert_int_equal(bytebuf_append(buf, "", 1), 0);
			buf->len--;
			if (regexec(&re, (char *)buf->data + buf->head, 0, NULL, 0) == 0) {
				found = true;
				break;
			}
		}
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 100);
		if (r == 0) {
			waited += 100;
			continue;
		}
		uint8_t *dst = bytebuf_reserve(buf, 65536);
		assert_non_null(dst);
		ssize_t n = read(fd, dst, 65536);
		if (n <= 0) {
			*eof = true;
			break;
		}
		buf->len += (size_t)n;
	}
	regfree(&re);
	return found;
}

static bool read_eof(int fd)
{
	struct bytebuf b = {0};
	bool eof;
	read_until(fd, &b, "\\{never-matches\\}", &eof);
	bytebuf_free(&b);
	return eof;
}

/* Makes the agent log a line holding marker (a debug line of the rpc server). */
static void log_marker(struct rpc_client *c, const char *marker)
{
	Grpc__GetDiagnosticDataRequest dd = GRPC__GET_DIAGNOSTIC_DATA_REQUEST__INIT;
	dd.log_type = (char *)marker;
	expect(c, "GetDiagnosticData", &dd.base, RPC_INVALID_ARGUMENT, marker);
}

static void start_with_env(struct agent_proc *a, const char *var, const char *file)
{
	char addr[160];
	snprintf(addr, sizeof(addr), "unix://%s/%s", scratch, file);
	setenv(var, addr, 1);
	harness_start_agent(a, HARNESS_ISOLATE, NULL);
	unsetenv(var);
}

static void check_json_lines(const char *text)
{
	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		if (!nl)
			break; /* the last line may be partial */
		if (strncmp(line, "{\"msg\":", 7) != 0 || nl[-1] != '}')
			fail_msg("not a JSON log line at offset %zu: %.*s (before: %.300s)",
				 (size_t)(line - text), (int)(nl - line), line,
				 line - text > 300 ? line - 300 : text);
		line = nl + 1;
	}
}

static void test_log_port(void **state _unused_)
{
	struct agent_proc a;
	char path[160];
	bool eof;
	int pipefd[2];

	scratch_dir();
	/* ember-init's side of the relay: a pipe whose read end the agent inherits. */
	assert_int_equal(pipe2(pipefd, 0), 0);
	assert_int_equal(fcntl(pipefd[1], F_SETFD, FD_CLOEXEC), 0);
	char fdnum[16];
	snprintf(fdnum, sizeof(fdnum), "%d", pipefd[0]);
	setenv("EMBER_INIT_LOG_FD", fdnum, 1);
	start_with_env(&a, "EMBER_LOG_LISTEN", "log.sock");
	unsetenv("EMBER_INIT_LOG_FD");
	close(pipefd[0]);
	struct rpc_client *c = harness_connect(&a);

	/* Lines logged before the host connects are kept and sent first. */
	log_marker(c, "marker-before-connect");
	const char init_line[] = "{\"msg\":\"hello from init\",\"name\":\"ember-init\"}\n";
	assert_int_equal(loop_write(pipefd[1], init_line, 20), 0); /* a line in two writes */
	snprintf(path, sizeof(path), "%s/log.sock", scratch);
	int fd = unix_connect(path);
	struct bytebuf b = {0};
	assert_true(read_until(fd, &b, "ready in", &eof));
	assert_true(read_until(fd, &b, "marker-before-connect", &eof));
	/* Live lines follow, including ember-init's, relayed whole. */
	assert_int_equal(loop_write(pipefd[1], init_line + 20, sizeof(init_line) - 1 - 20), 0);
	assert_true(read_until(
	    fd, &b, "\\{\"msg\":\"hello from init\",\"name\":\"ember-init\"\\}\n", &eof));
	log_marker(c, "marker-live");
	assert_true(read_until(fd, &b, "marker-live.*\n", &eof));
	check_json_lines((char *)b.data + b.head);
	bytebuf_free(&b);
	close(fd);

	/* No host: 4000 lines of ~400 bytes overflow the 256 KiB ring; the oldest go, and
	 * the next host is told how many. */
	for (int i = 0; i < 4000; i++) {
		char m[64];
		snprintf(m, sizeof(m), "marker-flood-%d-", i);
		log_marker(c, m);
	}
	fd = unix_connect(path);
	assert_true(read_until(fd, &b, "marker-flood-3999-[^\n]*\n", &eof));
	const char *t = (char *)b.data + b.head;
	assert_non_null(strstr(t, "log lines dropped"));
	assert_null(strstr(t, "marker-flood-0-"));
	assert_true(strstr(t, "log lines dropped") < strstr(t, "marker-flood-3999-"));
	check_json_lines(t);
	bytebuf_free(&b);

	/* A host that connects and never reads: the agent keeps serving. */
	for (int i = 0; i < 4000; i++) {
		char m[64];
		snprintf(m, sizeof(m), "marker-stuck-%d-", i);
		log_marker(c, m);
	}
	check_health(c);
	assert_true(read_until(fd, &b, "marker-stuck-3999-[^\n]*\n", &eof));
	assert_non_null(strstr((char *)b.data + b.head, "log lines dropped"));
	check_json_lines((char *)b.data + b.head);
	bytebuf_free(&b);

	/* One peer at a time: a second connection waits until the first leaves. */
	int fd2 = unix_connect(path);
	log_marker(c, "marker-for-first");
	assert_true(read_until(fd, &b, "marker-for-first[^\n]*\n", &eof));
	bytebuf_free(&b);
	close(fd);
	log_marker(c, "marker-for-second");
	assert_true(read_until(fd2, &b, "marker-for-second", &eof));
	bytebuf_free(&b);
	close(fd2);

	close(pipefd[1]);
	rpc_client_free(c);
	harness_stop_agent(&a);
	scratch_done();
}

static void test_debug_console(void **state _unused_)
{
	struct agent_proc a;
	char path[160];
	bool eof;

	scratch_dir();
	start_with_env(&a, "EMBER_DEBUG_CONSOLE_LISTEN", "console.sock");
	snprintf(path, sizeof(path), "%s/console.sock", scratch);

	int fd = unix_connect(path);
	const char cmd[] = "echo hello-$$\n";
	assert_int_equal(loop_write(fd, cmd, strlen(cmd)), 0);
	struct bytebuf b = {0};
	/* The shell's answer, not the terminal's echo of the command. */
	assert_true(read_until(fd, &b, "hello-[0-9]+", &eof));
	assert_int_equal(loop_write(fd, "exit\n", 5), 0);
	assert_true(read_eof(fd));
	bytebuf_free(&b);
	close(fd);

	/* Sessions are independent; the fifth concurrent one is refused. */
	int fds[DEBUG_CONSOLE_MAX_SESSIONS_TEST + 1];
	for (int i = 0; i < DEBUG_CONSOLE_MAX_SESSIONS_TEST; i++) {
		fds[i] = unix_connect(path);
		char line[64];
		snprintf(line, sizeof(line), "echo session-%d-$((6*7))\n", i);
		assert_int_equal(loop_write(fds[i], line, strlen(line)), 0);
		char re[64];
		snprintf(re, sizeof(re), "session-%d-42", i);
		assert_true(read_until(fds[i], &b, re, &eof));
		bytebuf_free(&b);
	}
	fds[DEBUG_CONSOLE_MAX_SESSIONS_TEST] = unix_connect(path);
	assert_true(read_eof(fds[DEBUG_CONSOLE_MAX_SESSIONS_TEST]));
	close(fds[DEBUG_CONSOLE_MAX_SESSIONS_TEST]);

	/* A host that hangs up: the shell gets SIGHUP and the slot is free again. */
	for (int i = 0; i < DEBUG_CONSOLE_MAX_SESSIONS_TEST; i++)
		close(fds[i]);
	bool again = false;
	for (int i = 0; i < WAIT_MS / 50 && !again; i++) {
		fd = unix_connect(path);
		assert_int_equal(loop_write(fd, "echo back-$((1+1))\n", 19), 0);
		again = read_until(fd, &b, "back-2", &eof);
		bytebuf_free(&b);
		close(fd);
		if (!again)
			usleep(50 * 1000);
	}
	assert_true(again);

	/* Input that ends (a half close) is the terminal's end of file, ^D: at the prompt,
	 * the shell exits and the connection closes after its output. */
	fd = unix_connect(path);
	assert_int_equal(loop_write(fd, "echo piped-$((2+3))\n", 20), 0);
	assert_true(read_until(fd, &b, "piped-5[^#]*# ", &eof));
	assert_int_equal(shutdown(fd, SHUT_WR), 0);
	assert_true(read_eof(fd));
	bytebuf_free(&b);
	close(fd);

	struct rpc_client *c = harness_connect(&a);
	check_health(c);
	rpc_client_free(c);
	harness_stop_agent(&a);
	scratch_done();
}

/* emberctl's guest commands against the real agent. */
static void test_emberctl(void **state _unused_)
{
	const char *ctl = getenv("EMBERCTL");
	struct agent_proc a;
	char log_addr[160], console_addr[160];

	assert_non_null(ctl);
	scratch_dir();
	snprintf(log_addr, sizeof(log_addr), "unix://%s/log.sock", scratch);
	snprintf(console_addr, sizeof(console_addr), "unix://%s/console.sock", scratch);
	setenv("EMBER_LOG_LISTEN", log_addr, 1);
	setenv("EMBER_DEBUG_CONSOLE_LISTEN", console_addr, 1);
	harness_start_agent(&a, HARNESS_ISOLATE, NULL);
	unsetenv("EMBER_LOG_LISTEN");
	unsetenv("EMBER_DEBUG_CONSOLE_LISTEN");

	assert_int_equal(
	    harness_sh("%s --addr %s metrics | grep -q '^kata_agent_total_rss [1-9]'", ctl, a.addr),
	    0);
	assert_int_equal(harness_sh("%s --addr %s set-time -1 2>&1 | grep -q '^emberctl: "
				    "INVALID_ARGUMENT: Sec -1'",
				    ctl, a.addr),
			 0);
	assert_int_equal(harness_sh("printf 'default allow\\ndeny GetMetrics\\n' > %s/p && "
				    "%s --addr %s set-policy %s/p",
				    scratch, ctl, a.addr, scratch),
			 0);
	assert_int_equal(harness_sh("%s --addr %s metrics 2>&1 | grep -q '^emberctl: "
				    "PERMISSION_DENIED: GetMetrics'",
				    ctl, a.addr),
			 0);
	assert_int_equal(harness_sh("echo 'allow Nothing' | %s --addr %s set-policy - 2>&1 | "
				    "grep -q 'INVALID_ARGUMENT: policy line 1'",
				    ctl, a.addr),
			 0);
	/* Typed-ahead input: the shell runs both lines, then the session ends. */
	assert_int_equal(harness_sh("printf 'echo hi-$((1+1))\\nexit\\n' | timeout 20 %s --addr %s "
				    "console | grep -q hi-2",
				    ctl, console_addr),
			 0);
	/* The log port replays what was logged before (the reader is stopped by timeout). */
	assert_int_equal(
	    harness_sh("timeout 2 %s --addr %s logs > %s/logs; grep -q 'ready in' %s/logs", ctl,
		       log_addr, scratch, scratch),
	    0);

	harness_stop_agent(&a);
	scratch_done();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_metrics),
	    cmocka_unit_test(test_bad_inputs),
	    cmocka_unit_test(test_online_cpu_mem),
	    cmocka_unit_test(test_mem_hotplug_by_probe),
	    cmocka_unit_test(test_policy_file),
	    cmocka_unit_test(test_policy_file_broken_fails_closed),
	    cmocka_unit_test(test_set_policy),
	    cmocka_unit_test(test_log_port),
	    cmocka_unit_test(test_debug_console),
	    cmocka_unit_test(test_emberctl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
