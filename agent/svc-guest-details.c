/* SPDX-License-Identifier: Apache-2.0 */
/* GetGuestDetails (Kata's get_guest_details / get_memory_info / get_agent_details). The Go
 * runtime calls it once after CreateSandbox and keeps mem_block_size_bytes (memory hotplug
 * granularity), support_mem_hotplug_probe and supports_seccomp. */
#define LOG_SUBSYSTEM "agent"
#include "agent.h"
#include "mount/mount.h"
#include "version.h"

#include "agent.pb-c.h"

#include <sys/stat.h>

#define MEMORY_BLOCK_SIZE "/sys/devices/system/memory/block_size_bytes"
#define MEMORY_PROBE	  "/sys/devices/system/memory/probe"

/* The Go runtime refuses a container with seccomp (when guest seccomp is on in its config)
 * unless this is true. The security module defines a strong agent_supports_seccomp()
 * returning true once seccomp filters are applied; this weak default says no. */
__attribute__((weak)) bool agent_supports_seccomp(void)
{
	return false;
}

/* "8000000\n" (hex, no 0x). A missing file (no memory hotplug support) is 0, as in Kata. */
static int memory_block_size(uint64_t *ret)
{
	_cleanup_free_ char *s = NULL;
	*ret = 0;
	int r = read_file(MEMORY_BLOCK_SIZE, 64, &s, NULL);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 16);
	if (errno || end == s || (*end && *end != '\n'))
		return -EINVAL;
	*ret = v;
	return 0;
}

void agent_get_guest_details(struct rpc_call *call, void *request)
{
	Grpc__GuestDetailsRequest *req = request;
	Grpc__GuestDetailsResponse resp = GRPC__GUEST_DETAILS_RESPONSE__INIT;
	Grpc__AgentDetails details = GRPC__AGENT_DETAILS__INIT;
	int r;

	if (req->mem_block_size) {
		r = memory_block_size(&resp.mem_block_size_bytes);
		if (r < 0) {
			rpc_call_reply_errno(call, r, "GetGuestDetails: cannot read %s: %m",
					     MEMORY_BLOCK_SIZE);
			return;
		}
	}
	if (req->mem_hotplug_probe) {
		struct stat st;
		if (stat(MEMORY_PROBE, &st) == 0)
			resp.support_mem_hotplug_probe = true;
		else if (errno != ENOENT) {
			rpc_call_reply_errno(call, -errno, "GetGuestDetails: cannot stat %s: %m",
					     MEMORY_PROBE);
			return;
		}
	}

	size_t n = 0;
	while (storage_driver_names[n])
		n++;
	details.version = (char *)EMBER_VERSION;
	details.init_daemon = getpid() == 1;
	/* Kata sends device_handlers empty too; the runtime does not read it. */
	details.n_storage_handlers = n;
	details.storage_handlers = (char **)storage_driver_names;
	details.supports_seccomp = agent_supports_seccomp();
	resp.agent_details = &details;
	rpc_call_reply(call, &resp.base);
}
