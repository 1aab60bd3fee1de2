/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libFuzzer target: the bytes a peer can send. The first byte picks how the input is cut
 * into reads; the frames go through the parser, the envelope decoder, and the payload
 * decoder of every agent request type.
 */
#include "rpc/rpc.h"
#include "agent.pb-c.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int on_frame(void *ctx _unused_, const struct ttrpc_header *h, const uint8_t *body)
{
	struct ttrpc_request req;
	struct ttrpc_response resp;
	if (!body)
		return 0;
	if (ttrpc_request_decode(body, h->length, &req) == 0) {
		const ProtobufCServiceDescriptor *svc = &grpc__agent_service__descriptor;
		const ProtobufCMethodDescriptor *m = &svc->methods[h->stream_id % svc->n_methods];
		ProtobufCMessage *msg =
		    protobuf_c_message_unpack(m->input, NULL, req.payload.len, req.payload.ptr);
		if (msg)
			protobuf_c_message_free_unpacked(msg, NULL);
	}
	(void)ttrpc_response_decode(body, h->length, &resp);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ttrpc_parser p;
	if (size < 1)
		return 0;
	size_t step = (size_t)data[0] + 1;
	data++;
	size--;
	ttrpc_parser_init(&p, 1 << 16);
	for (size_t off = 0; off < size; off += step)
		if (ttrpc_parser_feed(&p, data + off, MIN(step, size - off), on_frame, NULL) < 0)
			break;
	ttrpc_parser_reset(&p);
	return 0;
}
