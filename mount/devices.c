/* SPDX-License-Identifier: Apache-2.0 */
/* Block devices named by storages and CreateContainerRequest.devices (Kata's
 * src/agent/src/device/block_device_handler.rs, scsi_device_handler.rs, pmem), and the OCI
 * spec rewrite to guest major:minor (device/mod.rs update_spec_devices). */
#define LOG_SUBSYSTEM "storage"
#include "internal.h"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

void device_query_done(struct device_query *q)
{
	free(q->regex);
	q->regex = NULL;
}

/* "/dev/vdb", "/dev/pmem0": a node name the kernel would give (DEVNAME). */
static int node_query(const char *id, struct device_query *q, char *msg, size_t msgsz)
{
	const char *name = startswith(id, "/dev/");
	if (!name || !*name || strlen(id) >= sizeof(q->node) || strstr(id, "..") ||
	    strstr(id, "//") || name[strlen(name) - 1] == '/')
		return errmsg_set(msg, msgsz, -EINVAL, "device '%s' is not a /dev node", id);
	snprintf(q->node, sizeof(q->node), "%s", id);
	snprintf(q->devname, sizeof(q->devname), "%s", name);
	snprintf(q->what, sizeof(q->what), "block device '%s'", id);
	q->match = (struct uevent_match){.subsystem = "block", .devname = q->devname};
	return 0;
}

static int scsi_query(const char *id, struct device_query *q, char *msg, size_t msgsz)
{
	uint32_t target, lun;
	const char *colon = strchr(id, ':');
	char t[16];
	if (!colon || (size_t)(colon - id) >= sizeof(t))
		return errmsg_set(msg, msgsz, -EINVAL,
				  "invalid SCSI address '%s' (want target:lun)", id);
	memcpy(t, id, (size_t)(colon - id));
	t[colon - id] = '\0';
	if (parse_u32(t, &target) < 0 || parse_u32(colon + 1, &lun) < 0 || target > 65535 ||
	    lun > 65535)
		return errmsg_set(msg, msgsz, -EINVAL,
				  "invalid SCSI address '%s' (want target:lun)", id);
	int r = uevent_regex_scsi_block(target, lun, &q->regex);
	if (r < 0)
		return r;
	q->scsi = true;
	q->scsi_target = target;
	q->scsi_lun = lun;
	snprintf(q->what, sizeof(q->what), "SCSI device %u:%u", target, lun);
	q->match = (struct uevent_match){
	    .subsystem = "block", .devpath_regex = q->regex, .need_devname = true};
	return 0;
}

static int pci_query(struct storage_table *t, const char *id, struct device_query *q, char *msg,
		     size_t msgsz)
{
	struct pci_path p;
	_cleanup_free_ char *devpath = NULL;
	int r = pci_path_parse(id, &p);
	if (r < 0)
		return errmsg_set(msg, msgsz, -EINVAL, "invalid PCI path '%s'", id);
	r = pci_path_to_devpath(t->sysfs_root, &p, &devpath);
	if (r < 0)
		return errmsg_set(
		    msg, msgsz, -ENODEV,
		    "cannot resolve PCI path '%s' under %s/devices: a bridge on the way "
		    "is missing or has no secondary bus (%s)",
		    id, t->sysfs_root, strerror(-r));
	r = uevent_regex_pci_block(devpath, &q->regex);
	if (r < 0)
		return r;
	snprintf(q->what, sizeof(q->what), "block device at PCI path '%s' (%s)", id, devpath);
	q->match = (struct uevent_match){
	    .subsystem = "block", .devpath_regex = q->regex, .need_devname = true};
	return 0;
}

int device_query_init(struct storage_table *t, const char *kind, const char *id,
		      struct device_query *q, char *msg, size_t msgsz)
{
	*q = (struct device_query){0};
	if (!id || !*id)
		return errmsg_set(msg, msgsz, -EINVAL, "%s device: no device named", kind);
	if (streq(kind, "blk"))
		/* Kata: a /dev node is used directly, anything else is a PCI path. */
		return startswith(id, "/dev/") ? node_query(id, q, msg, msgsz)
					       : pci_query(t, id, q, msg, msgsz);
	if (streq(kind, "mmioblk") || streq(kind, "nvdimm"))
		return node_query(id, q, msg, msgsz);
	if (streq(kind, "scsi"))
		return scsi_query(id, q, msg, msgsz);
	return errmsg_set(msg, msgsz, -EINVAL, "unknown device kind '%s'", kind);
}

/* Kata's scan_scsi_bus: ask every SCSI host to probe target:lun. */
static void scsi_scan(struct storage_table *t, unsigned target, unsigned lun)
{
	char dir[PATH_MAX], buf[48];
	snprintf(dir, sizeof(dir), "%s/class/scsi_host", t->sysfs_root);
	DIR *d = opendir(dir);
	if (!d) {
		log_warn_errno(errno, "no SCSI hosts to scan (%s): %m", dir);
		return;
	}
	snprintf(buf, sizeof(buf), "0 %u %u", target, lun);
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!startswith(de->d_name, "host"))
			continue;
		char path[PATH_MAX];
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/scan", dir, de->d_name) >=
		    sizeof(path))
			continue;
		int r = write_file(path, buf);
		if (r < 0)
			log_warn_errno(r, "cannot scan %s for %s: %m", de->d_name, buf);
	}
	closedir(d);
}

int device_stat(struct storage_device *dev, const char *what, char *msg, size_t msgsz)
{
	struct stat st;
	if (stat(dev->node, &st) < 0)
		return errmsg_set(msg, msgsz, -errno, "%s: %s: %m", what, dev->node);
	if (!S_ISBLK(st.st_mode))
		return errmsg_set(msg, msgsz, -EINVAL, "%s: %s is not a block device", what,
				  dev->node);
	dev->type = 'b';
	dev->major = major(st.st_rdev);
	dev->minor = minor(st.st_rdev);
	return 0;
}

int device_query_find(struct storage_table *t, struct device_query *q, uevent_wait_fn cb,
		      void *data, struct uevent_waiter **ret_waiter, struct storage_device *ret,
		      char *msg, size_t msgsz)
{
	struct uevent_device dev;
	if (q->node[0] && access(q->node, F_OK) == 0) {
		snprintf(ret->node, sizeof(ret->node), "%s", q->node);
		return 1;
	}
	if (q->scsi)
		scsi_scan(t, q->scsi_target, q->scsi_lun);
	if (!t->uevents) {
		int r = uevent_find_present(t->sysfs_root, &q->match, &dev);
		if (r < 0)
			return errmsg_set(msg, msgsz, r, "%s: %m", q->what);
		if (r == 0)
			return errmsg_set(msg, msgsz, -ENODEV,
					  "%s is not present and no uevent listener runs", q->what);
	} else {
		int r = uevent_wait(t->uevents, &q->match, t->hotplug_timeout_ms, cb, data,
				    ret_waiter, &dev);
		if (r < 0)
			return errmsg_set(msg, msgsz, r, "cannot wait for %s: %m", q->what);
		if (r == 0) {
			log_info("waiting up to %llu ms for %s",
				 (unsigned long long)t->hotplug_timeout_ms, q->what);
			return 0;
		}
	}
	snprintf(ret->node, sizeof(ret->node), "/dev/%s", dev.devname);
	return 1;
}

/* ---- OCI spec rewrite ---- */

struct res_update {
	char type;
	int64_t host_major, host_minor;
	const struct storage_device *dev;
};

static int add_allow_rule(Grpc__Linux *linux_, const struct storage_device *d)
{
	if (!linux_->resources) {
		linux_->resources = malloc(sizeof(*linux_->resources));
		if (!linux_->resources)
			return -ENOMEM;
		grpc__linux_resources__init(linux_->resources);
	}
	Grpc__LinuxResources *res = linux_->resources;
	Grpc__LinuxDeviceCgroup **v =
	    realloc(res->devices, (res->n_devices + 1) * sizeof(*res->devices));
	if (!v)
		return -ENOMEM;
	res->devices = v;
	Grpc__LinuxDeviceCgroup *rule = malloc(sizeof(*rule));
	if (!rule)
		return -ENOMEM;
	grpc__linux_device_cgroup__init(rule);
	rule->allow = true;
	rule->major = d->major;
	rule->minor = d->minor;
	rule->type = strdup(d->type == 'c' ? "c" : "b");
	rule->access = strdup("rwm");
	if (!rule->type || !rule->access) {
		/* Both are NULL or ours: the spec does not hold the rule yet. */
		free(rule->type);
		free(rule->access);
		free(rule);
		return -ENOMEM;
	}
	res->devices[res->n_devices++] = rule;
	return 0;
}

int storage_spec_update_devices(Grpc__Spec *spec, const struct storage_device *devs, size_t n,
				char *msg, size_t msgsz)
{
	Grpc__Linux *linux_ = spec ? spec->linux_ : NULL;
	_cleanup_free_ struct res_update *upd = calloc(n ? n : 1, sizeof(*upd));
	size_t n_upd = 0;
	if (!upd)
		return -ENOMEM;

	for (size_t i = 0; i < n; i++) {
		const struct storage_device *d = &devs[i];
		if (!d->container_path || !*d->container_path)
			continue;
		Grpc__LinuxDevice *sd = NULL;
		for (size_t k = 0; linux_ && k < linux_->n_devices; k++)
			if (linux_->devices[k]->path &&
			    streq(linux_->devices[k]->path, d->container_path)) {
				sd = linux_->devices[k];
				break;
			}
		if (!sd)
			return errmsg_set(msg, msgsz, -EINVAL,
					  "device '%s' (%s) is not in the OCI spec's Linux.Devices",
					  d->container_path, d->node);
		char type = sd->type && *sd->type ? sd->type[0] : d->type;
		for (size_t k = 0; k < n_upd; k++)
			if (upd[k].type == type && upd[k].host_major == sd->major &&
			    upd[k].host_minor == sd->minor)
				return errmsg_set(msg, msgsz, -EINVAL,
						  "devices '%s' and '%s' both claim host device "
						  "%c %lld:%lld",
						  upd[k].dev->container_path, d->container_path,
						  type, (long long)sd->major, (long long)sd->minor);
		upd[n_upd++] = (struct res_update){type, sd->major, sd->minor, d};
		log_info("device %s: host %c %lld:%lld -> guest %lld:%lld (%s)", d->container_path,
			 type, (long long)sd->major, (long long)sd->minor, (long long)d->major,
			 (long long)d->minor, d->node);
		sd->major = d->major;
		sd->minor = d->minor;
	}

	Grpc__LinuxResources *res = linux_ ? linux_->resources : NULL;
	for (size_t k = 0; res && k < res->n_devices; k++) {
		Grpc__LinuxDeviceCgroup *rule = res->devices[k];
		char type = rule->type && *rule->type ? rule->type[0] : 'a';
		for (size_t u = 0; u < n_upd; u++)
			if (upd[u].type == type && upd[u].host_major == rule->major &&
			    upd[u].host_minor == rule->minor) {
				rule->major = upd[u].dev->major;
				rule->minor = upd[u].dev->minor;
				break;
			}
	}
	for (size_t u = 0; u < n_upd; u++) {
		int r = add_allow_rule(linux_, upd[u].dev);
		if (r < 0)
			return errmsg_set(msg, msgsz, r, "cannot add the cgroup rule of '%s': %m",
					  upd[u].dev->container_path);
	}
	return 0;
}
