/* SPDX-License-Identifier: Apache-2.0 */
/* The sandbox state: lookups, id rules, setup and teardown. */
#define LOG_SUBSYSTEM "sandbox"
#include "sandbox.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>

struct sandbox *sandbox_of(struct rpc_call *call)
{
	struct agent *a = rpc_call_userdata(call);
	return a->sandbox;
}

bool sandbox_valid_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 255)
		return false;
	if (!((id[0] >= 'a' && id[0] <= 'z') || (id[0] >= 'A' && id[0] <= 'Z') ||
	      (id[0] >= '0' && id[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
		if (!ok)
			return false;
	}
	return !strstr(id, "..");
}

const char *printable(const char *s, char buf[static 96])
{
	size_t n = 0;
	if (!s)
		s = "";
	for (; *s && n < 92; s++)
		buf[n++] = (unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f ? *s : '?';
	if (*s) {
		buf[n++] = '.';
		buf[n++] = '.';
		buf[n++] = '.';
	}
	buf[n] = '\0';
	return buf;
}

struct container *container_find(struct sandbox *sb, const char *id)
{
	struct list_head *pos;
	if (!id)
		return NULL;
	LIST_FOREACH (pos, &sb->containers) {
		struct container *c = list_entry(pos, struct container, node);
		if (streq(c->id, id))
			return c;
	}
	return NULL;
}

struct process *process_find(struct container *c, const char *exec_id)
{
	struct list_head *pos;
	if (!exec_id || !*exec_id)
		return c->init && c->init->c == c ? c->init : NULL;
	LIST_FOREACH (pos, &c->procs) {
		struct process *p = list_entry(pos, struct process, node);
		if (streq(p->exec_id, exec_id))
			return p;
	}
	return NULL;
}

struct container *container_lookup_or_reply(struct rpc_call *call, const char *cid)
{
	struct sandbox *sb = sandbox_of(call);
	char b[96];
	struct container *c = container_find(sb, cid);
	if (!c)
		rpc_call_reply_error(call, RPC_NOT_FOUND, "container '%s' not found",
				     printable(cid, b));
	return c;
}

struct process *process_lookup_or_reply(struct rpc_call *call, const char *cid, const char *exec_id)
{
	char b1[96], b2[96];
	struct container *c = container_lookup_or_reply(call, cid);
	if (!c)
		return NULL;
	struct process *p = process_find(c, exec_id);
	if (!p)
		rpc_call_reply_error(call, RPC_NOT_FOUND,
				     "process '%s' of container '%s' not found",
				     printable(exec_id, b1), printable(cid, b2));
	return p;
}

int sandbox_setup(struct agent *a)
{
	struct sandbox *sb = calloc(1, sizeof(*sb));
	if (!sb)
		return -ENOMEM;
	sb->agent = a;
	sb->loop = a->loop;
	list_init(&sb->containers);
	list_init(&sb->procs);
	sb->ipc_fd = sb->uts_fd = sb->pidns_fd = sb->sigchld_fd = -1;
	ev_timer_init(&sb->exit_timer);
	sb->no_pivot = ct_root_is_initramfs();
	int r = reaper_setup(sb);
	if (r < 0) {
		free(sb);
		return r;
	}
	a->sandbox = sb;
	return 0;
}

void sandbox_free(struct agent *a)
{
	struct sandbox *sb = a->sandbox;
	if (!sb)
		return;
	/* The server is gone (its parked calls were cancelled): kill what is left and wait
	 * for it briefly, so that nothing keeps running after the agent. */
	struct list_head *pos, *tmp;
	sb->shutting_down = true;
	LIST_FOREACH (pos, &sb->containers) {
		struct container *c = list_entry(pos, struct container, node);
		hook_run_cancel(c->hook_run);
		c->hook_run = NULL;
		container_kill_all(c);
	}
	hook_shutdown(); /* reaps the hooks cancelled above */
	reaper_done(sb);
	LIST_FOREACH_SAFE (pos, tmp, &sb->containers) {
		struct container *c = list_entry(pos, struct container, node);
		c->removing = true;
		container_check_removed(c);
	}
	LIST_FOREACH_SAFE (pos, tmp, &sb->procs) {
		struct process *p = list_entry(pos, struct process, all_node);
		if (p->c)
			process_detach(p);
		p->reaped = true;
		process_detach(p); /* frees */
	}
	ev_timer_stop(sb->loop, &sb->exit_timer);
	safe_close(sb->ipc_fd);
	safe_close(sb->uts_fd);
	safe_close(sb->pidns_fd);
	hook_set_free(&sb->guest_hooks);
	free(sb->id);
	free(sb->hostname);
	free(sb);
	a->sandbox = NULL;
}

struct parked *parked_new(struct rpc_call *call, struct process *p, enum parked_kind kind)
{
	struct parked *w = calloc(1, sizeof(*w));
	if (!w) {
		rpc_call_reply_error(call, RPC_RESOURCE_EXHAUSTED, "out of memory");
		return NULL;
	}
	w->call = call;
	w->proc = p;
	w->kind = kind;
	return w;
}
