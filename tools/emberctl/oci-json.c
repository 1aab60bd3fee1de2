/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An OCI runtime-spec config.json -> Kata's protobuf Spec (oci.proto). The proto mirrors
 * the OCI names in CamelCase, so the JSON is walked along the message descriptors with
 * case-insensitive names; OCI fields that the (older) proto does not have are dropped
 * and listed, never an error: a newer config still runs.
 */
#include "emberctl.h"
#include "oci-json.h"

#include <strings.h>

static const ProtobufCFieldDescriptor *field_by_json_name(const ProtobufCMessageDescriptor *d,
							  const char *key)
{
	if (d == &grpc__spec__descriptor && streq(key, "ociVersion"))
		key = "Version";
	size_t kl = strlen(key);
	for (unsigned i = 0; i < d->n_fields; i++) {
		const char *n = d->fields[i].name;
		/* Spec.Linux is named "linux_" (gcc predefines "linux"). */
		if (strcasecmp(n, key) == 0 ||
		    (strlen(n) == kl + 1 && n[kl] == '_' && strncasecmp(n, key, kl) == 0))
			return &d->fields[i];
	}
	return NULL;
}

static bool is_map(const ProtobufCFieldDescriptor *f)
{
	if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
		return false;
	const ProtobufCMessageDescriptor *m = f->descriptor;
	return m->n_fields == 2 && streq(m->fields[0].name, "key") &&
	       streq(m->fields[1].name, "value");
}

static void note_dropped(struct oci_dropped *drop, const char *path, const char *key)
{
	if (!drop || drop->n >= OCI_DROPPED_MAX)
		return;
	snprintf(drop->names[drop->n++], sizeof(drop->names[0]), "%s%s%s", path, *path ? "." : "",
		 key);
}

/* A copy of j holding only what the descriptor knows. */
static json_object *prune(const ProtobufCMessageDescriptor *d, json_object *j, const char *path,
			  struct oci_dropped *drop)
{
	if (!json_object_is_type(j, json_type_object))
		return json_object_get(j); /* pbjson reports the type error, naming the field */
	json_object *out = json_object_new_object();
	json_object_object_foreach(j, key, val)
	{
		const ProtobufCFieldDescriptor *f = field_by_json_name(d, key);
		if (!f) {
			note_dropped(drop, path, key);
			continue;
		}
		char sub[256];
		snprintf(sub, sizeof(sub), "%s%s%s", path, *path ? "." : "", key);
		json_object *v;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE && !is_map(f)) {
			if (json_object_is_type(val, json_type_array)) {
				v = json_object_new_array();
				for (size_t i = 0; i < json_object_array_length(val); i++)
					json_object_array_add(
					    v, prune(f->descriptor,
						     json_object_array_get_idx(val, i), sub, drop));
			} else {
				v = prune(f->descriptor, val, sub, drop);
			}
		} else {
			v = json_object_get(val);
		}
		json_object_object_add(out, f->name, v);
	}
	return out;
}

int oci_json_to_spec(json_object *config, Grpc__Spec **ret, struct oci_dropped *drop, char *err,
		     size_t errsz)
{
	if (!json_object_is_type(config, json_type_object)) {
		snprintf(err, errsz, "config.json: expected a JSON object");
		return -EINVAL;
	}
	if (drop)
		drop->n = 0;
	json_object *pruned = prune(&grpc__spec__descriptor, config, "", drop);
	ProtobufCMessage *m = NULL;
	int r = pbjson_to_message(&grpc__spec__descriptor, pruned, &m, err, errsz);
	json_object_put(pruned);
	if (r < 0)
		return r;
	*ret = (Grpc__Spec *)m;
	return 0;
}

int oci_spec_fix_root(Grpc__Spec *spec, const char *bundle, char *err, size_t errsz)
{
	if (!spec->root || !spec->root->path || !*spec->root->path) {
		snprintf(err, errsz, "config.json has no root.path");
		return -EINVAL;
	}
	if (spec->root->path[0] == '/')
		return 0;
	/* OCI: a relative root.path is relative to the bundle. */
	char joined[4096], real[4096];
	snprintf(joined, sizeof(joined), "%s/%s", bundle, spec->root->path);
	if (!realpath(joined, real)) {
		snprintf(err, errsz, "root.path '%s': %s", joined, strerror(errno));
		return -errno;
	}
	char *p = strdup(real);
	if (!p)
		return -ENOMEM;
	/* protobuf-c frees unpacked strings with the allocator that made them: malloc */
	free(spec->root->path);
	spec->root->path = p;
	return 0;
}
