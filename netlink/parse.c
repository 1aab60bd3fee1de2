/* SPDX-License-Identifier: Apache-2.0 */
/* The text forms of the Kata network types. Pure: no sockets, no libnl. */
#include "net.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <sys/socket.h>

size_t net_ip_len(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 16 : 0;
}

int net_ip_parse(const char *s, struct net_ip *ret)
{
	struct net_ip ip = {0};

	if (!s)
		return -EINVAL;
	if (inet_pton(AF_INET, s, ip.addr) == 1)
		ip.family = AF_INET;
	else if (inet_pton(AF_INET6, s, ip.addr) == 1)
		ip.family = AF_INET6;
	else
		return -EINVAL;
	ip.prefixlen = (uint8_t)(net_ip_len(ip.family) * 8);
	*ret = ip;
	return 0;
}

int net_prefixlen_parse(const char *s, int family, uint8_t *ret)
{
	unsigned v = 0;
	size_t max = net_ip_len(family) * 8;

	/* Digits only: strtoul would take "+24", " 24" and "0x18", which the Go runtime never
	 * sends and which would hide a corrupted request. */
	if (!s || !*s || strlen(s) > 3 || max == 0)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(*p - '0');
	}
	if (v > max)
		return -ERANGE;
	*ret = (uint8_t)v;
	return 0;
}

int net_cidr_parse(const char *s, struct net_ip *ret)
{
	char buf[64];
	struct net_ip ip;
	int r;

	if (!s || strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	r = net_ip_parse(buf, &ip);
	if (r < 0)
		return r;
	if (slash) {
		r = net_prefixlen_parse(slash + 1, ip.family, &ip.prefixlen);
		if (r < 0)
			return -EINVAL;
	}
	*ret = ip;
	return 0;
}

bool net_ip_has_host_bits(const struct net_ip *ip)
{
	size_t len = net_ip_len(ip->family);
	for (size_t i = 0; i < len; i++) {
		unsigned bit0 = (unsigned)i * 8;
		uint8_t mask;
		if (bit0 + 8 <= ip->prefixlen)
			continue;
		mask = bit0 >= ip->prefixlen ? 0xff : (uint8_t)(0xff >> (ip->prefixlen - bit0));
		if (ip->addr[i] & mask)
			return true;
	}
	return false;
}

bool net_ip_is_zero(const struct net_ip *ip)
{
	for (size_t i = 0; i < net_ip_len(ip->family); i++)
		if (ip->addr[i])
			return false;
	return true;
}

int net_ip_format(const struct net_ip *ip, bool with_prefix, char *buf, size_t n)
{
	char a[INET6_ADDRSTRLEN];

	if (!net_ip_len(ip->family) || !inet_ntop(ip->family, ip->addr, a, sizeof(a)))
		return -EAFNOSUPPORT;
	int w =
	    with_prefix ? snprintf(buf, n, "%s/%u", a, ip->prefixlen) : snprintf(buf, n, "%s", a);
	return w < 0 || (size_t)w >= n ? -ENOSPC : 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int net_mac_parse(const char *s, uint8_t mac[NET_MAC_LEN])
{
	uint8_t m[NET_MAC_LEN];

	if (!s || strlen(s) != 3 * NET_MAC_LEN - 1)
		return -EINVAL;
	for (size_t i = 0; i < NET_MAC_LEN; i++) {
		const char *p = s + 3 * i;
		int hi = hexval(p[0]), lo = hexval(p[1]);
		if (hi < 0 || lo < 0 || (i + 1 < NET_MAC_LEN && p[2] != ':'))
			return -EINVAL;
		m[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(mac, m, sizeof(m));
	return 0;
}

void net_hwaddr_format(const uint8_t *addr, size_t len, char *buf, size_t n)
{
	size_t w = 0;

	if (n == 0)
		return;
	buf[0] = '\0';
	for (size_t i = 0; i < len; i++) {
		int k = snprintf(buf + w, n - w, i ? ":%02x" : "%02x", addr[i]);
		if (k < 0 || (size_t)k >= n - w) {
			buf[w] = '\0'; /* whole octets only */
			break;
		}
		w += (size_t)k;
	}
}

bool net_ifname_valid(const char *s)
{
	size_t l = s ? strlen(s) : 0;

	/* The kernel's dev_valid_name(). */
	if (l == 0 || l >= NET_IFNAME_MAX || streq(s, ".") || streq(s, ".."))
		return false;
	for (const char *p = s; *p; p++)
		if (*p == '/' || *p == ':' || isspace((unsigned char)*p))
			return false;
	return true;
}

bool net_ccw_id_valid(const char *s)
{
	const char *p = s;
	int n = 0;

	/* "cssid.ssid.devno": hex, ssid 0..3, devno four digits. */
	if (!s)
		return false;
	while (hexval(*p) >= 0 && n < 2)
		p++, n++;
	if (n == 0 || *p++ != '.')
		return false;
	if (*p < '0' || *p > '3' || p[1] != '.')
		return false;
	p += 2;
	for (n = 0; n < 4; n++)
		if (hexval(p[n]) < 0)
			return false;
	return p[4] == '\0';
}
