/* SPDX-License-Identifier: Apache-2.0 */
#include "emberctl.h"
#include "health.pb-c.h"

static int cmd_check(struct ctl *ctl, int argc, char **argv _unused_)
{
	if (argc != 1)
		return CTL_EXIT_USAGE;
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.Health", "Check", &req.base,
			 &grpc__health_check_response__descriptor, &resp);
	if (r != CTL_EXIT_OK)
		return r;
	Grpc__HealthCheckResponse *h = (Grpc__HealthCheckResponse *)resp;
	const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(
	    &grpc__health_check_response__serving_status__descriptor, h->status);
	printf("%s\n", v ? v->name : "UNKNOWN");
	r = h->status == GRPC__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING ? 0 : CTL_EXIT_RPC;
	protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_version(struct ctl *ctl, int argc, char **argv _unused_)
{
	if (argc != 1)
		return CTL_EXIT_USAGE;
	Grpc__CheckRequest req = GRPC__CHECK_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	int r = ctl_call(ctl, "grpc.Health", "Version", &req.base,
			 &grpc__version_check_response__descriptor, &resp);
	if (r != CTL_EXIT_OK)
		return r;
	Grpc__VersionCheckResponse *v = (Grpc__VersionCheckResponse *)resp;
	printf("agent_version: %s\ngrpc_version: %s\n", v->agent_version, v->grpc_version);
	protobuf_c_message_free_unpacked(resp, NULL);
	return 0;
}

const struct ctl_command ctl_commands_health[] = {
    {"check", NULL, "grpc.Health/Check: prints SERVING", cmd_check},
    {"version", NULL, "grpc.Health/Version", cmd_version},
    {},
};
