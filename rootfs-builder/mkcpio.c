/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ember-mkcpio: writes a cpio "newc" archive (the initramfs format,
 * Documentation/driver-api/early-userspace/buffer-format.rst) from a manifest, without root
 * and byte-for-byte reproducibly.
 *
 *   ember-mkcpio [--mtime EPOCH] MANIFEST > archive.cpio
 *
 * MANIFEST lines, in the spirit of the kernel's usr/gen_init_cpio (fields are separated by
 * whitespace, so names and sources cannot contain any; '#' starts a comment):
 *   dir   NAME MODE
 *   file  NAME SOURCE MODE
 *   slink NAME TARGET
 *   nod   NAME MODE c|b MAJOR MINOR
 * Every entry is owned by 0:0 and has mtime EPOCH (default $SOURCE_DATE_EPOCH, else 0).
 * Entries are written sorted by name, so the manifest's order does not matter and a parent
 * directory always precedes what it holds; inode numbers follow that order. Device nodes are
 * the reason this exists: cpio(1) can only archive nodes that exist, and creating them
 * needs root.
 */
#include "common/common.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#define NEWC_MAGIC "070701"

struct entry {
	char *name; /* without the leading '/' */
	mode_t mode;
	char *source; /* file: the data; slink: the target */
	unsigned rmajor, rminor;
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

static int write_all(const void *p, size_t n)
{
	return loop_write(STDOUT_FILENO, p, n);
}

static int pad4(size_t len)
{
	static const char zero[4];
	size_t pad = (4 - len % 4) % 4;
	return pad ? write_all(zero, pad) : 0;
}

static int write_header(unsigned ino, mode_t mode, unsigned nlink, uint64_t mtime, size_t size,
			unsigned rmajor, unsigned rminor, const char *name)
{
	char h[111];
	size_t namesize = strlen(name) + 1;
	if (size > UINT32_MAX)
		return -EFBIG;
	snprintf(h, sizeof(h), "%s%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X", NEWC_MAGIC,
		 ino, (unsigned)mode, 0u, 0u, nlink, (unsigned)mtime, (unsigned)size, 0u, 0u,
		 rmajor, rminor, (unsigned)namesize, 0u);
	int r = write_all(h, 110);
	if (r >= 0)
		r = write_all(name, namesize);
	if (r >= 0)
		r = pad4(110 + namesize);
	return r;
}

static int write_entry(const struct entry *e, unsigned ino, uint64_t mtime)
{
	_cleanup_free_ char *data = NULL;
	size_t size = 0;
	int r;

	if (S_ISREG(e->mode)) {
		r = read_file(e->source, 1u << 30, &data, &size);
		if (r < 0) {
			fprintf(stderr, "ember-mkcpio: %s: %s\n", e->source, strerror(-r));
			return r;
		}
	} else if (S_ISLNK(e->mode)) {
		size = strlen(e->source);
	}
	r = write_header(ino, e->mode, S_ISDIR(e->mode) ? 2 : 1, mtime, size, e->rmajor, e->rminor,
			 e->name);
	if (r < 0)
		return r;
	if (size) {
		r = write_all(S_ISLNK(e->mode) ? e->source : data, size);
		if (r >= 0)
			r = pad4(size);
	}
	return r;
}

static int parse_mode(const char *s, mode_t type, mode_t *ret)
{
	char *end;
	errno = 0;
	unsigned long m = strtoul(s, &end, 8);
	if (errno || *end || m > 07777)
		return -EINVAL;
	*ret = type | (mode_t)m;
	return 0;
}

static int parse_line(char *line, struct entry *e)
{
	char *w[8];
	int n = 0;
	for (char *save = NULL, *s = line, *t; n < 8 && (t = strtok_r(s, " \t\n", &save)); s = NULL)
		w[n++] = t;
	if (n == 0 || w[0][0] == '#')
		return 0;
	if (n < 2 || w[1][0] != '/' || !w[1][1])
		return -EINVAL;
	*e = (struct entry){0};
	if (streq(w[0], "dir") && n == 3) {
		if (parse_mode(w[2], S_IFDIR, &e->mode) < 0)
			return -EINVAL;
	} else if (streq(w[0], "file") && n == 4) {
		if (parse_mode(w[3], S_IFREG, &e->mode) < 0)
			return -EINVAL;
		e->source = strdup(w[2]);
	} else if (streq(w[0], "slink") && n == 3) {
		e->mode = S_IFLNK | 0777;
		e->source = strdup(w[2]);
	} else if (streq(w[0], "nod") && n == 6) {
		mode_t type = streq(w[3], "c") ? S_IFCHR : streq(w[3], "b") ? S_IFBLK : 0;
		if (!type || parse_mode(w[2], type, &e->mode) < 0 ||
		    parse_u32(w[4], &e->rmajor) < 0 || parse_u32(w[5], &e->rminor) < 0)
			return -EINVAL;
	} else {
		return -EINVAL;
	}
	e->name = strdup(w[1] + 1);
	if (!e->name || ((S_ISREG(e->mode) || S_ISLNK(e->mode)) && !e->source))
		return -ENOMEM;
	return 1;
}

int main(int argc, char **argv)
{
	uint64_t mtime = 0;
	const char *manifest = NULL;
	const char *epoch = getenv("SOURCE_DATE_EPOCH");
	int r;

	if (epoch && parse_u64(epoch, &mtime) < 0) {
		fprintf(stderr, "ember-mkcpio: bad SOURCE_DATE_EPOCH '%s'\n", epoch);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		if (streq(argv[i], "--mtime") && i + 1 < argc) {
			if (parse_u64(argv[++i], &mtime) < 0)
				return 2;
		} else if (!manifest && argv[i][0] != '-') {
			manifest = argv[i];
		} else {
			fprintf(stderr,
				"usage: ember-mkcpio [--mtime EPOCH] MANIFEST > out.cpio\n");
			return 2;
		}
	}
	if (!manifest || mtime > UINT32_MAX) {
		fprintf(stderr, "usage: ember-mkcpio [--mtime EPOCH] MANIFEST > out.cpio\n");
		return 2;
	}

	_cleanup_free_ char *text = NULL;
	r = read_file(manifest, 64u << 20, &text, NULL);
	if (r < 0) {
		fprintf(stderr, "ember-mkcpio: %s: %s\n", manifest, strerror(-r));
		return 1;
	}
	struct entry *entries = NULL;
	size_t n = 0, lineno = 0;
	for (char *save = NULL, *s = text, *line; (line = strtok_r(s, "\n", &save)); s = NULL) {
		struct entry e;
		lineno++;
		r = parse_line(line, &e);
		if (r < 0) {
			fprintf(stderr, "ember-mkcpio: %s:%zu: cannot parse this line\n", manifest,
				lineno);
			return 1;
		}
		if (r == 0)
			continue;
		struct entry *p = realloc(entries, (n + 1) * sizeof(*p));
		if (!p)
			return 1;
		entries = p;
		entries[n++] = e;
	}
	qsort(entries, n, sizeof(*entries), entry_cmp);
	for (size_t i = 1; i < n; i++)
		if (streq(entries[i - 1].name, entries[i].name)) {
			fprintf(stderr, "ember-mkcpio: /%s is listed twice\n", entries[i].name);
			return 1;
		}

	/* Inode numbers start where gen_init_cpio's do; any distinct numbers would do. */
	for (size_t i = 0; i < n; i++)
		if (write_entry(&entries[i], 721 + (unsigned)i, mtime) < 0)
			return 1;
	if (write_header(0, 0, 1, 0, 0, 0, 0, "TRAILER!!!") < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		free(entries[i].name);
		free(entries[i].source);
	}
	free(entries);
	return 0;
}
