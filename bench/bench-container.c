/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Container start and stdout throughput through the agent's RPCs, side by side with their
 * anchors measured in the same run: `crun run` of the same bundle, and a raw pipe.
 *
 *   bench-container [--stdout-only] ADDR ROOTFS BUNDLE [LONG_BUNDLE]
 *   (bench/container.sh sets it all up; BENCH_AGENT_PID=PID adds the agent's CPU time)
 *
 * Stdout: the same program (the rootfs's busybox `dd bs=1M`) writes 256 MiB into the
 * container's stdout, read through ReadStdout, and into a raw pipe of the agent's pipe size,
 * read with read(2) of the same length. A client decodes each reply in place (the bytes
 * handed on where they arrived, as the pipe reader gets them) and, in the same round, with
 * protobuf-c's unpack (a copy into a new message, as the Go shim's unmarshal).
 */
#include "agent.pb-c.h"
#include "health.pb-c.h"
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

/* Container start against `crun run`; with long_bundle, exec latency against `crun exec`. */
static void start_and_exec(const char *rootfs, const char *bundle, const char *long_bundle)
{
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
			exit(1);
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
	if (long_bundle) {
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
					      "--detach", "--bundle", long_bundle, "crunlong",
					      NULL}) != 0)
			exit(1);
		for (int i = 0; i < RUNS + 5; i++) {
			uint64_t t1 = now_monotonic_ns();
			if (run_crun((const char *[]){"crun", "exec", "crunlong", "true", NULL}) !=
			    0)
				exit(1);
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
}

/* ---- stdout throughput ---- */

#define TPUT_BYTES  (256u << 20)
#define TPUT_ROUNDS 7
#define PIPE_SIZE   (256 << 10) /* what the agent makes a container's stdout (SANDBOX_PIPE_SIZE) */

/* CPU seconds the agent used so far (user + system), 0 without BENCH_AGENT_PID. */
static double agent_cpu_s(void)
{
	const char *pid = getenv("BENCH_AGENT_PID");
	char path[64], *text = NULL;
	unsigned long ut, st;
	if (!pid)
		return 0;
	snprintf(path, sizeof(path), "/proc/%s/stat", pid);
	if (read_file(path, 4096, &text, NULL) < 0)
		return 0;
	const char *p = strrchr(text, ')');
	int n =
	    p ? sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) : 0;
	free(text);
	return n == 2 ? (double)(ut + st) / (double)sysconf(_SC_CLK_TCK) : 0;
}

/* How the client decodes each ReadStreamResponse: in place, the bytes handed on where they
 * arrived (as the raw pipe reader gets them), or with protobuf-c's unpack, which copies them
 * into a freshly allocated message as the Go shim's unmarshal does. */
enum decode { DECODE_IN_PLACE, DECODE_UNPACK };

static size_t read_stdout(const char *cid, uint32_t len, enum decode how)
{
	Grpc__ReadStreamRequest rq = GRPC__READ_STREAM_REQUEST__INIT;
	rq.container_id = rq.exec_id = (char *)cid;
	rq.len = len;
	if (how == DECODE_UNPACK) {
		ProtobufCMessage *resp;
		call("ReadStdout", &rq.base, &grpc__read_stream_response__descriptor, &resp);
		size_t n = ((Grpc__ReadStreamResponse *)resp)->data.len;
		protobuf_c_message_free_unpacked(resp, NULL);
		return n;
	}
	struct rpc_status st;
	struct ttrpc_slice payload, data;
	if (rpc_client_call_raw(cl, "grpc.AgentService", "ReadStdout", &rq.base, 0, &st, &payload) <
		0 ||
	    st.code) {
		fprintf(stderr, "bench-container: ReadStdout: %s\n", st.message);
		exit(1);
	}
	/* ReadStreamResponse { bytes data = 1; } */
	if (ttrpc_bytes_field_decode(payload.ptr, payload.len, 1, &data) < 0) {
		fprintf(stderr, "bench-container: ReadStdout: bad ReadStreamResponse\n");
		exit(1);
	}
	return data.len;
}

struct tput {
	double mib_s;
	double us_per_call, bytes_per_call;
	double agent_cpu_ms_per_gib;
};

/* 256 MiB of zeros written by the rootfs's busybox `dd bs=1M` inside a container, read
 * through ReadStdout with requests of len bytes. Timed from create to EOF. */
static struct tput stdout_rpc(const char *rootfs, uint32_t len, enum decode how, int round)
{
	static char *args[] = {"dd", "if=/dev/zero", "bs=1M", "count=256"};
	char cid[32];
	snprintf(cid, sizeof(cid), "tput%u-%d-%d", len, how, round);
	uint64_t t0 = now_monotonic_ns();
	double cpu0 = agent_cpu_s();
	create_start(cid, rootfs, args, 4);
	size_t got = 0, calls = 0, n;
	while ((n = read_stdout(cid, len, how)) > 0) {
		got += n;
		calls++;
	}
	double s = (double)(now_monotonic_ns() - t0) / 1e9;
	double cpu = agent_cpu_s() - cpu0;
	wait_remove(cid);
	if (got != TPUT_BYTES)
		fprintf(stderr, "bench-container: ReadStdout short read (%zu)\n", got);
	return (struct tput){(double)got / (1 << 20) / s, s * 1e6 / (double)calls,
			     (double)got / (double)calls, cpu * 1e3 / ((double)got / (1 << 30))};
}

/* The same bytes from the same program straight through a pipe of the same size, read len
 * bytes at a time. MiB/s. */
static double stdout_pipe(const char *rootfs, size_t len)
{
	char busybox[PATH_MAX];
	snprintf(busybox, sizeof(busybox), "%s/bin/busybox", rootfs);
	_cleanup_free_ uint8_t *buf = malloc(len);
	int p[2];
	if (!buf || pipe2(p, O_CLOEXEC) < 0)
		exit(1);
	(void)fcntl(p[0], F_SETPIPE_SZ, PIPE_SIZE);
	uint64_t t0 = now_monotonic_ns();
	pid_t pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 2); /* dd's record counts */
		execl(busybox, "dd", "if=/dev/zero", "bs=1M", "count=256", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	size_t piped = 0;
	ssize_t n;
	while ((n = read(p[0], buf, len)) > 0)
		piped += (size_t)n;
	close(p[0]);
	waitpid(pid, NULL, 0);
	double s = (double)(now_monotonic_ns() - t0) / 1e9;
	if (piped != TPUT_BYTES)
		fprintf(stderr, "bench-container: pipe short read (%zu)\n", piped);
	return (double)piped / (1 << 20) / s;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* Sorts v; returns the median. */
static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return v[n / 2];
}

static void print_range(const char *what, double *v, const char *unit)
{
	double m = median(v, TPUT_ROUNDS);
	printf("  %-30s %.2f-%.2f%s (median %.2f)\n", what, v[0], v[TPUT_ROUNDS - 1], unit, m);
}

/* The floor under one ReadStdout: a Health.Check round trip on the same connection. p50 µs. */
static double check_round_trip_us(void)
{
	enum { N = 2000 };
	static double us[N];
	for (int i = 0; i < N; i++) {
		Grpc__CheckRequest rq = GRPC__CHECK_REQUEST__INIT;
		struct rpc_status st;
		ProtobufCMessage *r = NULL;
		uint64_t t0 = now_monotonic_ns();
		if (rpc_client_call(cl, "grpc.Health", "Check", &rq.base,
				    &grpc__health_check_response__descriptor, &r, 0, &st) < 0 ||
		    st.code)
			exit(1);
		us[i] = (double)(now_monotonic_ns() - t0) / 1e3;
		protobuf_c_message_free_unpacked(r, NULL);
	}
	return median(us, N);
}

/* Each round runs the three back to back, so that they see the same machine. */
static void stdout_throughput(const char *rootfs, uint32_t len)
{
	double inplace[TPUT_ROUNDS], unpack[TPUT_ROUNDS], pipe_[TPUT_ROUNDS];
	double r_inplace[TPUT_ROUNDS], r_unpack[TPUT_ROUNDS];
	double us[TPUT_ROUNDS], bytes[TPUT_ROUNDS], cpu[TPUT_ROUNDS];
	for (int i = 0; i < TPUT_ROUNDS; i++) {
		struct tput t = stdout_rpc(rootfs, len, DECODE_IN_PLACE, i);
		inplace[i] = t.mib_s;
		us[i] = t.us_per_call;
		bytes[i] = t.bytes_per_call;
		cpu[i] = t.agent_cpu_ms_per_gib;
		unpack[i] = stdout_rpc(rootfs, len, DECODE_UNPACK, i).mib_s;
		pipe_[i] = stdout_pipe(rootfs, len);
		r_inplace[i] = inplace[i] / pipe_[i];
		r_unpack[i] = unpack[i] / pipe_[i];
	}
	printf("stdout throughput, 256 MiB from `dd bs=1M` in %u KiB reads, %d rounds, MiB/s "
	       "(in place / unpack / pipe):",
	       len >> 10, TPUT_ROUNDS);
	for (int i = 0; i < TPUT_ROUNDS; i++)
		printf(" %.0f/%.0f/%.0f", inplace[i], unpack[i], pipe_[i]);
	printf("\n");
	print_range("ReadStdout, decoded in place", inplace, " MiB/s");
	print_range("ReadStdout, protobuf-c unpack", unpack, " MiB/s");
	print_range("raw pipe (256 KiB)", pipe_, " MiB/s");
	print_range("ratio in place / pipe", r_inplace, "x");
	print_range("ratio unpack / pipe", r_unpack, "x");
	printf("  per ReadStdout (in place, medians): %.0f bytes, %.1f us",
	       median(bytes, TPUT_ROUNDS), median(us, TPUT_ROUNDS));
	if (getenv("BENCH_AGENT_PID"))
		printf("; agent CPU %.0f ms per GiB", median(cpu, TPUT_ROUNDS));
	printf("\n");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	bool stdout_only = argc > 1 && streq(argv[1], "--stdout-only");
	if (stdout_only) {
		argc--;
		argv++;
	}
	if (argc != 4 && argc != 5) {
		fprintf(
		    stderr,
		    "usage: bench-container [--stdout-only] ADDR ROOTFS BUNDLE [LONG_BUNDLE]\n");
		return 2;
	}
	const char *rootfs = argv[2], *bundle = argv[3];
	if (rpc_client_connect(argv[1], 5000, &cl) < 0)
		return 1;
	if (!stdout_only)
		start_and_exec(rootfs, bundle, argc == 5 ? argv[4] : NULL);
	printf("Health.Check round trip on the same connection (the floor of one call), p50 of "
	       "2000: %.1f us\n",
	       check_round_trip_us());
	/* 1 MiB reads (the old figure) and 32 KiB ones, the size of containerd's shim's copy
	 * buffer. */
	stdout_throughput(rootfs, 1u << 20);
	stdout_throughput(rootfs, 32u << 10);
	rpc_client_free(cl);
	return 0;
}
