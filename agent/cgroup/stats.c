/* SPDX-License-Identifier: Apache-2.0 */
/*
 * StatsContainer: cgroup v2 files -> CgroupStats, converted the way runc's fs2 manager
 * does so that the shim and cAdvisor read the same numbers as with runc:
 *  - cpu.stat usage_usec/user_usec/system_usec/throttled_usec x 1000 (ns); no per-CPU usage
 *    on v2.
 *  - memory: usage = memory.current, limit = memory.max ("max" = UINT64_MAX), max_usage =
 *    memory.peak (5.19+), failcnt = memory.events "max" (times the limit was hit); swap is
 *    reported as memory+swap like v1 (swap.current + current, limits added); cache =
 *    memory.stat "file"; kernel usage = memory.stat "kernel"; stats = all of memory.stat.
 *  - pids.current, pids.max ("max" = 0, no limit).
 *  - io.stat rbytes/wbytes/dbytes -> io_service_bytes_recursive Read/Write/Discard,
 *    rios/wios/dios -> io_serviced_recursive.
 *  - hugetlb.<size>.current -> usage, hugetlb.<size>.events "max" -> failcnt.
 */
#include "cgroup.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>

#define STAT_FILE_MAX	(64 * 1024)
#define MAX_MEMORY_KEYS 128
#define MAX_IO_DEVICES	256
#define MAX_HUGE_SIZES	16

static int read_at(int dirfd, const char *file, char **ret)
{
	_cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	_cleanup_free_ char *buf = malloc(STAT_FILE_MAX + 1);
	if (!buf)
		return -ENOMEM;
	ssize_t n = loop_read(fd, buf, STAT_FILE_MAX);
	if (n < 0)
		return (int)n;
	buf[n] = '\0';
	*ret = TAKE_PTR(buf);
	return 0;
}

int cgroup_parse_max(const char *text, uint64_t *ret)
{
	size_t l = strlen(text);
	while (l && (text[l - 1] == '\n' || text[l - 1] == ' '))
		l--;
	if (l == 3 && !memcmp(text, "max", 3)) {
		*ret = UINT64_MAX;
		return 0;
	}
	char buf[32];
	if (l == 0 || l >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, text, l);
	buf[l] = '\0';
	return parse_u64(buf, ret);
}

int cgroup_keyed_get(const char *text, const char *key, uint64_t *ret)
{
	size_t kl = strlen(key);
	for (const char *s = text; s && *s;) {
		if (!strncmp(s, key, kl) && s[kl] == ' ') {
			const char *v = s + kl + 1;
			const char *e = strchr(v, '\n');
			char buf[32];
			size_t l = e ? (size_t)(e - v) : strlen(v);
			if (l == 0 || l >= sizeof(buf))
				return -EINVAL;
			memcpy(buf, v, l);
			buf[l] = '\0';
			return cgroup_parse_max(buf, ret);
		}
		s = strchr(s, '\n');
		if (s)
			s++;
	}
	return -ENOENT;
}

static int read_u64_at(int dirfd, const char *file, uint64_t *ret)
{
	char buf[64];
	int r = cgroup_read_small(dirfd, file, buf, sizeof(buf));
	if (r < 0)
		return r;
	return cgroup_parse_max(buf, ret);
}

static int read_keyed_at(int dirfd, const char *file, const char *key, uint64_t *ret)
{
	_cleanup_free_ char *text = NULL;
	int r = read_at(dirfd, file, &text);
	if (r < 0)
		return r;
	return cgroup_keyed_get(text, key, ret);
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* ---- building the message (everything malloc'd: freed by free_unpacked) ---- */

#define NEW(type, init)                                                                            \
	({                                                                                         \
		type *_m = malloc(sizeof(type));                                                   \
		if (_m)                                                                            \
			*_m = (type)init;                                                          \
		_m;                                                                                \
	})

static int cpu_stats(int dirfd, Grpc__CgroupStats *s)
{
	_cleanup_free_ char *text = NULL;
	uint64_t v;
	if (read_at(dirfd, "cpu.stat", &text) < 0)
		return 0;
	Grpc__CpuStats *cs = NEW(Grpc__CpuStats, GRPC__CPU_STATS__INIT);
	if (!cs)
		return -ENOMEM;
	s->cpu_stats = cs;
	cs->cpu_usage = NEW(Grpc__CpuUsage, GRPC__CPU_USAGE__INIT);
	cs->throttling_data = NEW(Grpc__ThrottlingData, GRPC__THROTTLING_DATA__INIT);
	if (!cs->cpu_usage || !cs->throttling_data)
		return -ENOMEM;
	if (cgroup_keyed_get(text, "usage_usec", &v) >= 0)
		cs->cpu_usage->total_usage = v * 1000;
	if (cgroup_keyed_get(text, "user_usec", &v) >= 0)
		cs->cpu_usage->usage_in_usermode = v * 1000;
	if (cgroup_keyed_get(text, "system_usec", &v) >= 0)
		cs->cpu_usage->usage_in_kernelmode = v * 1000;
	if (cgroup_keyed_get(text, "nr_periods", &v) >= 0)
		cs->throttling_data->periods = v;
	if (cgroup_keyed_get(text, "nr_throttled", &v) >= 0)
		cs->throttling_data->throttled_periods = v;
	if (cgroup_keyed_get(text, "throttled_usec", &v) >= 0)
		cs->throttling_data->throttled_time = v * 1000;
	return 0;
}

static int memory_stat_map(const char *text, Grpc__MemoryStats *ms)
{
	size_t n = 0;
	for (const char *s = text; *s; s++)
		if (*s == '\n')
			n++;
	n = MIN(n + 1, (size_t)MAX_MEMORY_KEYS);
	ms->stats = calloc(n, sizeof(*ms->stats));
	if (!ms->stats)
		return -ENOMEM;
	for (const char *s = text; *s && ms->n_stats < n;) {
		const char *e = strchr(s, '\n');
		size_t l = e ? (size_t)(e - s) : strlen(s);
		const char *sp = memchr(s, ' ', l);
		uint64_t v;
		char num[32];
		size_t vl = sp ? l - (size_t)(sp + 1 - s) : 0;
		if (sp && sp > s && vl > 0 && vl < sizeof(num)) {
			memcpy(num, sp + 1, vl);
			num[vl] = '\0';
			if (parse_u64(num, &v) >= 0) {
				Grpc__MemoryStats__StatsEntry *en =
				    NEW(Grpc__MemoryStats__StatsEntry,
					GRPC__MEMORY_STATS__STATS_ENTRY__INIT);
				if (!en)
					return -ENOMEM;
				ms->stats[ms->n_stats++] = en;
				en->key = strndup(s, (size_t)(sp - s));
				if (!en->key)
					return -ENOMEM;
				en->value = v;
				if (!strcmp(en->key, "file"))
					ms->cache = v;
				else if (!strcmp(en->key, "kernel"))
					ms->kernel_usage->usage = v;
			}
		}
		if (!e)
			break;
		s = e + 1;
	}
	return 0;
}

static int memory_stats(int dirfd, Grpc__CgroupStats *s)
{
	uint64_t current, v;
	if (read_u64_at(dirfd, "memory.current", &current) < 0)
		return 0; /* no memory controller here */
	Grpc__MemoryStats *ms = NEW(Grpc__MemoryStats, GRPC__MEMORY_STATS__INIT);
	if (!ms)
		return -ENOMEM;
	s->memory_stats = ms;
	ms->usage = NEW(Grpc__MemoryData, GRPC__MEMORY_DATA__INIT);
	ms->swap_usage = NEW(Grpc__MemoryData, GRPC__MEMORY_DATA__INIT);
	ms->kernel_usage = NEW(Grpc__MemoryData, GRPC__MEMORY_DATA__INIT);
	if (!ms->usage || !ms->swap_usage || !ms->kernel_usage)
		return -ENOMEM;
	ms->use_hierarchy = true; /* v2 is always hierarchical */

	ms->usage->usage = current;
	ms->usage->limit = read_u64_at(dirfd, "memory.max", &v) >= 0 ? v : UINT64_MAX;
	if (read_u64_at(dirfd, "memory.peak", &v) >= 0)
		ms->usage->max_usage = v;
	if (read_keyed_at(dirfd, "memory.events", "max", &v) >= 0)
		ms->usage->failcnt = v;

	/* v1 reported swap as memory+swap: runc keeps that for v2. */
	if (read_u64_at(dirfd, "memory.swap.current", &v) >= 0) {
		ms->swap_usage->usage = sat_add(v, current);
		uint64_t max = UINT64_MAX;
		if (read_u64_at(dirfd, "memory.swap.max", &max) >= 0 && max != UINT64_MAX)
			max = sat_add(max, ms->usage->limit);
		ms->swap_usage->limit = max;
	}

	_cleanup_free_ char *text = NULL;
	if (read_at(dirfd, "memory.stat", &text) >= 0)
		return memory_stat_map(text, ms);
	return 0;
}

static int pids_stats(int dirfd, Grpc__CgroupStats *s)
{
	uint64_t current, max;
	if (read_u64_at(dirfd, "pids.current", &current) < 0)
		return 0;
	s->pids_stats = NEW(Grpc__PidsStats, GRPC__PIDS_STATS__INIT);
	if (!s->pids_stats)
		return -ENOMEM;
	s->pids_stats->current = current;
	if (read_u64_at(dirfd, "pids.max", &max) >= 0 && max != UINT64_MAX)
		s->pids_stats->limit = max;
	return 0;
}

static int blkio_add(Grpc__BlkioStatsEntry ***arr, size_t *n, uint64_t major, uint64_t minor,
		     const char *op, uint64_t value)
{
	Grpc__BlkioStatsEntry **a = realloc(*arr, (*n + 1) * sizeof(*a));
	if (!a)
		return -ENOMEM;
	*arr = a;
	Grpc__BlkioStatsEntry *e = NEW(Grpc__BlkioStatsEntry, GRPC__BLKIO_STATS_ENTRY__INIT);
	if (!e)
		return -ENOMEM;
	a[(*n)++] = e;
	e->major = major;
	e->minor = minor;
	e->value = value;
	e->op = strdup(op);
	return e->op ? 0 : -ENOMEM;
}

/* One io.stat line: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=5 dios=6". */
static int io_line(const char *s, size_t l, Grpc__BlkioStats *b)
{
	static const struct {
		const char *key, *op;
		bool bytes;
	} keys[] = {
	    {"rbytes", "Read", true}, {"wbytes", "Write", true}, {"dbytes", "Discard", true},
	    {"rios", "Read", false},  {"wios", "Write", false},	 {"dios", "Discard", false},
	};
	char line[512];
	unsigned long long major, minor;
	int off = 0;

	if (l >= sizeof(line))
		return 0;
	memcpy(line, s, l);
	line[l] = '\0';
	if (sscanf(line, "%llu:%llu%n", &major, &minor, &off) != 2)
		return 0;
	for (char *tok = strtok(line + off, " "); tok; tok = strtok(NULL, " ")) {
		char *eq = strchr(tok, '=');
		uint64_t v;
		if (!eq)
			continue;
		*eq = '\0';
		if (parse_u64(eq + 1, &v) < 0)
			continue;
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
			if (strcmp(tok, keys[k].key))
				continue;
			int r = keys[k].bytes ? blkio_add(&b->io_service_bytes_recursive,
							  &b->n_io_service_bytes_recursive, major,
							  minor, keys[k].op, v)
					      : blkio_add(&b->io_serviced_recursive,
							  &b->n_io_serviced_recursive, major, minor,
							  keys[k].op, v);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static int blkio_stats(int dirfd, Grpc__CgroupStats *s)
{
	_cleanup_free_ char *text = NULL;
	if (read_at(dirfd, "io.stat", &text) < 0)
		return 0;
	s->blkio_stats = NEW(Grpc__BlkioStats, GRPC__BLKIO_STATS__INIT);
	if (!s->blkio_stats)
		return -ENOMEM;
	size_t lines = 0;
	for (const char *p = text; *p && lines < MAX_IO_DEVICES;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		int r = io_line(p, l, s->blkio_stats);
		if (r < 0)
			return r;
		lines++;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

static int hugetlb_stats(int dirfd, Grpc__CgroupStats *s)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d)) && s->n_hugetlb_stats < MAX_HUGE_SIZES) {
		/* hugetlb.2MB.current, not hugetlb.2MB.rsvd.current */
		const char *size = startswith(de->d_name, "hugetlb.");
		const char *dot = size ? strchr(size, '.') : NULL;
		if (!dot || strcmp(dot, ".current"))
			continue;
		char sz[32], file[64];
		size_t l = (size_t)(dot - size);
		if (l == 0 || l >= sizeof(sz))
			continue;
		memcpy(sz, size, l);
		sz[l] = '\0';
		uint64_t v;
		if (read_u64_at(dirfd, de->d_name, &v) < 0)
			continue;

		Grpc__CgroupStats__HugetlbStatsEntry **a =
		    realloc(s->hugetlb_stats, (s->n_hugetlb_stats + 1) * sizeof(*a));
		if (!a) {
			r = -ENOMEM;
			break;
		}
		s->hugetlb_stats = a;
		Grpc__CgroupStats__HugetlbStatsEntry *e =
		    NEW(Grpc__CgroupStats__HugetlbStatsEntry,
			GRPC__CGROUP_STATS__HUGETLB_STATS_ENTRY__INIT);
		if (!e) {
			r = -ENOMEM;
			break;
		}
		a[s->n_hugetlb_stats++] = e;
		e->key = strdup(sz);
		e->value = NEW(Grpc__HugetlbStats, GRPC__HUGETLB_STATS__INIT);
		if (!e->key || !e->value) {
			r = -ENOMEM;
			break;
		}
		e->value->usage = v;
		snprintf(file, sizeof(file), "hugetlb.%s.events", sz);
		if (read_keyed_at(dirfd, file, "max", &v) >= 0)
			e->value->failcnt = v;
	}
	closedir(d);
	return r;
}

void cgroup_stats_free(Grpc__CgroupStats *s)
{
	if (s)
		protobuf_c_message_free_unpacked(&s->base, NULL);
}

int cgroup_stats_read(int dirfd, Grpc__CgroupStats **ret)
{
	_cleanup_(cgroup_stats_freep) Grpc__CgroupStats *s =
	    NEW(Grpc__CgroupStats, GRPC__CGROUP_STATS__INIT);
	int r;
	if (!s)
		return -ENOMEM;
	if ((r = cpu_stats(dirfd, s)) < 0 || (r = memory_stats(dirfd, s)) < 0 ||
	    (r = pids_stats(dirfd, s)) < 0 || (r = blkio_stats(dirfd, s)) < 0 ||
	    (r = hugetlb_stats(dirfd, s)) < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

int cgroup_figures_read(int dirfd, struct cgroup_figures *f)
{
	_cleanup_free_ char *cpu = NULL;
	uint64_t v;

	*f = (struct cgroup_figures){.memory_max = UINT64_MAX, .pids_max = UINT64_MAX};
	if (read_at(dirfd, "cpu.stat", &cpu) >= 0) {
		f->have_cpu = true;
		(void)cgroup_keyed_get(cpu, "usage_usec", &f->cpu_usage_usec);
		(void)cgroup_keyed_get(cpu, "user_usec", &f->cpu_user_usec);
		(void)cgroup_keyed_get(cpu, "system_usec", &f->cpu_system_usec);
		(void)cgroup_keyed_get(cpu, "throttled_usec", &f->cpu_throttled_usec);
	}
	if (read_u64_at(dirfd, "memory.current", &f->memory_current) >= 0) {
		f->have_memory = true;
		(void)read_u64_at(dirfd, "memory.max", &f->memory_max);
		(void)read_u64_at(dirfd, "memory.peak", &f->memory_peak);
		(void)read_u64_at(dirfd, "memory.swap.current", &f->swap_current);
		if (read_keyed_at(dirfd, "memory.events", "oom_kill", &v) >= 0)
			f->oom_kills = v;
	}
	if (read_u64_at(dirfd, "pids.current", &f->pids_current) >= 0) {
		f->have_pids = true;
		(void)read_u64_at(dirfd, "pids.max", &f->pids_max);
	}
	return 0;
}
