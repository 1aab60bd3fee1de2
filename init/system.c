/* SPDX-License-Identifier: Apache-2.0 */
/* Small pieces of system state: hostname, fd limit, Ctrl-Alt-Del, VMM boot markers. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/reboot.h>
#include <sys/resource.h>
#if defined(__x86_64__) || defined(__i386__)
#include <sys/io.h>
#endif

int hostname_setup(const char *root)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	const char *name = "localhost";

	/* Kata: the first word of /etc/hostname, else "localhost". */
	snprintf(path, sizeof(path), "%s/etc/hostname", root);
	if (read_file(path, 4096, &text, NULL) >= 0) {
		char *s = text;
		while (isspace((unsigned char)*s))
			s++;
		char *e = s;
		while (*e && !isspace((unsigned char)*e))
			e++;
		*e = '\0';
		if (*s)
			name = s;
	}
	if (sethostname(name, strlen(name)) < 0)
		return -errno;
	return 0;
}

int rlimit_nofile_raise(void)
{
	_cleanup_free_ char *text = NULL;
	uint64_t nr_open;
	int r;

	/* The kernel starts init with 1024/4096; containers inherit the agent's limit and a
	 * busy pod needs more. fs.nr_open is the ceiling setrlimit accepts. */
	r = read_file("/proc/sys/fs/nr_open", 64, &text, NULL);
	if (r < 0)
		return r;
	text[strcspn(text, "\n")] = '\0';
	r = parse_u64(text, &nr_open);
	if (r < 0)
		return r;
	struct rlimit rl = {.rlim_cur = nr_open, .rlim_max = nr_open};
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
		return 0;
	/* Without CAP_SYS_RESOURCE (a test-mode sandbox) only the soft limit can rise. */
	if (errno != EPERM || getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return 1;
}

int ctrl_alt_del_to_sigint(void)
{
	/* With CAD disabled the kernel sends SIGINT to init instead of rebooting at once, so
	 * QEMU's "sendkey ctrl-alt-delete" becomes an orderly shutdown. */
	if (reboot(RB_DISABLE_CAD) < 0)
		return -errno;
	return 0;
}

/* Firecracker's boot timer device (--boot-timer) logs the time when the guest writes 123 to
 * its MMIO page (firecracker: src/vmm/src/devices/pseudo/boot_timer.rs). */
#if defined(__x86_64__)
#define FC_BOOT_TIMER_ADDR 0xd0000000UL
#elif defined(__aarch64__)
#define FC_BOOT_TIMER_ADDR 0x40000000UL
#endif
#define FC_BOOT_TIMER_MAGIC 123
/* Cloud Hypervisor logs writes to I/O port 0x80 with a timestamp; 0x60-0x7f is the range it
 * reserves for userspace (docs/debug-port.md). */
#define CH_DEBUG_PORT	   0x80
#define CH_DEBUG_USERSPACE 0x60

int boot_marker_write(enum init_boot_marker m)
{
	switch (m) {
	case INIT_MARKER_NONE:
		return 0;
	case INIT_MARKER_FIRECRACKER: {
#ifdef FC_BOOT_TIMER_ADDR
		_cleanup_close_ int fd = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		long page = sysconf(_SC_PAGESIZE);
		volatile uint8_t *p =
		    mmap(NULL, (size_t)page, PROT_WRITE, MAP_SHARED, fd, (off_t)FC_BOOT_TIMER_ADDR);
		if (p == MAP_FAILED)
			return -errno;
		*p = FC_BOOT_TIMER_MAGIC;
		munmap((void *)p, (size_t)page);
		return 0;
#else
		return -EOPNOTSUPP;
#endif
	}
	case INIT_MARKER_PORT80:
#if defined(__x86_64__) || defined(__i386__)
		if (ioperm(CH_DEBUG_PORT, 1, 1) < 0)
			return -errno;
		outb(CH_DEBUG_USERSPACE, CH_DEBUG_PORT);
		(void)ioperm(CH_DEBUG_PORT, 1, 0);
		return 0;
#else
		return -EOPNOTSUPP;
#endif
	}
	return -EINVAL;
}
