/* SPDX-License-Identifier: Apache-2.0 */
/* GetMetrics formatting: the exposition syntax and the /proc parsers (docs/metrics.md). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "guest.h"
#include "../integration/test-guest-prom.h"

/* The buffer as a C string (the parsers append without a terminator). */
static const char *text(struct bytebuf *b)
{
	assert_int_equal(bytebuf_append(b, "", 1), 0);
	b->len--;
	return (const char *)b->data + b->head;
}

static void assert_contains(const char *hay, const char *needle)
{
	if (!strstr(hay, needle))
		fail_msg("'%s' not found in:\n%s", needle, hay);
}

static void test_family_and_samples(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(metrics_family(&b, "kata_x", "gauge", "An example."), 0);
	assert_int_equal(metrics_sample_u64(&b, "kata_x", NULL, NULL, NULL, NULL, 42), 0);
	assert_int_equal(metrics_sample_u64(&b, "kata_x", "item", "a", NULL, NULL, UINT64_MAX), 0);
	assert_int_equal(metrics_sample_f64(&b, "kata_x", "cpu", "0", "item", "user", 0.52), 0);
	assert_string_equal(text(&b), "# HELP kata_x An example.\n"
				      "# TYPE kata_x gauge\n"
				      "kata_x 42\n"
				      "kata_x{item=\"a\"} 18446744073709551615\n"
				      "kata_x{cpu=\"0\",item=\"user\"} 0.52\n");
	assert_null(prom_check(text(&b)));
	bytebuf_free(&b);
}

static void test_label_escaping(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(metrics_family(&b, "kata_x", "gauge", "x"), 0);
	assert_int_equal(metrics_sample_u64(&b, "kata_x", "interface", "a\"b\\c\nd", NULL, NULL, 1),
			 0);
	assert_contains(text(&b), "kata_x{interface=\"a\\\"b\\\\c\\nd\"} 1\n");
	assert_null(prom_check(text(&b)));
	bytebuf_free(&b);
}

static void test_meminfo(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(metrics_guest_meminfo(&b, "MemTotal:       24683620 kB\n"
						   "Active(anon):       1624 kB\n"
						   "SReclaimable:     126536 kB\n"
						   "Zswap:                 0 kB\n"
						   "SecPageTables:         0 kB\n"
						   "HugePages_Total:       3\n"
						   "DirectMap4k:       32768 kB\n"
						   "garbage line\n"
						   "Percpu:              712 kB"),
			 0);
	const char *t = text(&b);
	assert_null(prom_check(t));
	/* Kata (procfs) reports bytes: kB x 1024. */
	assert_contains(t, "kata_guest_meminfo{item=\"mem_total\"} 25276026880\n");
	assert_contains(t, "kata_guest_meminfo{item=\"active_anon\"} 1662976\n");
	assert_contains(t, "kata_guest_meminfo{item=\"s_reclaimable\"} 129572864\n");
	assert_contains(t, "kata_guest_meminfo{item=\"direct_map_4k\"} 33554432\n");
	assert_contains(t, "kata_guest_meminfo{item=\"per_cpu\"} 729088\n");
	/* Counts stay counts. */
	assert_contains(t, "kata_guest_meminfo{item=\"hugepages_total\"} 3\n");
	/* Keys Kata does not name get the generic snake_case form. */
	assert_contains(t, "kata_guest_meminfo{item=\"zswap\"} 0\n");
	assert_contains(t, "kata_guest_meminfo{item=\"sec_page_tables\"} 0\n");
	assert_null(strstr(t, "garbage"));
	bytebuf_free(&b);
}

static void test_loadavg(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(metrics_guest_loadavg(&b, "3.21 2.17 1.55 7/137 1313\n"), 0);
	const char *t = text(&b);
	assert_null(prom_check(t));
	assert_contains(t, "kata_guest_load{item=\"load1\"} 3.21\n");
	assert_contains(t, "kata_guest_load{item=\"load5\"} 2.17\n");
	assert_contains(t, "kata_guest_load{item=\"load15\"} 1.55\n");
	assert_contains(t, "kata_guest_tasks{item=\"cur\"} 7\n");
	assert_contains(t, "kata_guest_tasks{item=\"max\"} 137\n");
	bytebuf_free(&b);

	assert_int_equal(metrics_guest_loadavg(&b, "nonsense"), -EBADMSG);
	bytebuf_free(&b);
}

static void test_cpu_time(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(metrics_guest_cpu_time(&b,
						"cpu  76295 0 61548 120442 869 0 888 0 0 0\n"
						"cpu0 36551 1 29580 63342 167 0 439 0 0 0\n"
						"cpu1 39744 0 31968 57100\n"
						"intr 12345 0 0\n"
						"btime 1795346514\n",
						100),
			 0);
	const char *t = text(&b);
	assert_null(prom_check(t));
	/* ticks -> milliseconds, as Kata's user_ms(). */
	assert_contains(t, "kata_guest_cpu_time{cpu=\"total\",item=\"user\"} 762950\n");
	assert_contains(t, "kata_guest_cpu_time{cpu=\"total\",item=\"guest_nice\"} 0\n");
	assert_contains(t, "kata_guest_cpu_time{cpu=\"0\",item=\"nice\"} 10\n");
	assert_contains(t, "kata_guest_cpu_time{cpu=\"1\",item=\"idle\"} 571000\n");
	/* Columns an old kernel does not print are not invented. */
	assert_null(strstr(t, "cpu=\"1\",item=\"iowait\""));
	assert_null(strstr(t, "intr"));
	bytebuf_free(&b);
	assert_int_equal(metrics_guest_cpu_time(&b, "cpu 1 2 3\n", 0), -EINVAL);
	bytebuf_free(&b);
}

static void test_netdev_and_diskstats(void **state _unused_)
{
	struct bytebuf b = {0};
	assert_int_equal(
	    metrics_guest_netdev(
		&b,
		"Inter-|   Receive                            |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    "
		"packets errs drop fifo colls carrier compressed\n"
		"    lo:    3267      29    0    0    0     0          0         0     3267      "
		"29    0    0    0     0       0          0\n"
		"  eth0: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
	    0);
	const char *t = text(&b);
	assert_null(prom_check(t));
	assert_contains(t, "kata_guest_netdev_stat{interface=\"lo\",item=\"recv_bytes\"} 3267\n");
	assert_contains(t,
			"kata_guest_netdev_stat{interface=\"eth0\",item=\"sent_compressed\"} 16\n");
	assert_contains(t,
			"kata_guest_netdev_stat{interface=\"eth0\",item=\"recv_multicast\"} 8\n");
	assert_null(strstr(t, "Inter-"));
	assert_null(strstr(t, "\"face"));
	bytebuf_free(&b);

	assert_int_equal(metrics_guest_diskstats(
			     &b, "   7       0 loop0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17\n"
				 " 254       0 vda 100 0 800 10 0 0 0 0 0 12 10\n"),
			 0);
	t = text(&b);
	assert_null(prom_check(t));
	assert_contains(t, "kata_guest_diskstat{disk=\"loop0\",item=\"reads\"} 1\n");
	assert_contains(t, "kata_guest_diskstat{disk=\"loop0\",item=\"time_flushing\"} 17\n");
	assert_contains(t, "kata_guest_diskstat{disk=\"vda\",item=\"sectors_read\"} 800\n");
	assert_null(strstr(t, "disk=\"vda\",item=\"discards\""));
	bytebuf_free(&b);
}

static void test_agent_process(void **state _unused_)
{
	struct bytebuf b = {0};
	/* A comm with spaces and parentheses must not shift the fields. */
	struct metrics_proc p = {
	    .stat = "42 (a) b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 3 0 1000 "
		    "10485760 300 18446744073709551615\n",
	    .status = "Name:\tember-agent\nVmPeak:\t   3060 kB\nVmRSS:\t    1200 kB\n"
		      "voluntary_ctxt_switches:\t9\n",
	    .io = "rchar: 6976\nwchar: 12\nsyscr: 10\n",
	    .open_fds = 7,
	    .max_fds = 1024,
	    .ticks_per_sec = 100,
	    .page_size = 4096,
	    .boot_time_sec = 1700000000,
	    .scrape_count = 5,
	};
	assert_int_equal(metrics_agent_process(&b, &p), 0);
	const char *t = text(&b);
	assert_null(prom_check(t));
	assert_contains(t, "# TYPE kata_agent_scrape_count counter\nkata_agent_scrape_count 5\n");
	assert_contains(t, "kata_agent_threads 3\n");
	assert_contains(t, "kata_agent_total_time 3\n");
	assert_contains(t, "kata_agent_total_vm 10485760\n");
	assert_contains(t, "kata_agent_total_rss 1228800\n");
	assert_contains(t, "kata_agent_proc_stat{item=\"utime\"} 250\n");
	assert_contains(t, "kata_agent_proc_stat{item=\"cstime\"} 3\n");
	assert_contains(t, "kata_agent_proc_status{item=\"vmrss\"} 1200\n");
	assert_contains(t, "kata_agent_proc_status{item=\"voluntary_ctxt_switches\"} 9\n");
	assert_null(strstr(t, "item=\"vmswap\"")); /* absent from this status */
	assert_contains(t, "kata_agent_io_stat{item=\"wchar\"} 12\n");
	assert_contains(t, "kata_agent_process_cpu_seconds_total 3\n");
	assert_contains(t, "kata_agent_process_open_fds 7\n");
	assert_contains(t, "kata_agent_process_max_fds 1024\n");
	assert_contains(t, "kata_agent_process_resident_memory_bytes 1228800\n");
	assert_contains(t, "kata_agent_process_start_time_seconds 1700000010\n");
	bytebuf_free(&b);

	p.stat = "42 (truncated";
	assert_int_equal(metrics_agent_process(&b, &p), -EBADMSG);
	p.stat = "42 (x) S 1 2";
	assert_int_equal(metrics_agent_process(&b, &p), -EBADMSG);
	bytebuf_free(&b);
}

/* The whole collection on this machine's /proc: valid exposition, with our own RSS. */
static void test_collect(void **state _unused_)
{
	struct guest g = {0};
	struct agent a = {.guest = &g};
	struct bytebuf b = {0};
	g.agent = &a;
	assert_int_equal(metrics_collect(&a, &b), 0);
	const char *t = (const char *)b.data;
	assert_int_equal(strlen(t) + 1, bytebuf_used(&b));
	const char *e = prom_check(t);
	if (e)
		fail_msg("%s", e);
	assert_true(prom_value(t, "kata_agent_total_rss ") > 0);
	assert_true(prom_value(t, "kata_agent_process_resident_memory_bytes ") > 0);
	assert_true(prom_value(t, "kata_guest_meminfo{item=\"mem_total\"} ") > 0);
	assert_true(prom_value(t, "kata_agent_scrape_count ") == 1);
	assert_true(prom_value(t, "kata_agent_process_open_fds ") >= 3);
	bytebuf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_family_and_samples),
	    cmocka_unit_test(test_label_escaping),
	    cmocka_unit_test(test_meminfo),
	    cmocka_unit_test(test_loadavg),
	    cmocka_unit_test(test_cpu_time),
	    cmocka_unit_test(test_netdev_and_diskstats),
	    cmocka_unit_test(test_agent_process),
	    cmocka_unit_test(test_collect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
