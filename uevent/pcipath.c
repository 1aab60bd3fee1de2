/* SPDX-License-Identifier: Apache-2.0 */
#include "uevent.h"

#include <ctype.h>
#include <dirent.h>
#include <limits.h>

static int hex_value(const char *s, size_t len, unsigned max, unsigned *ret)
{
	if (len == 0 || len > 2)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i])
					    ? s[i] - '0'
					    : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* "SS" or "SS.F" */
static int parse_slotfn(const char *s, size_t len, uint8_t *slot, uint8_t *func)
{
	const char *dot = memchr(s, '.', len);
	unsigned sv, fv = 0;
	int r = hex_value(s, dot ? (size_t)(dot - s) : len, 0x1f, &sv);
	if (r < 0)
		return r;
	if (dot) {
		size_t flen = len - (size_t)(dot - s) - 1;
		if (flen != 1 || hex_value(dot + 1, flen, 7, &fv) < 0)
			return -EINVAL;
	}
	*slot = (uint8_t)sv;
	*func = (uint8_t)fv;
	return 0;
}

int pci_path_parse(const char *s, struct pci_path *ret)
{
	struct pci_path p = {0};
	const char *elems[PCI_PATH_MAX + 1];
	size_t lens[PCI_PATH_MAX + 1];
	size_t n = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *e = s;;) {
		const char *slash = strchr(e, '/');
		size_t len = slash ? (size_t)(slash - e) : strlen(e);
		if (n > PCI_PATH_MAX)
			return -EINVAL;
		elems[n] = e;
		lens[n++] = len;
		if (!slash)
			break;
		e = slash + 1;
	}

	size_t first = 0;
	unsigned bus;
	/* A first element that cannot be a slot (> 0x1f) is a pxb-pcie root bus; Kata only
	 * takes it as one when at least a root port and a device follow. */
	if (n >= 3 && !memchr(elems[0], '.', lens[0]) &&
	    hex_value(elems[0], lens[0], 0xff, &bus) == 0 && bus >= 0x20) {
		p.root_bus = (int)bus;
		first = 1;
	}
	if (n - first > PCI_PATH_MAX || n - first == 0)
		return -EINVAL;
	for (size_t i = first; i < n; i++) {
		int r = parse_slotfn(elems[i], lens[i], &p.slot[p.n], &p.func[p.n]);
		if (r < 0)
			return r;
		p.n++;
	}
	*ret = p;
	return 0;
}

static bool bus_name_ok(const char *s)
{
	/* "0000:01" */
	if (strlen(s) != 7 || s[4] != ':')
		return false;
	for (int i = 0; i < 7; i++)
		if (i != 4 && !isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* The bus behind a bridge: its pci_bus/ directory holds exactly one entry, the secondary
 * bus ("0000:01"). */
static int bridge_bus(const char *dir, char bus[8])
{
	DIR *d = opendir(dir);
	if (!d)
		return -errno;
	int found = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		if (found++ == 0 && bus_name_ok(de->d_name))
			memcpy(bus, de->d_name, 8);
		else
			found = 2;
	}
	closedir(d);
	return found == 1 ? 0 : -ENODEV;
}

/* x86 and ACPI arm64 put the root bus at /devices/pci0000:NN; device-tree arm64 under
 * /devices/platform/<controller>/pci0000:NN. */
static int find_root(const char *sysfs, int root_bus, char *out, size_t outsz)
{
	char path[PATH_MAX];
	snprintf(out, outsz, "/devices/pci0000:%02x", root_bus);
	if ((size_t)snprintf(path, sizeof(path), "%s%s", sysfs, out) < sizeof(path) &&
	    access(path, F_OK) == 0)
		return 0;

	snprintf(path, sizeof(path), "%s/devices/platform", sysfs);
	DIR *d = opendir(path);
	if (!d)
		return -ENOENT;
	int r = -ENOENT;
	struct dirent *de;
	while (r < 0 && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char cand[PATH_MAX];
		if ((size_t)snprintf(cand, sizeof(cand), "%s/%s/pci0000:%02x", path, de->d_name,
				     root_bus) >= sizeof(cand))
			continue;
		if (access(cand, F_OK) == 0 &&
		    (size_t)snprintf(out, outsz, "/devices/platform/%s/pci0000:%02x", de->d_name,
				     root_bus) < outsz)
			r = 0;
	}
	closedir(d);
	return r;
}

int pci_path_to_devpath(const char *sysfs_root, const struct pci_path *p, char **ret)
{
	const char *sysfs = sysfs_root ? sysfs_root : "/sys";
	char rel[PATH_MAX], dir[PATH_MAX], bus[8];
	if (p->n == 0 || p->n > PCI_PATH_MAX)
		return -EINVAL;
	int r = find_root(sysfs, p->root_bus, rel, sizeof(rel));
	if (r < 0)
		return r;
	snprintf(bus, sizeof(bus), "0000:%02x", p->root_bus);

	for (unsigned i = 0; i < p->n; i++) {
		size_t len = strlen(rel);
		if ((size_t)snprintf(rel + len, sizeof(rel) - len, "/%s:%02x.%x", bus, p->slot[i],
				     p->func[i]) >= sizeof(rel) - len)
			return -ENAMETOOLONG;
		if (i == p->n - 1)
			break; /* the device itself may not be plugged yet */
		if ((size_t)snprintf(dir, sizeof(dir), "%s%s/pci_bus", sysfs, rel) >= sizeof(dir))
			return -ENAMETOOLONG;
		r = bridge_bus(dir, bus);
		if (r < 0)
			return r;
	}
	*ret = strdup(rel);
	return *ret ? 0 : -ENOMEM;
}

int uevent_regex_escape(const char *s, char **ret)
{
	size_t n = strlen(s);
	char *out = malloc(2 * n + 1), *o = out;
	if (!out)
		return -ENOMEM;
	for (; *s; s++) {
		if (strchr(".[]{}()\\*+?^$|", *s))
			*o++ = '\\';
		*o++ = *s;
	}
	*o = '\0';
	*ret = out;
	return 0;
}

int uevent_regex_pci_block(const char *pci_devpath, char **ret)
{
	_cleanup_free_ char *esc = NULL;
	int r = uevent_regex_escape(pci_devpath, &esc);
	if (r < 0)
		return r;
	return asprintf(ret, "^%s/virtio[0-9]+/block/[^/]+$", esc) < 0 ? -ENOMEM : 0;
}

int uevent_regex_scsi_block(unsigned target, unsigned lun, char **ret)
{
	return asprintf(ret, "/0:0:%u:%u/block/[^/]+$", target, lun) < 0 ? -ENOMEM : 0;
}
