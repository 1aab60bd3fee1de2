/* SPDX-License-Identifier: Apache-2.0 */
/* The end of every path: signal mask, crash handler, kill/sync/unmount/reboot. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <sys/mount.h>
#include <sys/reboot.h>

/* Faults raised by init's own code. A blocked or ignored synchronous fault is delivered with
 * the default action anyway (force_sig_info), which for PID 1 means a kernel panic; these
 * stay unblocked and get crash_handler instead. */
static const int crash_signals[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGSYS, SIGTRAP};

/* Read by the crash handler; set once before the handler is installed. */
static struct {
	bool test_mode;
	int reboot_cmd;
} crash_cfg;

static int reboot_cmd(enum init_action a)
{
	switch (a) {
	case INIT_ACTION_REBOOT:
		return RB_AUTOBOOT;
	case INIT_ACTION_HALT:
		return RB_HALT_SYSTEM;
	case INIT_ACTION_POWEROFF:
		break;
	}
	return RB_POWER_OFF;
}

int signals_block_all(sigset_t *ret_old)
{
	sigset_t mask;
	sigfillset(&mask);
	for (size_t i = 0; i < ARRAY_SIZE(crash_signals); i++)
		sigdelset(&mask, crash_signals[i]);
	if (sigprocmask(SIG_BLOCK, &mask, ret_old) < 0)
		return -errno;
	return 0;
}

/* Async-signal-safe: write(2) of a preformatted message, no stdio, no malloc. */
static void crash_write(const char *s)
{
	ssize_t r = write(STDERR_FILENO, s, strlen(s));
	(void)r;
}

static void crash_handler(int sig)
{
	char msg[] = "ember-init: crashed with signal 00, ";
	msg[sizeof(msg) - 5] = (char)('0' + sig / 10 % 10);
	msg[sizeof(msg) - 4] = (char)('0' + sig % 10);
	crash_write(msg);
	sync();
	if (crash_cfg.test_mode) {
		crash_write("exiting (test mode)\n");
		_exit(INIT_TEST_EXIT_CRASH);
	}
	crash_write("shutting the VM down\n");
	/* Processes get no chance to clean up: init's state is unknown. The filesystems
	 * were synced above; the VMM sees the VM end instead of a kernel panic. */
	reboot(crash_cfg.reboot_cmd);
	for (;;)
		pause();
}

int crash_handler_install(const struct init_config *cfg)
{
	/* Its own stack, so that a stack overflow still gets a handler. */
	static uint8_t altstack[16384] __attribute__((aligned(16)));
	stack_t ss = {.ss_sp = altstack, .ss_size = sizeof(altstack)};
	struct sigaction sa = {.sa_handler = crash_handler, .sa_flags = SA_ONSTACK | SA_RESETHAND};

	crash_cfg.test_mode = cfg->test_mode;
	crash_cfg.reboot_cmd = reboot_cmd(cfg->shutdown);
	if (sigaltstack(&ss, NULL) < 0)
		return -errno;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < ARRAY_SIZE(crash_signals); i++)
		if (sigaction(crash_signals[i], &sa, NULL) < 0)
			return -errno;
	return 0;
}

static void unmount_all(const char *root)
{
	_cleanup_free_ char *text = NULL;
	char **targets = NULL;
	size_t n = 0;
	int r;

	r = read_file("/proc/self/mountinfo", 4 << 20, &text, NULL);
	if (r >= 0)
		r = mountinfo_targets_below(text, root[0] ? root : "/", &targets, &n);
	if (r < 0) {
		log_warn_errno(r, "cannot list mounts, skipping unmount: %m");
		return;
	}
	/* Reverse mount order: children before their parents. Detached, because a stuck
	 * network filesystem must not hold up the power-off; the kernel tears them down. */
	unsigned detached = 0;
	for (size_t i = n; i-- > 0;) {
		if (umount2(targets[i], MNT_DETACH | UMOUNT_NOFOLLOW) == 0)
			detached++;
		else
			log_debug_errno(errno, "cannot unmount %s: %m", targets[i]);
	}
	strv_free_n(targets, n);
	log_debug("unmounted %u of %zu mounts", detached, n);
	/* The root itself (a disk image) cannot go away: read-only is what makes it clean. */
	if (!root[0] && mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL) < 0 && errno != EBUSY)
		log_debug_errno(errno, "cannot remount / read-only: %m");
}

_noreturn_ void init_finish(const struct init_config *cfg, enum init_action action,
			    const char *reason)
{
	/* Anything still alive (supervise() gave up on it) goes now. */
	if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
		log_debug_errno(errno, "kill(-1, SIGKILL): %m");
	sync();
	unmount_all(cfg->root);
	sync();
	if (cfg->test_mode) {
		log_info("test mode: exiting instead of %s (%s)", init_action_name(action), reason);
		_exit(EXIT_SUCCESS);
	}
	log_info("%s: %s", init_action_name(action), reason);
	reboot(reboot_cmd(action));
	/* Only reached if reboot(2) failed, e.g. without CAP_SYS_BOOT: exiting would panic. */
	log_critical("reboot(%s) failed: %m; halting here", init_action_name(action));
	for (;;)
		pause();
}
