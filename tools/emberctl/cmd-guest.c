/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Guest commands: metrics, the policy, the guest clock, and the two raw streams the agent
 * offers besides ttrpc: the log port (agent.log_vport) and the debug console
 * (agent.debug_console_vport). For those, --addr names that port, e.g.
 * `emberctl --addr vsock://3:1025 logs` or `--addr hvsock:///run/vm.sock:1026 console`.
 */
#include "emberctl.h"
#include "agent.pb-c.h"
#include "google/protobuf/empty.pb-c.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <termios.h>

static int cmd_metrics(struct ctl *ctl, int argc, char **argv _unused_)
{
	if (argc != 1)
		return CTL_EXIT_USAGE;
	Grpc__GetMetricsRequest req = GRPC__GET_METRICS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.AgentService", "GetMetrics", &req.base,
			 &grpc__metrics__descriptor, &resp);
	if (r != CTL_EXIT_OK)
		return r;
	fputs(((Grpc__Metrics *)resp)->metrics, stdout);
	protobuf_c_message_free_unpacked(resp, NULL);
	return CTL_EXIT_OK;
}

static int cmd_set_policy(struct ctl *ctl, int argc, char **argv)
{
	_cleanup_free_ char *text = NULL;
	int r;

	if (argc != 2)
		return CTL_EXIT_USAGE;
	r = read_file(streq(argv[1], "-") ? "/dev/stdin" : argv[1], 64 * 1024, &text, NULL);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "emberctl: cannot read the policy %s: %m\n", argv[1]);
		return CTL_EXIT_USAGE;
	}
	Grpc__SetPolicyRequest req = GRPC__SET_POLICY_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.policy = text;
	r = ctl_call(ctl, "grpc.AgentService", "SetPolicy", &req.base,
		     &google__protobuf__empty__descriptor, &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_set_time(struct ctl *ctl, int argc, char **argv)
{
	Grpc__SetGuestDateTimeRequest req = GRPC__SET_GUEST_DATE_TIME_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;

	if (argc == 1) {
		struct timeval tv;
		gettimeofday(&tv, NULL);
		req.sec = tv.tv_sec;
		req.usec = tv.tv_usec;
	} else if (argc <= 3) {
		/* Signed on purpose: the agent, not emberctl, judges the values. */
		if (parse_i64(argv[1], &req.sec) < 0 ||
		    (argc == 3 && parse_i64(argv[2], &req.usec) < 0)) {
			fprintf(stderr, "emberctl: set-time: SEC and USEC are integers\n");
			return CTL_EXIT_USAGE;
		}
	} else {
		return CTL_EXIT_USAGE;
	}
	int r = ctl_call(ctl, "grpc.AgentService", "SetGuestDateTime", &req.base,
			 &google__protobuf__empty__descriptor, &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

/* ---- raw streams ---- */

static int raw_connect(struct ctl *ctl, int *fd)
{
	/* The rpc client knows every transport (hybrid vsock's CONNECT handshake included);
	 * what follows its connect is a plain byte stream. */
	int r = ctl_connect(ctl);
	if (r < 0)
		return r == -EINVAL ? CTL_EXIT_USAGE : CTL_EXIT_TRANSPORT;
	*fd = rpc_client_fd(ctl->client);
	return CTL_EXIT_OK;
}

static int cmd_logs(struct ctl *ctl, int argc, char **argv _unused_)
{
	int fd, r;
	char buf[65536];

	if (argc != 1)
		return CTL_EXIT_USAGE;
	r = raw_connect(ctl, &fd);
	if (r != CTL_EXIT_OK)
		return r;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n == 0 ? CTL_EXIT_OK : CTL_EXIT_TRANSPORT;
		if (loop_write(STDOUT_FILENO, buf, (size_t)n) < 0)
			return CTL_EXIT_OK; /* stdout closed (| head) */
	}
}

static struct termios saved_tio;
static bool tio_saved;

static void restore_tty(void)
{
	if (tio_saved)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
}

static int cmd_console(struct ctl *ctl, int argc, char **argv _unused_)
{
	int fd, r;
	char buf[16384];
	bool in_open = true;

	if (argc != 1)
		return CTL_EXIT_USAGE;
	r = raw_connect(ctl, &fd);
	if (r != CTL_EXIT_OK)
		return r;
	/* An interactive terminal goes raw: the guest's pty does the line editing. */
	if (isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved_tio) == 0) {
		struct termios raw = saved_tio;
		cfmakeraw(&raw);
		tio_saved = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
		atexit(restore_tty);
		fprintf(stderr, "emberctl: connected; the shell's exit ends the session\r\n");
	}
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		struct pollfd p[2] = {{.fd = fd, .events = POLLIN},
				      {.fd = in_open ? STDIN_FILENO : -1, .events = POLLIN}};
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return CTL_EXIT_TRANSPORT;
		}
		if (p[0].revents) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				return CTL_EXIT_OK; /* the shell is gone */
			if (loop_write(STDOUT_FILENO, buf, (size_t)n) < 0)
				return CTL_EXIT_OK;
		}
		if (in_open && p[1].revents) {
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0 && loop_write(fd, buf, (size_t)n) < 0)
				return CTL_EXIT_TRANSPORT;
			if (n <= 0) {
				/* End of input: the guest shell sees ^D; its output still comes. */
				in_open = false;
				(void)shutdown(fd, SHUT_WR);
			}
		}
	}
}

const struct ctl_command ctl_commands_guest[] = {
    {"metrics", NULL, "GetMetrics: prints the Prometheus text", cmd_metrics},
    {"set-policy", "FILE|-", "SetPolicy from a file (docs/policy.md)", cmd_set_policy},
    {"set-time", "[SEC [USEC]]", "SetGuestDateTime (default: this host's clock)", cmd_set_time},
    {"logs", NULL, "stream the log port (--addr is the log port)", cmd_logs},
    {"console", NULL, "attach to the debug console (--addr is its port)", cmd_console},
    {},
};
