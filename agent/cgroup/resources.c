/* SPDX-License-Identifier: Apache-2.0 */
/*
 * OCI LinuxResources -> cgroup v2 files, with runc's and crun's conversions
 * (runc libcontainer/cgroups/fs2, crun src/libcrun/cgroup-resources.c):
 *
 *   Memory.Limit        memory.max        -1 -> "max"
 *   Memory.Reservation  memory.low        -1 -> "max"
 *   Memory.Swap         memory.swap.max   OCI swap is memory+swap: v2 gets Swap - Limit;
 *                                         -1 -> "max"; Limit -1 with no Swap -> "max"
 *   CPU.Shares          cpu.weight        1 + ((shares - 2) * 9999) / 262142
 *   CPU.Quota/Period    cpu.max           "quota period", quota -1 -> "max"
 *   CPU.Cpus/Mems       cpuset.cpus/mems
 *   Pids.Limit          pids.max          -1 -> "max"
 *   BlockIO.Weight      io.bfq.weight, else io.weight = 1 + (w - 10) * 9999 / 990
 *   BlockIO.Throttle*   io.max            "maj:min rbps=N" (wbps, riops, wiops); 0 -> "max"
 *   HugepageLimits      hugetlb.<size>.max
 *
 * cgroup v1-only knobs (kernel memory, swappiness, OOM killer disable, leaf weights, net_cls
 * and net_prio) have no v2 file: they are ignored, as runc does on v2, and listed in
 * ws->ignored for the caller to log. Device rules are validated here (ws->devices) and
 * enforced by a BPF device program, not by a file: devices.c.
 */
#include "cgroup.h"

#include <fcntl.h>
#include <inttypes.h>

static const char *const controller_names[CG_COUNT] = {
    [CG_CPU] = "cpu",	    [CG_CPUSET] = "cpuset", [CG_IO] = "io",
    [CG_MEMORY] = "memory", [CG_PIDS] = "pids",	    [CG_HUGETLB] = "hugetlb",
};

const char *cgroup_controller_name(enum cgroup_controller c)
{
	return (unsigned)c < CG_COUNT ? controller_names[c] : "?";
}

unsigned cgroup_controllers_parse(const char *text)
{
	unsigned mask = 0;
	const char *s = text;
	while (s && *s) {
		while (*s == ' ' || *s == '\n' || *s == '\t')
			s++;
		const char *e = s;
		while (*e && *e != ' ' && *e != '\n' && *e != '\t')
			e++;
		for (int c = 0; c < CG_COUNT; c++)
			if ((size_t)(e - s) == strlen(controller_names[c]) &&
			    !memcmp(s, controller_names[c], (size_t)(e - s)))
				mask |= CG_MASK(c);
		s = e;
	}
	return mask;
}

uint64_t cgroup_shares_to_weight(uint64_t shares)
{
	/* The kernel's cpu.shares range is [2, 262144]; clamp as the kernel would. */
	if (shares < 2)
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((shares - 2) * 9999) / 262142;
}

uint32_t cgroup_blkio_to_io_weight(uint32_t weight)
{
	return 1 + (weight - 10) * 9999 / 990;
}

void cgroup_writes_free(struct cgroup_writes *ws)
{
	for (size_t i = 0; i < ws->n; i++) {
		free(ws->w[i].value);
		free(ws->w[i].alt_value);
	}
	free(ws->w);
	free(ws->cpuset_cpus);
	free(ws->cpuset_mems);
	free(ws->devices);
	*ws = (struct cgroup_writes){0};
}

static struct cgroup_write *add(struct cgroup_writes *ws, enum cgroup_controller c,
				const char *file, unsigned flags, const char *value)
{
	if (ws->n == ws->cap) {
		size_t cap = ws->cap ? ws->cap * 2 : 8;
		struct cgroup_write *w = realloc(ws->w, cap * sizeof(*w));
		if (!w)
			return NULL;
		ws->w = w;
		ws->cap = cap;
	}
	struct cgroup_write *w = &ws->w[ws->n];
	*w = (struct cgroup_write){.flags = flags, .controller = c};
	snprintf(w->file, sizeof(w->file), "%s", file);
	w->value = strdup(value);
	if (!w->value)
		return NULL;
	ws->n++;
	ws->controllers |= CG_MASK(c);
	return w;
}

#define ADD(ws, c, file, flags, value, ...)                                                        \
	({                                                                                         \
		struct cgroup_write *_w = add(ws, c, file, flags, value);                          \
		if (!_w)                                                                           \
			return -ENOMEM;                                                            \
		snprintf(_w->what, sizeof(_w->what), __VA_ARGS__);                                 \
		_w;                                                                                \
	})

static void note_ignored(struct cgroup_writes *ws, const char *what)
{
	size_t l = strlen(ws->ignored);
	snprintf(ws->ignored + l, sizeof(ws->ignored) - l, "%s%s", l ? ", " : "", what);
}

/* A v2 limit: -1 means "max" (unlimited); other negative values are refused. */
static int limit_text(int64_t v, const char *name, char buf[32], char *err, size_t errsz)
{
	if (v == -1) {
		strcpy(buf, "max");
		return 0;
	}
	if (v < 0)
		return errbuf_printf(err, errsz, -EINVAL,
				     "%s %" PRId64 ": must be positive or -1 (unlimited)", name, v);
	snprintf(buf, 32, "%" PRId64, v);
	return 0;
}

static int plan_memory(const Grpc__LinuxMemory *m, struct cgroup_writes *ws, char *err,
		       size_t errsz)
{
	char buf[32];
	int r;

	if (m->limit) {
		r = limit_text(m->limit, "memory limit", buf, err, errsz);
		if (r < 0)
			return r;
		ADD(ws, CG_MEMORY, "memory.max", 0, buf, "memory limit %" PRId64, m->limit);
	}
	/* runc's ConvertMemorySwapToCgroupV2Value. A kernel without swap accounting has no
	 * memory.swap.max: not an error (crun), there is no swap to limit. */
	if (m->limit == -1 && m->swap == 0) {
		ADD(ws, CG_MEMORY, "memory.swap.max", CGW_OPTIONAL, "max",
		    "memory swap (unlimited with the memory limit)");
	} else if (m->swap == -1) {
		ADD(ws, CG_MEMORY, "memory.swap.max", CGW_OPTIONAL, "max", "memory swap -1");
	} else if (m->swap) {
		if (m->swap < 0)
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "memory swap %" PRId64 ": must be positive or -1 (unlimited)", m->swap);
		if (m->limit <= 0)
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "memory swap %" PRId64 ": a swap limit needs a memory limit", m->swap);
		if (m->swap < m->limit)
			return errbuf_printf(err, errsz, -EINVAL,
					     "memory swap %" PRId64
					     " is below the memory limit %" PRId64
					     " (OCI swap counts memory + swap)",
					     m->swap, m->limit);
		snprintf(buf, sizeof(buf), "%" PRId64, m->swap - m->limit);
		ADD(ws, CG_MEMORY, "memory.swap.max", CGW_OPTIONAL, buf,
		    "memory swap %" PRId64 " (limit %" PRId64 ")", m->swap, m->limit);
	}
	if (m->reservation) {
		r = limit_text(m->reservation, "memory reservation", buf, err, errsz);
		if (r < 0)
			return r;
		ADD(ws, CG_MEMORY, "memory.low", 0, buf, "memory reservation %" PRId64,
		    m->reservation);
	}
	if (m->kernel)
		note_ignored(ws, "Memory.Kernel");
	if (m->kerneltcp)
		note_ignored(ws, "Memory.KernelTCP");
	if (m->swappiness)
		note_ignored(ws, "Memory.Swappiness");
	if (m->disableoomkiller)
		note_ignored(ws, "Memory.DisableOOMKiller");
	return 0;
}

static int plan_cpuset(const char *name, const char *file, const char *list, bool cpus,
		       struct cgroup_writes *ws, char *err, size_t errsz)
{
	_cleanup_free_ uint64_t *bits = calloc(CGROUP_MAX_CPUS / 64, sizeof(uint64_t));
	if (!bits)
		return -ENOMEM;
	if (strlen(list) > 4096 || cgroup_cpulist_parse(list, bits) < 0)
		return errbuf_printf(err, errsz, -EINVAL,
				     "%s '%.64s': not a list of numbers and ranges below %d", name,
				     list, CGROUP_MAX_CPUS);
	ADD(ws, CG_CPUSET, file, 0, list, "%s '%.64s'", name, list);
	char **keep = cpus ? &ws->cpuset_cpus : &ws->cpuset_mems;
	free(*keep);
	*keep = strdup(list);
	return *keep ? 0 : -ENOMEM;
}

static int plan_cpu(const Grpc__LinuxCPU *c, struct cgroup_writes *ws, char *err, size_t errsz)
{
	char buf[64];
	int r;

	if (c->shares) {
		snprintf(buf, sizeof(buf), "%" PRIu64, cgroup_shares_to_weight(c->shares));
		ADD(ws, CG_CPU, "cpu.weight", 0, buf, "cpu shares %" PRIu64, c->shares);
	}
	if (c->quota || c->period) {
		/* The kernel's bounds (kernel/sched/core.c): period 1 ms..1 s, quota >= 1 ms. */
		if (c->period && (c->period < 1000 || c->period > 1000000))
			return errbuf_printf(err, errsz, -EINVAL,
					     "cpu period %" PRIu64
					     ": must be 1000..1000000 (microseconds)",
					     c->period);
		if (c->quota < -1 || (c->quota > 0 && c->quota < 1000))
			return errbuf_printf(err, errsz, -EINVAL,
					     "cpu quota %" PRId64
					     ": must be at least 1000 (microseconds) or "
					     "-1 (unlimited)",
					     c->quota);
		if (!c->quota) {
			/* Only the period: keep whatever quota is set (the kernel wants both). */
			snprintf(buf, sizeof(buf), "%" PRIu64, c->period);
			ADD(ws, CG_CPU, "cpu.max", CGW_KEEP_QUOTA, buf, "cpu period %" PRIu64,
			    c->period);
		} else {
			char q[24];
			if (c->quota == -1)
				strcpy(q, "max");
			else
				snprintf(q, sizeof(q), "%" PRId64, c->quota);
			if (c->period)
				snprintf(buf, sizeof(buf), "%s %" PRIu64, q, c->period);
			else
				snprintf(buf, sizeof(buf), "%s", q);
			ADD(ws, CG_CPU, "cpu.max", 0, buf, "cpu quota %" PRId64 " period %" PRIu64,
			    c->quota, c->period);
		}
	}
	if (c->realtimeruntime || c->realtimeperiod)
		return errbuf_printf(err, errsz, -CGROUP_ENOCTRL,
				     "cpu realtime runtime %" PRId64 " period %" PRIu64
				     ": cgroup v2 has no realtime CPU controller",
				     c->realtimeruntime, c->realtimeperiod);
	if (c->cpus && *c->cpus) {
		r = plan_cpuset("cpuset cpus", "cpuset.cpus", c->cpus, true, ws, err, errsz);
		if (r < 0)
			return r;
	}
	if (c->mems && *c->mems) {
		r = plan_cpuset("cpuset mems", "cpuset.mems", c->mems, false, ws, err, errsz);
		if (r < 0)
			return r;
	}
	return 0;
}

static int check_device(const char *what, size_t i, int64_t major, int64_t minor, char *err,
			size_t errsz)
{
	/* dev_t majors are 12 bits, minors 20 bits. */
	if (major < 0 || major > 4095 || minor < 0 || minor > 1048575)
		return errbuf_printf(err, errsz, -EINVAL,
				     "%s[%zu]: device %" PRId64 ":%" PRId64
				     " is not a valid major:minor",
				     what, i, major, minor);
	return 0;
}

static int plan_throttle(Grpc__LinuxThrottleDevice **devs, size_t n, const char *key,
			 const char *what, struct cgroup_writes *ws, char *err, size_t errsz)
{
	char buf[96];
	if (n > CGROUP_MAX_DEVICE_RULES)
		return errbuf_printf(err, errsz, -E2BIG, "%s: %zu devices, at most %d", what, n,
				     CGROUP_MAX_DEVICE_RULES);
	for (size_t i = 0; i < n; i++) {
		const Grpc__LinuxThrottleDevice *d = devs[i];
		int r = check_device(what, i, d->major, d->minor, err, errsz);
		if (r < 0)
			return r;
		/* v1 removed a rule when given 0; v2 says "max" for that. */
		if (d->rate)
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRIu64, d->major,
				 d->minor, key, d->rate);
		else
			snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=max", d->major,
				 d->minor, key);
		ADD(ws, CG_IO, "io.max", 0, buf, "%s %" PRId64 ":%" PRId64 " rate %" PRIu64, what,
		    d->major, d->minor, d->rate);
	}
	return 0;
}

static int plan_blockio(const Grpc__LinuxBlockIO *b, struct cgroup_writes *ws, char *err,
			size_t errsz)
{
	char buf[64], alt[64];
	int r;

	if (b->weight) {
		if (b->weight < 10 || b->weight > 1000)
			return errbuf_printf(err, errsz, -EINVAL,
					     "blkio weight %" PRIu32 ": must be 10..1000",
					     b->weight);
		snprintf(buf, sizeof(buf), "%" PRIu32, b->weight);
		snprintf(alt, sizeof(alt), "%" PRIu32, cgroup_blkio_to_io_weight(b->weight));
		struct cgroup_write *w = ADD(ws, CG_IO, "io.bfq.weight", CGW_BFQ_WEIGHT, buf,
					     "blkio weight %" PRIu32, b->weight);
		w->alt_value = strdup(alt);
		if (!w->alt_value)
			return -ENOMEM;
	}
	if (b->leafweight)
		note_ignored(ws, "BlockIO.LeafWeight");
	if (b->n_weightdevice > CGROUP_MAX_DEVICE_RULES)
		return errbuf_printf(err, errsz, -E2BIG,
				     "blkio weight devices: %zu devices, at most %d",
				     b->n_weightdevice, CGROUP_MAX_DEVICE_RULES);
	for (size_t i = 0; i < b->n_weightdevice; i++) {
		const Grpc__LinuxWeightDevice *d = b->weightdevice[i];
		r = check_device("blkio weight devices", i, d->major, d->minor, err, errsz);
		if (r < 0)
			return r;
		if (d->leafweight)
			note_ignored(ws, "BlockIO.WeightDevice.LeafWeight");
		if (!d->weight)
			continue;
		if (d->weight < 10 || d->weight > 1000)
			return errbuf_printf(err, errsz, -EINVAL,
					     "blkio weight device %" PRId64 ":%" PRId64
					     " weight %" PRIu32 ": must be 10..1000",
					     d->major, d->minor, d->weight);
		snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRIu32, d->major, d->minor,
			 d->weight);
		snprintf(alt, sizeof(alt), "%" PRId64 ":%" PRId64 " %" PRIu32, d->major, d->minor,
			 cgroup_blkio_to_io_weight(d->weight));
		struct cgroup_write *w =
		    ADD(ws, CG_IO, "io.bfq.weight", CGW_BFQ_WEIGHT, buf,
			"blkio weight device %" PRId64 ":%" PRId64, d->major, d->minor);
		w->alt_value = strdup(alt);
		if (!w->alt_value)
			return -ENOMEM;
	}
	if ((r = plan_throttle(b->throttlereadbpsdevice, b->n_throttlereadbpsdevice, "rbps",
			       "blkio throttle read bps", ws, err, errsz)) < 0 ||
	    (r = plan_throttle(b->throttlewritebpsdevice, b->n_throttlewritebpsdevice, "wbps",
			       "blkio throttle write bps", ws, err, errsz)) < 0 ||
	    (r = plan_throttle(b->throttlereadiopsdevice, b->n_throttlereadiopsdevice, "riops",
			       "blkio throttle read iops", ws, err, errsz)) < 0 ||
	    (r = plan_throttle(b->throttlewriteiopsdevice, b->n_throttlewriteiopsdevice, "wiops",
			       "blkio throttle write iops", ws, err, errsz)) < 0)
		return r;
	return 0;
}

/* Page size names as the kernel spells them in hugetlb.<size>.max: "2MB", "1GB", "64KB". */
static bool valid_pagesize(const char *s)
{
	size_t i = 0;
	while (s[i] >= '0' && s[i] <= '9')
		i++;
	if (i == 0 || i > 10)
		return false;
	if (s[i] == 'K' || s[i] == 'M' || s[i] == 'G' || s[i] == 'T')
		i++;
	return s[i] == 'B' && s[i + 1] == '\0';
}

static int plan_hugetlb(Grpc__LinuxHugepageLimit **h, size_t n, struct cgroup_writes *ws, char *err,
			size_t errsz)
{
	char file[48], buf[32];
	if (n > CGROUP_MAX_HUGEPAGE)
		return errbuf_printf(err, errsz, -E2BIG, "hugepage limits: %zu entries, at most %d",
				     n, CGROUP_MAX_HUGEPAGE);
	for (size_t i = 0; i < n; i++) {
		const char *ps = h[i]->pagesize ? h[i]->pagesize : "";
		if (!valid_pagesize(ps))
			return errbuf_printf(
			    err, errsz, -EINVAL,
			    "hugepage limit %zu: page size '%.32s' is not like '2MB'", i, ps);
		snprintf(file, sizeof(file), "hugetlb.%s.max", ps);
		snprintf(buf, sizeof(buf), "%" PRIu64, h[i]->limit);
		ADD(ws, CG_HUGETLB, file, 0, buf, "hugepage limit %s %" PRIu64, ps, h[i]->limit);
	}
	return 0;
}

int cgroup_plan_resources(const Grpc__LinuxResources *res, struct cgroup_writes *ret, char *err,
			  size_t errsz)
{
	struct cgroup_writes ws = {0};
	int r = 0;

	*ret = ws;
	if (!res)
		return 0;
	if (res->memory)
		r = plan_memory(res->memory, &ws, err, errsz);
	if (r >= 0 && res->cpu)
		r = plan_cpu(res->cpu, &ws, err, errsz);
	if (r >= 0 && res->pids) {
		char buf[32];
		if (res->pids->limit) {
			r = limit_text(res->pids->limit, "pids limit", buf, err, errsz);
			if (r >= 0 && !add(&ws, CG_PIDS, "pids.max", 0, buf))
				r = -ENOMEM;
			if (r >= 0)
				snprintf(ws.w[ws.n - 1].what, sizeof(ws.w[0].what),
					 "pids limit %" PRId64, res->pids->limit);
		}
	}
	if (r >= 0 && res->blockio)
		r = plan_blockio(res->blockio, &ws, err, errsz);
	if (r >= 0 && res->n_hugepagelimits)
		r = plan_hugetlb(res->hugepagelimits, res->n_hugepagelimits, &ws, err, errsz);
	if (r >= 0 && res->n_devices) {
		r = cgroup_devices_parse(res->devices, res->n_devices, &ws.devices, err, errsz);
		if (r >= 0)
			ws.n_devices = res->n_devices;
	}
	if (r >= 0 && res->network && (res->network->classid || res->network->n_priorities))
		note_ignored(&ws, "Network");
	if (r < 0) {
		cgroup_writes_free(&ws);
		return r;
	}
	*ret = ws;
	return 0;
}

/* ---- applying ---- */

/* O_APPEND: cgroupfs ignores the file offset; a scratch directory standing in for it (the
 * unit tests) then records every write in order, io.max lines included. */
static int write_at(int dirfd, const char *file, const char *value)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	size_t len = strlen(value);
	/* cgroupfs takes a value per write(); a short write does not happen there. */
	ssize_t n = write(fd, value, len);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* Reads a small cgroup file into buf (NUL terminated, trailing newline dropped). */
int cgroup_read_small(int dirfd, const char *file, char *buf, size_t size)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	ssize_t n = loop_read(fd, buf, size - 1);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	while (n > 0 && buf[n - 1] == '\n')
		buf[--n] = '\0';
	return (int)n;
}

int cgroup_apply_writes(int dirfd, const struct cgroup_writes *ws, char *err, size_t errsz)
{
	char text[256];
	int r;

	if (ws->controllers) {
		r = cgroup_read_small(dirfd, "cgroup.controllers", text, sizeof(text));
		unsigned avail = r >= 0 ? cgroup_controllers_parse(text) : 0;
		for (size_t i = 0; i < ws->n; i++) {
			const struct cgroup_write *w = &ws->w[i];
			if (!(w->flags & CGW_SKIP) && !(avail & CG_MASK(w->controller)))
				return errbuf_printf(
				    err, errsz, -CGROUP_ENOCTRL,
				    "%s: the cgroup controller '%s' is not available", w->what,
				    cgroup_controller_name(w->controller));
		}
	}

	for (size_t i = 0; i < ws->n; i++) {
		const struct cgroup_write *w = &ws->w[i];
		const char *file = w->file, *value = w->value;
		char buf[96];

		if (w->flags & CGW_SKIP)
			continue;
		if (w->flags & CGW_KEEP_QUOTA) {
			r = cgroup_read_small(dirfd, "cpu.max", text, sizeof(text));
			if (r < 0)
				return errbuf_printf(err, errsz, r, "%s: reading cpu.max: %s",
						     w->what, strerror(-r));
			char *sp = strchr(text, ' ');
			if (sp)
				*sp = '\0';
			snprintf(buf, sizeof(buf), "%.40s %.40s", text, w->value);
			value = buf;
		}
		r = write_at(dirfd, file, value);
		if (r == -ENOENT && (w->flags & CGW_OPTIONAL))
			continue;
		if (r == -ENOENT && (w->flags & CGW_BFQ_WEIGHT)) {
			/* No BFQ scheduler: io.weight takes the converted weight (crun). */
			file = "io.weight";
			value = w->alt_value;
			r = write_at(dirfd, file, value);
		}
		if (r == -ENOENT && w->controller == CG_HUGETLB)
			return errbuf_printf(err, errsz, -EINVAL,
					     "%s: the kernel has no such huge page size (%s)",
					     w->what, w->file);
		if (r < 0)
			return errbuf_printf(err, errsz, r, "%s: writing '%s' to %s: %s", w->what,
					     value, file, strerror(-r));
	}
	return 0;
}
