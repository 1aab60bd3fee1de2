/* SPDX-License-Identifier: Apache-2.0 */
/* OCI config.json -> Kata's protobuf Spec (pure; unit-tested in tests/unit). */
#pragma once

#include "oci.pb-c.h"

#include <json-c/json.h>

#define OCI_DROPPED_MAX 32

/* The OCI fields the proto cannot carry, as dotted paths ("process.user.umask"). */
struct oci_dropped {
	size_t n;
	char names[OCI_DROPPED_MAX][96];
};

/* Converts; free *ret with protobuf_c_message_free_unpacked. Errors name the field. */
int oci_json_to_spec(json_object *config, Grpc__Spec **ret, struct oci_dropped *drop, char *err,
		     size_t errsz);
/* Makes a relative root.path absolute against the bundle directory. */
int oci_spec_fix_root(Grpc__Spec *spec, const char *bundle, char *err, size_t errsz);
