/* SPDX-License-Identifier: Apache-2.0 */
/* Runs the agent, reaps every process, restarts a crashed agent, and drives the shutdown. */
#define LOG_SUBSYSTEM "init"
#include "init/init.h"

#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

/* After SIGKILL, processes stuck in D state (a dead 9p/virtiofs server) may never go: give
 * them this long, then power off anyway. */
#define KILL_WAIT_NS (2 * NSEC_PER_SEC)

extern char **environ;

enum phase {
	PHASE_RUNNING,
	PHASE_TERM, /* SIGTERM sent, waiting up to the shutdown timeout */
	PHASE_KILL, /* SIGKILL sent, waiting up to KILL_WAIT_NS */
	PHASE_DONE,
};

struct supervisor {
	struct init_config *cfg;
	struct ev_loop *loop;
	struct ev_io sig_io;
	struct ev_timer restart_timer;
	struct ev_timer phase_timer;
	uint64_t start_ns, modules_ns;
	pid_t agent;
	uint64_t agent_started_ns;
	unsigned agent_starts;
	/* Crash times, a ring of the last INIT_CRASH_LOOP_COUNT. */
	uint64_t crashes[INIT_CRASH_LOOP_COUNT];
	unsigned n_crashes;
	enum phase phase;
	enum init_action action;
	bool marker_written;
	/* agent.log_vport: init's log lines go into this pipe; the agent holds the read end
	 * (EMBER_INIT_LOG_FD) and forwards them to the host. Init keeps the read end too, so
	 * a restarted agent gets the same pipe and nothing written meanwhile is lost. */
	int relay_read, relay_write;
	/* ember.debug_shell: a shell on the console, respawned when it exits. */
	pid_t shell;
	struct ev_timer shell_timer;
};

#define SHELL_RESPAWN_NS  (1 * NSEC_PER_SEC)
#define INIT_LOG_RELAY_FD 3
#define STRINGIFY_(x)	  #x
#define STRINGIFY(x)	  STRINGIFY_(x)

/* Log sink while relaying: a line the pipe cannot take at once (no agent reading, pipe
 * full) goes to the console instead; init never waits for the agent. */
static void relay_sink(const char *line, size_t len, void *data)
{
	struct supervisor *s = data;
	if (write(s->relay_write, line, len) == (ssize_t)len)
		return;
	(void)!write(STDERR_FILENO, line, len);
}

static void relay_setup(struct supervisor *s)
{
	int p[2];
	if (!s->cfg->log_relay)
		return;
	/* Both ends above INIT_LOG_RELAY_FD, so that the dup2 in the child always copies. */
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		log_warn_errno(errno, "no log relay to the agent: %m");
		return;
	}
	s->relay_read = fcntl(p[0], F_DUPFD_CLOEXEC, 10);
	s->relay_write = fcntl(p[1], F_DUPFD_CLOEXEC, 10);
	close(p[0]);
	close(p[1]);
	if (s->relay_read < 0 || s->relay_write < 0) {
		s->relay_read = safe_close(s->relay_read);
		s->relay_write = safe_close(s->relay_write);
		return;
	}
	/* The agent reads its end with a blocking read only when epoll said it may. */
	(void)fd_nonblock(s->relay_read, false);
	/* Lines in the agent's (Kata's JSON) form: they end up next to the agent's own. */
	log_setup("ember-init", "init", LOG_FORMAT_JSON);
	log_set_sink(relay_sink, s);
	log_info("init log lines now go through the agent's log port");
}

static void shutdown_begin(struct supervisor *s, enum init_action action, const char *why);

static void status_text(int status, char *buf, size_t size)
{
	if (WIFEXITED(status))
		snprintf(buf, size, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(buf, size, "was killed by signal %d (%s)%s", WTERMSIG(status),
			 strsignal(WTERMSIG(status)), WCOREDUMP(status) ? ", core dumped" : "");
	else
		snprintf(buf, size, "ended with wait status 0x%x", (unsigned)status);
}

static int agent_spawn(struct supervisor *s)
{
	posix_spawnattr_t attr;
	sigset_t none;
	sigset_t all;
	pid_t pid;
	int r;

	/* The agent starts with an empty signal mask and default dispositions (init blocks
	 * everything), in its own session so that ^C on the console is not its concern. */
	sigemptyset(&none);
	sigfillset(&all);
	if ((r = posix_spawnattr_init(&attr)) != 0)
		return -r;
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
					    POSIX_SPAWN_SETSID);
	char *argv[] = {s->cfg->agent, NULL};
	char **envp = environ;
	_cleanup_free_ char **relay_env = NULL;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (s->relay_read >= 0) {
		/* The read end is close-on-exec at a number above 2; dup2 onto
		 * INIT_LOG_RELAY_FD gives the agent a copy without the flag. */
		size_t n = 0;
		while (environ[n])
			n++;
		relay_env = calloc(n + 2, sizeof(char *));
		if (!relay_env) {
			posix_spawn_file_actions_destroy(&fa);
			posix_spawnattr_destroy(&attr);
			return -ENOMEM;
		}
		memcpy(relay_env, environ, n * sizeof(char *));
		relay_env[n] = (char *)"EMBER_INIT_LOG_FD=" STRINGIFY(INIT_LOG_RELAY_FD);
		envp = relay_env;
		posix_spawn_file_actions_adddup2(&fa, s->relay_read, INIT_LOG_RELAY_FD);
	}
	/* glibc's posix_spawn is clone(CLONE_VM|CLONE_VFORK): it returns once the child has
	 * exec'd, with exec's error if it failed. */
	r = posix_spawn(&pid, s->cfg->agent, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0)
		return -r;
	s->agent = pid;
	s->agent_started_ns = now_monotonic_ns();
	s->agent_starts++;
	return 0;
}

/* Counts the crash and says whether the agent is crash-looping. */
static bool crash_record(struct supervisor *s, uint64_t now, unsigned *recent)
{
	s->crashes[s->n_crashes % INIT_CRASH_LOOP_COUNT] = now;
	s->n_crashes++;
	unsigned n = 0;
	for (unsigned i = 0; i < MIN(s->n_crashes, INIT_CRASH_LOOP_COUNT); i++)
		if (now - s->crashes[i] <= INIT_CRASH_LOOP_WINDOW)
			n++;
	*recent = n;
	return n >= INIT_CRASH_LOOP_COUNT;
}

static void restart_cb(struct ev_loop *loop, struct ev_timer *t);

static void agent_failed(struct supervisor *s, const char *what)
{
	uint64_t now = now_monotonic_ns();
	unsigned recent;

	if (crash_record(s, now, &recent)) {
		log_error("agent %s: %u failures within %llu s, giving up", what, recent,
			  (unsigned long long)(INIT_CRASH_LOOP_WINDOW / NSEC_PER_SEC));
		shutdown_begin(s, s->cfg->shutdown, "the agent is crash-looping");
		return;
	}
	uint64_t delay = INIT_RESTART_DELAY_MIN << (recent - 1);
	delay = MIN(delay, INIT_RESTART_DELAY_MAX);
	log_warn("agent %s; restarting it in %llu ms", what,
		 (unsigned long long)(delay / NSEC_PER_MSEC));
	ev_timer_start(s->loop, &s->restart_timer, now + delay, restart_cb, s);
}

static void agent_start(struct supervisor *s)
{
	int r = agent_spawn(s);
	if (r < 0) {
		char what[PATH_MAX + 64];
		errno = -r;
		snprintf(what, sizeof(what), "%s cannot be started (%m)", s->cfg->agent);
		agent_failed(s, what);
		return;
	}
	uint64_t t = now_monotonic_ns() - s->start_ns;
	log_info("agent %s started (pid %d) %llu.%03llu ms after init started (%llu.%03llu ms of "
		 "them loading modules)",
		 s->cfg->agent, (int)s->agent, (unsigned long long)(t / NSEC_PER_MSEC),
		 (unsigned long long)(t % NSEC_PER_MSEC / NSEC_PER_USEC),
		 (unsigned long long)(s->modules_ns / NSEC_PER_MSEC),
		 (unsigned long long)(s->modules_ns % NSEC_PER_MSEC / NSEC_PER_USEC));
	if (!s->marker_written && !s->cfg->test_mode) {
		s->marker_written = true;
		int m = boot_marker_write(s->cfg->boot_marker);
		if (m < 0)
			log_warn_errno(m, "cannot write the boot marker: %m");
	}
}

static void restart_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct supervisor *s = t->data;
	if (s->phase == PHASE_RUNNING)
		agent_start(s);
}

static void shell_start(struct supervisor *s)
{
	pid_t pid = fork();
	if (pid < 0) {
		log_warn_errno(errno, "cannot start the debug shell: %m");
		return;
	}
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		/* Its own session with the console as controlling tty (taken from init, which
		 * never needs it again), so that ^C and job control work. */
		setsid();
		ioctl(STDIN_FILENO, TIOCSCTTY, 1);
		execl(s->cfg->debug_shell, "-sh", (char *)NULL);
		_exit(127);
	}
	s->shell = pid;
	log_info("debug shell %s on the console (pid %d)", s->cfg->debug_shell, (int)pid);
}

static void shell_timer_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct supervisor *s = t->data;
	if (s->phase == PHASE_RUNNING)
		shell_start(s);
}

static void agent_exited(struct supervisor *s, int status)
{
	char text[128];
	s->agent = 0;
	status_text(status, text, sizeof(text));
	if (s->phase != PHASE_RUNNING) {
		log_info("agent %s", text);
		return;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == EMBER_EXIT_SANDBOX_DESTROYED) {
		log_info("agent exited with status %d (sandbox destroyed)",
			 EMBER_EXIT_SANDBOX_DESTROYED);
		shutdown_begin(s, s->cfg->shutdown, "the sandbox was destroyed");
		return;
	}
	agent_failed(s, text);
}

/* Reaps every exited child; returns true when init has no child left. */
static bool reap_all(struct supervisor *s)
{
	for (;;) {
		int status;
		pid_t pid = waitpid(-1, &status, WNOHANG | __WALL);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			return errno == ECHILD;
		}
		if (pid == 0)
			return false;
		if (pid == s->agent) {
			agent_exited(s, status);
		} else if (pid == s->shell) {
			s->shell = 0;
			if (s->phase == PHASE_RUNNING)
				ev_timer_start(s->loop, &s->shell_timer,
					       now_monotonic_ns() + SHELL_RESPAWN_NS,
					       shell_timer_cb, s);
		} else {
			char text[128];
			status_text(status, text, sizeof(text));
			log_debug("reaped process %d, which %s", (int)pid, text);
		}
	}
}

static void phase_cb(struct ev_loop *loop, struct ev_timer *t);

static void phase_check(struct supervisor *s)
{
	if (s->phase == PHASE_TERM || s->phase == PHASE_KILL) {
		if (reap_all(s)) {
			s->phase = PHASE_DONE;
			ev_timer_stop(s->loop, &s->phase_timer);
			ev_loop_exit(s->loop, 0);
		}
	}
}

static void phase_cb(struct ev_loop *loop _unused_, struct ev_timer *t)
{
	struct supervisor *s = t->data;
	if (s->phase == PHASE_TERM) {
		log_warn("processes still running %llu ms after SIGTERM, sending SIGKILL",
			 (unsigned long long)(s->cfg->shutdown_timeout_ns / NSEC_PER_MSEC));
		s->phase = PHASE_KILL;
		/* kill(-1) reaches every process but init itself (kill(2)). */
		if (kill(-1, SIGKILL) < 0 && errno != ESRCH)
			log_warn_errno(errno, "kill(-1, SIGKILL): %m");
		ev_timer_start(s->loop, &s->phase_timer, now_monotonic_ns() + KILL_WAIT_NS,
			       phase_cb, s);
		phase_check(s);
	} else if (s->phase == PHASE_KILL) {
		log_warn("processes survived SIGKILL for %llu ms, going on without them",
			 (unsigned long long)(KILL_WAIT_NS / NSEC_PER_MSEC));
		s->phase = PHASE_DONE;
		ev_loop_exit(s->loop, 0);
	}
}

static void shutdown_begin(struct supervisor *s, enum init_action action, const char *why)
{
	if (s->phase != PHASE_RUNNING)
		return;
	log_info("shutting down (%s): %s", init_action_name(action), why);
	s->phase = PHASE_TERM;
	s->action = action;
	ev_timer_stop(s->loop, &s->restart_timer);
	ev_timer_stop(s->loop, &s->shell_timer);
	/* The agent first, by pid, then everyone else: the agent stops its containers. */
	if (s->agent > 0 && kill(s->agent, SIGTERM) < 0 && errno != ESRCH)
		log_warn_errno(errno, "cannot signal the agent: %m");
	/* An interactive shell ignores SIGTERM; a hangup is what ends it. */
	if (s->shell > 0)
		(void)kill(s->shell, SIGHUP);
	if (kill(-1, SIGTERM) < 0 && errno != ESRCH)
		log_warn_errno(errno, "kill(-1, SIGTERM): %m");
	ev_timer_start(s->loop, &s->phase_timer, now_monotonic_ns() + s->cfg->shutdown_timeout_ns,
		       phase_cb, s);
	phase_check(s);
}

static void signal_cb(struct ev_loop *loop _unused_, struct ev_io *io, uint32_t revents _unused_)
{
	struct supervisor *s = io->data;
	struct signalfd_siginfo si;

	while (read(io->fd, &si, sizeof(si)) == sizeof(si)) {
		int sig = (int)si.ssi_signo;
		switch (sig) {
		case SIGCHLD:
			break; /* reaped below, once per batch */
		case SIGTERM:
		case SIGINT: /* Ctrl-Alt-Del, see ctrl_alt_del_to_sigint() */
		case SIGPWR:
			shutdown_begin(s, s->cfg->shutdown, strsignal(sig));
			break;
		/* busybox halt/poweroff signal init with SIGUSR1/SIGUSR2; systemd's
		 * SIGRTMIN+3/4/5 = halt/poweroff/reboot are what other tools send. */
		case SIGUSR1:
			shutdown_begin(s, INIT_ACTION_HALT, "SIGUSR1");
			break;
		case SIGUSR2:
			shutdown_begin(s, INIT_ACTION_POWEROFF, "SIGUSR2");
			break;
		case SIGQUIT:
			/* Test mode only: lets the tests drive init's crash handler. */
			if (s->cfg->test_mode)
				abort();
			break;
		default:
			if (sig == SIGRTMIN + 3)
				shutdown_begin(s, INIT_ACTION_HALT, "SIGRTMIN+3");
			else if (sig == SIGRTMIN + 4)
				shutdown_begin(s, INIT_ACTION_POWEROFF, "SIGRTMIN+4");
			else if (sig == SIGRTMIN + 5)
				shutdown_begin(s, INIT_ACTION_REBOOT, "SIGRTMIN+5");
			else
				log_debug("ignoring signal %d from pid %u", sig, si.ssi_pid);
		}
	}
	if (s->phase == PHASE_RUNNING)
		reap_all(s);
	else
		phase_check(s);
}

enum init_action supervise(struct init_config *cfg, uint64_t start_ns, uint64_t modules_ns)
{
	struct supervisor s = {.cfg = cfg,
			       .start_ns = start_ns,
			       .modules_ns = modules_ns,
			       .action = cfg->shutdown,
			       .relay_read = -1,
			       .relay_write = -1};
	sigset_t mask;
	int r, fd;

	ev_timer_init(&s.restart_timer);
	ev_timer_init(&s.phase_timer);
	ev_timer_init(&s.shell_timer);
	r = ev_loop_new(&s.loop);
	if (r < 0) {
		log_full_errno(LOG_LEVEL_CRITICAL, r, "cannot create the event loop: %m");
		return cfg->shutdown;
	}
	/* Every signal that can be blocked is (signals_block_all); the signalfd reads them all,
	 * so nothing is lost between boot and here. */
	sigfillset(&mask);
	fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	if (fd < 0 || ev_io_start(s.loop, &s.sig_io, fd, EPOLLIN, signal_cb, &s) < 0) {
		log_critical("cannot watch signals: %m");
		ev_loop_free(s.loop);
		return cfg->shutdown;
	}

	relay_setup(&s);
	agent_start(&s);
	if (cfg->debug_shell && !cfg->test_mode)
		shell_start(&s);
	/* Children may have exited before the signalfd existed (none today, but cheap). */
	reap_all(&s);
	/* ev_loop_run() forgets an exit requested before it runs. */
	r = s.phase == PHASE_DONE ? 0 : ev_loop_run(s.loop);
	if (r < 0)
		log_full_errno(LOG_LEVEL_CRITICAL, r, "event loop failed: %m");

	ev_io_stop(s.loop, &s.sig_io);
	safe_close(fd);
	ev_timer_stop(s.loop, &s.restart_timer);
	ev_timer_stop(s.loop, &s.phase_timer);
	ev_timer_stop(s.loop, &s.shell_timer);
	ev_loop_free(s.loop);
	if (s.relay_write >= 0) {
		/* The agent is gone: the shutdown's last lines go to the console. */
		log_set_sink(NULL, NULL);
		safe_close(s.relay_write);
		safe_close(s.relay_read);
	}
	return s.action;
}
