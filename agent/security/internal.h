/* SPDX-License-Identifier: Apache-2.0 */
/* Between the files of agent/security/ only. */
#pragma once

#include "security.h"

/* Loads p->bpf with seccomp(2) (child). */
int security_child_load_seccomp(const struct security_plan *p, int *where);

/* The plan's allocations: freed together by security_plan_done(). */
void *security_plan_alloc(struct security_plan *p, size_t n);
char *security_plan_strdup(struct security_plan *p, const char *s);

/* "/a//b/./c/" -> "/a/b/c" into buf; -EINVAL for a relative path or "..", -ENAMETOOLONG. */
int security_path_clean(const char *path, char *buf, size_t sz);

/* A bounded, printable rendering of a peer's string for messages. */
const char *security_printable(const char *s, char buf[static 80]);
