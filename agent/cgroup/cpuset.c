/* SPDX-License-Identifier: Apache-2.0 */
/* CPU and memory-node lists ("0-3,7"), as cpuset.cpus and /sys/.../online spell them. */
#include "cgroup.h"

static int take_num(const char **s, unsigned *ret)
{
	const char *p = *s;
	unsigned v = 0;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	while (*p >= '0' && *p <= '9') {
		v = v * 10 + (unsigned)(*p - '0');
		if (v >= CGROUP_MAX_CPUS)
			return -EINVAL;
		p++;
	}
	*s = p;
	*ret = v;
	return 0;
}

int cgroup_cpulist_parse(const char *s, uint64_t bits[CGROUP_MAX_CPUS / 64])
{
	memset(bits, 0, CGROUP_MAX_CPUS / 8);
	/* The kernel accepts a trailing newline and surrounding blanks; so do we. */
	while (*s == ' ' || *s == '\t')
		s++;
	if (!*s || *s == '\n')
		return 0;
	for (;;) {
		unsigned a, b;
		if (take_num(&s, &a) < 0)
			return -EINVAL;
		b = a;
		if (*s == '-') {
			s++;
			if (take_num(&s, &b) < 0 || b < a)
				return -EINVAL;
		}
		for (unsigned i = a; i <= b; i++)
			bits[i / 64] |= 1ULL << (i % 64);
		if (*s == ',') {
			s++;
			continue;
		}
		while (*s == ' ' || *s == '\t' || *s == '\n')
			s++;
		return *s ? -EINVAL : 0;
	}
}

bool cgroup_cpulist_subset(const uint64_t a[CGROUP_MAX_CPUS / 64],
			   const uint64_t b[CGROUP_MAX_CPUS / 64])
{
	for (size_t i = 0; i < CGROUP_MAX_CPUS / 64; i++)
		if (a[i] & ~b[i])
			return false;
	return true;
}
