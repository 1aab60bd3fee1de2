/* SPDX-License-Identifier: Apache-2.0 */
/* rpc-internal: socket set-up shared by the server and the client. */
#pragma once

#include "rpc.h"

/* Returns a listening, non-blocking, close-on-exec socket. */
int transport_listen(const struct rpc_addr *a);
/* Returns a connected, blocking, close-on-exec fd; hvsock performs the CONNECT handshake. */
int transport_connect(const struct rpc_addr *a, int timeout_ms);
