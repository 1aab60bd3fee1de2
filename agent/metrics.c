/* SPDX-License-Identifier: Apache-2.0 */
/*
 * GetMetrics: Prometheus text exposition (format 0.0.4) of the agent process and the guest.
 *
 * Names, labels and units follow Kata's agent (src/agent/src/metrics.rs and the process
 * collector of the prometheus crate) so kata-monitor dashboards keep working; every name
 * is listed in docs/metrics.md. The parsers take the /proc text as input so unit tests can
 * feed them fixed samples.
 */
#define LOG_SUBSYSTEM "metrics"
#include "guest.h"

#include <dirent.h>
#include <inttypes.h>
#include <sys/resource.h>

#define PROC_FILE_MAX (1u << 20) /* /proc/stat grows with CPUs and interrupts */

/* ---- exposition ---- */

static int appendf(struct bytebuf *out, const char *fmt, ...) _printf_(2, 3);
static int appendf(struct bytebuf *out, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return bytebuf_append(out, small, (size_t)n);
	uint8_t *p = bytebuf_reserve(out, (size_t)n + 1);
	if (!p)
		return -ENOMEM;
	va_start(ap, fmt);
	vsnprintf((char *)p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	out->len += (size_t)n;
	return 0;
}

int metrics_family(struct bytebuf *out, const char *name, const char *type, const char *help)
{
	return appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values: backslash, double quote and newline are escaped (exposition format). */
static int append_label(struct bytebuf *out, const char *name, const char *value)
{
	int r = appendf(out, "%s=\"", name);
	for (const char *s = value; r >= 0 && *s; s++) {
		if (*s == '\\' || *s == '"')
			r = appendf(out, "\\%c", *s);
		else if (*s == '\n')
			r = bytebuf_append(out, "\\n", 2);
		else
			r = bytebuf_append(out, s, 1);
	}
	return r < 0 ? r : bytebuf_append(out, "\"", 1);
}

static int append_head(struct bytebuf *out, const char *name, const char *l1, const char *v1,
		       const char *l2, const char *v2)
{
	int r = appendf(out, "%s", name);
	if (r >= 0 && l1) {
		r = bytebuf_append(out, "{", 1);
		if (r >= 0)
			r = append_label(out, l1, v1);
		if (r >= 0 && l2)
			r = bytebuf_append(out, ",", 1);
		if (r >= 0 && l2)
			r = append_label(out, l2, v2);
		if (r >= 0)
			r = bytebuf_append(out, "}", 1);
	}
	return r;
}

int metrics_sample_u64(struct bytebuf *out, const char *name, const char *l1, const char *v1,
		       const char *l2, const char *v2, uint64_t value)
{
	int r = append_head(out, name, l1, v1, l2, v2);
	return r < 0 ? r : appendf(out, " %" PRIu64 "\n", value);
}

int metrics_sample_f64(struct bytebuf *out, const char *name, const char *l1, const char *v1,
		       const char *l2, const char *v2, double value)
{
	int r = append_head(out, name, l1, v1, l2, v2);
	/* %.15g round-trips the /proc figures (at most 15 significant digits) without the
	 * 0.52000000000000002 noise of %.17g. */
	return r < 0 ? r : appendf(out, " %.15g\n", value);
}

/* ---- small parsing helpers ---- */

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/* Parses an unsigned decimal at *s, advancing it; false when there is none. */
static bool take_u64(const char **s, uint64_t *v)
{
	const char *p = skip_ws(*s);
	char *end;
	if (*p < '0' || *p > '9')
		return false;
	errno = 0;
	unsigned long long x = strtoull(p, &end, 10);
	if (errno)
		return false;
	*v = x;
	*s = end;
	return true;
}

/* Copies the next whitespace-delimited word (bounded) and advances *s. */
static bool take_word(const char **s, char *out, size_t outsz)
{
	const char *p = skip_ws(*s);
	size_t n = 0;
	while (*p && *p != ' ' && *p != '\t' && *p != '\n') {
		if (n + 1 < outsz)
			out[n++] = *p;
		p++;
	}
	out[n] = '\0';
	*s = p;
	return n > 0;
}

static const char *next_line(const char *s)
{
	const char *nl = strchr(s, '\n');
	return nl ? nl + 1 : s + strlen(s);
}

/* "Active(anon)" -> "active_anon", "SecPageTables" -> "sec_page_tables": the generic form
 * for keys Kata does not name. */
static void snake_case(const char *in, size_t len, char *out, size_t outsz)
{
	size_t n = 0;
	for (size_t i = 0; i < len && n + 2 < outsz; i++) {
		char c = in[i];
		bool upper = c >= 'A' && c <= 'Z';
		bool alnum = upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
		char prev = i > 0 ? in[i - 1] : '\0';
		bool after_lower = (prev >= 'a' && prev <= 'z') || (prev >= '0' && prev <= '9');
		if (upper && after_lower && n > 0 && out[n - 1] != '_')
			out[n++] = '_';
		if (alnum)
			out[n++] = upper ? (char)(c - 'A' + 'a') : c;
		else if (n > 0 && out[n - 1] != '_')
			out[n++] = '_';
	}
	while (n > 0 && out[n - 1] == '_')
		n--;
	out[n] = '\0';
}

/* ---- guest ---- */

/* Kata's item names for /proc/meminfo keys (procfs crate field names). */
static const struct {
	const char *key, *item;
} meminfo_items[] = {
    {"MemTotal", "mem_total"},
    {"MemFree", "mem_free"},
    {"MemAvailable", "mem_available"},
    {"Buffers", "buffers"},
    {"Cached", "cached"},
    {"SwapCached", "swap_cached"},
    {"Active", "active"},
    {"Inactive", "inactive"},
    {"Active(anon)", "active_anon"},
    {"Inactive(anon)", "inactive_anon"},
    {"Active(file)", "active_file"},
    {"Inactive(file)", "inactive_file"},
    {"Unevictable", "unevictable"},
    {"Mlocked", "mlocked"},
    {"HighTotal", "high_total"},
    {"HighFree", "high_free"},
    {"LowTotal", "low_total"},
    {"LowFree", "low_free"},
    {"MmapCopy", "mmap_copy"},
    {"SwapTotal", "swap_total"},
    {"SwapFree", "swap_free"},
    {"Dirty", "dirty"},
    {"Writeback", "writeback"},
    {"AnonPages", "anon_pages"},
    {"Mapped", "mapped"},
    {"Shmem", "shmem"},
    {"Slab", "slab"},
    {"SReclaimable", "s_reclaimable"},
    {"SUnreclaim", "s_unreclaim"},
    {"KernelStack", "kernel_stack"},
    {"PageTables", "page_tables"},
    {"Quicklists", "quicklists"},
    {"NFS_Unstable", "nfs_unstable"},
    {"Bounce", "bounce"},
    {"WritebackTmp", "writeback_tmp"},
    {"CommitLimit", "commit_limit"},
    {"Committed_AS", "committed_as"},
    {"VmallocTotal", "vmalloc_total"},
    {"VmallocUsed", "vmalloc_used"},
    {"VmallocChunk", "vmalloc_chunk"},
    {"HardwareCorrupted", "hardware_corrupted"},
    {"AnonHugePages", "anon_hugepages"},
    {"ShmemHugePages", "shmem_hugepages"},
    {"ShmemPmdMapped", "shmem_pmd_mapped"},
    {"CmaTotal", "cma_total"},
    {"CmaFree", "cma_free"},
    {"HugePages_Total", "hugepages_total"},
    {"HugePages_Free", "hugepages_free"},
    {"HugePages_Rsvd", "hugepages_rsvd"},
    {"HugePages_Surp", "hugepages_surp"},
    {"Hugepagesize", "hugepagesize"},
    {"DirectMap4k", "direct_map_4k"},
    {"DirectMap4M", "direct_map_4M"},
    {"DirectMap2M", "direct_map_2M"},
    {"DirectMap1G", "direct_map_1G"},
    {"Hugetlb", "hugetlb"},
    {"Percpu", "per_cpu"},
    {"KReclaimable", "k_reclaimable"},
};

int metrics_guest_meminfo(struct bytebuf *out, const char *text)
{
	static const char name[] = "kata_guest_meminfo";
	int r = metrics_family(out, name, "gauge",
			       "Statistics about memory usage on the system (bytes; counts for "
			       "hugepages_*).");
	for (const char *s = text; r >= 0 && *s; s = next_line(s)) {
		const char *colon = strchr(s, ':'), *nl = strchr(s, '\n');
		uint64_t v;
		if (!colon || (nl && colon > nl) || colon == s)
			continue;
		const char *p = colon + 1;
		if (!take_u64(&p, &v))
			continue;
		/* The kernel prints sizes in kB; Kata (procfs) reports bytes. */
		if (strncmp(skip_ws(p), "kB", 2) == 0)
			v = v > UINT64_MAX / 1024 ? UINT64_MAX : v * 1024;
		char item[64];
		size_t klen = (size_t)(colon - s);
		item[0] = '\0';
		for (size_t i = 0; i < ARRAY_SIZE(meminfo_items); i++)
			if (strlen(meminfo_items[i].key) == klen &&
			    memcmp(meminfo_items[i].key, s, klen) == 0)
				snprintf(item, sizeof(item), "%s", meminfo_items[i].item);
		if (!item[0])
			snake_case(s, klen, item, sizeof(item));
		if (item[0])
			r = metrics_sample_u64(out, name, "item", item, NULL, NULL, v);
	}
	return r;
}

int metrics_guest_loadavg(struct bytebuf *out, const char *text)
{
	double l1, l5, l15;
	unsigned long long cur, max;
	if (sscanf(text, "%lf %lf %lf %llu/%llu", &l1, &l5, &l15, &cur, &max) != 5)
		return -EBADMSG;
	int r = metrics_family(out, "kata_guest_load", "gauge", "Guest system load.");
	if (r >= 0)
		r = metrics_sample_f64(out, "kata_guest_load", "item", "load1", NULL, NULL, l1);
	if (r >= 0)
		r = metrics_sample_f64(out, "kata_guest_load", "item", "load5", NULL, NULL, l5);
	if (r >= 0)
		r = metrics_sample_f64(out, "kata_guest_load", "item", "load15", NULL, NULL, l15);
	if (r >= 0)
		r = metrics_family(out, "kata_guest_tasks", "gauge",
				   "Guest scheduling entities: runnable (cur) and existing (max).");
	if (r >= 0)
		r = metrics_sample_u64(out, "kata_guest_tasks", "item", "cur", NULL, NULL, cur);
	if (r >= 0)
		r = metrics_sample_u64(out, "kata_guest_tasks", "item", "max", NULL, NULL, max);
	return r;
}

int metrics_guest_cpu_time(struct bytebuf *out, const char *text, long tps)
{
	static const char name[] = "kata_guest_cpu_time";
	static const char *const items[] = {"user", "nice",    "system", "idle",  "iowait",
					    "irq",  "softirq", "steal",	 "guest", "guest_nice"};
	if (tps <= 0)
		return -EINVAL;
	int r = metrics_family(out, name, "gauge",
			       "Guest CPU time per CPU and in total (milliseconds, /proc/stat).");
	for (const char *s = text; r >= 0 && *s; s = next_line(s)) {
		char cpu[32];
		const char *p = s;
		if (strncmp(s, "cpu", 3) != 0 || !take_word(&p, cpu, sizeof(cpu)))
			continue;
		const char *label = streq(cpu, "cpu") ? "total" : cpu + 3;
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(items); i++) {
			uint64_t ticks;
			if (!take_u64(&p, &ticks))
				break; /* older kernels print fewer columns */
			uint64_t ms = ticks / (uint64_t)tps * 1000 +
				      ticks % (uint64_t)tps * 1000 / (uint64_t)tps;
			r = metrics_sample_u64(out, name, "cpu", label, "item", items[i], ms);
		}
	}
	return r;
}

int metrics_guest_vmstat(struct bytebuf *out, const char *text)
{
	static const char name[] = "kata_guest_vm_stat";
	int r =
	    metrics_family(out, name, "gauge", "Guest virtual memory statistics (/proc/vmstat).");
	for (const char *s = text; r >= 0 && *s; s = next_line(s)) {
		char key[96];
		uint64_t v;
		const char *p = s;
		if (take_word(&p, key, sizeof(key)) && take_u64(&p, &v))
			r = metrics_sample_u64(out, name, "item", key, NULL, NULL, v);
	}
	return r;
}

int metrics_guest_netdev(struct bytebuf *out, const char *text)
{
	static const char name[] = "kata_guest_netdev_stat";
	static const char *const items[] = {
	    "recv_bytes", "recv_packets", "recv_errs",	     "recv_drop",
	    "recv_fifo",  "recv_frame",	  "recv_compressed", "recv_multicast",
	    "sent_bytes", "sent_packets", "sent_errs",	     "sent_drop",
	    "sent_fifo",  "sent_colls",	  "sent_carrier",    "sent_compressed"};
	int r =
	    metrics_family(out, name, "gauge", "Guest network device statistics (/proc/net/dev).");
	for (const char *s = text; r >= 0 && *s; s = next_line(s)) {
		const char *colon = strchr(s, ':'), *nl = strchr(s, '\n');
		if (!colon || (nl && colon > nl))
			continue; /* the two header lines */
		char dev[64];
		const char *b = skip_ws(s);
		size_t n = MIN((size_t)(colon - b), sizeof(dev) - 1);
		if (n == 0)
			continue;
		memcpy(dev, b, n);
		dev[n] = '\0';
		const char *p = colon + 1;
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(items); i++) {
			uint64_t v;
			if (!take_u64(&p, &v))
				break;
			r = metrics_sample_u64(out, name, "interface", dev, "item", items[i], v);
		}
	}
	return r;
}

int metrics_guest_diskstats(struct bytebuf *out, const char *text)
{
	static const char name[] = "kata_guest_diskstat";
	static const char *const items[] = {"reads",
					    "merged",
					    "sectors_read",
					    "time_reading",
					    "writes",
					    "writes_merged",
					    "sectors_written",
					    "time_writing",
					    "in_progress",
					    "time_in_progress",
					    "weighted_time_in_progress",
					    "discards",
					    "discards_merged",
					    "sectors_discarded",
					    "time_discarding",
					    "flushes",
					    "time_flushing"};
	int r = metrics_family(out, name, "gauge", "Guest disk statistics (/proc/diskstats).");
	for (const char *s = text; r >= 0 && *s; s = next_line(s)) {
		uint64_t major, minor;
		char disk[64];
		const char *p = s;
		if (!take_u64(&p, &major) || !take_u64(&p, &minor) ||
		    !take_word(&p, disk, sizeof(disk)))
			continue;
		for (size_t i = 0; r >= 0 && i < ARRAY_SIZE(items); i++) {
			uint64_t v;
			if (!take_u64(&p, &v))
				break; /* discard and flush columns are newer */
			r = metrics_sample_u64(out, name, "disk", disk, "item", items[i], v);
		}
	}
	return r;
}

/* ---- the agent process ---- */

/* Value of "Key:" in /proc/self/status or /proc/self/io; false when absent. */
static bool status_value(const char *text, const char *key, uint64_t *v)
{
	size_t klen = strlen(key);
	for (const char *s = text; *s; s = next_line(s)) {
		if (strncmp(s, key, klen) == 0 && s[klen] == ':') {
			const char *p = s + klen + 1;
			return take_u64(&p, v);
		}
	}
	return false;
}

int metrics_agent_process(struct bytebuf *out, const struct metrics_proc *p)
{
	/* /proc/self/stat after "(comm)", which may itself hold spaces and parentheses. */
	enum {
		F_UTIME = 14,
		F_STIME,
		F_CUTIME,
		F_CSTIME,
		F_THREADS = 20,
		F_START = 22,
		F_VSIZE,
		F_RSS
	};
	uint64_t f[F_RSS + 1] = {0};
	const char *s = p->stat ? strrchr(p->stat, ')') : NULL;
	if (!s || s[1] != ' ' || p->ticks_per_sec <= 0)
		return -EBADMSG;
	s += 2; /* ") " */
	char state[8];
	if (!take_word(&s, state, sizeof(state)))
		return -EBADMSG;
	for (int i = 4; i <= F_RSS; i++) {
		const char *q = skip_ws(s);
		if (*q == '-') { /* priority, nice: signed, not used */
			q++;
		}
		s = q;
		if (!take_u64(&s, &f[i]))
			return -EBADMSG;
	}
	double tps = (double)p->ticks_per_sec;
	double cpu_seconds = (double)(f[F_UTIME] + f[F_STIME]) / tps;
	uint64_t rss = f[F_RSS] * (uint64_t)p->page_size;
	int r = 0;

#define FAMILY(n, t, h)                                                                            \
	if (r >= 0)                                                                                \
	r = metrics_family(out, n, t, h)
#define U64(n, x)                                                                                  \
	if (r >= 0)                                                                                \
	r = metrics_sample_u64(out, n, NULL, NULL, NULL, NULL, x)
#define ITEM(n, item, x)                                                                           \
	if (r >= 0)                                                                                \
	r = metrics_sample_u64(out, n, "item", item, NULL, NULL, x)
#define F64(n, x)                                                                                  \
	if (r >= 0)                                                                                \
	r = metrics_sample_f64(out, n, NULL, NULL, NULL, NULL, x)

	FAMILY("kata_agent_scrape_count", "counter", "Metrics scrape count");
	U64("kata_agent_scrape_count", p->scrape_count);
	FAMILY("kata_agent_threads", "gauge", "Agent process threads");
	U64("kata_agent_threads", f[F_THREADS]);
	FAMILY("kata_agent_total_time", "gauge", "Agent process total time (seconds)");
	F64("kata_agent_total_time", cpu_seconds);
	FAMILY("kata_agent_total_vm", "gauge", "Agent process total VM size (bytes)");
	U64("kata_agent_total_vm", f[F_VSIZE]);
	FAMILY("kata_agent_total_rss", "gauge", "Agent process total RSS size (bytes)");
	U64("kata_agent_total_rss", rss);

	FAMILY("kata_agent_proc_stat", "gauge", "Agent process statistics (clock ticks).");
	ITEM("kata_agent_proc_stat", "utime", f[F_UTIME]);
	ITEM("kata_agent_proc_stat", "stime", f[F_STIME]);
	ITEM("kata_agent_proc_stat", "cutime", f[F_CUTIME]);
	ITEM("kata_agent_proc_stat", "cstime", f[F_CSTIME]);

	static const struct {
		const char *key, *item;
	} status_items[] = {
	    {"VmPeak", "vmpeak"},
	    {"VmSize", "vmsize"},
	    {"VmLck", "vmlck"},
	    {"VmPin", "vmpin"},
	    {"VmHWM", "vmhwm"},
	    {"VmRSS", "vmrss"},
	    {"RssAnon", "rssanon"},
	    {"RssFile", "rssfile"},
	    {"RssShmem", "rssshmem"},
	    {"VmData", "vmdata"},
	    {"VmStk", "vmstk"},
	    {"VmExe", "vmexe"},
	    {"VmLib", "vmlib"},
	    {"VmPTE", "vmpte"},
	    {"VmSwap", "vmswap"},
	    {"HugetlbPages", "hugetlbpages"},
	    {"voluntary_ctxt_switches", "voluntary_ctxt_switches"},
	    {"nonvoluntary_ctxt_switches", "nonvoluntary_ctxt_switches"},
	};
	if (p->status) {
		FAMILY("kata_agent_proc_status", "gauge",
		       "Agent process status (kB as in /proc/<pid>/status; counts for ctxt "
		       "switches).");
		for (size_t i = 0; i < ARRAY_SIZE(status_items); i++) {
			uint64_t v;
			if (status_value(p->status, status_items[i].key, &v))
				ITEM("kata_agent_proc_status", status_items[i].item, v);
		}
	}
	static const char *const io_items[] = {"rchar",
					       "wchar",
					       "syscr",
					       "syscw",
					       "read_bytes",
					       "write_bytes",
					       "cancelled_write_bytes"};
	if (p->io) {
		FAMILY("kata_agent_io_stat", "gauge",
		       "Agent process IO statistics (/proc/<pid>/io).");
		for (size_t i = 0; i < ARRAY_SIZE(io_items); i++) {
			uint64_t v;
			if (status_value(p->io, io_items[i], &v))
				ITEM("kata_agent_io_stat", io_items[i], v);
		}
	}

	FAMILY("kata_agent_process_cpu_seconds_total", "counter",
	       "Total user and system CPU time spent in seconds.");
	F64("kata_agent_process_cpu_seconds_total", cpu_seconds);
	FAMILY("kata_agent_process_open_fds", "gauge", "Number of open file descriptors.");
	U64("kata_agent_process_open_fds", p->open_fds);
	FAMILY("kata_agent_process_max_fds", "gauge", "Maximum number of open file descriptors.");
	U64("kata_agent_process_max_fds", p->max_fds);
	FAMILY("kata_agent_process_resident_memory_bytes", "gauge",
	       "Resident memory size in bytes.");
	U64("kata_agent_process_resident_memory_bytes", rss);
	FAMILY("kata_agent_process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
	U64("kata_agent_process_virtual_memory_bytes", f[F_VSIZE]);
	FAMILY("kata_agent_process_start_time_seconds", "gauge",
	       "Start time of the process since unix epoch in seconds.");
	F64("kata_agent_process_start_time_seconds",
	    (double)p->boot_time_sec + (double)f[F_START] / tps);
#undef FAMILY
#undef U64
#undef ITEM
#undef F64
	return r;
}

/* ---- collection ---- */

static uint64_t count_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	uint64_t n = 0;
	if (!d)
		return 0;
	for (struct dirent *de; (de = readdir(d));)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n > 0 ? n - 1 : 0; /* not the directory fd itself */
}

static uint64_t boot_time(const char *stat)
{
	const char *s = stat ? strstr(stat, "\nbtime ") : NULL;
	uint64_t v = 0;
	if (s) {
		s += STRLEN("\nbtime ");
		(void)take_u64(&s, &v);
	}
	return v;
}

/* Appends one guest family from a /proc file; an unreadable or odd file is skipped, as
 * Kata does: the other figures are still worth returning. */
static int guest_family(struct bytebuf *out, const char *path, const char *text,
			int (*fn)(struct bytebuf *, const char *))
{
	if (!text)
		return 0;
	size_t mark = out->len;
	int r = fn(out, text);
	if (r == -ENOMEM)
		return r;
	if (r < 0) {
		out->len = mark;
		log_debug_errno(r, "skipping %s: %m", path);
	}
	return 0;
}

#pragma weak container_metrics_append

int metrics_collect(struct agent *a, struct bytebuf *out)
{
	_cleanup_free_ char *stat = NULL, *status = NULL, *io = NULL, *pstat = NULL,
			    *meminfo = NULL, *loadavg = NULL, *vmstat = NULL, *netdev = NULL,
			    *diskstats = NULL;
	struct rlimit rl = {0};
	int r;

	(void)read_file("/proc/self/stat", PROC_FILE_MAX, &stat, NULL);
	(void)read_file("/proc/self/status", PROC_FILE_MAX, &status, NULL);
	(void)read_file("/proc/self/io", PROC_FILE_MAX, &io, NULL);
	(void)read_file("/proc/stat", PROC_FILE_MAX, &pstat, NULL);
	(void)read_file("/proc/meminfo", PROC_FILE_MAX, &meminfo, NULL);
	(void)read_file("/proc/loadavg", PROC_FILE_MAX, &loadavg, NULL);
	(void)read_file("/proc/vmstat", PROC_FILE_MAX, &vmstat, NULL);
	(void)read_file("/proc/net/dev", PROC_FILE_MAX, &netdev, NULL);
	(void)read_file("/proc/diskstats", PROC_FILE_MAX, &diskstats, NULL);
	(void)getrlimit(RLIMIT_NOFILE, &rl);

	struct metrics_proc proc = {
	    .stat = stat,
	    .status = status,
	    .io = io,
	    .open_fds = count_open_fds(),
	    .max_fds = rl.rlim_cur == RLIM_INFINITY ? UINT64_MAX : rl.rlim_cur,
	    .ticks_per_sec = sysconf(_SC_CLK_TCK),
	    .page_size = sysconf(_SC_PAGESIZE),
	    .boot_time_sec = boot_time(pstat),
	    .scrape_count = ++a->guest->scrape_count,
	};
	r = metrics_agent_process(out, &proc);
	if (r < 0)
		return r; /* our own /proc/self is always there: this is ENOMEM or a bug */

	if ((r = guest_family(out, "/proc/meminfo", meminfo, metrics_guest_meminfo)) < 0 ||
	    (r = guest_family(out, "/proc/loadavg", loadavg, metrics_guest_loadavg)) < 0 ||
	    (r = guest_family(out, "/proc/vmstat", vmstat, metrics_guest_vmstat)) < 0 ||
	    (r = guest_family(out, "/proc/net/dev", netdev, metrics_guest_netdev)) < 0 ||
	    (r = guest_family(out, "/proc/diskstats", diskstats, metrics_guest_diskstats)) < 0)
		return r;
	if (pstat) {
		size_t mark = out->len;
		r = metrics_guest_cpu_time(out, pstat, proc.ticks_per_sec);
		if (r == -ENOMEM)
			return r;
		if (r < 0)
			out->len = mark;
	}
	/* Per-container cgroup figures come from the container engine once it exists. */
	if (container_metrics_append) {
		r = container_metrics_append(a, out);
		if (r < 0)
			return r;
	}
	return bytebuf_append(out, "", 1);
}
