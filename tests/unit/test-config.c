/* SPDX-License-Identifier: Apache-2.0 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "agent.h"

static void test_defaults(void **state _unused_)
{
	struct agent_config c;
	config_init(&c);
	assert_int_equal(c.n_listen, 1);
	assert_string_equal(c.listen[0], "vsock://-1:1024");
	assert_int_equal(c.hotplug_timeout_ms, 3000);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	config_done(&c);
}

static void test_cmdline(void **state _unused_)
{
	struct agent_config c;
	config_init(&c);
	assert_int_equal(
	    config_parse_cmdline(&c, "console=hvc0 agent.log=debug agent.debug_console "
				     "agent.debug_console_vport=1026 agent.log_vport=1025 "
				     "agent.server_addr=serial:///dev/virtio-ports/agent.channel.0 "
				     "agent.hotplug_timeout=10 agent.trace=false "
				     "agent.container_pipe_size=65536 cgroup_no_v1=all "
				     "agent.https_proxy=x"),
	    0);
	assert_int_equal(c.log_level, LOG_LEVEL_DEBUG);
	assert_true(c.debug_console);
	assert_int_equal(c.debug_console_vport, 1026);
	assert_int_equal(c.log_vport, 1025);
	assert_int_equal(c.n_listen, 1);
	assert_string_equal(c.listen[0], "serial:///dev/virtio-ports/agent.channel.0");
	assert_int_equal(c.hotplug_timeout_ms, 10000);
	assert_false(c.trace);
	assert_int_equal(c.container_pipe_size, 65536);
	assert_true(c.unified_cgroup_hierarchy);
	config_done(&c);
}

static void test_cmdline_invalid_values_keep_defaults(void **state _unused_)
{
	struct agent_config c;
	config_init(&c);
	log_set_level(LOG_LEVEL_CRITICAL);
	assert_int_equal(config_parse_cmdline(&c, "agent.log=loud agent.hotplug_timeout=0 "
						  "agent.log_vport=-3 agent.debug_console=maybe "
						  "agent.server_addr"),
			 0);
	assert_int_equal(c.log_level, LOG_LEVEL_INFO);
	assert_int_equal(c.hotplug_timeout_ms, 3000);
	assert_int_equal(c.log_vport, 0);
	assert_false(c.debug_console);
	assert_string_equal(c.listen[0], "vsock://-1:1024");
	config_done(&c);
}

static void test_env_then_flags(void **state _unused_)
{
	struct agent_config c;
	config_init(&c);
	setenv("KATA_AGENT_SERVER_ADDR", "unix:///run/env.sock", 1);
	setenv("KATA_AGENT_LOG_LEVEL", "warn", 1);
	config_parse_env(&c);
	assert_string_equal(c.listen[0], "unix:///run/env.sock");
	assert_int_equal(c.log_level, LOG_LEVEL_WARN);
	char *argv[] = {"ember-agent", "--listen", "unix:///a",	   "-l",   "vsock://-1:1024",
			"--log-level", "trace",	   "--log-format", "text", NULL};
	assert_int_equal(config_parse_args(&c, 9, argv), 0);
	assert_int_equal(c.n_listen, 2);
	assert_string_equal(c.listen[0], "unix:///a");
	assert_string_equal(c.listen[1], "vsock://-1:1024");
	assert_int_equal(c.log_level, LOG_LEVEL_TRACE);
	assert_int_equal(c.log_format, LOG_FORMAT_TEXT);
	unsetenv("KATA_AGENT_SERVER_ADDR");
	unsetenv("KATA_AGENT_LOG_LEVEL");
	config_done(&c);
}

static void test_bad_flags(void **state _unused_)
{
	struct agent_config c;
	config_init(&c);
	char *argv1[] = {"ember-agent", "--log-level", "loud", NULL};
	assert_int_equal(config_parse_args(&c, 3, argv1), -EINVAL);
	char *argv2[] = {"ember-agent", "extra", NULL};
	assert_int_equal(config_parse_args(&c, 2, argv2), -EINVAL);
	char *argv3[] = {"ember-agent", "--version", NULL};
	assert_int_equal(config_parse_args(&c, 2, argv3), 1);
	config_done(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_cmdline),
	    cmocka_unit_test(test_cmdline_invalid_values_keep_defaults),
	    cmocka_unit_test(test_env_then_flags),
	    cmocka_unit_test(test_bad_flags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
