/* SPDX-License-Identifier: Apache-2.0 */
/*
 * JSON <-> protobuf-c messages, driven by the generated descriptors, so that emberctl can
 * send any agent RPC and print any reply. Field names are the .proto names (case
 * insensitive on input); enums take their name or number; bytes are plain JSON strings;
 * map fields are JSON objects. 64-bit integers may be given as strings.
 */
#include "emberctl.h"

#include <inttypes.h>
#include <strings.h>

static const ProtobufCFieldDescriptor *find_field(const ProtobufCMessageDescriptor *d,
						  const char *name)
{
	for (unsigned i = 0; i < d->n_fields; i++)
		if (strcasecmp(d->fields[i].name, name) == 0)
			return &d->fields[i];
	return NULL;
}

static size_t scalar_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	return 0;
}

static int json_to_int(json_object *j, int64_t *ret)
{
	if (json_object_is_type(j, json_type_int)) {
		*ret = json_object_get_int64(j);
		return 0;
	}
	if (json_object_is_type(j, json_type_string))
		return parse_i64(json_object_get_string(j), ret);
	if (json_object_is_type(j, json_type_boolean)) {
		*ret = json_object_get_boolean(j);
		return 0;
	}
	return -EINVAL;
}

static int json_to_uint(json_object *j, uint64_t *ret)
{
	if (json_object_is_type(j, json_type_int)) {
		int64_t v = json_object_get_int64(j);
		if (v < 0)
			/* json-c keeps values above INT64_MAX as uint64 */
			*ret = json_object_get_uint64(j);
		else
			*ret = (uint64_t)v;
		return 0;
	}
	if (json_object_is_type(j, json_type_string))
		return parse_u64(json_object_get_string(j), ret);
	return -EINVAL;
}

static int set_scalar(const ProtobufCFieldDescriptor *f, void *dst, json_object *j, char *err,
		      size_t errsz)
{
	int64_t i;
	uint64_t u;

	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (json_to_int(j, &i) < 0 || i < INT32_MIN || i > INT32_MAX)
			goto bad;
		*(int32_t *)dst = (int32_t)i;
		return 0;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (json_to_uint(j, &u) < 0 || u > UINT32_MAX)
			goto bad;
		*(uint32_t *)dst = (uint32_t)u;
		return 0;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		if (json_to_int(j, &i) < 0)
			goto bad;
		*(int64_t *)dst = i;
		return 0;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (json_to_uint(j, &u) < 0)
			goto bad;
		*(uint64_t *)dst = u;
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
		*(float *)dst = (float)json_object_get_double(j);
		return 0;
	case PROTOBUF_C_TYPE_DOUBLE:
		*(double *)dst = json_object_get_double(j);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (!json_object_is_type(j, json_type_boolean) &&
		    !json_object_is_type(j, json_type_int))
			goto bad;
		*(protobuf_c_boolean *)dst = json_object_get_boolean(j);
		return 0;
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *ed = f->descriptor;
		if (json_object_is_type(j, json_type_string)) {
			const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value_by_name(
			    ed, json_object_get_string(j));
			if (v) {
				*(int *)dst = v->value;
				return 0;
			}
		}
		if (json_to_int(j, &i) < 0)
			goto bad;
		*(int *)dst = (int)i;
		return 0;
	}
	case PROTOBUF_C_TYPE_STRING: {
		if (!json_object_is_type(j, json_type_string))
			goto bad;
		char *s = strdup(json_object_get_string(j));
		if (!s)
			return -ENOMEM;
		*(char **)dst = s;
		return 0;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		if (!json_object_is_type(j, json_type_string))
			goto bad;
		size_t n = (size_t)json_object_get_string_len(j);
		ProtobufCBinaryData *b = dst;
		b->data = malloc(n ? n : 1);
		if (!b->data)
			return -ENOMEM;
		memcpy(b->data, json_object_get_string(j), n);
		b->len = n;
		return 0;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		ProtobufCMessage *m = NULL;
		int r = pbjson_to_message(f->descriptor, j, &m, err, errsz);
		if (r < 0)
			return r;
		*(ProtobufCMessage **)dst = m;
		return 0;
	}
	}
bad:
	snprintf(err, errsz, "field '%s': unexpected value %s", f->name,
		 json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	return -EINVAL;
}

/* A map<K,V> field is a repeated entry message {key=1, value=2}; JSON gives an object. */
static int map_to_entries(const ProtobufCFieldDescriptor *f, json_object *obj, json_object **ret)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = find_field(ed, "key");
	json_object *arr = json_object_new_array();
	if (!arr || !kf)
		return -ENOMEM;
	json_object_object_foreach(obj, key, val)
	{
		json_object *e = json_object_new_object();
		json_object_object_add(e, "key", json_object_new_string(key));
		json_object_object_add(e, "value", json_object_get(val));
		json_object_array_add(arr, e);
	}
	*ret = arr;
	return 0;
}

static bool is_map_entry(const ProtobufCFieldDescriptor *f)
{
	if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
		return false;
	const ProtobufCMessageDescriptor *d = f->descriptor;
	size_t l = strlen(d->name);
	return l > 5 && streq(d->name + l - 5, "Entry") && d->n_fields == 2;
}

int pbjson_to_message(const ProtobufCMessageDescriptor *d, json_object *j, ProtobufCMessage **ret,
		      char *err, size_t errsz)
{
	if (!json_object_is_type(j, json_type_object)) {
		snprintf(err, errsz, "%s: expected a JSON object", d->name);
		return -EINVAL;
	}
	ProtobufCMessage *m = calloc(1, d->sizeof_message);
	if (!m)
		return -ENOMEM;
	d->message_init(m);

	json_object_object_foreach(j, key, val)
	{
		const ProtobufCFieldDescriptor *f = find_field(d, key);
		int r;
		if (!f) {
			snprintf(err, errsz, "%s has no field '%s'", d->name, key);
			protobuf_c_message_free_unpacked(m, NULL);
			return -EINVAL;
		}
		char *base = (char *)m;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			json_object *arr = val, *owned = NULL;
			if (is_map_entry(f) && json_object_is_type(val, json_type_object)) {
				r = map_to_entries(f, val, &owned);
				if (r < 0)
					goto fail;
				arr = owned;
			}
			if (!json_object_is_type(arr, json_type_array)) {
				snprintf(err, errsz, "field '%s' must be a JSON array", f->name);
				json_object_put(owned);
				r = -EINVAL;
				goto fail;
			}
			size_t n = json_object_array_length(arr), sz = scalar_size(f->type);
			void *items = calloc(n ? n : 1, sz);
			if (!items) {
				json_object_put(owned);
				r = -ENOMEM;
				goto fail;
			}
			*(void **)(base + f->offset) = items;
			size_t *count = (size_t *)(base + f->quantifier_offset);
			for (size_t i = 0; i < n; i++) {
				r = set_scalar(f, (char *)items + i * sz,
					       json_object_array_get_idx(arr, i), err, errsz);
				if (r < 0) {
					json_object_put(owned);
					goto fail;
				}
				(*count)++;
			}
			json_object_put(owned);
			continue;
		}
		r = set_scalar(f, base + f->offset, val, err, errsz);
		if (r < 0)
			goto fail;
		if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
			*(uint32_t *)(base + f->quantifier_offset) = f->id;
		else if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->quantifier_offset &&
			 f->type != PROTOBUF_C_TYPE_MESSAGE && f->type != PROTOBUF_C_TYPE_STRING)
			*(protobuf_c_boolean *)(base + f->quantifier_offset) = 1;
		continue;
	fail:
		protobuf_c_message_free_unpacked(m, NULL);
		return r;
	}
	*ret = m;
	return 0;
}

static json_object *scalar_to_json(const ProtobufCFieldDescriptor *f, const void *src)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return json_object_new_int(*(const int32_t *)src);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return json_object_new_int64(*(const uint32_t *)src);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return json_object_new_int64(*(const int64_t *)src);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return json_object_new_uint64(*(const uint64_t *)src);
	case PROTOBUF_C_TYPE_FLOAT:
		return json_object_new_double(*(const float *)src);
	case PROTOBUF_C_TYPE_DOUBLE:
		return json_object_new_double(*(const double *)src);
	case PROTOBUF_C_TYPE_BOOL:
		return json_object_new_boolean(*(const protobuf_c_boolean *)src);
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, *(const int *)src);
		return v ? json_object_new_string(v->name) : json_object_new_int(*(const int *)src);
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)src;
		return json_object_new_string(s ? s : "");
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *b = src;
		return json_object_new_string_len(b->data ? (const char *)b->data : "",
						  (int)b->len);
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)src;
		return m ? pbjson_from_message(m) : NULL;
	}
	}
	return NULL;
}

json_object *pbjson_from_message(const ProtobufCMessage *m)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	json_object *o = json_object_new_object();
	const char *base = (const char *)m;

	for (unsigned i = 0; o && i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			size_t n = *(const size_t *)(base + f->quantifier_offset);
			const char *items = *(char *const *)(base + f->offset);
			size_t sz = scalar_size(f->type);
			json_object *arr = json_object_new_array();
			for (size_t k = 0; k < n; k++)
				json_object_array_add(arr, scalar_to_json(f, items + k * sz));
			json_object_object_add(o, f->name, arr);
			continue;
		}
		if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
		    *(const uint32_t *)(base + f->quantifier_offset) != f->id)
			continue;
		json_object *v = scalar_to_json(f, base + f->offset);
		if (v)
			json_object_object_add(o, f->name, v);
	}
	return o;
}
