/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest operations of grpc.AgentService: CPU and memory hotplug, clock, entropy, swap,
 * metrics, diagnostics, the policy, and the methods ember answers UNIMPLEMENTED on purpose.
 * Reference §2.3 and §2.4; differences from Kata are in docs/compatibility.md.
 */
#define LOG_SUBSYSTEM "guest"
#include "guest.h"
#include "agent.pb-c.h"
#include "uevent/uevent.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/time.h>
#include <linux/random.h>

#define SYSFS_CPU	   "/sys/devices/system/cpu"
#define SYSFS_MEMORY	   "/sys/devices/system/memory"
#define SYSFS_MEMORY_PROBE SYSFS_MEMORY "/probe"
/* Kata: "max wait for all CPUs to online will use 50 * 100 = 5 seconds". */
#define ONLINE_RETRY_NS	 (50 * NSEC_PER_MSEC)
#define ONLINE_MAX_TRIES 100
/* The kernel's entropy pool is 256 bytes; more only costs the loop time. */
#define RESEED_MAX (64 * 1024)
/* Each probe write adds a memory block in the kernel, synchronously: bounded work. 4096
 * blocks of 128 MiB are 512 GiB per call. */
#define PROBE_MAX_ADDRS 4096
/* Kubernetes caps termination messages at 4 KiB; Kata reads at most that much. */
#define TERMINATION_LOG_MAX 4096

static void reply_empty(struct rpc_call *call)
{
	Google__Protobuf__Empty e = GOOGLE__PROTOBUF__EMPTY__INIT;
	rpc_call_reply(call, &e.base);
}

static struct guest *call_guest(struct rpc_call *call)
{
	return ((struct agent *)rpc_call_userdata(call))->guest;
}

/* Strings from the peer are quoted bounded and printable. */
static const char *quote(const char *s, char *buf, size_t sz)
{
	size_t n = 0;
	for (; *s && n + 4 < sz; s++)
		buf[n++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?';
	if (*s)
		buf[n++] = '.', buf[n++] = '.', buf[n++] = '.';
	buf[n] = '\0';
	return buf;
}

/* ---- OnlineCPUMem ---- */

/* Number of CPUs in a kernel cpu list ("0-3,5\n"); -EBADMSG when it is not one. */
static int cpu_list_count(const char *s)
{
	int count = 0;
	while (*s && *s != '\n') {
		char *end;
		errno = 0;
		unsigned long a = strtoul(s, &end, 10), b = a;
		if (errno || end == s)
			return -EBADMSG;
		s = end;
		if (*s == '-') {
			b = strtoul(s + 1, &end, 10);
			if (errno || end == s + 1 || b < a)
				return -EBADMSG;
			s = end;
		}
		if (b - a >= (unsigned long)(INT_MAX - count))
			return -ERANGE;
		count += (int)(b - a + 1);
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EBADMSG;
	}
	return count;
}

static int read_cpu_count(const char *path)
{
	_cleanup_free_ char *text = NULL;
	int r = read_file(path, 64 * 1024, &text, NULL);
	return r < 0 ? r : cpu_list_count(text);
}

/* Kata's online_resources(): writes 1 to the online file of each <prefix>N object that
 * reads 0, at most `max` of them (0 = all). Unwritable objects are skipped, as in Kata: a
 * CPU the hypervisor has not finished plugging is retried on the next round. */
static int online_objects(const char *dir, const char *prefix, unsigned max, unsigned *ret_n)
{
	DIR *d = opendir(dir);
	unsigned n = 0;
	size_t plen = strlen(prefix);

	if (!d)
		return -errno;
	for (struct dirent *de; (de = readdir(d));) {
		const char *num = startswith(de->d_name, prefix);
		if (!num || !*num || strspn(num, "0123456789") != strlen(num) ||
		    strlen(de->d_name) > plen + 10)
			continue;
		char path[PATH_MAX];
		_cleanup_free_ char *state = NULL;
		snprintf(path, sizeof(path), "%s/%s/online", dir, de->d_name);
		if (read_file(path, 64, &state, NULL) < 0 || state[0] != '0')
			continue;
		int r = write_file(path, "1");
		if (r < 0) {
			log_debug_errno(r, "cannot online %s: %m", path);
			continue;
		}
		n++;
		if (max && n == max)
			break;
	}
	closedir(d);
	*ret_n = n;
	return 0;
}

struct cpu_op {
	struct list_head node;
	struct guest *g;
	struct rpc_call *call;
	struct ev_timer timer;
	uint32_t want;
	bool cpu_only;
	unsigned tries;
};

static void cpu_op_free(struct cpu_op *op)
{
	ev_timer_stop(op->g->agent->loop, &op->timer);
	list_del(&op->node);
	free(op);
}

void guest_cpu_ops_free(struct guest *g)
{
	while (!list_empty(&g->cpu_ops))
		cpu_op_free(list_entry(g->cpu_ops.next, struct cpu_op, node));
}

static void cpu_op_cancel(struct rpc_call *call _unused_, void *data)
{
	cpu_op_free(data);
}

#pragma weak container_cpusets_refresh

/* CPUs are done (or were not asked for): the containers' cpusets, then memory. */
static void online_finish(struct guest *g, struct rpc_call *call, bool cpus, bool cpu_only)
{
	if (cpus && container_cpusets_refresh)
		container_cpusets_refresh(g->agent);
	if (!cpu_only) {
		unsigned n = 0;
		int r = online_objects(SYSFS_MEMORY, "memory", 0, &n);
		if (r < 0) {
			rpc_call_reply_errno(call, r, "cannot list %s: %m", SYSFS_MEMORY);
			return;
		}
		if (n)
			log_info("onlined %u memory block(s)", n);
	}
	reply_empty(call);
}

/* One round of Kata's online_cpus() loop. Returns 1 when enough CPUs are online. */
static int online_cpus_round(uint32_t want)
{
	int online = read_cpu_count(SYSFS_CPU "/online");
	if (online < 0)
		return online;
	if ((uint32_t)online >= want)
		return 1;
	unsigned n;
	int r = online_objects(SYSFS_CPU, "cpu", want - (uint32_t)online, &n);
	if (r < 0)
		return r;
	online = read_cpu_count(SYSFS_CPU "/online");
	if (online < 0)
		return online;
	return (uint32_t)online >= want;
}

static void cpu_op_timer_cb(struct ev_loop *loop, struct ev_timer *t)
{
	struct cpu_op *op = t->data;
	struct rpc_call *call = op->call;
	struct guest *g = op->g;
	bool cpu_only = op->cpu_only;
	uint32_t want = op->want;

	int r = online_cpus_round(want);
	if (r == 0 && ++op->tries < ONLINE_MAX_TRIES) {
		ev_timer_start(loop, &op->timer, now_monotonic_ns() + ONLINE_RETRY_NS,
			       cpu_op_timer_cb, op);
		return;
	}
	unsigned tries = op->tries;
	cpu_op_free(op);
	if (r < 0)
		rpc_call_reply_errno(call, r, "cannot online CPUs via %s: %m", SYSFS_CPU);
	else if (r == 0)
		rpc_call_reply_error(call, RPC_INTERNAL,
				     "failed to online %u CPU(s) after %u retries", want, tries);
	else {
		log_info("%u CPU(s) online after %u retries", want, tries);
		online_finish(g, call, true, cpu_only);
	}
}

void guest_online_cpu_mem(struct rpc_call *call, void *request)
{
	Grpc__OnlineCPUMemRequest *req = request;
	struct guest *g = call_guest(call);

	if (req->nb_cpus == 0) {
		online_finish(g, call, false, req->cpu_only);
		return;
	}
	/* A count no hotplug can reach fails now rather than after 5 s of retries. */
	int possible = read_cpu_count(SYSFS_CPU "/possible");
	if (possible > 0 && req->nb_cpus > (uint32_t)possible) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "nb_cpus %u exceeds the %d possible CPUs of this guest (%s)",
				     req->nb_cpus, possible, SYSFS_CPU "/possible");
		return;
	}
	int r = online_cpus_round(req->nb_cpus);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "cannot online CPUs via %s: %m", SYSFS_CPU);
		return;
	}
	if (r > 0) {
		online_finish(g, call, true, req->cpu_only);
		return;
	}
	/* Hot-plugged CPUs appear in sysfs asynchronously: retry on a timer, parked, the
	 * way Kata's agent retries in a sleeping thread. */
	struct cpu_op *op = calloc(1, sizeof(*op));
	if (!op) {
		rpc_call_reply_errno(call, -ENOMEM, "OnlineCPUMem: out of memory");
		return;
	}
	op->g = g;
	op->call = call;
	op->want = req->nb_cpus;
	op->cpu_only = req->cpu_only;
	op->tries = 1;
	ev_timer_init(&op->timer);
	r = ev_timer_start(g->agent->loop, &op->timer, now_monotonic_ns() + ONLINE_RETRY_NS,
			   cpu_op_timer_cb, op);
	if (r < 0) {
		free(op);
		rpc_call_reply_errno(call, r, "OnlineCPUMem: cannot arm a timer: %m");
		return;
	}
	list_add_tail(&g->cpu_ops, &op->node);
	rpc_call_park(call, cpu_op_cancel, op);
}

/* ---- MemHotplugByProbe ---- */

void guest_mem_hotplug_by_probe(struct rpc_call *call, void *request)
{
	Grpc__MemHotplugByProbeRequest *req = request;

	if (req->n_memhotplugprobeaddr > PROBE_MAX_ADDRS) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "%zu memory probe addresses; at most %d per call",
				     req->n_memhotplugprobeaddr, PROBE_MAX_ADDRS);
		return;
	}
	for (size_t i = 0; i < req->n_memhotplugprobeaddr; i++) {
		char addr[24];
		/* Kata's format!("{:#X}"): 0x prefix, upper-case digits. */
		snprintf(addr, sizeof(addr), "0x%" PRIX64, req->memhotplugprobeaddr[i]);
		int r = write_file(SYSFS_MEMORY_PROBE, addr);
		if (r < 0) {
			rpc_call_reply_errno(call, r, "memory probe of %s via %s: %m", addr,
					     SYSFS_MEMORY_PROBE);
			return;
		}
	}
	reply_empty(call);
}

/* ---- SetGuestDateTime ---- */

void guest_set_date_time(struct rpc_call *call, void *request)
{
	Grpc__SetGuestDateTimeRequest *req = request;

	if (req->sec < 0) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "Sec %" PRId64 " is negative: the clock cannot go before 1970",
				     req->sec);
		return;
	}
	if (req->usec < 0 || req->usec >= 1000000) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "Usec %" PRId64 " is out of range [0, 999999]", req->usec);
		return;
	}
	struct timeval tv = {.tv_sec = (time_t)req->sec, .tv_usec = (suseconds_t)req->usec};
	if ((int64_t)tv.tv_sec != req->sec) {
		rpc_call_reply_error(call, RPC_OUT_OF_RANGE, "Sec %" PRId64 " does not fit time_t",
				     req->sec);
		return;
	}
	if (settimeofday(&tv, NULL) < 0) {
		rpc_call_reply_errno(call, errno, "settimeofday(%" PRId64 ".%06" PRId64 "): %m",
				     req->sec, req->usec);
		return;
	}
	log_info("guest clock set to %" PRId64 ".%06" PRId64, req->sec, req->usec);
	reply_empty(call);
}

/* ---- ReseedRandomDev ---- */

void guest_reseed_random_dev(struct rpc_call *call, void *request)
{
	Grpc__ReseedRandomDevRequest *req = request;
	size_t len = req->data.len;

	if (len == 0) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "data is empty: nothing to reseed /dev/random with");
		return;
	}
	if (len > RESEED_MAX) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "data is %zu bytes; at most %d",
				     len, RESEED_MAX);
		return;
	}
	_cleanup_close_ int fd = open("/dev/random", O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		rpc_call_reply_errno(call, errno, "cannot open /dev/random: %m");
		return;
	}
	_cleanup_free_ struct rand_pool_info *info = malloc(sizeof(*info) + len);
	if (!info) {
		rpc_call_reply_errno(call, -ENOMEM, "ReseedRandomDev: out of memory");
		return;
	}
	/* Mix and credit in one step (Kata writes, then RNDADDTOENTCNT with the byte count
	 * as the bit count). A byte from the host counts as 8 bits; the kernel caps the
	 * credit at the pool size. */
	info->entropy_count = (int)(len * 8);
	info->buf_size = (int)len;
	memcpy(info->buf, req->data.data, len);
	if (ioctl(fd, RNDADDENTROPY, info) < 0) {
		rpc_call_reply_errno(call, errno, "RNDADDENTROPY on /dev/random: %m");
		return;
	}
	/* Cloned VMs (VM templating) share their RNG state: reseed the CRNG right away. */
	if (ioctl(fd, RNDRESEEDCRNG) < 0) {
		rpc_call_reply_errno(call, errno, "RNDRESEEDCRNG on /dev/random: %m");
		return;
	}
	log_info("reseeded the kernel RNG with %zu bytes from the host", len);
	reply_empty(call);
}

/* ---- AddSwap, AddSwapPath ---- */

/* swapon() reads the swap header and maps the area's extents: a bounded blocking call that
 * stays in the loop. */
static void swap_on(struct rpc_call *call, const char *path)
{
	char q[128];
	if (swapon(path, 0) < 0) {
		rpc_call_reply_errno(call, errno, "swapon '%s': %m", quote(path, q, sizeof(q)));
		return;
	}
	log_info("swap enabled on %s", path);
	reply_empty(call);
}

struct swap_wait {
	struct rpc_call *call;
	struct uevent_waiter *waiter;
	char pci[64];
	uint64_t timeout_ms;
};

static void swap_wait_cancel(struct rpc_call *call _unused_, void *data)
{
	struct swap_wait *w = data;
	uevent_wait_cancel(w->waiter);
	free(w);
}

static void swap_dev_cb(void *data, int r, const struct uevent_device *dev)
{
	struct swap_wait *w = data;
	struct rpc_call *call = w->call;
	char pci[sizeof(w->pci)], node[160];
	uint64_t timeout_ms = w->timeout_ms;

	snprintf(pci, sizeof(pci), "%s", w->pci);
	free(w);
	if (r == -ETIMEDOUT)
		rpc_call_reply_error(call, RPC_DEADLINE_EXCEEDED,
				     "no block device appeared at PCI path %s within %llu ms", pci,
				     (unsigned long long)timeout_ms);
	else if (r < 0)
		rpc_call_reply_errno(call, r, "waiting for the block device at PCI path %s: %m",
				     pci);
	else {
		snprintf(node, sizeof(node), "/dev/%s", dev->devname);
		swap_on(call, node);
	}
}

/* Kata: each PCIPath element is a slot (function 0) on the way from the root bus to a
 * virtio-blk device; swapon its disk once it is there (waiting up to hotplug_timeout). */
void guest_add_swap(struct rpc_call *call, void *request)
{
	Grpc__AddSwapRequest *req = request;
	struct agent *a = rpc_call_userdata(call);
	char pci[64] = "";
	struct pci_path path;
	int r;

	if (req->n_pcipath == 0 || req->n_pcipath > PCI_PATH_MAX) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "PCIPath has %zu elements; 1 to %d expected", req->n_pcipath,
				     PCI_PATH_MAX);
		return;
	}
	for (size_t i = 0, n = 0; i < req->n_pcipath; i++) {
		if (req->pcipath[i] > 0x1f) {
			rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
					     "PCIPath element %zu is slot %u; slots are 0 to 0x1f",
					     i, req->pcipath[i]);
			return;
		}
		n += (size_t)snprintf(pci + n, sizeof(pci) - n, "%s%02x", i ? "/" : "",
				      req->pcipath[i]);
	}
	r = pci_path_parse(pci, &path);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "invalid PCI path %s", pci);
		return;
	}
	if (!a->uevents) {
		rpc_call_reply_error(call, RPC_UNAVAILABLE,
				     "AddSwap (PCI path %s): no uevent listener runs in this agent",
				     pci);
		return;
	}
	_cleanup_free_ char *devpath = NULL, *regex = NULL;
	r = pci_path_to_devpath(uevent_listener_sysfs(a->uevents), &path, &devpath);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "PCI path %s: %m", pci);
		return;
	}
	r = uevent_regex_pci_block(devpath, &regex);
	if (r < 0) {
		rpc_call_reply_errno(call, r, "PCI path %s: %m", pci);
		return;
	}
	struct swap_wait *w = calloc(1, sizeof(*w));
	if (!w) {
		rpc_call_reply_errno(call, -ENOMEM, "AddSwap: out of memory");
		return;
	}
	w->call = call;
	w->timeout_ms = a->cfg.hotplug_timeout_ms;
	snprintf(w->pci, sizeof(w->pci), "%s", pci);
	struct uevent_match m = {
	    .subsystem = "block",
	    .devpath_regex = regex,
	    .devtype = "disk",
	    .need_devname = true,
	};
	struct uevent_device dev;
	r = uevent_wait(a->uevents, &m, w->timeout_ms, swap_dev_cb, w, &w->waiter, &dev);
	if (r < 0) {
		free(w);
		rpc_call_reply_errno(call, r, "cannot wait for the block device at PCI path %s: %m",
				     pci);
	} else if (r == 1) {
		free(w);
		char node[160];
		snprintf(node, sizeof(node), "/dev/%s", dev.devname);
		swap_on(call, node);
	} else {
		log_info("AddSwap: waiting up to %llu ms for a disk at PCI path %s",
			 (unsigned long long)w->timeout_ms, pci);
		rpc_call_park(call, swap_wait_cancel, w);
	}
}

void guest_add_swap_path(struct rpc_call *call, void *request)
{
	Grpc__AddSwapPathRequest *req = request;
	char q[128];

	if (!req->path[0]) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "path is empty");
		return;
	}
	if (req->path[0] != '/' || strlen(req->path) >= PATH_MAX) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "path '%s' is not an absolute path",
				     quote(req->path, q, sizeof(q)));
		return;
	}
	swap_on(call, req->path);
}

/* ---- GetMetrics ---- */

void guest_get_metrics(struct rpc_call *call, void *request _unused_)
{
	struct agent *a = rpc_call_userdata(call);
	struct bytebuf out = {0};

	int r = metrics_collect(a, &out);
	if (r < 0) {
		bytebuf_free(&out);
		rpc_call_reply_errno(call, r, "cannot gather metrics: %m");
		return;
	}
	Grpc__Metrics resp = GRPC__METRICS__INIT;
	resp.metrics = (char *)out.data;
	rpc_call_reply(call, &resp.base);
	bytebuf_free(&out);
}

/* ---- GetDiagnosticData ---- */

/* proto3 strings must be UTF-8 (Go's decoder rejects anything else): invalid bytes and
 * NULs become '?', and a character cut at the 4 KiB limit is dropped. */
static void utf8_sanitize(char *s, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		size_t n = c < 0x80		? 1
			   : (c & 0xe0) == 0xc0 ? 2
			   : (c & 0xf0) == 0xe0 ? 3
			   : (c & 0xf8) == 0xf0 ? 4
						: 0;
		bool ok = n > 0 && (c >= 0xc2 || n == 1) && c <= 0xf4 && i + n <= len;
		for (size_t k = 1; ok && k < n; k++)
			ok = ((unsigned char)s[i + k] & 0xc0) == 0x80;
		if (ok && n == 3) {
			unsigned char d = (unsigned char)s[i + 1];
			ok = !(c == 0xe0 && d < 0xa0) && !(c == 0xed && d >= 0xa0);
		} else if (ok && n == 4) {
			unsigned char d = (unsigned char)s[i + 1];
			ok = !(c == 0xf0 && d < 0x90) && !(c == 0xf4 && d >= 0x90);
		}
		if (!ok && i + n > len && n > 0) {
			s[i] = '\0'; /* cut at the end */
			return;
		}
		if (!ok || c == 0) {
			s[i++] = '?';
			continue;
		}
		i += n;
	}
	s[len] = '\0';
}

#pragma weak container_termination_log_path

void guest_get_diagnostic_data(struct rpc_call *call, void *request)
{
	Grpc__GetDiagnosticDataRequest *req = request;
	struct agent *a = rpc_call_userdata(call);
	const char *path = NULL;
	char q[128], buf[TERMINATION_LOG_MAX + 1];

	if (!streq(req->log_type, "termination_log")) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT,
				     "unsupported log type: '%s' (supported: termination_log)",
				     quote(req->log_type, q, sizeof(q)));
		return;
	}
	if (!req->container_id[0]) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "container_id is empty");
		return;
	}
	int r = -ENOENT;
	if (container_termination_log_path)
		r = container_termination_log_path(a, req->container_id, &path);
	if (r == -ENOENT) {
		rpc_call_reply_error(call, RPC_NOT_FOUND, "container '%s' not found",
				     quote(req->container_id, q, sizeof(q)));
		return;
	}
	if (r < 0) {
		rpc_call_reply_errno(call, r, "container '%s': %m",
				     quote(req->container_id, q, sizeof(q)));
		return;
	}
	if (!path) {
		rpc_call_reply_error(call, RPC_NOT_FOUND,
				     "container '%s' has no termination-message mount",
				     quote(req->container_id, q, sizeof(q)));
		return;
	}
	/* The file is the container's: it may have made it a FIFO (O_NONBLOCK: a read must
	 * not wait) or a symlink out of its mount (O_NOFOLLOW). */
	_cleanup_close_ int fd =
	    open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		rpc_call_reply_errno(call, errno, "termination log %s of container '%s': %m", path,
				     quote(req->container_id, q, sizeof(q)));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		rpc_call_reply_error(call, RPC_FAILED_PRECONDITION,
				     "termination log %s of container '%s' is not a regular file",
				     path, quote(req->container_id, q, sizeof(q)));
		return;
	}
	ssize_t n = loop_read(fd, buf, TERMINATION_LOG_MAX);
	if (n < 0) {
		rpc_call_reply_errno(call, (int)n, "reading the termination log %s: %m", path);
		return;
	}
	utf8_sanitize(buf, (size_t)n);
	Grpc__GetDiagnosticDataResponse resp = GRPC__GET_DIAGNOSTIC_DATA_RESPONSE__INIT;
	resp.data = buf;
	rpc_call_reply(call, &resp.base);
}

/* ---- the policy ---- */

void guest_set_policy(struct rpc_call *call, void *request)
{
	Grpc__SetPolicyRequest *req = request;
	struct guest *g = call_guest(call);
	struct policy *p = NULL;
	char err[256];

	int r = policy_parse(req->policy, strlen(req->policy), &agent_agent_service, &p, err,
			     sizeof(err));
	if (r == -ENOMEM) {
		rpc_call_reply_errno(call, r, "SetPolicy: out of memory");
		return;
	}
	if (r < 0) {
		rpc_call_reply_error(call, RPC_INVALID_ARGUMENT, "%s", err);
		return;
	}
	policy_free(g->policy);
	g->policy = p;
	log_info("policy replaced by SetPolicy (%zu bytes)", strlen(req->policy));
	reply_empty(call);
}

/* ---- answered UNIMPLEMENTED on purpose ---- */

void guest_mem_agent_memcg_set(struct rpc_call *call, void *request _unused_)
{
	rpc_call_reply_error(call, RPC_UNIMPLEMENTED,
			     "MemAgentMemcgSet: ember has no mem-agent (Kata's optional MGLRU "
			     "reclaim daemon); there is nothing to configure");
}

void guest_mem_agent_compact_set(struct rpc_call *call, void *request _unused_)
{
	rpc_call_reply_error(call, RPC_UNIMPLEMENTED,
			     "MemAgentCompactSet: ember has no mem-agent (Kata's optional memory "
			     "compaction daemon); there is nothing to configure");
}

void guest_resize_volume(struct rpc_call *call, void *request _unused_)
{
	rpc_call_reply_error(call, RPC_UNIMPLEMENTED,
			     "ResizeVolume is not supported (Kata's agent does not implement it "
			     "either)");
}
