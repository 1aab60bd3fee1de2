/* SPDX-License-Identifier: Apache-2.0 */
#define LOG_SUBSYSTEM "config"
#include "agent.h"
#include "version.h"

#include <getopt.h>

void config_init(struct agent_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->log_level = LOG_LEVEL_INFO;
	cfg->log_format = LOG_FORMAT_JSON;
	cfg->hotplug_timeout_ms = 3000;
	cfg->cdi_timeout_ms = 100000;
	cfg->launch_process_timeout_ms = 6000;
	cfg->listen[0] = strdup(AGENT_DEFAULT_ADDR);
	cfg->n_listen = cfg->listen[0] ? 1 : 0;
}

static void clear_listen(struct agent_config *cfg)
{
	for (size_t i = 0; i < cfg->n_listen; i++)
		free(cfg->listen[i]);
	cfg->n_listen = 0;
}

void config_done(struct agent_config *cfg)
{
	clear_listen(cfg);
	free(cfg->config_file);
}

int config_set_listen(struct agent_config *cfg, const char *addr)
{
	char *s = strdup(addr);
	if (!s)
		return -ENOMEM;
	clear_listen(cfg);
	cfg->listen[cfg->n_listen++] = s;
	return 0;
}

static int parse_seconds_ms(const char *v, uint64_t *ret)
{
	uint64_t s;
	int r = parse_u64(v, &s);
	if (r < 0)
		return r;
	if (s == 0 || s > UINT64_MAX / 1000)
		return -ERANGE; /* Kata: timeouts must be > 0 */
	*ret = s * 1000;
	return 0;
}

static int set_bool(bool *b, const char *v)
{
	if (!v) {
		*b = true;
		return 0;
	}
	int r = parse_bool(v);
	if (r < 0)
		return r;
	*b = r;
	return 0;
}

static int cmdline_option(const char *key, const char *value, void *data)
{
	struct agent_config *cfg = data;
	const char *k = startswith(key, "agent.");
	int r = 0;

	if (!k) {
		if (streq(key, "systemd.unified_cgroup_hierarchy"))
			r = set_bool(&cfg->unified_cgroup_hierarchy, value);
		else if (streq(key, "cgroup_no_v1") && value && streq(value, "all"))
			cfg->unified_cgroup_hierarchy = true;
		goto out;
	}
	if (streq(k, "debug_console"))
		r = set_bool(&cfg->debug_console, value);
	else if (streq(k, "devmode"))
		r = set_bool(&cfg->devmode, value);
	else if (streq(k, "trace"))
		r = set_bool(&cfg->trace, value);
	else if (!value)
		r = -EINVAL; /* every other agent.* option takes a value */
	else if (streq(k, "server_addr")) {
		r = config_set_listen(cfg, value);
	} else if (streq(k, "log")) {
		r = log_level_from_name(value);
		if (r >= 0)
			cfg->log_level = (enum log_level)r;
	} else if (streq(k, "debug_console_vport"))
		r = parse_u32(value, &cfg->debug_console_vport);
	else if (streq(k, "log_vport"))
		r = parse_u32(value, &cfg->log_vport);
	else if (streq(k, "passfd_listener_port"))
		r = parse_u32(value, &cfg->passfd_listener_port);
	else if (streq(k, "hotplug_timeout"))
		r = parse_seconds_ms(value, &cfg->hotplug_timeout_ms);
	else if (streq(k, "cdi_timeout"))
		r = parse_seconds_ms(value, &cfg->cdi_timeout_ms);
	else if (streq(k, "launch_process_timeout"))
		r = parse_seconds_ms(value, &cfg->launch_process_timeout_ms);
	else if (streq(k, "container_pipe_size"))
		r = parse_u32(value, &cfg->container_pipe_size);
	else if (streq(k, "config_file")) {
		free(cfg->config_file);
		cfg->config_file = strdup(value);
		r = cfg->config_file ? 0 : -ENOMEM;
	} else
		/* CoCo, tracing and mem-agent options of Kata: accepted, not used. */
		log_debug("ignoring kernel command line option %s", key);
out:
	if (r == -ENOMEM)
		return r;
	if (r < 0)
		log_warn("ignoring invalid kernel command line option %s%s%s", key,
			 value ? "=" : "", value ? value : "");
	return 0;
}

int config_parse_cmdline(struct agent_config *cfg, const char *cmdline)
{
	return cmdline_foreach(cmdline, cmdline_option, cfg);
}

void config_parse_env(struct agent_config *cfg)
{
	const char *v = getenv("KATA_AGENT_SERVER_ADDR");
	if (v && *v)
		(void)config_set_listen(cfg, v);
	v = getenv("KATA_AGENT_LOG_LEVEL");
	if (v && *v) {
		int r = log_level_from_name(v);
		if (r < 0)
			log_warn("ignoring invalid KATA_AGENT_LOG_LEVEL=%s", v);
		else
			cfg->log_level = (enum log_level)r;
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: ember-agent [OPTIONS]\n"
		"Serve the Kata agent API (ttrpc) inside a micro-VM.\n\n"
		"  -l, --listen ADDR      listen on ADDR (repeatable; replaces the default %s)\n"
		"                         ADDR: vsock://CID:PORT (CID -1 = any), unix:///path,\n"
		"                         serial:///dev/virtio-ports/NAME\n"
		"      --log-level LEVEL  critical, error, warn, info, debug or trace\n"
		"      --log-format FMT   json (Kata's, default) or text\n"
		"  -h, --help             show this help\n"
		"  -V, --version          show the version\n\n"
		"Configuration is read from the kernel command line (agent.*), then from\n"
		"KATA_AGENT_SERVER_ADDR and KATA_AGENT_LOG_LEVEL, then from these flags.\n",
		AGENT_DEFAULT_ADDR);
}

int config_parse_args(struct agent_config *cfg, int argc, char **argv)
{
	enum { OPT_LOG_LEVEL = 0x100, OPT_LOG_FORMAT };
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	    {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {},
	};
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "l:hV", opts, NULL)) >= 0) {
		switch (c) {
		case 'l':
			if (!cfg->listen_from_flags) {
				clear_listen(cfg);
				cfg->listen_from_flags = true;
			}
			if (cfg->n_listen >= AGENT_MAX_LISTEN) {
				fprintf(stderr, "ember-agent: at most %d --listen addresses\n",
					AGENT_MAX_LISTEN);
				return -EINVAL;
			}
			cfg->listen[cfg->n_listen] = strdup(optarg);
			if (!cfg->listen[cfg->n_listen])
				return -ENOMEM;
			cfg->n_listen++;
			break;
		case OPT_LOG_LEVEL:
			r = log_level_from_name(optarg);
			if (r < 0) {
				fprintf(stderr, "ember-agent: invalid log level '%s'\n", optarg);
				return -EINVAL;
			}
			cfg->log_level = (enum log_level)r;
			break;
		case OPT_LOG_FORMAT:
			r = log_format_from_name(optarg);
			if (r < 0) {
				fprintf(stderr, "ember-agent: invalid log format '%s'\n", optarg);
				return -EINVAL;
			}
			cfg->log_format = (enum log_format)r;
			break;
		case 'h':
			usage(stdout);
			return 1;
		case 'V':
			printf("ember-agent %s (agent API %s)\n", EMBER_VERSION, EMBER_API_VERSION);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "ember-agent: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	return 0;
}
