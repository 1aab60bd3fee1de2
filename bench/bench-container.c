/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container start and stdout throughput through the agent's RPCs, side by side with their
 * anchors measured in the same run: `crun run` of the same bundle, and a raw pipe.
 *
 *   bench-container ADDR ROOTFS BUNDLE   (bench/container.sh sets it all up)
 */
#include "agent.pb-c.h"
#include "rpc/rpc.h"

#include <signal.h>

#include <fcntl.h>
#include <sys/wait.h>

#define RUNS 100

static struct rpc_client *cl;

static int call(const char *m, const ProtobufCMessage *req, const ProtobufCMessageDescriptor *d,
		ProtobufCMessage **resp)
{
	struct rpc_status st;
	ProtobufCMessage *r = NULL;
	if (rpc_client_call(cl, "grpc.AgentService", m, req, d, &r, 0, &st) < 0 || st.code) {
		fprintf(stderr, "bench-container: %s: %s\n", m, st.message);
		exit(1);
	}
	if (resp)
		*resp = r;
	else if (r)
		protobuf_c_message_free_unpacked(r, NULL);
	return 0;
}

static void create_start(const char *cid, const char *rootfs, char **args, size_t n)
{
	static char *env[] = {"PATH=/bin"};
	Grpc__CreateContainerRequest req = GRPC__CREATE_CONTAINER_REQUEST__INIT;
	Grpc__Spec spec = GRPC__SPEC__INIT;
	Grpc__Process proc = GRPC__PROCESS__INIT;
	Grpc__User user = GRPC__USER__INIT;
	Grpc__Root root = GRPC__ROOT__INIT;
	Grpc__Mount procm = GRPC__MOUNT__INIT, *mounts[] = {&procm};
	procm.destination = "/proc";
	procm.type = "proc";
	procm.source = "proc";
	proc.args = args;
	proc.n_args = n;
	proc.env = env;
	proc.n_env = 1;
	proc.cwd = "/";
	proc.user = &user;
	root.path = (char *)rootfs;
	spec.process = &proc;
	spec.root = &root;
	spec.mounts = mounts;
	spec.n_mounts = 1;
	req.container_id = req.exec_id = (char *)cid;
	req.oci = &spec;
	call("CreateContainer", &req.base, &google__protobuf__empty__descriptor, NULL);
	Grpc__StartContainerRequest sr = GRPC__START_CONTAINER_REQUEST__INIT;
	sr.container_id = (char *)cid;
	call("StartContainer", &sr.base, &google__protobuf__empty__descriptor, NULL);
}

static void wait_remove(const char *cid)
{
	Grpc__WaitProcessRequest wr = GRPC__WAIT_PROCESS_REQUEST__INIT;
	wr.container_id = wr.exec_id = (char *)cid;
	call("WaitProcess", &wr.base, &grpc__wait_process_response__descriptor, NULL);
	Grpc__RemoveContainerRequest rr = GRPC__REMOVE_CONTAINER_REQUEST__INIT;
	rr.container_id = (char *)cid;
	call("RemoveContainer", &rr.base, &google__protobuf__empty__descriptor, NULL);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double p50_ms(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return (double)v[n / 2] / 1e6;
}

/* Runs crun with stdio on /dev/null; its exit status, or -1. */
static int run_crun(const char *const *argv)
{
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0);
		dup2(fd, 1);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st) != 0)
		fprintf(stderr, "bench-container: %s %s failed (status %d)\n", argv[0], argv[2],
			WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5) {
		fprintf(stderr, "usage: bench-container ADDR ROOTFS BUNDLE [LONG_BUNDLE]\n");
		return 2;
	}
	const char *rootfs = argv[2], *bundle = argv[3];
	if (rpc_client_connect(argv[1], 5000, &cl) < 0)
		return 1;
	uint64_t ember[RUNS], crun[RUNS];
	char cid[32];
	static char *true_args[] = {"true"};
	for (int i = 0; i < RUNS + 5; i++) { /* 5 warm-up runs */
		snprintf(cid, sizeof(cid), "b%d", i);
		uint64_t t0 = now_monotonic_ns();
		create_start(cid, rootfs, true_args, 1);
		wait_remove(cid);
		if (i >= 5)
			ember[i - 5] = now_monotonic_ns() - t0;
	}
	for (int i = 0; i < RUNS + 5; i++) {
		snprintf(cid, sizeof(cid), "crun%d", i);
		uint64_t t0 = now_monotonic_ns();
		pid_t pid = fork();
		if (pid == 0) {
			int fd = open("/dev/null", O_RDWR);
			dup2(fd, 0);
			dup2(fd, 1);
			execlp("crun", "crun", "--cgroup-manager=disabled", "run", "--bundle",
			       bundle, cid, (char *)NULL);
			_exit(127);
		}
		int st;
		waitpid(pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			fprintf(stderr, "bench-container: crun run failed (status %d)\n", st);
			return 1;
		}
		if (i >= 5)
			crun[i - 5] = now_monotonic_ns() - t0;
	}
	double e = p50_ms(ember, RUNS), c = p50_ms(crun, RUNS);
	printf("container start (create+start+wait+remove of `true`), p50 of %d: ember %.2f ms, "
	       "crun run %.2f ms (ratio %.2f)\n",
	       RUNS, e, c, e / c);

	/* exec latency: ExecProcess + WaitProcess of `true` in a running container, against
	 * `crun exec` into a running crun container of the same rootfs */
	if (argc == 5) {
		static char *sleep_args[] = {"sleep", "1000"};
		uint64_t eexec[RUNS], cexec[RUNS];
		create_start("long", rootfs, sleep_args, 2);
		for (int i = 0; i < RUNS + 5; i++) {
			static char *env[] = {"PATH=/bin"};
			char eid[32];
			Grpc__ExecProcessRequest er = GRPC__EXEC_PROCESS_REQUEST__INIT;
			Grpc__Process proc = GRPC__PROCESS__INIT;
			Grpc__User user = GRPC__USER__INIT;
			snprintf(eid, sizeof(eid), "e%d", i);
			proc.args = true_args;
			proc.n_args = 1;
			proc.env = env;
			proc.n_env = 1;
			proc.cwd = "/";
			proc.user = &user;
			er.container_id = "long";
			er.exec_id = eid;
			er.process = &proc;
			uint64_t t1 = now_monotonic_ns();
			call("ExecProcess", &er.base, &google__protobuf__empty__descriptor, NULL);
			Grpc__WaitProcessRequest wr = GRPC__WAIT_PROCESS_REQUEST__INIT;
			wr.container_id = "long";
			wr.exec_id = eid;
			call("WaitProcess", &wr.base, &grpc__wait_process_response__descriptor,
			     NULL);
			if (i >= 5)
				eexec[i - 5] = now_monotonic_ns() - t1;
		}
		Grpc__SignalProcessRequest sg = GRPC__SIGNAL_PROCESS_REQUEST__INIT;
		sg.container_id = "long";
		sg.exec_id = "";
		sg.signal = SIGKILL;
		call("SignalProcess", &sg.base, &google__protobuf__empty__descriptor, NULL);
		wait_remove("long");

		if (run_crun((const char *[]){"crun", "--cgroup-manager=disabled", "run",
					      "--detach", "--bundle", argv[4], "crunlong", NULL}) !=
		    0)
			return 1;
		for (int i = 0; i < RUNS + 5; i++) {
			uint64_t t1 = now_monotonic_ns();
			if (run_crun((const char *[]){"crun", "exec", "crunlong", "true", NULL}) !=
			    0)
				return 1;
			if (i >= 5)
				cexec[i - 5] = now_monotonic_ns() - t1;
		}
		run_crun((const char *[]){"crun", "kill", "crunlong", "KILL", NULL});
		run_crun((const char *[]){"crun", "delete", "-f", "crunlong", NULL});
		double ee = p50_ms(eexec, RUNS), ce = p50_ms(cexec, RUNS);
		printf("exec latency (exec+wait of `true`), p50 of %d: ember %.2f ms, crun exec "
		       "%.2f ms (ratio %.2f)\n",
		       RUNS, ee, ce, ee / ce);
	}

	/* stdout throughput: 256 MiB through ReadStdout (1 MiB reads) vs a raw pipe */
	const size_t total = 256u << 20;
	static char *dd_args[] = {"head", "-c", "268435456", "/dev/zero"};
	uint64_t t0 = now_monotonic_ns();
	create_start("tput", rootfs, dd_args, 4);
	size_t got = 0;
	for (;;) {
		Grpc__ReadStreamRequest rq = GRPC__READ_STREAM_REQUEST__INIT;
		ProtobufCMessage *resp;
		rq.container_id = rq.exec_id = "tput";
		rq.len = 1u << 20;
		call("ReadStdout", &rq.base, &grpc__read_stream_response__descriptor, &resp);
		size_t n = ((Grpc__ReadStreamResponse *)resp)->data.len;
		protobuf_c_message_free_unpacked(resp, NULL);
		if (!n)
			break;
		got += n;
	}
	double rpc_s = (double)(now_monotonic_ns() - t0) / 1e9;
	wait_remove("tput");
	int p[2];
	if (pipe(p) < 0)
		return 1;
	t0 = now_monotonic_ns();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		execlp("head", "head", "-c", "268435456", "/dev/zero", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	static char buf[1 << 20];
	size_t piped = 0;
	ssize_t n;
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		piped += (size_t)n;
	waitpid(pid, NULL, 0);
	double pipe_s = (double)(now_monotonic_ns() - t0) / 1e9;
	if (got != total || piped != total)
		fprintf(stderr, "bench-container: short read (%zu / %zu)\n", got, piped);
	double rpc_mb = (double)got / (1 << 20) / rpc_s,
	       pipe_mb = (double)piped / (1 << 20) / pipe_s;
	printf("stdout throughput (256 MiB): ReadStdout %.0f MiB/s, raw pipe %.0f MiB/s (ratio "
	       "%.2f)\n",
	       rpc_mb, pipe_mb, rpc_mb / pipe_mb);
	rpc_client_free(cl);
	return 0;
}
