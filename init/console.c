/* SPDX-License-Identifier: Apache-2.0 */
/* /dev/console as stdio and controlling tty; the log sink. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>

int console_setup(const char *root, enum init_log_sink sink)
{
	char path[PATH_MAX];

	/* The kernel opens /dev/console for init only when the initramfs has the node; the
	 * devtmpfs we just mounted always has it, so (re)open it from there. */
	snprintf(path, sizeof(path), "%s/dev/console", root);
	int fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		log_warn_errno(errno, "cannot open %s: %m", path);
	} else {
		/* dup2 clears O_CLOEXEC on 0/1/2: the agent inherits the console as stdio. */
		for (int i = 0; i < 3; i++)
			if (fd != i && dup2(fd, i) < 0)
				log_warn_errno(errno, "cannot dup the console to fd %d: %m", i);
		if (fd > 2)
			close(fd);
		/* A controlling tty lets a debug shell on the console get job control and
		 * ^C; init itself blocks every signal, so the tty cannot kill it. */
		if (setsid() < 0 && errno != EPERM)
			log_debug_errno(errno, "setsid: %m");
		if (ioctl(0, TIOCSCTTY, 1) < 0)
			log_debug_errno(errno, "cannot make the console the controlling tty: %m");
	}

	if (sink == INIT_LOG_KMSG) {
		snprintf(path, sizeof(path), "%s/dev/kmsg", root);
		int kfd = open(path, O_WRONLY | O_NOCTTY | O_CLOEXEC);
		if (kfd < 0)
			return log_warn_errno(errno, "cannot open %s, logging to the console: %m",
					      path);
		/* One write() per line = one kmsg record. */
		log_set_fd(kfd);
	}
	return 0;
}
