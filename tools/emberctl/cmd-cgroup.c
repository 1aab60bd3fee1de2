/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Cgroup commands: stats, update, pause, resume, oom-events.
 *
 *   emberctl stats ID                  StatsContainer; the reply as JSON
 *   emberctl update ID JSON|@FILE|-    UpdateContainer with a LinuxResources in JSON (the
 *                                      .proto names: {"Memory": {"Limit": 33554432}})
 *   emberctl pause ID / resume ID      PauseContainer / ResumeContainer
 *   emberctl oom-events [COUNT]        GetOOMEvent in a loop (the shim's watchOOMEvents):
 *                                      prints each container id; stops after COUNT events
 */
#include "emberctl.h"
#include "agent.pb-c.h"
#include "google/protobuf/empty.pb-c.h"

#define SVC "grpc.AgentService"

static int cmd_stats(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: emberctl stats ID\n");
		return CTL_EXIT_USAGE;
	}
	Grpc__StatsContainerRequest req = GRPC__STATS_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = argv[1];
	int r = ctl_call(ctl, SVC, "StatsContainer", &req.base,
			 &grpc__stats_container_response__descriptor, &resp);
	if (r == CTL_EXIT_OK) {
		ctl_print_json(resp);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	return r;
}

/* JSON text from the argument, @FILE or - (stdin). */
static json_object *read_json(const char *arg)
{
	if (strcmp(arg, "-") && arg[0] != '@')
		return json_tokener_parse(arg);
	FILE *f = strcmp(arg, "-") ? fopen(arg + 1, "re") : stdin;
	if (!f) {
		fprintf(stderr, "emberctl: %s: %m\n", arg + 1);
		return NULL;
	}
	struct bytebuf b = {0};
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (bytebuf_append(&b, chunk, n) < 0)
			break;
	if (f != stdin)
		fclose(f);
	json_object *j = NULL;
	if (bytebuf_append(&b, "", 1) >= 0)
		j = json_tokener_parse((const char *)b.data + b.head);
	bytebuf_free(&b);
	return j;
}

static int cmd_update(struct ctl *ctl, int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: emberctl update ID JSON|@FILE|-   (a LinuxResources)\n");
		return CTL_EXIT_USAGE;
	}
	json_object *j = read_json(argv[2]);
	if (!j) {
		fprintf(stderr, "emberctl: the resources are not valid JSON\n");
		return CTL_EXIT_USAGE;
	}
	ProtobufCMessage *res = NULL;
	char err[256];
	int r = pbjson_to_message(&grpc__linux_resources__descriptor, j, &res, err, sizeof(err));
	json_object_put(j);
	if (r < 0) {
		fprintf(stderr, "emberctl: LinuxResources: %s\n", err);
		return CTL_EXIT_USAGE;
	}
	Grpc__UpdateContainerRequest req = GRPC__UPDATE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = argv[1];
	req.resources = (Grpc__LinuxResources *)res;
	r = ctl_call(ctl, SVC, "UpdateContainer", &req.base, &google__protobuf__empty__descriptor,
		     &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	protobuf_c_message_free_unpacked(res, NULL);
	return r;
}

static int pause_resume(struct ctl *ctl, int argc, char **argv, const char *method)
{
	if (argc != 2) {
		fprintf(stderr, "usage: emberctl %s ID\n", argv[0]);
		return CTL_EXIT_USAGE;
	}
	/* Pause and Resume requests are the same message: {container_id = 1} */
	Grpc__PauseContainerRequest req = GRPC__PAUSE_CONTAINER_REQUEST__INIT;
	ProtobufCMessage *resp = NULL;
	req.container_id = argv[1];
	int r = ctl_call(ctl, SVC, method, &req.base, &google__protobuf__empty__descriptor, &resp);
	if (resp)
		protobuf_c_message_free_unpacked(resp, NULL);
	return r;
}

static int cmd_pause(struct ctl *ctl, int argc, char **argv)
{
	return pause_resume(ctl, argc, argv, "PauseContainer");
}

static int cmd_resume(struct ctl *ctl, int argc, char **argv)
{
	return pause_resume(ctl, argc, argv, "ResumeContainer");
}

static int cmd_oom_events(struct ctl *ctl, int argc, char **argv)
{
	uint32_t count = 0;
	if (argc > 2 || (argc == 2 && (parse_u32(argv[1], &count) < 0 || count == 0))) {
		fprintf(stderr, "usage: emberctl oom-events [COUNT]   (COUNT > 0)\n");
		return CTL_EXIT_USAGE;
	}
	/* The shim waits without a deadline; so does this loop unless --timeout says so. */
	for (uint32_t seen = 0; !count || seen < count; seen++) {
		Grpc__GetOOMEventRequest req = GRPC__GET_OOMEVENT_REQUEST__INIT;
		ProtobufCMessage *resp = NULL;
		int r = ctl_call(ctl, SVC, "GetOOMEvent", &req.base, &grpc__oomevent__descriptor,
				 &resp);
		if (r != CTL_EXIT_OK)
			return r;
		printf("%s\n", ((Grpc__OOMEvent *)resp)->container_id);
		fflush(stdout);
		protobuf_c_message_free_unpacked(resp, NULL);
	}
	return CTL_EXIT_OK;
}

const struct ctl_command ctl_commands_cgroup[] = {
    {"stats", "ID", "StatsContainer: the container's cgroup figures as JSON", cmd_stats},
    {"update", "ID JSON|@FILE|-", "UpdateContainer with LinuxResources as JSON", cmd_update},
    {"pause", "ID", "PauseContainer (freezes the container's cgroup)", cmd_pause},
    {"resume", "ID", "ResumeContainer", cmd_resume},
    {"oom-events", "[COUNT]", "GetOOMEvent in a loop: prints container ids", cmd_oom_events},
    {0},
};
