/* SPDX-License-Identifier: Apache-2.0 */
/* Hook sets (the spec's and the guest's) and the OCI state the hooks read on stdin. */
#include "hook.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

static const char *const kind_names[HOOK_KIND_COUNT] = {
    [HOOK_PRESTART] = "prestart",
    [HOOK_CREATE_RUNTIME] = "createRuntime",
    [HOOK_CREATE_CONTAINER] = "createContainer",
    [HOOK_START_CONTAINER] = "startContainer",
    [HOOK_POSTSTART] = "poststart",
    [HOOK_POSTSTOP] = "poststop",
};

const char *hook_kind_name(enum hook_kind k)
{
	return k < HOOK_KIND_COUNT ? kind_names[k] : "?";
}

static void strv_free_(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

static char **strv_copy_(char *const *src, size_t n)
{
	char **v = calloc(n + 1, sizeof(char *));
	if (!v)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		v[i] = strdup(src[i] ? src[i] : "");
		if (!v[i]) {
			strv_free_(v);
			return NULL;
		}
	}
	return v;
}

static void hook_free(struct hook *h)
{
	free(h->path);
	strv_free_(h->argv);
	strv_free_(h->envp);
	*h = (struct hook){0};
}

void hook_set_free(struct hook_set *s)
{
	for (int k = 0; k < HOOK_KIND_COUNT; k++) {
		for (size_t i = 0; i < s->kind[k].n; i++)
			hook_free(&s->kind[k].v[i]);
		free(s->kind[k].v);
		s->kind[k] = (struct hook_list){0};
	}
}

/* Appends one hook; takes nothing, copies everything. */
static int list_add(struct hook_list *l, enum hook_kind k, const char *path, char *const *args,
		    size_t n_args, char *const *env, size_t n_env, unsigned timeout_s, char *err,
		    size_t errsz)
{
	if (l->n >= HOOK_MAX_PER_KIND) {
		snprintf(err, errsz, "more than %d %s hooks", HOOK_MAX_PER_KIND, hook_kind_name(k));
		return -EINVAL;
	}
	struct hook *v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->v = v;
	struct hook *h = &v[l->n];
	*h = (struct hook){.timeout_s = timeout_s};
	h->path = strdup(path);
	/* OCI: args has the same semantics as execv's argv; without any, argv[0] = path. */
	h->argv = n_args ? strv_copy_(args, n_args) : strv_copy_((char *const[]){h->path}, 1);
	h->envp = strv_copy_(env, n_env);
	if (!h->path || !h->argv || !h->envp) {
		hook_free(h);
		return -ENOMEM;
	}
	l->n++;
	return 0;
}

static int add_from_spec(struct hook_set *s, enum hook_kind k, Grpc__Hook *const *hooks, size_t n,
			 char *err, size_t errsz)
{
	for (size_t i = 0; i < n; i++) {
		const Grpc__Hook *h = hooks[i];
		const char *path = h->path ? h->path : "";
		char b[96];
		snprintf(b, sizeof(b), "%.80s", path);
		for (char *c = b; *c; c++)
			if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
				*c = '?';
		if (path[0] != '/') {
			snprintf(err, errsz, "%s hook %zu: path '%s' is not absolute",
				 hook_kind_name(k), i, b);
			return -EINVAL;
		}
		if (strlen(path) >= 4096) {
			snprintf(err, errsz, "%s hook %zu: path '%s...' is too long",
				 hook_kind_name(k), i, b);
			return -EINVAL;
		}
		/* OCI: "If set, timeout MUST be greater than zero." */
		if (h->timeout < 0 || h->timeout > HOOK_MAX_TIMEOUT_S) {
			snprintf(
			    err, errsz,
			    "%s hook '%s': timeout %lld s is out of range (1..%d, 0 = default)",
			    hook_kind_name(k), b, (long long)h->timeout, HOOK_MAX_TIMEOUT_S);
			return -EINVAL;
		}
		unsigned t = h->timeout ? (unsigned)h->timeout : HOOK_DEFAULT_TIMEOUT_S;
		int r = list_add(&s->kind[k], k, path, h->args, h->n_args, h->env, h->n_env, t, err,
				 errsz);
		if (r < 0)
			return r;
	}
	return 0;
}

int hook_set_from_spec(struct hook_set *s, const Grpc__Hooks *h, char *err, size_t errsz)
{
	if (!h)
		return 0;
	struct {
		enum hook_kind k;
		Grpc__Hook **v;
		size_t n;
	} lists[] = {
	    {HOOK_PRESTART, h->prestart, h->n_prestart},
	    {HOOK_CREATE_RUNTIME, h->createruntime, h->n_createruntime},
	    {HOOK_CREATE_CONTAINER, h->createcontainer, h->n_createcontainer},
	    {HOOK_START_CONTAINER, h->startcontainer, h->n_startcontainer},
	    {HOOK_POSTSTART, h->poststart, h->n_poststart},
	    {HOOK_POSTSTOP, h->poststop, h->n_poststop},
	};
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		int r = add_from_spec(s, lists[i].k, lists[i].v, lists[i].n, err, errsz);
		if (r < 0)
			return r;
	}
	return 0;
}

int hook_set_append(struct hook_set *dst, const struct hook_set *src, char *err, size_t errsz)
{
	for (int k = 0; k < HOOK_KIND_COUNT; k++)
		for (size_t i = 0; i < src->kind[k].n; i++) {
			const struct hook *h = &src->kind[k].v[i];
			size_t na = 0, ne = 0;
			while (h->argv[na])
				na++;
			while (h->envp[ne])
				ne++;
			int r = list_add(&dst->kind[k], (enum hook_kind)k, h->path, h->argv, na,
					 h->envp, ne, h->timeout_s, err, errsz);
			if (r < 0)
				return r;
		}
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The executables of dir/sub, sorted by name: a directory listing has no order, and hooks
 * of a kind run one after another. */
static int scan_one(struct hook_list *l, enum hook_kind k, const char *dir, const char *sub,
		    char *err, size_t errsz)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, sub);
	DIR *d = opendir(path);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		int e = errno;
		snprintf(err, errsz, "guest hooks '%s': %s", path, strerror(e));
		return -e;
	}
	char *names[HOOK_MAX_PER_KIND + 1];
	size_t n = 0;
	int r = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		struct stat st;
		/* follows symlinks, as exec will */
		if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode) ||
		    !(st.st_mode & 0111))
			continue;
		if (n > HOOK_MAX_PER_KIND) {
			r = -E2BIG;
			snprintf(err, errsz, "guest hooks '%s': more than %d executables", path,
				 HOOK_MAX_PER_KIND);
			break;
		}
		names[n] = strdup(e->d_name);
		if (!names[n]) {
			r = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (r == 0)
		qsort(names, n, sizeof(names[0]), cmp_names);
	for (size_t i = 0; i < n && r == 0; i++) {
		char full[4096];
		if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, names[i]) >= sizeof(full))
			continue;
		r = list_add(l, k, full, NULL, 0, NULL, 0, HOOK_DEFAULT_TIMEOUT_S, err, errsz);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	return r;
}

int hook_set_scan_dir(struct hook_set *s, const char *dir, char *err, size_t errsz)
{
	if (dir[0] != '/') {
		snprintf(err, errsz, "guest_hook_path '%.80s' is not absolute", dir);
		return -EINVAL;
	}
	if (strlen(dir) > 1024) {
		snprintf(err, errsz, "guest_hook_path '%.80s...' is too long", dir);
		return -EINVAL;
	}
	static const struct {
		enum hook_kind k;
		const char *sub;
	} kinds[] = {
	    {HOOK_PRESTART, "prestart"},
	    {HOOK_POSTSTART, "poststart"},
	    {HOOK_POSTSTOP, "poststop"},
	};
	for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
		int r = scan_one(&s->kind[kinds[i].k], kinds[i].k, dir, kinds[i].sub, err, errsz);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- JSON ---- */

static int json_string(struct bytebuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int r = bytebuf_append(b, "\"", 1);
	for (const unsigned char *c = (const unsigned char *)s; *c && r >= 0; c++) {
		char esc[6];
		if (*c == '"' || *c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*c;
			r = bytebuf_append(b, esc, 2);
		} else if (*c < 0x20) {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[*c >> 4];
			esc[5] = hex[*c & 15];
			r = bytebuf_append(b, esc, 6);
		} else {
			/* UTF-8 passes through; protobuf strings are UTF-8 already */
			r = bytebuf_append(b, c, 1);
		}
	}
	if (r >= 0)
		r = bytebuf_append(b, "\"", 1);
	return r;
}

static char *bytebuf_take_string(struct bytebuf *b, int r)
{
	if (r >= 0)
		r = bytebuf_append(b, "", 1);
	if (r < 0) {
		bytebuf_free(b);
		return NULL;
	}
	size_t n = bytebuf_used(b);
	char *s = malloc(n);
	if (s)
		memcpy(s, b->data + b->head, n);
	bytebuf_free(b);
	return s;
}

char *hook_annotations_json(Grpc__Spec__AnnotationsEntry *const *a, size_t n)
{
	struct bytebuf b = {0};
	int r = bytebuf_append(&b, "{", 1);
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (i)
			r = bytebuf_append(&b, ",", 1);
		if (r >= 0)
			r = json_string(&b, a[i]->key ? a[i]->key : "");
		if (r >= 0)
			r = bytebuf_append(&b, ":", 1);
		if (r >= 0)
			r = json_string(&b, a[i]->value ? a[i]->value : "");
	}
	if (r >= 0)
		r = bytebuf_append(&b, "}", 1);
	return bytebuf_take_string(&b, r);
}

char *hook_state_json(const char *oci_version, const char *id, const char *status, pid_t pid,
		      const char *bundle, const char *annotations_json)
{
	struct bytebuf b = {0};
	char num[32];
	int r = bytebuf_append(&b, "{\"ociVersion\":", 14);
	if (r >= 0)
		r = json_string(&b, oci_version ? oci_version : "");
	if (r >= 0)
		r = bytebuf_append(&b, ",\"id\":", 6);
	if (r >= 0)
		r = json_string(&b, id);
	if (r >= 0)
		r = bytebuf_append(&b, ",\"status\":", 10);
	if (r >= 0)
		r = json_string(&b, status);
	if (r >= 0 && pid > 0) {
		int l = snprintf(num, sizeof(num), ",\"pid\":%d", (int)pid);
		r = bytebuf_append(&b, num, (size_t)l);
	}
	if (r >= 0)
		r = bytebuf_append(&b, ",\"bundle\":", 10);
	if (r >= 0)
		r = json_string(&b, bundle);
	if (r >= 0)
		r = bytebuf_append(&b, ",\"annotations\":", 15);
	if (r >= 0) {
		const char *a = annotations_json ? annotations_json : "{}";
		r = bytebuf_append(&b, a, strlen(a));
	}
	if (r >= 0)
		r = bytebuf_append(&b, "}", 1);
	return bytebuf_take_string(&b, r);
}
