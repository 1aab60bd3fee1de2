/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The storage table (Kata's sandbox.storages, ref-counted per mount point) and the
 * asynchronous ops that fill it.
 *
 * An op walks its devices, then its storages, in order. A step that needs a block device
 * that is not there parks on the uevent listener; a step whose mount point another op is
 * still mounting parks on that storage. References an op takes stay the op's (not the
 * owner's) until done is delivered, so a storage_release() of the same owner racing the
 * op cannot free what the op holds, and a cancelled op gives back exactly what it took.
 */
#define LOG_SUBSYSTEM "storage"
#include "internal.h"

#include <limits.h>

struct taken {
	struct storage *s;
	bool created; /* this op mounted it */
};

struct storage_op {
	struct list_head link;
	struct storage_table *t;
	char *owner;
	storage_done_fn done;
	void *data;

	Grpc__Device *const *devices;
	size_t n_devices, next_dev;
	struct storage_device *found;
	Grpc__Spec *spec;
	bool spec_done;

	Grpc__Storage *const *storages;
	size_t n, next;
	struct storage *entry;	     /* being mounted for storages[next] */
	struct storage_device stdev; /* its device */

	struct device_query query;
	bool query_active;
	struct storage_device *query_target;
	struct uevent_waiter *wait;

	struct storage *waiting_on;
	struct list_head wait_link;

	struct taken *taken;
	size_t n_taken;

	struct ev_timer kick;
	bool completing;
	int result;
	char msg[STORAGE_MSG_MAX];
};

static void op_run(struct storage_op *op);

/* ---- entries ---- */

static struct storage *entry_find(const struct storage_table *t, const char *mount_point)
{
	struct list_head *pos;
	LIST_FOREACH (pos, &t->storages) {
		struct storage *s = list_entry(pos, struct storage, link);
		if (streq(s->mount_point, mount_point))
			return s;
	}
	return NULL;
}

static void entry_free(struct storage *e)
{
	while (!list_empty(&e->owners)) {
		struct storage_owner *o = list_entry(e->owners.next, struct storage_owner, link);
		list_del(&o->link);
		free(o->owner);
		free(o);
	}
	free(e->mount_point);
	free(e->driver);
	free(e->source);
	free(e);
}

static struct storage *entry_new(struct storage_table *t, const Grpc__Storage *s,
				 const char *mount_point)
{
	struct storage *e = calloc(1, sizeof(*e));
	if (!e)
		return NULL;
	list_init(&e->owners);
	list_init(&e->waiting);
	e->mount_point = strdup(mount_point);
	e->driver = strdup(s->driver);
	e->source = strdup(s->source);
	e->shared = s->shared;
	if (!e->mount_point || !e->driver || !e->source) {
		entry_free(e);
		return NULL;
	}
	list_add_tail(&t->storages, &e->link);
	t->n_storages++;
	return e;
}

static void op_kick(struct storage_op *op);

/* Ops parked on e go on (and find it mounted, or gone and mount it themselves). */
static void entry_wake(struct storage *e)
{
	while (!list_empty(&e->waiting)) {
		struct storage_op *op = list_entry(e->waiting.next, struct storage_op, wait_link);
		list_del(&op->wait_link);
		op->waiting_on = NULL;
		op_kick(op);
	}
}

static void entry_remove(struct storage_table *t, struct storage *e)
{
	entry_wake(e);
	list_del(&e->link);
	t->n_storages--;
	entry_free(e);
}

static void entry_destroy(struct storage_table *t, struct storage *e)
{
	driver_teardown(t, e);
	entry_remove(t, e);
}

static int entry_add_owner(struct storage *e, const char *owner, unsigned count)
{
	struct list_head *pos;
	unsigned n = 0;
	LIST_FOREACH (pos, &e->owners) {
		struct storage_owner *o = list_entry(pos, struct storage_owner, link);
		if (streq(o->owner, owner)) {
			o->count += count;
			return 0;
		}
		n++;
	}
	if (n >= MAX_OWNERS)
		return -EAGAIN;
	struct storage_owner *o = calloc(1, sizeof(*o));
	if (!o || !(o->owner = strdup(owner))) {
		free(o);
		return -ENOMEM;
	}
	o->count = count;
	list_add_tail(&e->owners, &o->link);
	return 0;
}

/* ---- table ---- */

int storage_table_new(const struct storage_config *cfg, struct storage_table **ret)
{
	struct storage_table *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->loop = cfg->loop;
	t->uevents = cfg->uevents;
	t->hotplug_timeout_ms = cfg->hotplug_timeout_ms ? cfg->hotplug_timeout_ms : 3000;
	t->sysfs_root = strdup(cfg->sysfs_root ? cfg->sysfs_root : "/sys");
	if (!t->sysfs_root) {
		free(t);
		return -ENOMEM;
	}
	list_init(&t->storages);
	list_init(&t->ops);
	*ret = t;
	return 0;
}

size_t storage_count(const struct storage_table *t)
{
	return t->n_storages;
}

int storage_refcount(const struct storage_table *t, const char *mount_point)
{
	_cleanup_free_ char *mp = NULL;
	if (path_normalize(mount_point, &mp) < 0)
		return -ENOMEM;
	const struct storage *e = entry_find(t, mp);
	return e ? (int)e->refs : -ENOENT;
}

/* ---- ops ---- */

static void op_free(struct storage_op *op)
{
	free(op->owner);
	free(op->found);
	free(op->taken);
	free(op);
}

/* Gives back everything the op holds: its wait, the storage it was mounting (nothing is
 * mounted yet then: mounting is one synchronous step) and its references, newest first. */
static void op_rollback(struct storage_op *op)
{
	struct storage_table *t = op->t;
	if (op->wait) {
		uevent_wait_cancel(op->wait);
		op->wait = NULL;
	}
	if (op->waiting_on) {
		list_del(&op->wait_link);
		op->waiting_on = NULL;
	}
	if (op->query_active) {
		device_query_done(&op->query);
		op->query_active = false;
	}
	if (op->entry) {
		op->entry->pending = NULL;
		entry_remove(t, op->entry);
		op->entry = NULL;
	}
	while (op->n_taken > 0) {
		struct taken *k = &op->taken[--op->n_taken];
		k->s->refs--;
		if (k->s->refs == 0 && (k->created || !k->s->shared))
			entry_destroy(t, k->s);
	}
}

/* The op's references become the owner's. */
static int op_commit(struct storage_op *op)
{
	for (size_t i = 0; i < op->n_taken; i++) {
		int r = entry_add_owner(op->taken[i].s, op->owner, 1);
		if (r < 0) {
			/* Undo the owners added so far, then the op's references. */
			for (size_t k = 0; k < i; k++) {
				struct list_head *pos;
				LIST_FOREACH (pos, &op->taken[k].s->owners) {
					struct storage_owner *o =
					    list_entry(pos, struct storage_owner, link);
					if (streq(o->owner, op->owner)) {
						o->count--;
						break;
					}
				}
			}
			return r;
		}
	}
	op->n_taken = 0;
	return 0;
}

static void op_deliver(struct storage_op *op)
{
	list_del(&op->link);
	if (op->result >= 0) {
		int r = op_commit(op);
		if (r < 0) {
			op->result = r;
			snprintf(op->msg, sizeof(op->msg), "too many owners of one storage");
			op_rollback(op);
		}
	}
	log_debug("storage op of '%s': %s", op->owner, op->result < 0 ? op->msg : "done");
	op->done(op->data, op->result, op->msg);
	op_free(op);
}

static void kick_cb(struct ev_loop *loop _unused_, struct ev_timer *tm)
{
	struct storage_op *op = tm->data;
	if (op->completing)
		op_deliver(op);
	else
		op_run(op);
}

/* Continues the op from the loop, never from inside the caller's stack. */
static void op_kick(struct storage_op *op)
{
	int r = ev_timer_start(op->t->loop, &op->kick, 0, kick_cb, op);
	if (r < 0) {
		log_error_errno(r, "cannot schedule a storage op: %m");
		kick_cb(op->t->loop, &op->kick);
	}
}

static void op_complete(struct storage_op *op, int r)
{
	if (r < 0)
		op_rollback(op);
	op->result = r;
	op->completing = true;
	op_kick(op);
}

static int op_fail(struct storage_op *op, int r, const char *fmt, ...) _printf_(3, 4);
static int op_fail(struct storage_op *op, int r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
	return r;
}

static void op_wait_cb(void *data, int r, const struct uevent_device *dev)
{
	struct storage_op *op = data;
	op->wait = NULL;
	if (r < 0) {
		if (r == -ETIMEDOUT)
			snprintf(op->msg, sizeof(op->msg),
				 "timed out after %llu ms waiting for %s (agent.hotplug_timeout)",
				 (unsigned long long)op->t->hotplug_timeout_ms, op->query.what);
		else
			snprintf(op->msg, sizeof(op->msg), "stopped waiting for %s: %s",
				 op->query.what, strerror(-r));
		op_complete(op, r);
		return;
	}
	snprintf(op->query_target->node, sizeof(op->query_target->node), "/dev/%s", dev->devname);
	log_info("%s appeared as %s", op->query.what, op->query_target->node);
	op_run(op);
}

static const char *device_kind_of(const Grpc__Device *d, const char **id)
{
	static const char *const unsupported[] = {"blk-ccw", "vfio-pci",     "vfio-pci-gk",
						  "vfio-ap", "vfio-ap-cold", "vfio"};
	if (streq(d->type, "blk")) {
		/* Kata puts the PCI path in id; older runtimes only set vm_path. */
		*id = *d->id ? d->id : d->vm_path;
		return "blk";
	}
	if (streq(d->type, "scsi")) {
		*id = d->id;
		return "scsi";
	}
	if (streq(d->type, "mmioblk") || streq(d->type, "nvdimm")) {
		*id = *d->vm_path ? d->vm_path : d->id;
		return d->type;
	}
	for (size_t i = 0; i < ARRAY_SIZE(unsupported); i++)
		if (streq(d->type, unsupported[i]))
			return "";
	return NULL;
}

/* 0: step done; 1: parked; < 0: failed (op->msg set). */
static int op_step_device(struct storage_op *op)
{
	size_t i = op->next_dev;
	const Grpc__Device *d = op->devices[i];
	struct storage_device *res = &op->found[i];
	char msg[STORAGE_MSG_MAX];
	int r;

	if (!op->query_active) {
		const char *id = NULL, *kind = device_kind_of(d, &id);
		if (!kind)
			return op_fail(op, -EINVAL, "device %zu: unknown device type '%s'", i,
				       d->type);
		if (!*kind)
			return op_fail(op, -EOPNOTSUPP,
				       "device %zu: device type '%s' is not supported by ember", i,
				       d->type);
		r = device_query_init(op->t, kind, id, &op->query, msg, sizeof(msg));
		if (r < 0)
			return op_fail(op, r, "device %zu (%s): %s", i, d->type, msg);
		op->query_active = true;
		op->query_target = res;
		r = device_query_find(op->t, &op->query, op_wait_cb, op, &op->wait, res, msg,
				      sizeof(msg));
		if (r == 0)
			return 1;
		if (r < 0)
			return op_fail(op, r, "device %zu (%s): %s", i, d->type, msg);
	}
	r = device_stat(res, op->query.what, msg, sizeof(msg));
	device_query_done(&op->query);
	op->query_active = false;
	if (r < 0)
		return op_fail(op, r, "device %zu (%s): %s", i, d->type, msg);
	res->container_path = d->container_path;
	op->next_dev++;
	return 0;
}

static int op_take(struct storage_op *op, struct storage *e, bool created)
{
	op->taken[op->n_taken++] = (struct taken){e, created};
	e->refs++;
	return 0;
}

static int op_step_storage(struct storage_op *op)
{
	struct storage_table *t = op->t;
	size_t i = op->next;
	const Grpc__Storage *s = op->storages[i];
	char msg[STORAGE_MSG_MAX];
	const char *rel, *kind = driver_device_kind(s->driver);
	int r;

	if (!op->entry) {
		if (!driver_known(s->driver))
			return op_fail(op, -EINVAL, "storage %zu: unknown storage driver '%s'", i,
				       s->driver);
		r = path_below(s->mount_point, STORAGE_RUN_ROOT, &rel);
		if (r < 0)
			return op_fail(
			    op, r,
			    "storage %zu (%s): mount point '%s' is not below " STORAGE_RUN_ROOT "/",
			    i, s->driver, s->mount_point);
		_cleanup_free_ char *mp = NULL;
		if (path_normalize(s->mount_point, &mp) < 0)
			return op_fail(op, -ENOMEM, "storage %zu: out of memory", i);
		struct storage *e = entry_find(t, mp);
		if (e && e->pending) {
			/* Another op is mounting it: go on once it is done. */
			list_add_tail(&e->waiting, &op->wait_link);
			op->waiting_on = e;
			return 1;
		}
		if (e) {
			if (!streq(e->driver, s->driver) || !streq(e->source, s->source))
				return op_fail(
				    op, -EEXIST,
				    "storage %zu: mount point '%s' is already used by a '%s' "
				    "storage of source '%s'",
				    i, s->mount_point, e->driver, e->source);
			op_take(op, e, false);
			log_debug("storage %s: one more user (%u)", e->mount_point, e->refs);
			op->next++;
			return 0;
		}
		if (t->n_storages >= MAX_STORAGES)
			return op_fail(op, -EAGAIN, "storage %zu: too many storages (limit %d)", i,
				       MAX_STORAGES);
		e = entry_new(t, s, mp);
		if (!e)
			return op_fail(op, -ENOMEM, "storage %zu: out of memory", i);
		e->pending = op;
		op->entry = e;
		op->stdev = (struct storage_device){0};
		if (kind) {
			r = device_query_init(t, kind, s->source, &op->query, msg, sizeof(msg));
			if (r < 0)
				return op_fail(op, r, "storage %zu (%s, mount point '%s'): %s", i,
					       s->driver, s->mount_point, msg);
			op->query_active = true;
			op->query_target = &op->stdev;
			r = device_query_find(t, &op->query, op_wait_cb, op, &op->wait, &op->stdev,
					      msg, sizeof(msg));
			if (r == 0)
				return 1;
			if (r < 0)
				return op_fail(op, r, "storage %zu (%s, mount point '%s'): %s", i,
					       s->driver, s->mount_point, msg);
		}
	}

	struct storage *e = op->entry;
	const char *devnode = NULL;
	if (op->query_active) {
		r = device_stat(&op->stdev, op->query.what, msg, sizeof(msg));
		device_query_done(&op->query);
		op->query_active = false;
		if (r < 0)
			return op_fail(op, r, "storage %zu (%s, mount point '%s'): %s", i,
				       s->driver, s->mount_point, msg);
		devnode = op->stdev.node;
	}
	r = driver_mount(t, e, s, devnode, op->owner, msg, sizeof(msg));
	if (r < 0)
		return op_fail(op, r, "storage %zu (%s): %s", i, s->driver, msg);
	e->pending = NULL;
	op->entry = NULL;
	op_take(op, e, true);
	entry_wake(e);
	op->next++;
	return 0;
}

static void op_run(struct storage_op *op)
{
	for (;;) {
		int r;
		if (op->next_dev < op->n_devices) {
			r = op_step_device(op);
		} else if (!op->spec_done) {
			op->spec_done = true;
			r = op->n_devices == 0
				? 0
				: storage_spec_update_devices(op->spec, op->found, op->n_devices,
							      op->msg, sizeof(op->msg));
		} else if (op->next < op->n) {
			r = op_step_storage(op);
		} else {
			op_complete(op, 0);
			return;
		}
		if (r > 0)
			return;
		if (r < 0) {
			op_complete(op, r);
			return;
		}
	}
}

static int op_new(struct storage_table *t, const char *owner, storage_done_fn done, void *data,
		  struct storage_op **ret)
{
	struct storage_op *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->t = t;
	op->owner = strdup(owner ? owner : STORAGE_OWNER_SANDBOX);
	if (!op->owner) {
		free(op);
		return -ENOMEM;
	}
	op->done = done;
	op->data = data;
	list_init(&op->wait_link);
	ev_timer_init(&op->kick);
	list_add_tail(&t->ops, &op->link);
	*ret = op;
	return 0;
}

static int op_start(struct storage_op *op, struct storage_op **ret_op)
{
	if (op->n > MAX_OP_ITEMS || op->n_devices > MAX_OP_ITEMS) {
		op_fail(op, -E2BIG, "%zu storages and %zu devices: at most %d of each per request",
			op->n, op->n_devices, MAX_OP_ITEMS);
		op_complete(op, -E2BIG);
	} else {
		op->taken = calloc(op->n ? op->n : 1, sizeof(*op->taken));
		op->found = calloc(op->n_devices ? op->n_devices : 1, sizeof(*op->found));
		if (!op->taken || !op->found) {
			list_del(&op->link);
			op_free(op);
			return -ENOMEM;
		}
		op_run(op);
	}
	if (ret_op)
		*ret_op = op;
	return 0;
}

int storage_add(struct storage_table *t, Grpc__Storage *const *storages, size_t n,
		const char *owner, storage_done_fn done, void *data, struct storage_op **ret_op)
{
	struct storage_op *op;
	int r = op_new(t, owner, done, data, &op);
	if (r < 0)
		return r;
	op->storages = storages;
	op->n = n;
	op->spec_done = true;
	return op_start(op, ret_op);
}

int storage_setup_container(struct storage_table *t, Grpc__CreateContainerRequest *req,
			    storage_done_fn done, void *data, struct storage_op **ret_op)
{
	struct storage_op *op;
	int r = op_new(t, req->container_id, done, data, &op);
	if (r < 0)
		return r;
	op->devices = req->devices;
	op->n_devices = req->n_devices;
	op->spec = req->oci;
	op->storages = req->storages;
	op->n = req->n_storages;
	if (!*req->container_id) {
		op_fail(op, -EINVAL, "storages of a container need its container_id");
		op_complete(op, -EINVAL);
		if (ret_op)
			*ret_op = op;
		return 0;
	}
	return op_start(op, ret_op);
}

void storage_op_cancel(struct storage_op *op)
{
	if (!op)
		return;
	ev_timer_stop(op->t->loop, &op->kick);
	op_rollback(op);
	list_del(&op->link);
	op_free(op);
}

/* Fails every op in flight: their calls learn why, their references go. */
static void fail_ops(struct storage_table *t, const char *why)
{
	while (!list_empty(&t->ops)) {
		struct storage_op *op = list_entry(t->ops.next, struct storage_op, link);
		ev_timer_stop(t->loop, &op->kick);
		if (!op->completing || op->result >= 0) {
			op_rollback(op);
			op->result = -ECANCELED;
			snprintf(op->msg, sizeof(op->msg), "%s", why);
		}
		op->completing = true;
		op_deliver(op);
	}
}

void storage_release(struct storage_table *t, const char *owner)
{
	struct list_head *pos, *prev;
	for (pos = t->storages.prev; pos != &t->storages; pos = prev) {
		prev = pos->prev;
		struct storage *e = list_entry(pos, struct storage, link);
		struct list_head *o, *tmp;
		LIST_FOREACH_SAFE (o, tmp, &e->owners) {
			struct storage_owner *so = list_entry(o, struct storage_owner, link);
			if (!streq(so->owner, owner))
				continue;
			e->refs -= so->count;
			list_del(&so->link);
			free(so->owner);
			free(so);
		}
		if (e->refs == 0 && !e->shared && !e->pending) {
			/* prev may be freed by nothing here: destroy touches only e. */
			entry_destroy(t, e);
		}
	}
}

void storage_release_all(struct storage_table *t)
{
	fail_ops(t, "the sandbox is being destroyed");
	while (!list_empty(&t->storages))
		entry_destroy(t, list_entry(t->storages.prev, struct storage, link));
	for (size_t i = 0; i < t->n_pools; i++)
		t->pools[i].ours = 0;
}

void storage_table_free(struct storage_table *t)
{
	if (!t)
		return;
	fail_ops(t, "the agent is shutting down");
	while (!list_empty(&t->storages)) {
		struct storage *e = list_entry(t->storages.prev, struct storage, link);
		list_del(&e->link);
		entry_free(e);
	}
	free(t->sysfs_root);
	free(t);
}
