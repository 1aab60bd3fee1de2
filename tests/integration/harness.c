/* SPDX-License-Identifier: Apache-2.0 */
#include "harness.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

struct child_args {
	struct agent_proc *a;
	unsigned flags;
	const char *const *extra;
};

static int agent_child(void *data)
{
	struct child_args *ca = data;
	const char *argv[32];
	size_t n = 0;
	char *agent = getenv("EMBER_AGENT");

	if (ca->flags & HARNESS_ISOLATE) {
		/* Nothing the agent mounts may reach the host. */
		if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
		    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0 ||
		    mount("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
			_exit(120);
	}
	int fd = open(ca->a->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, STDERR_FILENO) < 0 || dup2(fd, STDOUT_FILENO) < 0)
		_exit(121);
	argv[n++] = agent;
	argv[n++] = "--listen";
	argv[n++] = ca->a->addr;
	argv[n++] = "--log-level";
	argv[n++] = "debug";
	for (size_t i = 0; ca->extra && ca->extra[i] && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = ca->extra[i];
	argv[n] = NULL;
	setenv("EMBER_CMDLINE_FILE", "/dev/null", 1);
	execv(agent, (char **)argv);
	_exit(122);
}

void harness_start_agent(struct agent_proc *a, unsigned flags, const char *const *extra_args)
{
	static char stack[256 * 1024];
	struct child_args ca = {a, flags, extra_args};

	memset(a, 0, sizeof(*a));
	assert_non_null(getenv("EMBER_AGENT"));
	strcpy(a->dir, "/tmp/ember-it-XXXXXX");
	assert_non_null(mkdtemp(a->dir));
	snprintf(a->addr, sizeof(a->addr), "unix://%s/agent.sock", a->dir);
	snprintf(a->log, sizeof(a->log), "%s/agent.log", a->dir);

	int cflags = SIGCHLD;
	if (flags & HARNESS_ISOLATE)
		cflags |= CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET;
	a->pid = clone(agent_child, stack + sizeof(stack), cflags, &ca);
	assert_true(a->pid > 0);

	char sock[160];
	struct stat st;
	snprintf(sock, sizeof(sock), "%s/agent.sock", a->dir);
	for (int i = 0; i < 500; i++) {
		if (stat(sock, &st) == 0)
			return;
		if (!harness_agent_alive(a))
			break;
		usleep(10 * 1000);
	}
	harness_sh("cat %s >&2", a->log);
	fail_msg("ember-agent did not come up (see its log above)");
}

bool harness_agent_alive(struct agent_proc *a)
{
	int status;
	if (a->pid <= 0)
		return false;
	pid_t r = waitpid(a->pid, &status, WNOHANG);
	if (r == a->pid) {
		a->pid = -status - 1;
		return false;
	}
	return true;
}

void harness_stop_agent(struct agent_proc *a)
{
	int status;
	if (!harness_agent_alive(a)) {
		harness_sh("cat %s >&2", a->log);
		fail_msg("ember-agent died during the test (wait status %d)", -a->pid - 1);
	}
	assert_int_equal(kill(a->pid, SIGTERM), 0);
	for (int i = 0; i < 500 && waitpid(a->pid, &status, WNOHANG) == 0; i++)
		usleep(10 * 1000);
	if (waitpid(a->pid, &status, WNOHANG) == 0) {
		kill(a->pid, SIGKILL);
		waitpid(a->pid, &status, 0);
		fail_msg("ember-agent did not stop on SIGTERM within 5 s");
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		harness_sh("cat %s >&2", a->log);
		fail_msg("ember-agent exited with wait status %d on SIGTERM", status);
	}
	harness_sh("rm -rf %s", a->dir);
	a->pid = 0;
}

struct rpc_client *harness_connect(struct agent_proc *a)
{
	struct rpc_client *c = NULL;
	int r = rpc_client_connect(a->addr, 5000, &c);
	if (r < 0)
		fail_msg("connect %s: %s", a->addr, strerror(-r));
	return c;
}

int harness_call(struct rpc_client *c, const char *method, const ProtobufCMessage *req,
		 const ProtobufCMessageDescriptor *resp_desc, ProtobufCMessage **resp, char *msg)
{
	struct rpc_status st;
	int r = rpc_client_call(c, "grpc.AgentService", method, req, resp_desc, resp,
				60 * NSEC_PER_SEC, &st);
	if (r < 0)
		fail_msg("%s: transport failure: %s", method, strerror(-r));
	if (msg)
		snprintf(msg, 512, "%s", st.message);
	return st.code;
}

int harness_sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	int s = system(cmd);
	return WIFEXITED(s) ? WEXITSTATUS(s) : 128;
}
