/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dispatch table of grpc.AgentService: all 42 methods of Kata's agent.proto, in its
 * order. A NULL handler answers UNIMPLEMENTED naming the method; docs/compatibility.md
 * says which ones those are.
 */
#include "agent.h"
#include "agent.pb-c.h"

#define METHOD(name, req, handler) {#name, &grpc__##req##__descriptor, handler}

static const struct rpc_method agent_methods[] = {
	METHOD(CreateContainer, create_container_request, NULL),
	METHOD(StartContainer, start_container_request, NULL),
	METHOD(RemoveContainer, remove_container_request, NULL),
	METHOD(ExecProcess, exec_process_request, NULL),
	METHOD(SignalProcess, signal_process_request, NULL),
	METHOD(WaitProcess, wait_process_request, NULL),
	METHOD(UpdateContainer, update_container_request, NULL),
	METHOD(UpdateEphemeralMounts, update_ephemeral_mounts_request, NULL),
	METHOD(StatsContainer, stats_container_request, NULL),
	METHOD(PauseContainer, pause_container_request, NULL),
	METHOD(ResumeContainer, resume_container_request, NULL),
	METHOD(RemoveStaleVirtiofsShareMounts, remove_stale_virtiofs_share_mounts_request, NULL),
	METHOD(GetDiagnosticData, get_diagnostic_data_request, NULL),
	METHOD(WriteStdin, write_stream_request, NULL),
	METHOD(ReadStdout, read_stream_request, NULL),
	METHOD(ReadStderr, read_stream_request, NULL),
	METHOD(CloseStdin, close_stdin_request, NULL),
	METHOD(TtyWinResize, tty_win_resize_request, NULL),
	METHOD(UpdateInterface, update_interface_request, NULL),
	METHOD(UpdateRoutes, update_routes_request, NULL),
	METHOD(ListInterfaces, list_interfaces_request, NULL),
	METHOD(ListRoutes, list_routes_request, NULL),
	METHOD(AddARPNeighbors, add_arpneighbors_request, NULL),
	METHOD(GetIPTables, get_iptables_request, NULL),
	METHOD(SetIPTables, set_iptables_request, NULL),
	METHOD(GetMetrics, get_metrics_request, NULL),
	METHOD(MemAgentMemcgSet, mem_agent_memcg_config, NULL),
	METHOD(MemAgentCompactSet, mem_agent_compact_config, NULL),
	METHOD(CreateSandbox, create_sandbox_request, NULL),
	METHOD(DestroySandbox, destroy_sandbox_request, NULL),
	METHOD(OnlineCPUMem, online_cpumem_request, NULL),
	METHOD(ReseedRandomDev, reseed_random_dev_request, NULL),
	METHOD(GetGuestDetails, guest_details_request, NULL),
	METHOD(MemHotplugByProbe, mem_hotplug_by_probe_request, NULL),
	METHOD(SetGuestDateTime, set_guest_date_time_request, NULL),
	METHOD(CopyFile, copy_file_request, NULL),
	METHOD(GetOOMEvent, get_oomevent_request, NULL),
	METHOD(AddSwap, add_swap_request, NULL),
	METHOD(AddSwapPath, add_swap_path_request, NULL),
	METHOD(GetVolumeStats, volume_stats_request, NULL),
	METHOD(ResizeVolume, resize_volume_request, NULL),
	METHOD(SetPolicy, set_policy_request, NULL),
};

_Static_assert(ARRAY_SIZE(agent_methods) == 42, "Kata's AgentService has 42 methods");

const struct rpc_service agent_agent_service = {
	.name = "grpc.AgentService",
	.methods = agent_methods,
	.n_methods = ARRAY_SIZE(agent_methods),
};
