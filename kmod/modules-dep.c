/* SPDX-License-Identifier: Apache-2.0 */
/* modules.dep / modules.builtin: parsing, lookup by module name, dependency resolution. */
#include "kmod/kmod.h"

#include <limits.h>

/* MODULE_NAME_LEN of the kernel (include/linux/module.h) is 56 on 64-bit. */
#define KMOD_NAME_MAX	 64
#define KMOD_DEP_MISSING UINT32_MAX

struct kmod_entry {
	char name[KMOD_NAME_MAX];
	const char *path; /* into dep_text */
	char *deps_text;  /* into dep_text, split while parsing */
	uint32_t deps_off, n_deps;
};

struct kmod_builtin {
	char name[KMOD_NAME_MAX];
};

struct kmod_db {
	char *moddir;
	char *dep_text;
	struct kmod_entry *entries;
	uint32_t n;
	uint32_t *deps; /* entry indexes, KMOD_DEP_MISSING for an unknown dependency */
	uint32_t *hash; /* open addressing: entry index + 1, 0 = empty */
	uint32_t hash_cap;
	struct kmod_builtin *builtin;
	size_t n_builtin;
};

/* modules.dep of Debian's 6.1 kernel is ~4000 lines / 450 KiB; a file larger than this is not
 * a module index. */
#define KMOD_DEP_MAX (16u << 20)

int kmod_name_normalize(const char *in, char *buf, size_t size)
{
	const char *base = strrchr(in, '/');
	base = base ? base + 1 : in;
	/* "virtio_blk.ko", "virtio_blk.ko.xz": the name stops at the first ".ko". */
	const char *ko = strstr(base, ".ko");
	size_t len = ko && (ko[3] == '\0' || ko[3] == '.') ? (size_t)(ko - base) : strlen(base);
	if (len == 0)
		return -EINVAL;
	if (len >= size || len >= KMOD_NAME_MAX)
		return -ENAMETOOLONG;
	for (size_t i = 0; i < len; i++)
		buf[i] = base[i] == '-' ? '_' : base[i];
	buf[len] = '\0';
	return 0;
}

/* FNV-1a: the table is built once per boot and looked up a handful of times. */
static uint32_t name_hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

static int table_find(const struct kmod_db *db, const char *name)
{
	if (db->hash_cap == 0)
		return -ENOENT;
	for (uint32_t h = name_hash(name) & (db->hash_cap - 1);; h = (h + 1) & (db->hash_cap - 1)) {
		uint32_t slot = db->hash[h];
		if (slot == 0)
			return -ENOENT;
		if (streq(db->entries[slot - 1].name, name))
			return (int)(slot - 1);
	}
}

static void table_insert(struct kmod_db *db, uint32_t index)
{
	uint32_t h = name_hash(db->entries[index].name) & (db->hash_cap - 1);
	while (db->hash[h] != 0)
		h = (h + 1) & (db->hash_cap - 1);
	db->hash[h] = index + 1;
}

static char *next_line(char **p)
{
	char *s = *p;
	if (!s || !*s)
		return NULL;
	char *nl = strchr(s, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = NULL;
	}
	return s;
}

static int count_words(const char *s)
{
	int n = 0;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			return n;
		n++;
		while (*s && *s != ' ' && *s != '\t')
			s++;
	}
}

/* Each line is "path: dep-path dep-path ...". Paths are split in place in dep_text. */
static int parse_dep(struct kmod_db *db)
{
	size_t lines = 0, words = 0;
	for (const char *s = db->dep_text; *s; s++)
		if (*s == '\n')
			lines++;
	lines++;

	db->entries = calloc(lines, sizeof(*db->entries));
	if (!db->entries)
		return -ENOMEM;

	/* First pass: entries and the total number of dependency words. */
	char *p = db->dep_text, *line;
	while ((line = next_line(&p))) {
		char *colon = strchr(line, ':');
		if (!colon || line[0] == '#')
			continue;
		*colon = '\0';
		struct kmod_entry *e = &db->entries[db->n];
		if (kmod_name_normalize(line, e->name, sizeof(e->name)) < 0)
			continue; /* not a module path: ignore the line, as modprobe does */
		e->path = line;
		e->deps_text = colon + 1;
		int w = count_words(colon + 1);
		e->n_deps = (uint32_t)w;
		words += (size_t)w;
		db->n++;
	}
	if (db->n > INT_MAX / 2)
		return -EFBIG;

	db->hash_cap = 16;
	while (db->hash_cap < db->n * 2)
		db->hash_cap <<= 1;
	db->hash = calloc(db->hash_cap, sizeof(*db->hash));
	db->deps = calloc(words ? words : 1, sizeof(*db->deps));
	if (!db->hash || !db->deps)
		return -ENOMEM;
	for (uint32_t i = 0; i < db->n; i++)
		/* A duplicate name keeps its first line, like modprobe's index (first wins). */
		if (table_find(db, db->entries[i].name) < 0)
			table_insert(db, i);

	/* Second pass: dependency names -> indexes. A dependency that has no line of its own is
	 * recorded as KMOD_DEP_MISSING and makes resolution fail with -ENOENT. */
	size_t off = 0;
	for (uint32_t i = 0; i < db->n; i++) {
		struct kmod_entry *e = &db->entries[i];
		char *s = e->deps_text;
		e->deps_off = (uint32_t)off;
		for (uint32_t k = 0; k < e->n_deps; k++) {
			while (*s == ' ' || *s == '\t')
				s++;
			char *w = s;
			while (*s && *s != ' ' && *s != '\t')
				s++;
			if (*s)
				*s++ = '\0';
			char name[KMOD_NAME_MAX];
			int idx = kmod_name_normalize(w, name, sizeof(name)) < 0
				      ? -ENOENT
				      : table_find(db, name);
			db->deps[off++] = idx < 0 ? KMOD_DEP_MISSING : (uint32_t)idx;
		}
	}
	return 0;
}

static int parse_builtin(struct kmod_db *db, const char *text)
{
	/* modules.builtin lists "kernel/drivers/virtio/virtio.ko" style paths, one a line; only
	 * the names matter. */
	size_t lines = 0;
	for (const char *s = text; *s; s++)
		if (*s == '\n')
			lines++;
	lines++;
	db->builtin = calloc(lines, sizeof(*db->builtin));
	if (!db->builtin)
		return -ENOMEM;
	const char *s = text;
	while (*s) {
		const char *nl = strchrnul(s, '\n');
		char path[PATH_MAX];
		size_t len = (size_t)(nl - s);
		if (len > 0 && len < sizeof(path)) {
			memcpy(path, s, len);
			path[len] = '\0';
			if (kmod_name_normalize(path, db->builtin[db->n_builtin].name,
						KMOD_NAME_MAX) >= 0)
				db->n_builtin++;
		}
		s = *nl ? nl + 1 : nl;
	}
	return 0;
}

int kmod_db_parse(const char *moddir, char *dep_text, const char *builtin_text,
		  struct kmod_db **ret)
{
	struct kmod_db *db = calloc(1, sizeof(*db));
	if (!db) {
		free(dep_text);
		return -ENOMEM;
	}
	db->dep_text = dep_text;
	db->moddir = strdup(moddir ? moddir : "");
	int r = db->moddir ? parse_dep(db) : -ENOMEM;
	if (r >= 0 && builtin_text)
		r = parse_builtin(db, builtin_text);
	if (r < 0) {
		kmod_db_free(db);
		return r;
	}
	*ret = db;
	return 0;
}

int kmod_db_open(const char *moddir, struct kmod_db **ret)
{
	_cleanup_free_ char *dep_path = NULL, *builtin_path = NULL, *builtin = NULL;
	char *dep = NULL;
	int r;

	if (asprintf(&dep_path, "%s/modules.dep", moddir) < 0 ||
	    asprintf(&builtin_path, "%s/modules.builtin", moddir) < 0)
		return -ENOMEM;
	r = read_file(dep_path, KMOD_DEP_MAX, &dep, NULL);
	if (r < 0)
		return r;
	/* modules.builtin is optional: an initrd built by rootfs-builder may omit it. */
	r = read_file(builtin_path, KMOD_DEP_MAX, &builtin, NULL);
	if (r < 0 && r != -ENOENT) {
		free(dep);
		return r;
	}
	return kmod_db_parse(moddir, dep, builtin, ret);
}

void kmod_db_free(struct kmod_db *db)
{
	if (!db)
		return;
	free(db->entries);
	free(db->deps);
	free(db->hash);
	free(db->builtin);
	free(db->dep_text);
	free(db->moddir);
	free(db);
}

size_t kmod_db_count(const struct kmod_db *db)
{
	return db->n;
}

const char *kmod_db_moddir(const struct kmod_db *db)
{
	return db->moddir;
}

int kmod_db_find(const struct kmod_db *db, const char *name)
{
	char n[KMOD_NAME_MAX];
	int r = kmod_name_normalize(name, n, sizeof(n));
	if (r < 0)
		return -ENOENT;
	return table_find(db, n);
}

bool kmod_db_is_builtin(const struct kmod_db *db, const char *name)
{
	char n[KMOD_NAME_MAX];
	if (kmod_name_normalize(name, n, sizeof(n)) < 0)
		return false;
	for (size_t i = 0; i < db->n_builtin; i++)
		if (streq(db->builtin[i].name, n))
			return true;
	return false;
}

const char *kmod_db_name(const struct kmod_db *db, size_t index)
{
	return index < db->n ? db->entries[index].name : NULL;
}

const char *kmod_db_path(const struct kmod_db *db, size_t index)
{
	return index < db->n ? db->entries[index].path : NULL;
}

/* ---- resolution ------------------------------------------------------------------ */

enum { PLAN_NEW = 0, PLAN_VISITING = 1, PLAN_DONE = 2 };

int kmod_plan_init(struct kmod_plan *plan, const struct kmod_db *db)
{
	*plan = (struct kmod_plan){.db = db};
	plan->order = calloc(db->n ? db->n : 1, sizeof(*plan->order));
	plan->state = calloc(db->n ? db->n : 1, sizeof(*plan->state));
	if (!plan->order || !plan->state) {
		kmod_plan_done(plan);
		return -ENOMEM;
	}
	return 0;
}

void kmod_plan_done(struct kmod_plan *plan)
{
	free(plan->order);
	free(plan->state);
	*plan = (struct kmod_plan){0};
}

/* Depth-first post-order: a module is appended after everything it depends on. Recursion is
 * bounded by the number of distinct modules (VISITING marks stop any revisit), and real
 * dependency chains are a handful deep. */
static int plan_visit(struct kmod_plan *plan, uint32_t index)
{
	const struct kmod_db *db = plan->db;
	if (plan->state[index] == PLAN_DONE)
		return 0;
	if (plan->state[index] == PLAN_VISITING)
		return -ELOOP;
	plan->state[index] = PLAN_VISITING;
	const struct kmod_entry *e = &db->entries[index];
	for (uint32_t k = 0; k < e->n_deps; k++) {
		uint32_t dep = db->deps[e->deps_off + k];
		if (dep == KMOD_DEP_MISSING)
			return -ENOENT;
		int r = plan_visit(plan, dep);
		if (r < 0)
			return r;
	}
	plan->state[index] = PLAN_DONE;
	plan->order[plan->n++] = index;
	return 0;
}

int kmod_plan_add(struct kmod_plan *plan, const char *name)
{
	int index = kmod_db_find(plan->db, name);
	if (index < 0)
		return kmod_db_is_builtin(plan->db, name) ? KMOD_BUILTIN : -ENOENT;

	size_t n_before = plan->n;
	int r = plan_visit(plan, (uint32_t)index);
	if (r < 0) {
		/* Roll back: forget what this call added and every mark it left. */
		for (size_t i = n_before; i < plan->n; i++)
			plan->state[plan->order[i]] = PLAN_NEW;
		for (uint32_t i = 0; i < plan->db->n; i++)
			if (plan->state[i] == PLAN_VISITING)
				plan->state[i] = PLAN_NEW;
		plan->n = n_before;
	}
	return r;
}
