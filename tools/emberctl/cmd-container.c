/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container commands: run, create, start, exec, kill, wait, rm, sandbox create|destroy.
 * Stdio is streamed the way Kata's shim does it (one ReadStdout/ReadStderr call per
 * chunk), pipelined on a connection of its own.
 */
#include "emberctl.h"
#include "agent.pb-c.h"
#include "oci-json.h"

#include <libgen.h>
#include <poll.h>
#include <signal.h>

static int reply_empty_call(struct ctl *ctl, const char *method, const ProtobufCMessage *req)
{
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.AgentService", method, req,
			 &google__protobuf__empty__descriptor, &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int load_spec(const char *bundle, Grpc__Spec **ret)
{
	char path[4096], err[256];
	_cleanup_free_ char *text = NULL;
	snprintf(path, sizeof(path), "%s/config.json", bundle);
	int r = read_file(path, 16u << 20, &text, NULL);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "emberctl: cannot read %s: %m\n", path);
		return r;
	}
	enum json_tokener_error jerr;
	json_object *j = json_tokener_parse_verbose(text, &jerr);
	if (!j) {
		fprintf(stderr, "emberctl: %s: invalid JSON: %s\n", path,
			json_tokener_error_desc(jerr));
		return -EINVAL;
	}
	struct oci_dropped drop;
	r = oci_json_to_spec(j, ret, &drop, err, sizeof(err));
	json_object_put(j);
	if (r < 0) {
		fprintf(stderr, "emberctl: %s: %s\n", path, err);
		return r;
	}
	for (size_t i = 0; i < drop.n; i++)
		fprintf(stderr, "emberctl: note: %s is not carried by the agent protocol\n",
			drop.names[i]);
	r = oci_spec_fix_root(*ret, bundle, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "emberctl: %s\n", err);
		protobuf_c_message_free_unpacked(&(*ret)->base, NULL);
		return r;
	}
	return 0;
}

static int do_create(struct ctl *ctl, const char *bundle, const char *cid, bool pidns, bool *tty)
{
	Grpc__Spec *spec = NULL;
	if (load_spec(bundle, &spec) < 0)
		return CTL_EXIT_USAGE;
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	req.exec_id = (char *)cid;
	req.oci = spec;
	req.sandbox_pidns = pidns;
	if (tty)
		*tty = spec->process && spec->process->terminal;
	int r = reply_empty_call(ctl, "CreateContainer", &req.base);
	protobuf_c_message_free_unpacked(&spec->base, NULL);
	return r;
}

/* ---- stdio streaming ---- */

struct streamer {
	struct rpc_client *c;
	const char *cid, *eid;
	uint32_t out_id, err_id, write_id;
	bool out_eof, err_eof, writing;
};

static int send_read(struct streamer *s, bool err, uint32_t *id)
{
	Grpc__ReadStreamRequest req = GRPC__READ_STREAM_REQUEST__INIT;
	uint8_t buf[512];
	req.container_id = (char *)s->cid;
	req.exec_id = (char *)s->eid;
	req.len = 32768;
	if (grpc__read_stream_request__get_packed_size(&req) > sizeof(buf))
		return -E2BIG;
	size_t n = grpc__read_stream_request__pack(&req, buf);
	return rpc_client_send(s->c, "grpc.AgentService", err ? "ReadStderr" : "ReadStdout", buf, n,
			       0, id);
}

static int send_write(struct streamer *s, const uint8_t *data, size_t len)
{
	Grpc__WriteStreamRequest req = GRPC__WRITE_STREAM_REQUEST__INIT;
	req.container_id = (char *)s->cid;
	req.exec_id = (char *)s->eid;
	req.data.data = (uint8_t *)data;
	req.data.len = len;
	size_t sz = grpc__write_stream_request__get_packed_size(&req);
	_cleanup_free_ uint8_t *buf = malloc(sz);
	if (!buf)
		return -ENOMEM;
	grpc__write_stream_request__pack(&req, buf);
	s->writing = true;
	return rpc_client_send(s->c, "grpc.AgentService", len ? "WriteStdin" : "CloseStdin", buf,
			       sz, 0, &s->write_id);
}

/* Copies the process's stdout/stderr to ours until both end; forwards our stdin. */
static int stream_stdio(struct ctl *ctl, const char *cid, const char *eid, bool tty, bool input)
{
	struct streamer s = {.cid = cid, .eid = eid, .err_eof = tty};
	int r = rpc_client_connect(ctl->addr, ctl->connect_timeout_ms, &s.c);
	if (r < 0) {
		errno = -r;
		fprintf(stderr, "emberctl: cannot connect to %s: %m\n", ctl->addr);
		return CTL_EXIT_TRANSPORT;
	}
	bool stdin_open = input;
	if ((r = send_read(&s, false, &s.out_id)) < 0 ||
	    (!tty && (r = send_read(&s, true, &s.err_id)) < 0) || (r = rpc_client_flush(s.c)) < 0)
		goto transport;
	while (!s.out_eof || !s.err_eof) {
		struct pollfd p[2] = {{.fd = rpc_client_fd(s.c), .events = POLLIN},
				      {.fd = STDIN_FILENO, .events = POLLIN}};
		int np = stdin_open && !s.writing ? 2 : 1;
		/* A reply may already sit in the client's buffer (read along with the previous
		 * one): the socket would not wake poll for it. */
		bool buffered = rpc_client_has_frame(s.c);
		if (buffered)
			p[0].revents = POLLIN;
		else if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			goto transport;
		}
		if (!buffered && np == 2 && (p[1].revents & (POLLIN | POLLHUP))) {
			uint8_t buf[32768];
			ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n <= 0)
				stdin_open =
				    false; /* CloseStdin: an empty write as runtime-rs does */
			if ((r = send_write(&s, buf, n > 0 ? (size_t)n : 0)) < 0 ||
			    (r = rpc_client_flush(s.c)) < 0)
				goto transport;
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		uint32_t id;
		struct rpc_status st;
		struct ttrpc_slice pl;
		r = rpc_client_recv(s.c, &id, &st, &pl);
		if (r < 0)
			goto transport;
		if (id == s.write_id && s.writing) {
			s.writing = false;
			if (st.code != RPC_OK) {
				fprintf(stderr, "emberctl: stdin: %s: %s\n", rpc_code_name(st.code),
					st.message);
				stdin_open = false;
			}
			continue;
		}
		bool is_err = !tty && id == s.err_id;
		if (id != s.out_id && !is_err)
			continue;
		if (st.code != RPC_OK) {
			fprintf(stderr, "emberctl: read: %s: %s\n", rpc_code_name(st.code),
				st.message);
			rpc_client_free(s.c);
			return CTL_EXIT_RPC;
		}
		Grpc__ReadStreamResponse *resp =
		    grpc__read_stream_response__unpack(NULL, pl.len, pl.ptr);
		if (!resp) {
			r = -EBADMSG;
			goto transport;
		}
		if (resp->data.len == 0) {
			*(is_err ? &s.err_eof : &s.out_eof) = true;
		} else {
			(void)loop_write(is_err ? STDERR_FILENO : STDOUT_FILENO, resp->data.data,
					 resp->data.len);
			r = send_read(&s, is_err, is_err ? &s.err_id : &s.out_id);
			if (r >= 0)
				r = rpc_client_flush(s.c);
		}
		grpc__read_stream_response__free_unpacked(resp, NULL);
		if (r < 0)
			goto transport;
	}
	rpc_client_free(s.c);
	return CTL_EXIT_OK;
transport:
	errno = -r;
	fprintf(stderr, "emberctl: stdio of %s/%s: %m\n", cid, eid);
	rpc_client_free(s.c);
	return CTL_EXIT_TRANSPORT;
}

static int wait_status(struct ctl *ctl, const char *cid, const char *eid, int *status)
{
	Grpc__WaitProcessRequest req = GRPC__WAIT_PROCESS_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = (char *)cid;
	req.exec_id = (char *)eid;
	uint64_t saved = ctl->timeout_ns;
	ctl->timeout_ns = 0; /* WaitProcess has no deadline (Kata) */
	int r = ctl_call(ctl, "grpc.AgentService", "WaitProcess", &req.base,
			 &grpc__wait_process_response__descriptor, &resp);
	ctl->timeout_ns = saved;
	if (r != CTL_EXIT_OK)
		return r;
	*status = ((Grpc__WaitProcessResponse *)resp)->status;
	protobuf_c_message_free_unpacked(resp, NULL);
	return CTL_EXIT_OK;
}

static int do_remove(struct ctl *ctl, const char *cid)
{
	Grpc__RemoveContainerRequest req = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return reply_empty_call(ctl, "RemoveContainer", &req.base);
}

static int do_start(struct ctl *ctl, const char *cid)
{
	Grpc__StartContainerRequest req = GRPC__START_CONTAINER_REQUEST__INIT;
	req.container_id = (char *)cid;
	return reply_empty_call(ctl, "StartContainer", &req.base);
}

/* Flags shared by run/create: -i (forward stdin), --pidns (sandbox_pidns). */
static int parse_flags(int *argc, char ***argv, bool *input, bool *pidns)
{
	while (*argc > 1 && (*argv)[1][0] == '-') {
		if (streq((*argv)[1], "-i") && input)
			*input = true;
		else if (streq((*argv)[1], "--pidns") && pidns)
			*pidns = true;
		else
			return -EINVAL;
		(*argv)++;
		(*argc)--;
	}
	return 0;
}

/* run [-i] [--pidns] BUNDLE [ID]: create, start, stream stdio, wait, remove; exits with the
 * container's status. */
static int cmd_run(struct ctl *ctl, int argc, char **argv)
{
	bool input = false, pidns = false, tty = false;
	if (parse_flags(&argc, &argv, &input, &pidns) < 0 || argc < 2 || argc > 3)
		return CTL_EXIT_USAGE;
	_cleanup_free_ char *bundle_copy = strdup(argv[1]);
	const char *cid = argc == 3 ? argv[2] : basename(bundle_copy);
	int r = do_create(ctl, argv[1], cid, pidns, &tty);
	if (r != CTL_EXIT_OK)
		return r;
	r = do_start(ctl, cid);
	int status = 0;
	if (r == CTL_EXIT_OK)
		r = stream_stdio(ctl, cid, cid, tty, input);
	if (r == CTL_EXIT_OK)
		r = wait_status(ctl, cid, cid, &status);
	int rr = do_remove(ctl, cid);
	if (r != CTL_EXIT_OK)
		return r;
	return rr != CTL_EXIT_OK ? rr : status;
}

static int cmd_create(struct ctl *ctl, int argc, char **argv)
{
	bool pidns = false;
	if (parse_flags(&argc, &argv, NULL, &pidns) < 0 || argc != 3)
		return CTL_EXIT_USAGE;
	return do_create(ctl, argv[1], argv[2], pidns, NULL);
}

static int cmd_start(struct ctl *ctl, int argc, char **argv)
{
	return argc == 2 ? do_start(ctl, argv[1]) : CTL_EXIT_USAGE;
}

/* exec [-i] [-t] ID EXEC_ID ARGS...: runs a process in the container, streams its stdio,
 * exits with its status. */
static int cmd_exec(struct ctl *ctl, int argc, char **argv)
{
	bool input = false, tty = false;
	while (argc > 1 && argv[1][0] == '-') {
		if (streq(argv[1], "-i"))
			input = true;
		else if (streq(argv[1], "-t"))
			tty = true;
		else
			return CTL_EXIT_USAGE;
		argv++;
		argc--;
	}
	if (argc < 4)
		return CTL_EXIT_USAGE;
	static char *env[] = {"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"};
	Grpc__ExecProcessRequest req = GRPC__EXEC_PROCESS_REQUEST__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	proc.terminal = tty;
	proc.user = &user;
	proc.args = argv + 3;
	proc.n_args = (size_t)(argc - 3);
	proc.env = env;
	proc.n_env = 1;
	proc.cwd = "/";
	req.container_id = argv[1];
	req.exec_id = argv[2];
	req.process = &proc;
	int r = reply_empty_call(ctl, "ExecProcess", &req.base);
	if (r != CTL_EXIT_OK)
		return r;
	int status = 0;
	r = stream_stdio(ctl, argv[1], argv[2], tty, input);
	if (r == CTL_EXIT_OK)
		r = wait_status(ctl, argv[1], argv[2], &status);
	return r != CTL_EXIT_OK ? r : status;
}

/* kill ID [SIGNAL] [EXEC_ID]: SIGTERM by default; exec id "" = the container (SIGKILL
 * then kills all its processes). */
static int cmd_kill(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2 || argc > 4)
		return CTL_EXIT_USAGE;
	uint32_t sig = SIGTERM;
	if (argc >= 3) {
		if (parse_u32(argv[2], &sig) < 0) {
			int s = -1;
			const char *name = startswith(argv[2], "SIG") ?: argv[2];
			static const struct {
				const char *n;
				int s;
			} names[] = {
			    {"HUP", SIGHUP},   {"INT", SIGINT},	  {"QUIT", SIGQUIT},
			    {"KILL", SIGKILL}, {"USR1", SIGUSR1}, {"USR2", SIGUSR2},
			    {"TERM", SIGTERM}, {"STOP", SIGSTOP}, {"CONT", SIGCONT},
			};
			for (size_t i = 0; i < ARRAY_SIZE(names); i++)
				if (streq(name, names[i].n))
					s = names[i].s;
			if (s < 0) {
				fprintf(stderr, "emberctl: unknown signal '%s'\n", argv[2]);
				return CTL_EXIT_USAGE;
			}
			sig = (uint32_t)s;
		}
	}
	Grpc__SignalProcessRequest req = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
	req.container_id = argv[1];
	req.exec_id = argc == 4 ? argv[3] : "";
	req.signal = sig;
	return reply_empty_call(ctl, "SignalProcess", &req.base);
}

static int cmd_wait(struct ctl *ctl, int argc, char **argv)
{
	if (argc < 2 || argc > 3)
		return CTL_EXIT_USAGE;
	int status = 0;
	int r = wait_status(ctl, argv[1], argc == 3 ? argv[2] : "", &status);
	if (r != CTL_EXIT_OK)
		return r;
	printf("%d\n", status);
	return CTL_EXIT_OK;
}

static int cmd_rm(struct ctl *ctl, int argc, char **argv)
{
	return argc == 2 ? do_remove(ctl, argv[1]) : CTL_EXIT_USAGE;
}

/* sandbox create [--hostname H] [--id ID] [--pidns] [--dns LINE]... [--guest-hooks DIR]
 * | sandbox destroy */
static int cmd_sandbox(struct ctl *ctl, int argc, char **argv)
{
	if (argc >= 2 && streq(argv[1], "destroy") && argc == 2) {
		Grpc__DestroySandboxRequest req = GRPC__DESTROY_SANDBOX_REQUEST__INIT;
		return reply_empty_call(ctl, "DestroySandbox", &req.base);
	}
	if (argc < 2 || !streq(argv[1], "create"))
		return CTL_EXIT_USAGE;
	Grpc__CreateSandboxRequest req = GRPC__CREATE_SANDBOX_REQUEST__INIT;
	char *dns[64];
	for (int i = 2; i < argc; i++) {
		if (streq(argv[i], "--pidns"))
			req.sandbox_pidns = true;
		else if (streq(argv[i], "--hostname") && i + 1 < argc)
			req.hostname = argv[++i];
		else if (streq(argv[i], "--id") && i + 1 < argc)
			req.sandbox_id = argv[++i];
		else if (streq(argv[i], "--dns") && i + 1 < argc && req.n_dns < ARRAY_SIZE(dns))
			dns[req.n_dns++] = argv[++i];
		else if (streq(argv[i], "--guest-hooks") && i + 1 < argc)
			req.guest_hook_path = argv[++i];
		else
			return CTL_EXIT_USAGE;
	}
	req.dns = dns;
	return reply_empty_call(ctl, "CreateSandbox", &req.base);
}

const struct ctl_command ctl_commands_container[] = {
    {"run", "[-i] [--pidns] BUNDLE [ID]", "run an OCI bundle; exits with its status", cmd_run},
    {"create", "[--pidns] BUNDLE ID", "create a container (not started)", cmd_create},
    {"start", "ID", "start a created container", cmd_start},
    {"exec", "[-i] [-t] ID EXEC_ID ARGS...", "run a process in a container", cmd_exec},
    {"kill", "ID [SIGNAL] [EXEC_ID]", "signal a container (default SIGTERM)", cmd_kill},
    {"wait", "ID [EXEC_ID]", "wait for a process; prints its status", cmd_wait},
    {"rm", "ID", "remove a container (kills what is left)", cmd_rm},
    {"sandbox", "create [OPTS] | destroy", "CreateSandbox / DestroySandbox", cmd_sandbox},
    {},
};
