/* SPDX-License-Identifier: Apache-2.0 */
/* ember.* kernel command-line options and init's own argv. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

static const char *const action_names[] = {
    [INIT_ACTION_POWEROFF] = "poweroff",
    [INIT_ACTION_REBOOT] = "reboot",
    [INIT_ACTION_HALT] = "halt",
};

int init_action_from_name(const char *s)
{
	for (size_t i = 0; i < ARRAY_SIZE(action_names); i++)
		if (streq(s, action_names[i]))
			return (int)i;
	return -EINVAL;
}

const char *init_action_name(enum init_action a)
{
	return (size_t)a < ARRAY_SIZE(action_names) ? action_names[a] : "poweroff";
}

int init_parse_duration(const char *s, uint64_t *ret_ns)
{
	uint64_t unit = NSEC_PER_SEC, v;
	char buf[32];
	size_t len = strlen(s);

	if (len == 0 || len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len + 1);
	if (len > 2 && streq(buf + len - 2, "ms")) {
		unit = NSEC_PER_MSEC;
		buf[len - 2] = '\0';
	} else if (len > 1 && buf[len - 1] == 's') {
		buf[len - 1] = '\0';
	}
	int r = parse_u64(buf, &v);
	if (r < 0)
		return r;
	if (v > UINT64_MAX / unit)
		return -ERANGE;
	*ret_ns = v * unit;
	return 0;
}

int init_config_init(struct init_config *cfg)
{
	*cfg = (struct init_config){
	    .shutdown = INIT_ACTION_POWEROFF,
	    .shutdown_timeout_ns = INIT_DEFAULT_SHUTDOWN_TIMEOUT,
	    .log_sink = INIT_LOG_CONSOLE,
	    .log_level = LOG_LEVEL_INFO,
	    .boot_marker = INIT_MARKER_NONE,
	};
	cfg->agent = strdup(INIT_DEFAULT_AGENT);
	cfg->root = strdup("");
	cfg->sysroot_timeout_ns = INIT_DEFAULT_SYSROOT_TIMEOUT;
	if (!cfg->agent || !cfg->root) {
		init_config_done(cfg);
		return -ENOMEM;
	}
	return 0;
}

void strv_free_n(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void init_config_done(struct init_config *cfg)
{
	free(cfg->agent);
	free(cfg->root);
	free(cfg->agent_port);
	free(cfg->debug_shell);
	free(cfg->sysroot_dev);
	free(cfg->sysroot_fstype);
	free(cfg->sysroot_flags);
	free(cfg->sysroot_init);
	strv_free_n(cfg->modules, cfg->n_modules);
	strv_free_n(cfg->modopts, cfg->n_modopts);
	*cfg = (struct init_config){0};
}

static int strv_push(char ***v, size_t *n, const char *s, size_t len)
{
	char **nv = realloc(*v, (*n + 1) * sizeof(**v));
	if (!nv)
		return -ENOMEM;
	*v = nv;
	nv[*n] = strndup(s, len);
	if (!nv[*n])
		return -ENOMEM;
	(*n)++;
	return 0;
}

static int replace_str(char **p, const char *s)
{
	char *n = strdup(s);
	if (!n)
		return -ENOMEM;
	free(*p);
	*p = n;
	return 0;
}

static int parse_modules(struct init_config *cfg, const char *list)
{
	for (const char *s = list; *s;) {
		const char *comma = strchrnul(s, ',');
		if (comma > s) {
			int r = strv_push(&cfg->modules, &cfg->n_modules, s, (size_t)(comma - s));
			if (r < 0)
				return r;
		}
		s = *comma ? comma + 1 : comma;
	}
	return 0;
}

static int apply_option(const char *key, const char *value, void *data)
{
	struct init_config *cfg = data;
	const char *opt = startswith(key, "ember.");
	uint64_t ns;
	int r;

	if (!opt) {
		/* The kernel's root words, for a disk root mounted by init (sysroot.c). */
		if (streq(key, "ro") && !value)
			cfg->sysroot_rw = false;
		else if (streq(key, "rw") && !value)
			cfg->sysroot_rw = true;
		if (value && streq(key, "root")) {
			if (!startswith(value, "/dev/")) {
				log_warn("ignoring root=%s: only /dev/ paths are supported", value);
				return 0;
			}
			return replace_str(&cfg->sysroot_dev, value);
		}
		if (value && streq(key, "rootfstype"))
			return replace_str(&cfg->sysroot_fstype, value);
		if (value && streq(key, "rootflags"))
			return replace_str(&cfg->sysroot_flags, value);
		if (value && streq(key, "init")) {
			if (value[0] != '/') {
				log_warn("ignoring init=%s: not an absolute path", value);
				return 0;
			}
			return replace_str(&cfg->sysroot_init, value);
		}
		/* The agent reads its own options; init only needs to know which serial port
		 * it will open, to make its /dev/virtio-ports link and wait for it. */
		const char *port;
		if (streq(key, "agent.server_addr") && value &&
		    (port = startswith(value, "serial:///dev/virtio-ports/")) && *port)
			return replace_str(&cfg->agent_port, port);
		if (streq(key, "agent.server_addr"))
			free(TAKE_PTR(cfg->agent_port));
		if (streq(key, "agent.log_vport")) {
			uint32_t vport = 0;
			cfg->log_relay = value && parse_u32(value, &vport) >= 0 && vport > 0;
		}
		return 0;
	}
	if (streq(opt, "debug_shell")) {
		if (value && value[0] != '/') {
			log_warn("ignoring ember.debug_shell=%s: not an absolute path", value);
			return 0;
		}
		return replace_str(&cfg->debug_shell, value ? value : "/bin/sh");
	}
	if (!value) {
		log_warn("ignoring '%s': it needs a value", key);
		return 0;
	}
	if (streq(opt, "agent")) {
		if (value[0] != '/') {
			log_warn("ignoring ember.agent=%s: not an absolute path", value);
			return 0;
		}
		return replace_str(&cfg->agent, value);
	}
	if (streq(opt, "modules"))
		return parse_modules(cfg, value);
	if (streq(opt, "modopt")) {
		const char *colon = strchr(value, ':');
		if (!colon || colon == value || !strchr(colon, '=')) {
			log_warn("ignoring ember.modopt=%s: expected module:key=value", value);
			return 0;
		}
		return strv_push(&cfg->modopts, &cfg->n_modopts, value, strlen(value));
	}
	if (streq(opt, "shutdown")) {
		r = init_action_from_name(value);
		if (r < 0)
			log_warn("ignoring ember.shutdown=%s: expected poweroff, reboot or halt",
				 value);
		else
			cfg->shutdown = (enum init_action)r;
		return 0;
	}
	if (streq(opt, "root_timeout")) {
		if (init_parse_duration(value, &ns) < 0)
			log_warn("ignoring ember.root_timeout=%s: not a duration", value);
		else
			cfg->sysroot_timeout_ns = ns;
		return 0;
	}
	if (streq(opt, "shutdown_timeout")) {
		if (init_parse_duration(value, &ns) < 0)
			log_warn("ignoring ember.shutdown_timeout=%s: not a duration", value);
		else
			cfg->shutdown_timeout_ns = ns;
		return 0;
	}
	if (streq(opt, "log")) {
		if (streq(value, "console"))
			cfg->log_sink = INIT_LOG_CONSOLE;
		else if (streq(value, "kmsg"))
			cfg->log_sink = INIT_LOG_KMSG;
		else
			log_warn("ignoring ember.log=%s: expected console or kmsg", value);
		return 0;
	}
	if (streq(opt, "log_level")) {
		r = log_level_from_name(value);
		if (r < 0)
			log_warn("ignoring ember.log_level=%s: unknown level", value);
		else
			cfg->log_level = (enum log_level)r;
		return 0;
	}
	if (streq(opt, "boot_marker")) {
		if (streq(value, "firecracker"))
			cfg->boot_marker = INIT_MARKER_FIRECRACKER;
		else if (streq(value, "port80"))
			cfg->boot_marker = INIT_MARKER_PORT80;
		else if (streq(value, "none"))
			cfg->boot_marker = INIT_MARKER_NONE;
		else
			log_warn("ignoring ember.boot_marker=%s: expected firecracker or port80",
				 value);
		return 0;
	}
	/* ember.* is shared with the agent (e.g. ember.allow_cid): not ours is not an error. */
	log_debug("%s is not an init option", key);
	return 0;
}

int init_config_parse_cmdline(struct init_config *cfg, const char *cmdline)
{
	return cmdline_foreach(cmdline, apply_option, cfg);
}

int init_config_parse_args(struct init_config *cfg, int argc, char **argv)
{
	/* The kernel hands init the command line's words that it does not know (and those
	 * after "--") as argv: ignore those, recognise only our own test flag. */
	for (int i = 1; i < argc; i++) {
		const char *v = startswith(argv[i], "--test-root=");
		if (!v && streq(argv[i], "--test-root")) {
			if (i + 1 >= argc)
				return -EINVAL;
			v = argv[++i];
		}
		if (!v)
			continue;
		if (v[0] != '/')
			return -EINVAL;
		int r = replace_str(&cfg->root, v);
		if (r < 0)
			return r;
		/* "/" would make test mode act on the host's own root. */
		size_t len = strlen(cfg->root);
		while (len > 0 && cfg->root[len - 1] == '/')
			cfg->root[--len] = '\0';
		if (len == 0)
			return -EINVAL;
		cfg->test_mode = true;
	}
	return 0;
}

int init_config_modparams(const struct init_config *cfg, const char *module, char **ret)
{
	char want[64], have[64];
	size_t len = 0;
	char *out = NULL;

	*ret = NULL;
	if (strlen(module) >= sizeof(want))
		return 0;
	/* Module names compare with '-' == '_', as the kernel does. */
	for (size_t i = 0;; i++) {
		want[i] = module[i] == '-' ? '_' : module[i];
		if (!module[i])
			break;
	}
	for (size_t i = 0; i < cfg->n_modopts; i++) {
		const char *o = cfg->modopts[i], *colon = strchr(o, ':');
		size_t n = (size_t)(colon - o);
		if (n >= sizeof(have))
			continue;
		for (size_t k = 0; k < n; k++)
			have[k] = o[k] == '-' ? '_' : o[k];
		have[n] = '\0';
		if (!streq(have, want))
			continue;
		size_t add = strlen(colon + 1);
		char *p = realloc(out, len + add + 2);
		if (!p) {
			free(out);
			return -ENOMEM;
		}
		out = p;
		if (len)
			out[len++] = ' ';
		memcpy(out + len, colon + 1, add + 1);
		len += add;
	}
	*ret = out;
	return 0;
}
