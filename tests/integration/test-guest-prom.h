/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A checker of the Prometheus text exposition format (0.0.4), strict enough to catch what
 * a scraper rejects: every sample belongs to a family declared by a preceding # TYPE, no
 * family is declared twice or interleaved with another, names and labels are well formed
 * and values parse as floats. Shared by the metrics unit test and the GetMetrics
 * integration test.
 */
#pragma once

#include <ctype.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROM_MAX_FAMILIES 256

static bool prom_name_ok(const char *s, size_t n)
{
	if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_' || s[0] == ':'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == ':'))
			return false;
	return true;
}

/* Returns NULL when text is valid, else a static message naming the line. */
static const char *prom_check(const char *text)
{
	static char err[2048];
	static char families[PROM_MAX_FAMILIES][128];
	size_t n_families = 0;
	char current[128] = "";
	unsigned lineno = 0;

	for (const char *line = text; *line;) {
		const char *nl = strchr(line, '\n');
		if (!nl) {
			snprintf(err, sizeof(err), "line %u does not end with a newline",
				 lineno + 1);
			return err;
		}
		size_t len = (size_t)(nl - line);
		char buf[1024];
		lineno++;
		if (len >= sizeof(buf)) {
			snprintf(err, sizeof(err), "line %u is too long", lineno);
			return err;
		}
		memcpy(buf, line, len);
		buf[len] = '\0';
		line = nl + 1;

		if (strncmp(buf, "# HELP ", 7) == 0)
			continue;
		if (strncmp(buf, "# TYPE ", 7) == 0) {
			char name[128], type[32];
			if (sscanf(buf + 7, "%127s %31s", name, type) != 2 ||
			    !prom_name_ok(name, strlen(name)) ||
			    (strcmp(type, "gauge") && strcmp(type, "counter") &&
			     strcmp(type, "untyped") && strcmp(type, "histogram") &&
			     strcmp(type, "summary"))) {
				snprintf(err, sizeof(err), "line %u: bad TYPE line '%s'", lineno,
					 buf);
				return err;
			}
			for (size_t i = 0; i < n_families; i++)
				if (strcmp(families[i], name) == 0) {
					snprintf(err, sizeof(err),
						 "line %u: family %s declared twice", lineno, name);
					return err;
				}
			if (n_families == PROM_MAX_FAMILIES) {
				snprintf(err, sizeof(err), "too many families");
				return err;
			}
			snprintf(families[n_families++], sizeof(families[0]), "%s", name);
			snprintf(current, sizeof(current), "%s", name);
			continue;
		}
		if (buf[0] == '#' || buf[0] == '\0') {
			snprintf(err, sizeof(err), "line %u: stray '%s'", lineno, buf);
			return err;
		}
		/* name{label="value",...} value */
		size_t nlen = strcspn(buf, "{ ");
		if (!prom_name_ok(buf, nlen) || strlen(current) != nlen ||
		    strncmp(buf, current, nlen) != 0) {
			snprintf(err, sizeof(err), "line %u: sample '%s' outside its family (%s)",
				 lineno, buf, current);
			return err;
		}
		const char *p = buf + nlen;
		if (*p == '{') {
			p++;
			while (*p != '}') {
				size_t l = strcspn(p, "=");
				if (!prom_name_ok(p, l) || p[l] != '=' || p[l + 1] != '"') {
					snprintf(err, sizeof(err), "line %u: bad label in '%s'",
						 lineno, buf);
					return err;
				}
				p += l + 2;
				while (*p && *p != '"') {
					if (*p == '\\') {
						if (p[1] != '\\' && p[1] != '"' && p[1] != 'n') {
							snprintf(err, sizeof(err),
								 "line %u: bad escape in '%s'",
								 lineno, buf);
							return err;
						}
						p++;
					}
					p++;
				}
				if (*p != '"') {
					snprintf(err, sizeof(err),
						 "line %u: unterminated label value", lineno);
					return err;
				}
				p++;
				if (*p == ',')
					p++;
				else if (*p != '}') {
					snprintf(err, sizeof(err),
						 "line %u: bad label list in '%s'", lineno, buf);
					return err;
				}
			}
			p++;
		}
		if (*p != ' ') {
			snprintf(err, sizeof(err), "line %u: no value in '%s'", lineno, buf);
			return err;
		}
		char *end;
		double v = strtod(p + 1, &end);
		if (end == p + 1 || *end != '\0' || isnan(v)) {
			snprintf(err, sizeof(err), "line %u: bad value in '%s'", lineno, buf);
			return err;
		}
	}
	return NULL;
}

/* The value of the first sample line that starts with `head` (e.g. "name " or
 * "name{item=\"x\"} "); NAN when absent. */
static double prom_value(const char *text, const char *head)
{
	size_t hl = strlen(head);
	for (const char *line = text; line && *line;) {
		if (strncmp(line, head, hl) == 0)
			return strtod(line + hl, NULL);
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NAN;
}
