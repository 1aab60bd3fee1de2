/* SPDX-License-Identifier: Apache-2.0 */
/* ember-init: the boot sequence, then supervise(), then init_finish(). */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"
#include "version.h"

#include <limits.h>
#include <sched.h>
#include <sys/mount.h>

/* Test mode on a host: private mount and UTS namespaces, so nothing init mounts or names
 * reaches the host, whoever started it. */
static int test_namespaces_enter(void)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWUTS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	return 0;
}

/* Returns the time module loading took, reported apart from the rest of the boot. */
static uint64_t boot(struct init_config *cfg, uint64_t start_ns)
{
	_cleanup_free_ char *cmdline = NULL;
	char path[PATH_MAX];
	int r;

	boot_mount_all(cfg->root, cfg->test_mode);

	/* /proc is there now: the command line configures the rest. */
	r = cmdline_read(&cmdline);
	if (r < 0)
		log_warn_errno(r, "cannot read the kernel command line, using defaults: %m");
	else if (init_config_parse_cmdline(cfg, cmdline) < 0)
		log_warn("out of memory parsing the kernel command line");
	log_set_level(cfg->log_level);
	/* The crash handler's action follows ember.shutdown. */
	r = crash_handler_install(cfg);
	if (r < 0)
		log_warn_errno(r, "cannot install the crash handler: %m");

	if (!cfg->test_mode)
		console_setup(cfg->root, cfg->log_sink);
	uint64_t up = now_boottime_ns();
	log_info("ember-init %s starting (kernel up %llu ms)%s", EMBER_VERSION,
		 (unsigned long long)(up / NSEC_PER_MSEC), cfg->test_mode ? ", test mode" : "");

	if (!cfg->test_mode) {
		/* In test mode the cgroup2 root is the host's: never enable its controllers. */
		snprintf(path, sizeof(path), "%s/sys/fs/cgroup", cfg->root);
		r = cgroup_enable_controllers(path);
		if (r < 0)
			log_warn_errno(r, "cannot enable every cgroup controller in %s: %m", path);
		r = ctrl_alt_del_to_sigint();
		if (r < 0)
			log_warn_errno(r, "cannot route Ctrl-Alt-Del to init: %m");
	}
	r = hostname_setup(cfg->root);
	if (r < 0)
		log_warn_errno(r, "cannot set the hostname: %m");
	r = rlimit_nofile_raise();
	if (r < 0)
		log_warn_errno(r, "cannot raise RLIMIT_NOFILE: %m");
	else if (r > 0)
		log_warn("cannot raise RLIMIT_NOFILE to fs.nr_open, only to the hard limit");
	/* What the agent and container processes find in their environment: Kata's PATH. */
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);

	uint64_t modules_start = now_monotonic_ns();
	boot_modules_load(cfg);
	uint64_t modules_ns = now_monotonic_ns() - modules_start;
	/* root= with an initramfs: continue from the disk (returns only when staying here). */
	if (sysroot_switch(cfg) < 0)
		log_warn("staying on the initramfs");
	r = virtio_ports_link(cfg->root, cfg->agent_port, INIT_AGENT_PORT_TIMEOUT);
	if (r == -ETIMEDOUT)
		log_warn("virtio-serial port %s did not appear within %llu ms", cfg->agent_port,
			 (unsigned long long)(INIT_AGENT_PORT_TIMEOUT / NSEC_PER_MSEC));
	else if (r < 0)
		log_warn_errno(r, "cannot create /dev/virtio-ports: %m");
	uint64_t t = now_monotonic_ns() - start_ns;
	log_debug("boot sequence done in %llu us", (unsigned long long)(t / NSEC_PER_USEC));
	return modules_ns;
}

int main(int argc, char **argv)
{
	uint64_t start_ns = now_monotonic_ns();
	struct init_config cfg;
	int r;

	log_setup("ember-init", "init", LOG_FORMAT_TEXT);
	if (init_config_init(&cfg) < 0)
		return EXIT_FAILURE;
	cfg.argv = argv;
	r = init_config_parse_args(&cfg, argc, argv);
	if (r < 0) {
		log_error("usage: %s [--test-root DIR]", argv[0]);
		return EXIT_FAILURE;
	}
	/* Outside PID 1, shutdown's kill(-1) would hit every process of the host. */
	if (getpid() != 1) {
		log_error("ember-init must run as PID 1 (of a VM, or of a pid namespace with "
			  "--test-root)");
		return EXIT_FAILURE;
	}
	/* From here on init never returns from main. */
	r = crash_handler_install(&cfg);
	if (r < 0)
		log_warn_errno(r, "cannot install the crash handler: %m");
	r = signals_block_all(NULL);
	if (r < 0)
		log_error_errno(r, "cannot block signals: %m");
	if (cfg.test_mode) {
		r = test_namespaces_enter();
		if (r < 0) {
			log_error_errno(r, "test mode: cannot enter private namespaces: %m");
			_exit(EXIT_FAILURE);
		}
	}

	uint64_t modules_ns = boot(&cfg, start_ns);
	enum init_action action = supervise(&cfg, start_ns, modules_ns);
	init_finish(&cfg, action, "shutdown complete");
}
