/* SPDX-License-Identifier: Apache-2.0 */
#define LOG_SUBSYSTEM "agent"
#include "agent.h"
#include "guest.h"
#include "version.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>

static void signal_cb(struct ev_loop *loop, struct ev_io *io, uint32_t revents _unused_)
{
	struct signalfd_siginfo si;
	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
			log_info("received signal %d, stopping", (int)si.ssi_signo);
			ev_loop_exit(loop, 0);
		}
	}
}

static void no_op_handler(int sig _unused_)
{
}

static int setup_signals(struct ev_loop *loop, struct ev_io *io)
{
	struct sigaction sa = {.sa_handler = no_op_handler};
	sigset_t mask;

	/* As PID 1 of a pid namespace, a signal whose disposition is SIG_DFL is dropped even
	 * when blocked, so signalfd would never see it: install a handler that never runs
	 * (the signals stay blocked). */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	/* Sockets whose peer went away must give EPIPE, not kill the agent. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return -errno;
	int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0)
		return -errno;
	int r = ev_io_start(loop, io, fd, EPOLLIN, signal_cb, NULL);
	if (r < 0)
		close(fd);
	return r;
}

static int agent_run(struct agent *a)
{
	struct ev_io sig_io = {.fd = -1};
	int r;

	r = ev_loop_new(&a->loop);
	if (r < 0)
		return log_error_errno(r, "cannot create the event loop: %m");
	r = setup_signals(a->loop, &sig_io);
	if (r < 0)
		return log_error_errno(r, "cannot set up signal handling: %m");

	/* Container processes are our grandchildren at times; as subreaper we still reap
	 * and report them when the agent is not PID 1. */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		log_warn_errno(errno, "cannot become child subreaper: %m");

	r = rpc_server_new(a->loop, &rpc_default_limits, a, &a->server);
	if (r < 0)
		return log_error_errno(r, "cannot create the rpc server: %m");
	if ((r = rpc_server_add_service(a->server, &agent_health_service)) < 0 ||
	    (r = rpc_server_add_service(a->server, &agent_agent_service)) < 0)
		return log_error_errno(r, "cannot register services: %m");
	/* Access control, log port, debug console: before the first connection, and early so
	 * that the log port's ring holds the start-up lines of everything after it. */
	r = guest_start(a);
	if (r < 0)
		return log_error_errno(r, "cannot set up guest operations: %m");
	/* Storages and device waits: before the sandbox, which mounts storages. */
	r = agent_storage_init(a);
	if (r < 0)
		return log_error_errno(r, "cannot set up storage: %m");
	/* cgroups: before the container engine, which creates a cgroup per container */
	r = agent_cgroups_setup(a);
	if (r < 0)
		return log_error_errno(r, "cannot set up cgroups: %m");
	r = sandbox_setup(a);
	if (r < 0)
		return log_error_errno(r, "cannot set up the container engine: %m");
	r = agent_network_init(a);
	if (r < 0)
		return log_error_errno(r, "cannot set up networking: %m");

	size_t listening = 0;
	for (size_t i = 0; i < a->cfg.n_listen; i++) {
		r = rpc_server_listen(a->server, a->cfg.listen[i]);
		if (r < 0) {
			log_error_errno(r, "cannot listen on %s: %m", a->cfg.listen[i]);
			continue;
		}
		log_info("listening on %s", a->cfg.listen[i]);
		listening++;
	}
	if (listening == 0)
		return log_error_errno(-EADDRNOTAVAIL, "no address to listen on");

	uint64_t ready_ns = now_monotonic_ns();
	log_info("ember-agent %s ready in %llu us (pid %d)", EMBER_VERSION,
		 (unsigned long long)((ready_ns - a->start_ns) / NSEC_PER_USEC), (int)getpid());

	r = ev_loop_run(a->loop);
	if (r < 0)
		return log_error_errno(r, "event loop failed: %m");
	rpc_server_free(a->server);
	a->server = NULL;
	sandbox_free(a);
	agent_cgroups_free(a);
	guest_stop(a);
	agent_network_done(a);
	agent_storage_done(a);
	ev_io_stop(a->loop, &sig_io);
	safe_close(sig_io.fd);
	ev_loop_free(a->loop);
	a->loop = NULL;
	return r;
}

int main(int argc, char **argv)
{
	struct agent a = {.start_ns = now_monotonic_ns()};
	_cleanup_free_ char *cmdline = NULL;
	int r;

	log_setup("ember-agent", "agent", LOG_FORMAT_JSON);
	config_init(&a.cfg);
	if (cmdline_read(&cmdline) >= 0) {
		r = config_parse_cmdline(&a.cfg, cmdline);
		if (r < 0)
			return EXIT_FAILURE;
	}
	config_parse_env(&a.cfg);
	r = config_parse_args(&a.cfg, argc, argv);
	if (r != 0) {
		config_done(&a.cfg);
		return r > 0 ? EXIT_SUCCESS : EXIT_FAILURE;
	}
	log_setup("ember-agent", "agent", a.cfg.log_format);
	log_set_level(a.cfg.log_level);

	r = agent_run(&a);
	config_done(&a.cfg);
	if (r < 0)
		return EXIT_FAILURE;
	return r;
}
