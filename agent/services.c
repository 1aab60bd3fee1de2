/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dispatch table of grpc.AgentService: all 42 methods of Kata's agent.proto, in its
 * order. A NULL handler answers UNIMPLEMENTED naming the method; docs/compatibility.md
 * says which ones those are.
 */
#include "agent.h"
#include "agent.pb-c.h"

#define METHOD(name, req, handler)                                                                 \
	{                                                                                          \
#name, &grpc__##req##__descriptor, handler                                         \
	}

static const struct rpc_method agent_methods[] = {
    METHOD(CreateContainer, create_container_request, svc_create_container),
    METHOD(StartContainer, start_container_request, svc_start_container),
    METHOD(RemoveContainer, remove_container_request, svc_remove_container),
    METHOD(ExecProcess, exec_process_request, svc_exec_process),
    METHOD(SignalProcess, signal_process_request, svc_signal_process),
    METHOD(WaitProcess, wait_process_request, svc_wait_process),
    METHOD(UpdateContainer, update_container_request, svc_update_container),
    METHOD(UpdateEphemeralMounts, update_ephemeral_mounts_request, agent_update_ephemeral_mounts),
    METHOD(StatsContainer, stats_container_request, svc_stats_container),
    METHOD(PauseContainer, pause_container_request, svc_pause_container),
    METHOD(ResumeContainer, resume_container_request, svc_resume_container),
    METHOD(RemoveStaleVirtiofsShareMounts, remove_stale_virtiofs_share_mounts_request,
	   agent_remove_stale_virtiofs_share_mounts),
    METHOD(GetDiagnosticData, get_diagnostic_data_request, guest_get_diagnostic_data),
    METHOD(WriteStdin, write_stream_request, svc_write_stdin),
    METHOD(ReadStdout, read_stream_request, svc_read_stdout),
    METHOD(ReadStderr, read_stream_request, svc_read_stderr),
    METHOD(CloseStdin, close_stdin_request, svc_close_stdin),
    METHOD(TtyWinResize, tty_win_resize_request, svc_tty_win_resize),
    METHOD(UpdateInterface, update_interface_request, agent_update_interface),
    METHOD(UpdateRoutes, update_routes_request, agent_update_routes),
    METHOD(ListInterfaces, list_interfaces_request, agent_list_interfaces),
    METHOD(ListRoutes, list_routes_request, agent_list_routes),
    METHOD(AddARPNeighbors, add_arpneighbors_request, agent_add_arp_neighbors),
    METHOD(GetIPTables, get_iptables_request, agent_get_iptables),
    METHOD(SetIPTables, set_iptables_request, agent_set_iptables),
    METHOD(GetMetrics, get_metrics_request, guest_get_metrics),
    METHOD(MemAgentMemcgSet, mem_agent_memcg_config, guest_mem_agent_memcg_set),
    METHOD(MemAgentCompactSet, mem_agent_compact_config, guest_mem_agent_compact_set),
    METHOD(CreateSandbox, create_sandbox_request, svc_create_sandbox),
    METHOD(DestroySandbox, destroy_sandbox_request, svc_destroy_sandbox),
    METHOD(OnlineCPUMem, online_cpumem_request, guest_online_cpu_mem),
    METHOD(ReseedRandomDev, reseed_random_dev_request, guest_reseed_random_dev),
    METHOD(GetGuestDetails, guest_details_request, agent_get_guest_details),
    METHOD(MemHotplugByProbe, mem_hotplug_by_probe_request, guest_mem_hotplug_by_probe),
    METHOD(SetGuestDateTime, set_guest_date_time_request, guest_set_date_time),
    METHOD(CopyFile, copy_file_request, agent_copy_file),
    METHOD(GetOOMEvent, get_oomevent_request, svc_get_oom_event),
    METHOD(AddSwap, add_swap_request, guest_add_swap),
    METHOD(AddSwapPath, add_swap_path_request, guest_add_swap_path),
    METHOD(GetVolumeStats, volume_stats_request, agent_get_volume_stats),
    METHOD(ResizeVolume, resize_volume_request, guest_resize_volume),
    METHOD(SetPolicy, set_policy_request, guest_set_policy),
};

_Static_assert(ARRAY_SIZE(agent_methods) == 42, "Kata's AgentService has 42 methods");

const struct rpc_service agent_agent_service = {
    .name = "grpc.AgentService",
    .methods = agent_methods,
    .n_methods = ARRAY_SIZE(agent_methods),
};
