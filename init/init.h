/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ember-init: PID 1 of the micro-VM (/init of the initrd, /sbin/init of a disk image).
 *
 * Contract:
 *  - main() never returns and init never exits: every way out (agent reported "sandbox
 *    destroyed", crash loop, SIGTERM/SIGINT(Ctrl-Alt-Del)/SIGPWR, a crash of init itself) ends
 *    in init_finish(): kill what is left, sync, unmount, reboot(2) with ember.shutdown's
 *    action. If PID 1 exited the kernel would panic ("Attempted to kill init", Kata #9429).
 *  - Nothing in the boot sequence is fatal except what makes the agent impossible to run:
 *    a failed mount, module or hostname is a warning, so the VM still comes up and can be
 *    debugged.
 *  - Test mode (`ember-init --test-root DIR`, never set by a kernel) runs init as PID 1 of a
 *    pid namespace on a host: init enters private mount and UTS namespaces, mounts under DIR
 *    (tmpfs instead of the host's devtmpfs), leaves the console, cgroup controllers and
 *    reboot(2) alone, and exits with status 0 where a VM would power off.
 *
 * Command line (ember.*; the agent reads its own agent.* options from /proc/cmdline):
 *   ember.agent=PATH              agent binary (/sbin/ember-agent)
 *   ember.modules=a,b             modules to load besides /etc/ember/modules (repeatable)
 *   ember.modopt=mod:key=val      module parameter (repeatable)
 *   ember.shutdown=poweroff|reboot|halt   final action (poweroff; Firecracker x86: reboot)
 *   ember.shutdown_timeout=5s     SIGTERM -> SIGKILL bound; "N", "Ns" or "Nms"
 *   ember.log=console|kmsg        log sink (console)
 *   ember.log_level=LEVEL         Kata level names (info)
 *   ember.boot_marker=firecracker|port80  VMM boot-time marker once the agent is exec'd
 *   ember.debug_shell[=PATH]      a shell (/bin/sh) on the console, respawned; needs an image
 *                                 built with --debug-shell. Never for production: it is root.
 */
#pragma once

#include "common/common.h"

#include <signal.h>

#define INIT_DEFAULT_AGENT	      "/sbin/ember-agent"
#define INIT_DEFAULT_SHUTDOWN_TIMEOUT (5 * NSEC_PER_SEC)
#define INIT_MODULES_FILE	      "/etc/ember/modules"
/* How long to wait for the agent's virtio-serial port to show up after module loading. */
#define INIT_AGENT_PORT_TIMEOUT (2 * NSEC_PER_SEC)
/* Crash-loop policy: this many agent crashes within the window end the VM. */
#define INIT_CRASH_LOOP_COUNT  5
#define INIT_CRASH_LOOP_WINDOW (30 * NSEC_PER_SEC)
/* Restart backoff: 100 ms doubling per recent crash, at most 3.2 s. */
#define INIT_RESTART_DELAY_MIN (100 * NSEC_PER_MSEC)
#define INIT_RESTART_DELAY_MAX (3200 * NSEC_PER_MSEC)
/* Exit status of init in test mode when init itself crashed. */
#define INIT_TEST_EXIT_CRASH 3

enum init_action {
	INIT_ACTION_POWEROFF,
	INIT_ACTION_REBOOT,
	INIT_ACTION_HALT,
};

enum init_log_sink {
	INIT_LOG_CONSOLE,
	INIT_LOG_KMSG,
};

enum init_boot_marker {
	INIT_MARKER_NONE,
	INIT_MARKER_FIRECRACKER,
	INIT_MARKER_PORT80,
};

struct init_config {
	char *agent;
	char **modules; /* names from ember.modules */
	size_t n_modules;
	char **modopts; /* "mod:key=val" */
	size_t n_modopts;
	enum init_action shutdown;
	uint64_t shutdown_timeout_ns;
	enum init_log_sink log_sink;
	enum log_level log_level;
	enum init_boot_marker boot_marker;
	char *debug_shell; /* NULL = none */
	/* NAME of agent.server_addr=serial:///dev/virtio-ports/NAME: wait for that port. */
	char *agent_port;
	/* agent.log_vport=N (N > 0): the agent streams logs to the host; init relays its own
	 * lines through the agent (EMBER_INIT_LOG_FD) so that they reach the host too. */
	bool log_relay;
	/* From argv, not the kernel: test mode and its scratch root ("" = the real root). */
	bool test_mode;
	char *root;
	char **argv; /* init's own, for the exec of the disk root's init */

	/* root= with an initramfs (sysroot.c): the kernel cannot mount a root whose drivers
	 * are modules (Debian's virtio_blk, ext4), so init loads them, mounts it and continues
	 * there. The kernel's own words: root=, rootfstype=, rootflags=, ro/rw, init=. */
	char *sysroot_dev;	     /* NULL: stay on the initramfs */
	char *sysroot_fstype;	     /* NULL: try ext4, erofs, xfs */
	char *sysroot_flags;	     /* rootflags= */
	char *sysroot_init;	     /* init=, default /sbin/init */
	bool sysroot_rw;	     /* the kernel mounts root read-only unless "rw" */
	uint64_t sysroot_timeout_ns; /* ember.root_timeout: wait for the device */
};

/* ---- config.c ---- */
int init_config_init(struct init_config *cfg);
void init_config_done(struct init_config *cfg);
/* Applies the ember.* words of a kernel command line. Bad values are logged as warnings and
 * leave the default: a typo must not keep the VM from booting. Returns -ENOMEM only. */
int init_config_parse_cmdline(struct init_config *cfg, const char *cmdline);
/* argv of init itself: --test-root DIR. 0, or -EINVAL on an unknown argument. */
int init_config_parse_args(struct init_config *cfg, int argc, char **argv);
int init_action_from_name(const char *s);
const char *init_action_name(enum init_action a);
/* "5", "5s", "1500ms" -> ns. */
int init_parse_duration(const char *s, uint64_t *ret_ns);
/* Space-separated parameters of module (from ember.modopt) in a new string; NULL when none
 * (with *ret NULL), -ENOMEM. */
int init_config_modparams(const struct init_config *cfg, const char *module, char **ret);

/* ---- sysroot.c ---- */
#define INIT_SYSROOT_DIR	     "/sysroot"
#define INIT_DEFAULT_SYSROOT_INIT    "/sbin/init"
#define INIT_DEFAULT_SYSROOT_TIMEOUT (10 * NSEC_PER_SEC)
/* With cfg->sysroot_dev set and "/" an initramfs: waits for the device, mounts it, moves
 * /dev, /proc, /sys and /run there, frees the initramfs and execs the disk's init with init's
 * argv. Returns only on failure (-errno, logged): init then carries on from the initramfs.
 * 0 without anything to do. */
int sysroot_switch(struct init_config *cfg);
/* rootflags= words -> MS_* flags and the rest as fs data (a new string in *data, or NULL). */
int sysroot_parse_flags(const char *rootflags, bool rw, unsigned long *flags, char **data);

/* ---- mounts.c ---- */
struct boot_mount {
	const char *source;
	const char *target; /* absolute, below the root */
	const char *fstype; /* in test mode devtmpfs becomes tmpfs: the host's devtmpfs is shared */
	unsigned long flags;
	const char *data;
	unsigned long magic; /* statfs f_type that means "already mounted" */
	bool optional;	     /* a failure is only a warning */
};
/* The boot mount table, in mount order (parents first). */
const struct boot_mount *boot_mounts(size_t *n);
/* Mounts the table below root, creating directories, skipping targets that already are
 * mount points of the expected type. Then /dev/ptmx, /dev/fd, /dev/std{in,out,err}. Logs
 * each failure; returns the number of failed mandatory mounts. */
int boot_mount_all(const char *root, bool test_mode);
/* Enables every controller of root's cgroup2 in its cgroup.subtree_control. */
int cgroup_enable_controllers(const char *cgroup_root);
/* Mount points listed in mountinfo text that lie strictly below prefix ("/" = all but "/"),
 * in mountinfo order, octal escapes (\040) decoded. */
int mountinfo_targets_below(const char *mountinfo, const char *prefix, char ***ret, size_t *n);
void strv_free_n(char **v, size_t n);

/* ---- console.c ---- */
/* /dev/console as fd 0/1/2, new session, controlling tty; then the log sink. */
int console_setup(const char *root, enum init_log_sink sink);

/* ---- system.c ---- */
int hostname_setup(const char *root);
/* 0 = raised to fs.nr_open, 1 = only the soft limit up to the hard one (no CAP_SYS_RESOURCE). */
int rlimit_nofile_raise(void);
int ctrl_alt_del_to_sigint(void);
int boot_marker_write(enum init_boot_marker m);

/* ---- devlinks.c ---- */
/* Creates /dev/virtio-ports/NAME links for the virtio-serial ports (udev's job elsewhere);
 * when want is set, waits up to timeout_ns for the port of that name (-ETIMEDOUT). */
int virtio_ports_link(const char *root, const char *want, uint64_t timeout_ns);

/* ---- modules.c ---- */
/* Loads /etc/ember/modules and ember.modules with their dependencies; never fails the boot.
 * Returns the number of modules that failed. */
int boot_modules_load(const struct init_config *cfg);
/* Parses /etc/ember/modules text: one module a line, optional parameters after whitespace,
 * '#' comments. Calls fn(name, params-or-NULL). */
int modules_file_foreach(char *text, int (*fn)(const char *name, const char *params, void *data),
			 void *data);

/* ---- supervisor.c ---- */
/* Runs the agent until shutdown is due; returns the final action once every process is gone
 * (or the kill bound expired). start_ns: init's start (CLOCK_MONOTONIC); modules_ns: how much
 * of the boot was module loading (both for the "agent started" figure). */
enum init_action supervise(struct init_config *cfg, uint64_t start_ns, uint64_t modules_ns);

/* ---- finish.c ---- */
/* Blocks every signal except the synchronous crash signals (which cannot be blocked without
 * turning a crash into a kernel panic). */
int signals_block_all(sigset_t *ret_old);
/* SIGSEGV/SIGBUS/SIGILL/SIGFPE/SIGABRT/SIGSYS of init itself: log, sync, reboot(action). */
int crash_handler_install(const struct init_config *cfg);
/* sync, unmount everything below the root, reboot(2). Never returns (test mode: _exit). */
_noreturn_ void init_finish(const struct init_config *cfg, enum init_action action,
			    const char *reason);
