/* SPDX-License-Identifier: Apache-2.0 */
#define LOG_SUBSYSTEM "health"
#include "agent.h"
#include "version.h"
#include "health.pb-c.h"

static void health_check(struct rpc_call *call, void *request _unused_)
{
	Grpc__HealthCheckResponse resp = GRPC__HEALTH_CHECK_RESPONSE__INIT;
	resp.status = GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
	rpc_call_reply(call, &resp.base);
}

static void health_version(struct rpc_call *call, void *request _unused_)
{
	Grpc__VersionCheckResponse resp = GRPC__VERSION_CHECK_RESPONSE__INIT;
	resp.grpc_version = (char *)EMBER_API_VERSION;
	resp.agent_version = (char *)EMBER_VERSION;
	rpc_call_reply(call, &resp.base);
}

static const struct rpc_method health_methods[] = {
    {"Check", &grpc__check_request__descriptor, health_check},
    {"Version", &grpc__check_request__descriptor, health_version},
};

const struct rpc_service agent_health_service = {
    .name = "grpc.Health",
    .methods = health_methods,
    .n_methods = ARRAY_SIZE(health_methods),
};
