/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ttrpc load client: N connections, K calls in flight on each, a fixed total of timed
 * calls; prints p50/p99 latency and calls/s on one line. The same client measures
 * ember-agent and the containerd/ttrpc Go server, so the ratio compares the servers.
 */
#include "rpc/rpc.h"

#include <getopt.h>
#include <poll.h>

struct conn {
	struct rpc_client *c;
	uint64_t *sent_at; /* by (stream_id / 2) % window */
	unsigned inflight;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	const char *addr = NULL, *label = "server", *method = "Check";
	unsigned conns = 1, inflight = 1, window;
	uint64_t calls = 20000, warmup = 1000;
	int c;

	while ((c = getopt(argc, argv, "a:c:k:n:w:l:m:")) >= 0) {
		switch (c) {
		case 'a':
			addr = optarg;
			break;
		case 'c':
			conns = (unsigned)atoi(optarg);
			break;
		case 'k':
			inflight = (unsigned)atoi(optarg);
			break;
		case 'n':
			calls = strtoull(optarg, NULL, 10);
			break;
		case 'w':
			warmup = strtoull(optarg, NULL, 10);
			break;
		case 'l':
			label = optarg;
			break;
		case 'm':
			method = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: bench-rpc -a ADDR [-c CONNS] [-k INFLIGHT] [-n CALLS] "
				"[-w WARMUP] [-l LABEL] [-m METHOD]\n");
			return 2;
		}
	}
	if (!addr || conns == 0 || inflight == 0 || conns > 256)
		return 2;
	window = inflight * 2;

	struct conn *cs = calloc(conns, sizeof(*cs));
	struct pollfd *pfd = calloc(conns, sizeof(*pfd));
	uint64_t *lat = calloc(calls, sizeof(*lat));
	if (!cs || !pfd || !lat)
		return 1;
	for (unsigned i = 0; i < conns; i++) {
		int r = rpc_client_connect(addr, 5000, &cs[i].c);
		if (r < 0) {
			fprintf(stderr, "bench-rpc: connect %s: %s\n", addr, strerror(-r));
			return 1;
		}
		cs[i].sent_at = calloc(window, sizeof(uint64_t));
		pfd[i].fd = rpc_client_fd(cs[i].c);
		pfd[i].events = POLLIN;
	}

	uint64_t total = warmup + calls, issued = 0, done = 0, timed = 0, errors = 0, t0 = 0;
	/* Fill every connection's window. */
	for (unsigned i = 0; i < conns; i++) {
		for (unsigned k = 0; k < inflight && issued < total; k++, issued++) {
			uint32_t id;
			rpc_client_send(cs[i].c, "grpc.Health", method, NULL, 0, 0, &id);
			cs[i].sent_at[(id / 2) % window] = now_monotonic_ns();
			cs[i].inflight++;
		}
		rpc_client_flush(cs[i].c);
	}
	while (done < total) {
		bool buffered = false;
		for (unsigned i = 0; i < conns; i++)
			buffered |= rpc_client_has_frame(cs[i].c);
		if (!buffered && poll(pfd, conns, 10000) <= 0) {
			fprintf(stderr, "bench-rpc: no reply for 10 s\n");
			return 1;
		}
		for (unsigned i = 0; i < conns; i++) {
			if (!rpc_client_has_frame(cs[i].c) &&
			    (buffered || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))))
				continue;
			uint32_t id;
			struct rpc_status st;
			struct ttrpc_slice pl;
			if (rpc_client_recv(cs[i].c, &id, &st, &pl) < 0) {
				fprintf(stderr, "bench-rpc: connection lost\n");
				return 1;
			}
			uint64_t now = now_monotonic_ns();
			if (st.code != RPC_OK)
				errors++;
			if (done == warmup)
				t0 = now;
			if (done >= warmup && timed < calls)
				lat[timed++] = now - cs[i].sent_at[(id / 2) % window];
			done++;
			cs[i].inflight--;
			if (issued < total) {
				rpc_client_send(cs[i].c, "grpc.Health", method, NULL, 0, 0, &id);
				cs[i].sent_at[(id / 2) % window] = now_monotonic_ns();
				cs[i].inflight++;
				issued++;
				rpc_client_flush(cs[i].c);
			}
		}
	}
	uint64_t elapsed = now_monotonic_ns() - t0;
	qsort(lat, timed, sizeof(*lat), cmp_u64);
	printf("c-client server=%s method=%s conns=%u inflight=%u calls=%llu errors=%llu "
	       "p50_us=%.1f p99_us=%.1f calls_per_s=%.0f\n",
	       label, method, conns, inflight, (unsigned long long)timed,
	       (unsigned long long)errors, lat[timed / 2] / 1000.0, lat[timed * 99 / 100] / 1000.0,
	       (double)timed * 1e9 / (double)elapsed);
	for (unsigned i = 0; i < conns; i++) {
		rpc_client_free(cs[i].c);
		free(cs[i].sent_at);
	}
	free(cs);
	free(pfd);
	free(lat);
	return errors ? 1 : 0;
}
