/* SPDX-License-Identifier: Apache-2.0 */
/* The text forms of the Kata network types (netlink/parse.c). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "netlink/net.h"

#include <sys/socket.h>

static void test_ip_parse(void **state _unused_)
{
	struct net_ip ip;

	assert_int_equal(net_ip_parse("10.1.2.3", &ip), 0);
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip.prefixlen, 32);
	assert_memory_equal(ip.addr, ((uint8_t[]){10, 1, 2, 3}), 4);

	assert_int_equal(net_ip_parse("fd00::1", &ip), 0);
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(ip.prefixlen, 128);
	assert_int_equal(ip.addr[0], 0xfd);
	assert_int_equal(ip.addr[15], 1);

	assert_int_equal(net_ip_parse("::ffff:10.0.0.1", &ip), 0);
	assert_int_equal(ip.family, AF_INET6);

	const char *bad[] = {"",	  "10.1.2",    "10.1.2.256",  "10.1.2.3/24",
			     " 10.1.2.3", "10.1.2.3 ", "fd00:::1",    "hello",
			     "1.2.3.4.5", "010.1.2.3", "fd00::1%eth0"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(net_ip_parse(bad[i], &ip), -EINVAL);
	assert_int_equal(net_ip_parse(NULL, &ip), -EINVAL);
}

static void test_prefixlen(void **state _unused_)
{
	uint8_t p;

	assert_int_equal(net_prefixlen_parse("24", AF_INET, &p), 0);
	assert_int_equal(p, 24);
	assert_int_equal(net_prefixlen_parse("0", AF_INET, &p), 0);
	assert_int_equal(p, 0);
	assert_int_equal(net_prefixlen_parse("32", AF_INET, &p), 0);
	assert_int_equal(net_prefixlen_parse("128", AF_INET6, &p), 0);
	assert_int_equal(p, 128);
	assert_int_equal(net_prefixlen_parse("33", AF_INET, &p), -ERANGE);
	assert_int_equal(net_prefixlen_parse("129", AF_INET6, &p), -ERANGE);
	/* What strtoul would accept and the protocol never means. */
	const char *bad[] = {"", "+24", "-1", " 24", "24 ", "0x18", "2 4", "1000", "255.255.255.0"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(net_prefixlen_parse(bad[i], AF_INET, &p), -EINVAL);
	assert_int_equal(net_prefixlen_parse("24", AF_UNSPEC, &p), -EINVAL);
	assert_int_equal(net_prefixlen_parse(NULL, AF_INET, &p), -EINVAL);
}

static void test_cidr(void **state _unused_)
{
	struct net_ip ip;

	assert_int_equal(net_cidr_parse("10.0.0.0/8", &ip), 0);
	assert_int_equal(ip.family, AF_INET);
	assert_int_equal(ip.prefixlen, 8);
	assert_false(net_ip_has_host_bits(&ip));

	assert_int_equal(net_cidr_parse("10.0.0.1/8", &ip), 0);
	assert_true(net_ip_has_host_bits(&ip));
	assert_int_equal(net_cidr_parse("192.168.1.128/25", &ip), 0);
	assert_false(net_ip_has_host_bits(&ip));
	assert_int_equal(net_cidr_parse("192.168.1.129/25", &ip), 0);
	assert_true(net_ip_has_host_bits(&ip));

	/* A bare address is a host route. */
	assert_int_equal(net_cidr_parse("10.0.0.1", &ip), 0);
	assert_int_equal(ip.prefixlen, 32);
	assert_false(net_ip_has_host_bits(&ip));

	assert_int_equal(net_cidr_parse("0.0.0.0/0", &ip), 0);
	assert_int_equal(ip.prefixlen, 0);
	assert_true(net_ip_is_zero(&ip));

	assert_int_equal(net_cidr_parse("fd00:1::/64", &ip), 0);
	assert_int_equal(ip.family, AF_INET6);
	assert_int_equal(ip.prefixlen, 64);
	assert_false(net_ip_has_host_bits(&ip));
	assert_int_equal(net_cidr_parse("fd00:1::5/64", &ip), 0);
	assert_true(net_ip_has_host_bits(&ip));
	assert_int_equal(net_cidr_parse("::/0", &ip), 0);

	const char *bad[] = {"",
			     "/8",
			     "10.0.0.0/",
			     "10.0.0.0/33",
			     "10.0.0.0/8/8",
			     "10.0.0/8",
			     "fd00::/129",
			     "fd00::/-1",
			     "10.0.0.0/ 8",
			     "1111:2222:3333:4444:5555:6666:7777:8888:9999/64"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(net_cidr_parse(bad[i], &ip), -EINVAL);
}

static void test_ip_format(void **state _unused_)
{
	struct net_ip ip;
	char buf[64];

	assert_int_equal(net_cidr_parse("10.0.0.0/8", &ip), 0);
	assert_int_equal(net_ip_format(&ip, true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.0/8");
	assert_int_equal(net_ip_format(&ip, false, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "10.0.0.0");
	assert_int_equal(net_cidr_parse("FD00:0:0::1/64", &ip), 0);
	assert_int_equal(net_ip_format(&ip, true, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "fd00::1/64");
	assert_int_equal(net_ip_format(&ip, true, buf, 5), -ENOSPC);
	ip.family = 0;
	assert_int_equal(net_ip_format(&ip, true, buf, sizeof(buf)), -EAFNOSUPPORT);
}

static void test_mac(void **state _unused_)
{
	uint8_t mac[NET_MAC_LEN];
	char buf[3 * NET_HWADDR_MAX];

	assert_int_equal(net_mac_parse("02:42:ac:11:00:02", mac), 0);
	assert_memory_equal(mac, ((uint8_t[]){0x02, 0x42, 0xac, 0x11, 0x00, 0x02}), 6);
	assert_int_equal(net_mac_parse("AA:BB:CC:DD:EE:FF", mac), 0);
	assert_memory_equal(mac, ((uint8_t[]){0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}), 6);
	net_hwaddr_format(mac, 6, buf, sizeof(buf));
	assert_string_equal(buf, "aa:bb:cc:dd:ee:ff");

	const char *bad[] = {"",
			     "02:42:ac:11:00",
			     "02:42:ac:11:00:02:03",
			     "02-42-ac-11-00-02",
			     "0242.ac11.0002",
			     "02:42:ac:11:00:0g",
			     "2:42:ac:11:00:02",
			     "02:42:ac:11:00:02 ",
			     "02:42:ac:11:0002:"};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(net_mac_parse(bad[i], mac), -EINVAL);
	assert_int_equal(net_mac_parse(NULL, mac), -EINVAL);
	/* A failed parse leaves the output alone. */
	assert_memory_equal(mac, ((uint8_t[]){0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}), 6);

	net_hwaddr_format(mac, 0, buf, sizeof(buf));
	assert_string_equal(buf, "");
	/* Truncation keeps whole octets. */
	net_hwaddr_format(mac, 6, buf, 8);
	assert_string_equal(buf, "aa:bb");
}

static void test_ifname(void **state _unused_)
{
	assert_true(net_ifname_valid("eth0"));
	assert_true(net_ifname_valid("a"));
	assert_true(net_ifname_valid("abcdefghijklmno"));   /* 15 */
	assert_false(net_ifname_valid("abcdefghijklmnop")); /* 16 */
	assert_false(net_ifname_valid(""));
	assert_false(net_ifname_valid(NULL));
	assert_false(net_ifname_valid("."));
	assert_false(net_ifname_valid(".."));
	assert_false(net_ifname_valid("eth/0"));
	assert_false(net_ifname_valid("eth:0"));
	assert_false(net_ifname_valid("eth 0"));
	assert_false(net_ifname_valid("eth0\n"));
}

static void test_ccw_id(void **state _unused_)
{
	const char *good[] = {"0.0.0001", "fe.3.ffff", "0.1.ABCD"};
	const char *bad[] = {"",	"0.0.001", "0.4.0001",	  "0.0.00001",
			     "0.0",	"02/00",   "0.0.0001 ",	  "100.0.0001",
			     ".0.0001", "0..0001", "0000:00:02.0"};
	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		assert_true(net_ccw_id_valid(good[i]));
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (net_ccw_id_valid(bad[i]))
			fail_msg("CCW id '%s' was accepted", bad[i]);
	assert_false(net_ccw_id_valid(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ip_parse), cmocka_unit_test(test_prefixlen),
	    cmocka_unit_test(test_cidr),     cmocka_unit_test(test_ip_format),
	    cmocka_unit_test(test_mac),	     cmocka_unit_test(test_ifname),
	    cmocka_unit_test(test_ccw_id),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
