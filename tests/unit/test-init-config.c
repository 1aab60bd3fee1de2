/* SPDX-License-Identifier: Apache-2.0 */
/* ember-init: command-line and argv parsing, /etc/ember/modules parsing. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "init/init.h"

#include <sys/mount.h>

static void test_defaults(void **state _unused_)
{
	struct init_config c;
	assert_int_equal(init_config_init(&c), 0);
	assert_string_equal(c.agent, "/sbin/ember-agent");
	assert_int_equal(c.shutdown, INIT_ACTION_POWEROFF);
	assert_int_equal(c.shutdown_timeout_ns, 5 * NSEC_PER_SEC);
	assert_int_equal(c.log_sink, INIT_LOG_CONSOLE);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.boot_marker, INIT_MARKER_NONE);
	assert_false(c.test_mode);
	assert_string_equal(c.root, "");
	assert_int_equal(c.n_modules, 0);
	init_config_done(&c);
}

static void test_cmdline(void **state _unused_)
{
	struct init_config c;
	assert_int_equal(init_config_init(&c), 0);
	assert_int_equal(
	    init_config_parse_cmdline(
		&c, "console=hvc0 quiet agent.log=debug ember.agent=/bin/agent "
		    "ember.modules=virtio_pci,virtio-console,, ember.modules=9p "
		    "ember.modopt=virtio_net:napi_tx=1 ember.modopt=virtio-net:foo=\"a b\" "
		    "ember.modopt=bad ember.shutdown=reboot ember.shutdown_timeout=1500ms "
		    "ember.log=kmsg ember.log_level=debug ember.boot_marker=port80 "
		    "agent.server_addr=serial:///dev/virtio-ports/agent.channel.0 "
		    "ember.unknown=1 ember.flag -- init-arg\n"),
	    0);
	assert_string_equal(c.agent, "/bin/agent");
	assert_int_equal(c.n_modules, 3);
	assert_string_equal(c.modules[0], "virtio_pci");
	assert_string_equal(c.modules[1], "virtio-console");
	assert_string_equal(c.modules[2], "9p");
	assert_int_equal(c.n_modopts, 2);
	assert_int_equal(c.shutdown, INIT_ACTION_REBOOT);
	assert_int_equal(c.shutdown_timeout_ns, 1500 * NSEC_PER_MSEC);
	assert_int_equal(c.log_sink, INIT_LOG_KMSG);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c.boot_marker, INIT_MARKER_PORT80);
	assert_string_equal(c.agent_port, "agent.channel.0");
	assert_null(c.debug_shell);
	assert_int_equal(init_config_parse_cmdline(&c, "ember.debug_shell"), 0);
	assert_string_equal(c.debug_shell, "/bin/sh");
	assert_int_equal(
	    init_config_parse_cmdline(&c, "ember.debug_shell=/bin/ash ember.debug_shell=x"), 0);
	assert_string_equal(c.debug_shell, "/bin/ash");
	/* A later non-serial address means no port to wait for. */
	assert_int_equal(init_config_parse_cmdline(&c, "agent.server_addr=vsock://-1:1024"), 0);
	assert_null(c.agent_port);

	char *p = NULL;
	assert_int_equal(init_config_modparams(&c, "virtio_net", &p), 0);
	assert_string_equal(p, "napi_tx=1 foo=a b");
	free(p);
	assert_int_equal(init_config_modparams(&c, "virtio-net", &p), 0);
	assert_string_equal(p, "napi_tx=1 foo=a b");
	free(p);
	assert_int_equal(init_config_modparams(&c, "virtio_blk", &p), 0);
	assert_null(p);
	init_config_done(&c);
}

static void test_bad_values_keep_defaults(void **state _unused_)
{
	struct init_config c;
	assert_int_equal(init_config_init(&c), 0);
	assert_int_equal(init_config_parse_cmdline(&c,
						   "ember.agent=relative ember.shutdown=explode "
						   "ember.shutdown_timeout=-1 ember.log=tty "
						   "ember.log_level=chatty ember.boot_marker=x "
						   "ember.shutdown_timeout=10q ember.agent"),
			 0);
	assert_string_equal(c.agent, "/sbin/ember-agent");
	assert_int_equal(c.shutdown, INIT_ACTION_POWEROFF);
	assert_int_equal(c.shutdown_timeout_ns, 5 * NSEC_PER_SEC);
	assert_int_equal(c.log_sink, INIT_LOG_CONSOLE);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.boot_marker, INIT_MARKER_NONE);
	/* The last valid value wins. */
	assert_int_equal(init_config_parse_cmdline(&c,
						   "ember.shutdown=halt ember.shutdown=poweroff "
						   "ember.boot_marker=firecracker"),
			 0);
	assert_int_equal(c.shutdown, INIT_ACTION_POWEROFF);
	assert_int_equal(c.boot_marker, INIT_MARKER_FIRECRACKER);
	init_config_done(&c);
}

static void test_durations_actions(void **state _unused_)
{
	uint64_t ns;
	assert_int_equal(init_parse_duration("5", &ns), 0);
	assert_int_equal(ns, 5 * NSEC_PER_SEC);
	assert_int_equal(init_parse_duration("7s", &ns), 0);
	assert_int_equal(ns, 7 * NSEC_PER_SEC);
	assert_int_equal(init_parse_duration("250ms", &ns), 0);
	assert_int_equal(ns, 250 * NSEC_PER_MSEC);
	assert_int_equal(init_parse_duration("0", &ns), 0);
	assert_int_equal(ns, 0);
	assert_int_equal(init_parse_duration("", &ns), -EINVAL);
	assert_int_equal(init_parse_duration("ms", &ns), -EINVAL);
	assert_int_equal(init_parse_duration("s", &ns), -EINVAL);
	assert_int_equal(init_parse_duration("1m", &ns), -EINVAL);
	assert_int_equal(init_parse_duration("99999999999999999999", &ns), -ERANGE);
	assert_int_equal(init_parse_duration("99999999999s", &ns), -ERANGE);
	assert_int_equal(init_action_from_name("halt"), INIT_ACTION_HALT);
	assert_int_equal(init_action_from_name("kexec"), -EINVAL);
	assert_string_equal(init_action_name(INIT_ACTION_REBOOT), "reboot");
}

static void test_args(void **state _unused_)
{
	struct init_config c;
	assert_int_equal(init_config_init(&c), 0);
	char *a1[] = {"init", "single", "--test-root", "/tmp/x//", NULL};
	assert_int_equal(init_config_parse_args(&c, 4, a1), 0);
	assert_true(c.test_mode);
	assert_string_equal(c.root, "/tmp/x");
	char *a2[] = {"init", "--test-root=/srv/t", NULL};
	assert_int_equal(init_config_parse_args(&c, 2, a2), 0);
	assert_string_equal(c.root, "/srv/t");
	char *a3[] = {"init", "--test-root=/", NULL};
	assert_int_equal(init_config_parse_args(&c, 2, a3), -EINVAL);
	char *a4[] = {"init", "--test-root=rel", NULL};
	assert_int_equal(init_config_parse_args(&c, 2, a4), -EINVAL);
	char *a5[] = {"init", "--test-root", NULL};
	assert_int_equal(init_config_parse_args(&c, 2, a5), -EINVAL);
	init_config_done(&c);

	/* A kernel's argv for init (unknown words) is not test mode. */
	assert_int_equal(init_config_init(&c), 0);
	char *a6[] = {"/init", "splash", "nomodeset", NULL};
	assert_int_equal(init_config_parse_args(&c, 3, a6), 0);
	assert_false(c.test_mode);
	init_config_done(&c);
}

struct seen {
	char text[512];
	size_t len;
};

static int collect(const char *name, const char *params, void *data)
{
	struct seen *s = data;
	s->len += (size_t)snprintf(s->text + s->len, sizeof(s->text) - s->len, "[%s|%s]", name,
				   params ? params : "-");
	return 0;
}

/* The kernel's root words, for a disk root behind the initramfs (init/sysroot.c). */
static void test_sysroot_words(void **state _unused_)
{
	struct init_config c;
	assert_int_equal(init_config_init(&c), 0);
	assert_null(c.sysroot_dev);
	assert_false(c.sysroot_rw);
	assert_int_equal(c.sysroot_timeout_ns, INIT_DEFAULT_SYSROOT_TIMEOUT);
	assert_int_equal(init_config_parse_cmdline(
			     &c,
			     "root=/dev/pmem0p1 rootflags=dax,data=ordered,errors=remount-ro "
			     "ro rootfstype=ext4 init=/usr/bin/ember-init ember.root_timeout=2s"),
			 0);
	assert_string_equal(c.sysroot_dev, "/dev/pmem0p1");
	assert_string_equal(c.sysroot_fstype, "ext4");
	assert_string_equal(c.sysroot_flags, "dax,data=ordered,errors=remount-ro");
	assert_string_equal(c.sysroot_init, "/usr/bin/ember-init");
	assert_false(c.sysroot_rw);
	assert_int_equal(c.sysroot_timeout_ns, 2 * NSEC_PER_SEC);
	/* rw wins when it comes last, as in the kernel; non-/dev roots and relative inits are
	 * ignored (no UUID= lookup in ember-init) */
	assert_int_equal(init_config_parse_cmdline(&c, "rw root=UUID=1234 init=sbin/init"), 0);
	assert_true(c.sysroot_rw);
	assert_string_equal(c.sysroot_dev, "/dev/pmem0p1");
	assert_string_equal(c.sysroot_init, "/usr/bin/ember-init");
	init_config_done(&c);
}

static void test_sysroot_flags(void **state _unused_)
{
	unsigned long flags;
	char *data;
	assert_int_equal(sysroot_parse_flags(NULL, false, &flags, &data), 0);
	assert_int_equal(flags, MS_RDONLY);
	assert_null(data);
	assert_int_equal(sysroot_parse_flags("dax,nodev,data=ordered,rw,errors=remount-ro", false,
					     &flags, &data),
			 0);
	assert_int_equal(flags, MS_NODEV);
	assert_string_equal(data, "dax,data=ordered,errors=remount-ro");
	free(data);
	assert_int_equal(sysroot_parse_flags("ro,noatime", true, &flags, &data), 0);
	assert_int_equal(flags, MS_RDONLY | MS_NOATIME);
	assert_null(data);
}

static void test_modules_file(void **state _unused_)
{
	char text[] = "# ember modules\n"
		      "virtio_pci\n"
		      "  virtio_net   napi_tx=1  \n"
		      "\n"
		      "9p # the 9p filesystem\n"
		      "\tvsock\t \n"
		      "last opt=1 other=2";
	struct seen s = {0};
	assert_int_equal(modules_file_foreach(text, collect, &s), 0);
	assert_string_equal(
	    s.text, "[virtio_pci|-][virtio_net|napi_tx=1][9p|-][vsock|-][last|opt=1 other=2]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_bad_values_keep_defaults),
	    cmocka_unit_test(test_durations_actions),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_modules_file),
	    cmocka_unit_test(test_sysroot_words),
	    cmocka_unit_test(test_sysroot_flags),
	};
	/* The parser warns about the bad values on purpose; keep the output readable. */
	log_set_level(LOG_LEVEL_CRITICAL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
