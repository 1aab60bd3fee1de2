/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private to the agent's network services (svc-network.c, svc-iptables.c): the state they
 * keep on the event loop. agent.h declares what the rest of the agent sees.
 *
 *  - UpdateInterface with a devicePath whose NIC has not appeared yet parks its call for at
 *    most agent.hotplug_timeout: on the shared uevent listener for the netdev below the PCI
 *    device at that path (Kata's wait_for_pci_net_interface), or, when the path does not
 *    resolve in this guest, re-checking for a link with the MAC on each RTM_NEWLINK from a
 *    RTNLGRP_LINK socket that is open only while such calls wait.
 *  - Get/SetIPTables run iptables-save/-restore as a child observed through its pidfd and
 *    non-blocking pipes in the loop; the child outlives a cancelled call until it is reaped.
 */
#pragma once

#include "agent.h"

struct agent_network {
	struct agent *agent;

	/* hotplugged NICs being waited for (struct nic_wait) */
	struct list_head nic_waits;
	unsigned n_nic_waits;
	int watch_fd;
	struct ev_io watch_io;

	/* iptables children (struct ipt_job) */
	struct list_head ipt_jobs;
	unsigned n_ipt_jobs;
};

/* svc-iptables.c: kills and reaps the children still running at shutdown. */
void iptables_jobs_done(struct agent_network *net);
