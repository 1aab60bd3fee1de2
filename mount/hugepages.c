/* SPDX-License-Identifier: Apache-2.0 */
/* hugetlbfs ephemeral storages reserve their pages first (Kata's allocate_hugepages). Unlike
 * Kata, which sets nr_hugepages to this one storage's need, reservations add up on top of
 * the pool the guest booted with and are given back when the storage goes. */
#define LOG_SUBSYSTEM "storage"
#include "internal.h"

#include <limits.h>

/* "2097152", "2M", "2048k", "1G" */
static int parse_bytes(const char *s, uint64_t *ret)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	unsigned shift = 0;
	switch (*end) {
	case '\0':
		break;
	case 'k':
	case 'K':
		shift = 10;
		break;
	case 'm':
	case 'M':
		shift = 20;
		break;
	case 'g':
	case 'G':
		shift = 30;
		break;
	default:
		return -EINVAL;
	}
	if (*end && end[1])
		return -EINVAL;
	if (v > (UINT64_MAX >> shift))
		return -ERANGE;
	*ret = (uint64_t)v << shift;
	return 0;
}

/* Options may come as one "pagesize=2M,size=512M" string or as separate words. */
static int find_option(char *const *opts, size_t n, const char *key, const char **ret)
{
	size_t klen = strlen(key);
	*ret = NULL;
	for (size_t i = 0; i < n; i++)
		for (const char *p = opts[i]; p && *p;) {
			size_t len = strcspn(p, ",");
			if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=')
				*ret = p + klen + 1;
			p += len;
			if (*p == ',')
				p++;
		}
	return *ret ? 0 : -ENOENT;
}

static int value_of(const char *v, char *buf, size_t bufsz)
{
	size_t len = strcspn(v, ",");
	if (len >= bufsz)
		return -EINVAL;
	memcpy(buf, v, len);
	buf[len] = '\0';
	return 0;
}

static struct hugepage_pool *pool_find(struct storage_table *t, unsigned long kb)
{
	for (size_t i = 0; i < t->n_pools; i++)
		if (t->pools[i].kb == kb)
			return &t->pools[i];
	return NULL;
}

static int nr_path(struct storage_table *t, unsigned long kb, char *buf, size_t bufsz)
{
	return (size_t)snprintf(buf, bufsz, "%s/kernel/mm/hugepages/hugepages-%lukB/nr_hugepages",
				t->sysfs_root, kb) >= bufsz
		   ? -ENAMETOOLONG
		   : 0;
}

static int read_nr(const char *path, uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	int r = read_file(path, 64, &s, NULL);
	if (r < 0)
		return r;
	s[strcspn(s, "\n")] = '\0';
	return parse_u64(s, ret);
}

static int write_nr(const char *path, uint64_t n)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)n);
	return write_file(path, buf);
}

int hugepages_reserve(struct storage_table *t, char *const *opts, size_t n, unsigned long *ret_kb,
		      uint64_t *ret_pages, char *msg, size_t msgsz)
{
	const char *ps, *sz;
	char buf[32], path[PATH_MAX];
	uint64_t pagesize, size, cur;

	if (find_option(opts, n, "pagesize", &ps) < 0 || find_option(opts, n, "size", &sz) < 0)
		return errmsg_set(msg, msgsz, -EINVAL,
				  "hugetlbfs storage needs the options pagesize= and size=");
	if (value_of(ps, buf, sizeof(buf)) < 0 || parse_bytes(buf, &pagesize) < 0 ||
	    pagesize < 4096 || (pagesize & (pagesize - 1)))
		return errmsg_set(msg, msgsz, -EINVAL, "invalid hugetlbfs pagesize '%.*s'",
				  (int)strcspn(ps, ","), ps);
	if (value_of(sz, buf, sizeof(buf)) < 0 || parse_bytes(buf, &size) < 0)
		return errmsg_set(msg, msgsz, -EINVAL, "invalid hugetlbfs size '%.*s'",
				  (int)strcspn(sz, ","), sz);
	uint64_t pages = size / pagesize;
	unsigned long kb = (unsigned long)(pagesize / 1024);
	if (pages == 0)
		return errmsg_set(msg, msgsz, -EINVAL,
				  "hugetlbfs size %llu is below one %lu kB page",
				  (unsigned long long)size, kb);

	int r = nr_path(t, kb, path, sizeof(path));
	if (r >= 0)
		r = read_nr(path, &cur);
	if (r < 0)
		return errmsg_set(msg, msgsz, r == -ENOENT ? -EINVAL : r,
				  "hugepages of %lu kB: cannot read %s: %m", kb, path);

	struct hugepage_pool *p = pool_find(t, kb);
	if (!p) {
		if (t->n_pools >= MAX_HUGEPAGE_POOLS)
			return errmsg_set(msg, msgsz, -EAGAIN, "too many hugepage sizes");
		p = &t->pools[t->n_pools++];
		*p = (struct hugepage_pool){.kb = kb, .base = cur};
	}
	uint64_t want = p->base + p->ours + pages;
	if (want < p->base + p->ours)
		return errmsg_set(msg, msgsz, -ERANGE, "hugetlbfs size %llu is too large",
				  (unsigned long long)size);
	r = write_nr(path, want);
	uint64_t got = 0;
	if (r >= 0)
		r = read_nr(path, &got);
	/* The write succeeds even when the kernel could not find that many free pages:
	 * only reading back tells. */
	if (r < 0 || got != want) {
		(void)write_nr(path, p->base + p->ours);
		if (r < 0)
			return errmsg_set(msg, msgsz, r,
					  "cannot reserve %llu hugepages of %lu kB: %m",
					  (unsigned long long)pages, kb);
		return errmsg_set(
		    msg, msgsz, -ENOMEM, "only %llu of %llu hugepages of %lu kB could be allocated",
		    (unsigned long long)(got > p->base + p->ours ? got - p->base - p->ours : 0),
		    (unsigned long long)pages, kb);
	}
	p->ours += pages;
	*ret_kb = kb;
	*ret_pages = pages;
	log_info("reserved %llu hugepages of %lu kB (pool now %llu)", (unsigned long long)pages, kb,
		 (unsigned long long)want);
	return 0;
}

void hugepages_release(struct storage_table *t, unsigned long kb, uint64_t pages)
{
	struct hugepage_pool *p = pool_find(t, kb);
	char path[PATH_MAX];
	if (!p || nr_path(t, kb, path, sizeof(path)) < 0)
		return;
	p->ours = p->ours > pages ? p->ours - pages : 0;
	int r = write_nr(path, p->base + p->ours);
	if (r < 0)
		log_warn_errno(r, "cannot give back %llu hugepages of %lu kB: %m",
			       (unsigned long long)pages, kb);
}
