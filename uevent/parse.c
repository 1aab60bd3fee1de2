/* SPDX-License-Identifier: Apache-2.0 */
#include "uevent.h"

static int parse_int(const char *s)
{
	uint32_t v;
	if (parse_u32(s, &v) < 0 || v > INT32_MAX)
		return -1;
	return (int)v;
}

int uevent_parse(const char *buf, size_t len, struct uevent *ret)
{
	*ret = (struct uevent){.major = -1, .minor = -1};

	/* The kernel's header "action@devpath" is its own NUL-terminated field; libudev's
	 * messages start with "libudev\0" and are never believed here. */
	const char *end = memchr(buf, '\0', len);
	if (!end || end == buf || !memchr(buf, '@', (size_t)(end - buf)))
		return -EBADMSG;

	for (const char *p = end + 1; p < buf + len;) {
		const char *e = memchr(p, '\0', (size_t)(buf + len - p));
		if (!e)
			break; /* a truncated last field is dropped, not read past */
		const char *v;
		if ((v = startswith(p, "ACTION=")))
			ret->action = v;
		else if ((v = startswith(p, "DEVPATH=")))
			ret->devpath = v;
		else if ((v = startswith(p, "SUBSYSTEM=")))
			ret->subsystem = v;
		else if ((v = startswith(p, "DEVNAME=")))
			ret->devname = v;
		else if ((v = startswith(p, "DEVTYPE=")))
			ret->devtype = v;
		else if ((v = startswith(p, "INTERFACE=")))
			ret->interface = v;
		else if ((v = startswith(p, "MAJOR=")))
			ret->major = parse_int(v);
		else if ((v = startswith(p, "MINOR=")))
			ret->minor = parse_int(v);
		else if ((v = startswith(p, "SEQNUM=")))
			(void)parse_u64(v, &ret->seqnum);
		p = e + 1;
	}
	if (!ret->action || !ret->devpath || !ret->subsystem)
		return -EBADMSG;
	return 0;
}
