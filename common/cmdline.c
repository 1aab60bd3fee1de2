/* SPDX-License-Identifier: Apache-2.0 */
#include "common.h"

#include <ctype.h>
#include <inttypes.h>

int cmdline_foreach(const char *line, int (*fn)(const char *key, const char *value, void *data),
		    void *data)
{
	size_t n = strlen(line);
	_cleanup_free_ char *word = malloc(n + 1);
	if (!word)
		return -ENOMEM;

	const char *p = line;
	for (;;) {
		while (*p && isspace((unsigned char)*p))
			p++;
		if (!*p)
			return 0;
		/* Like the kernel's next_arg(): quotes group whitespace and are dropped. */
		size_t len = 0;
		bool quoted = false;
		for (; *p && (quoted || !isspace((unsigned char)*p)); p++) {
			if (*p == '"')
				quoted = !quoted;
			else
				word[len++] = *p;
		}
		word[len] = '\0';
		char *eq = strchr(word, '=');
		if (eq)
			*eq = '\0';
		int r = fn(word, eq ? eq + 1 : NULL, data);
		if (r < 0)
			return r;
	}
}

int cmdline_read(char **ret)
{
	const char *path = getenv("EMBER_CMDLINE_FILE");
	char *s;
	int r = read_file(path ? path : "/proc/cmdline", 64 * 1024, &s, NULL);
	if (r < 0)
		return r;
	*ret = s;
	return 0;
}

int parse_bool(const char *s)
{
	static const char *const yes[] = {"true", "yes", "on", "y", "t"};
	static const char *const no[] = {"false", "no", "off", "n", "f"};
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	for (size_t i = 0; i < ARRAY_SIZE(no); i++)
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	int64_t v;
	if (parse_i64(s, &v) >= 0)
		return v != 0;
	return -EINVAL;
}

int parse_u64(const char *s, uint64_t *ret)
{
	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_u32(const char *s, uint32_t *ret)
{
	uint64_t v;
	int r = parse_u64(s, &v);
	if (r < 0)
		return r;
	if (v > UINT32_MAX)
		return -ERANGE;
	*ret = (uint32_t)v;
	return 0;
}

int parse_i64(const char *s, int64_t *ret)
{
	if (!s || !*s || isspace((unsigned char)*s))
		return -EINVAL;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 0);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end)
		return -EINVAL;
	*ret = v;
	return 0;
}
