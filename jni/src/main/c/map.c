/*
 * bpf_map attributes, resizing before load, and element operations on a loaded map's fd.
 * Element operations copy through Java byte[]: they serve setup and periodic reads of aggregating
 * gadgets, never the per-event path (that is the ring buffer, ringbuf.c).
 */
#include "jni_util.h"
#include "log.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef ENOTSUPP
#define ENOTSUPP 524 /* kernel-internal "operation not supported", seen through bpf(2) */
#endif

static struct bpf_map *map_of(jlong h)
{
	return GX_PTR(struct bpf_map, h);
}

static jstring JNICALL map_name(JNIEnv *env, jclass cls, jlong h)
{
	return gx_new_string(env, bpf_map__name(map_of(h)));
}

static jint JNICALL map_type(JNIEnv *env, jclass cls, jlong h)
{
	return (jint)bpf_map__type(map_of(h));
}

static jstring JNICALL map_type_name(JNIEnv *env, jclass cls, jint type)
{
	const char *s = libbpf_bpf_map_type_str((enum bpf_map_type)type);
	return gx_new_string(env, s ? s : "unknown");
}

static jint JNICALL map_key_size(JNIEnv *env, jclass cls, jlong h)
{
	return (jint)bpf_map__key_size(map_of(h));
}

static jint JNICALL map_value_size(JNIEnv *env, jclass cls, jlong h)
{
	return (jint)bpf_map__value_size(map_of(h));
}

static jint JNICALL map_max_entries(JNIEnv *env, jclass cls, jlong h)
{
	return (jint)bpf_map__max_entries(map_of(h));
}

/* The fd, or -1 before load. */
static jint JNICALL map_fd(JNIEnv *env, jclass cls, jlong h)
{
	int fd = bpf_map__fd(map_of(h));
	return fd < 0 ? -1 : fd;
}

static jboolean JNICALL map_is_internal(JNIEnv *env, jclass cls, jlong h)
{
	return bpf_map__is_internal(map_of(h)) ? JNI_TRUE : JNI_FALSE;
}

static void JNICALL map_resize(JNIEnv *env, jclass cls, jlong h, jint max_entries)
{
	gx_log_reset();
	int err = bpf_map__set_max_entries(map_of(h), (__u32)max_entries);
	if (err)
		gx_throw_errno(env, err, "resize of map '%s' to %u entries",
			       bpf_map__name(map_of(h)), (unsigned)max_entries);
}

/*
 * Pins a Java byte[] key for the duration of a syscall. Keys are a few bytes, so a copy onto the
 * stack (or heap when large) is simpler than critical sections and never blocks the GC.
 */
struct jbytes {
	jbyte *p;
	jsize len;
	jbyte small[64];
};

static int jbytes_get(JNIEnv *env, jbyteArray a, struct jbytes *b)
{
	b->len = (*env)->GetArrayLength(env, a);
	b->p = b->len <= (jsize)sizeof(b->small) ? b->small : malloc((size_t)b->len);
	if (!b->p) {
		gx_throw_oom(env, "map key/value");
		return -1;
	}
	(*env)->GetByteArrayRegion(env, a, 0, b->len, b->p);
	return 0;
}

static void jbytes_free(struct jbytes *b)
{
	if (b->p != b->small)
		free(b->p);
}

/* The value (value_len bytes; per-CPU maps: one 8-byte-aligned slot per possible CPU) or null. */
static jbyteArray JNICALL map_lookup(JNIEnv *env, jclass cls, jint fd, jbyteArray jkey,
				     jint value_len)
{
	struct jbytes key;
	jbyteArray out = NULL;

	gx_log_reset();
	if (jbytes_get(env, jkey, &key))
		return NULL;
	void *value = malloc(value_len > 0 ? (size_t)value_len : 1);
	if (!value) {
		gx_throw_oom(env, "map value");
		goto out;
	}
	int err = bpf_map_lookup_elem(fd, key.p, value);
	if (err == -ENOENT)
		goto out;
	if (err) {
		gx_throw_errno(env, err, "lookup in map fd %d", (int)fd);
		goto out;
	}
	out = gx_new_byte_array(env, value, (size_t)value_len);
out:
	free(value);
	jbytes_free(&key);
	return out;
}

static void JNICALL map_update(JNIEnv *env, jclass cls, jint fd, jbyteArray jkey,
			       jbyteArray jvalue, jlong flags)
{
	struct jbytes key, value;

	gx_log_reset();
	if (jbytes_get(env, jkey, &key))
		return;
	if (jbytes_get(env, jvalue, &value)) {
		jbytes_free(&key);
		return;
	}
	int err = bpf_map_update_elem(fd, key.p, value.p, (__u64)flags);
	if (err)
		gx_throw_errno(env, err, "update of map fd %d (flags %lld)", (int)fd,
			       (long long)flags);
	jbytes_free(&value);
	jbytes_free(&key);
}

/* true if deleted, false if absent. */
static jboolean JNICALL map_delete(JNIEnv *env, jclass cls, jint fd, jbyteArray jkey)
{
	struct jbytes key;

	gx_log_reset();
	if (jbytes_get(env, jkey, &key))
		return JNI_FALSE;
	int err = bpf_map_delete_elem(fd, key.p);
	jbytes_free(&key);
	if (err == -ENOENT)
		return JNI_FALSE;
	if (err) {
		gx_throw_errno(env, err, "delete from map fd %d", (int)fd);
		return JNI_FALSE;
	}
	return JNI_TRUE;
}

/* The key after `jkey` (the first key when null), or null after the last. */
static jbyteArray JNICALL map_next_key(JNIEnv *env, jclass cls, jint fd, jbyteArray jkey,
				       jint key_size)
{
	struct jbytes key = {.p = NULL};
	jbyteArray out = NULL;

	gx_log_reset();
	if (jkey && jbytes_get(env, jkey, &key))
		return NULL;
	void *next = malloc(key_size > 0 ? (size_t)key_size : 1);
	if (!next) {
		gx_throw_oom(env, "map key");
		goto out;
	}
	int err = bpf_map_get_next_key(fd, jkey ? key.p : NULL, next);
	if (err == -ENOENT)
		goto out;
	if (err) {
		gx_throw_errno(env, err, "next key of map fd %d", (int)fd);
		goto out;
	}
	out = gx_new_byte_array(env, next, (size_t)key_size);
out:
	free(next);
	if (jkey)
		jbytes_free(&key);
	return out;
}

/*
 * Up to `max` elements looked up and deleted in batches, written back to back into `jkeys`
 * (max * key_size bytes) and `jvalues` (max * value_len). Returns how many, or -errno when the map
 * type has no batch operation (EINVAL, ENOTSUPP, EOPNOTSUPP) or a hash bucket holds more than
 * `max` elements (ENOSPC) before anything was taken: the Java side then goes key by key.
 * Other failures throw. `jend[0]` is set to 1 when the walk reached the map's end (ENOENT), 0 when
 * it stopped for want of room (`max` reached, or the next bucket larger than what was left):
 * a caller reading "everything" goes on only then.
 */
static jint JNICALL map_lookup_and_delete_batch(JNIEnv *env, jclass cls, jint fd, jint key_size,
						jint value_len, jint max, jbyteArray jkeys,
						jbyteArray jvalues, jintArray jend)
{
	jint end = 0;

	gx_log_reset();
	char *keys = malloc((size_t)max * (size_t)key_size + 1);
	char *values = malloc((size_t)max * (size_t)value_len + 1);
	/* The batch cursor is opaque; hash maps keep a u32 bucket index, others a key. */
	size_t cursor_size = key_size > 8 ? (size_t)key_size : 8;
	char *in = calloc(2, cursor_size), *out = in ? in + cursor_size : NULL;
	jint total = 0;

	if (!keys || !values || !in) {
		gx_throw_oom(env, "batch buffers");
		goto done;
	}
	LIBBPF_OPTS(bpf_map_batch_opts, opts);
	int first = 1;
	while (total < max) {
		__u32 count = (__u32)(max - total);
		char *k = keys + (size_t)total * key_size;
		char *v = values + (size_t)total * value_len;
		int err = bpf_map_lookup_and_delete_batch(fd, first ? NULL : in, out, k, v, &count,
							  &opts);
		/*
		 * count says what was taken on success and alongside ENOENT (nothing more); on
		 * other errors it may still hold what we asked for, so it is not trusted then.
		 */
		if (!err || err == -ENOENT)
			total += (jint)count;
		if (err == -ENOENT) {
			end = 1;
			break;
		}
		if (err) {
			int unsupported = err == -EINVAL || err == -ENOTSUPP || err == -EOPNOTSUPP;
			if (total == 0 && (unsupported || err == -ENOSPC)) {
				total = err;
				goto done;
			}
			if (err == -ENOSPC)
				break; /* got some; the crowded bucket waits for the next call */
			gx_throw_errno(env, err, "lookup-and-delete batch on map fd %d", (int)fd);
			goto done;
		}
		memcpy(in, out, cursor_size);
		first = 0;
	}
	if (total > 0) {
		(*env)->SetByteArrayRegion(env, jkeys, 0, total * key_size, (jbyte *)keys);
		(*env)->SetByteArrayRegion(env, jvalues, 0, total * value_len, (jbyte *)values);
	}
	if (total >= 0)
		(*env)->SetIntArrayRegion(env, jend, 0, 1, &end);
done:
	free(keys);
	free(values);
	free(in);
	return total;
}

static const JNINativeMethod methods[] = {
	{"mapName", "(J)Ljava/lang/String;", (void *)map_name},
	{"mapType", "(J)I", (void *)map_type},
	{"mapTypeName", "(I)Ljava/lang/String;", (void *)map_type_name},
	{"mapKeySize", "(J)I", (void *)map_key_size},
	{"mapValueSize", "(J)I", (void *)map_value_size},
	{"mapMaxEntries", "(J)I", (void *)map_max_entries},
	{"mapFd", "(J)I", (void *)map_fd},
	{"mapIsInternal", "(J)Z", (void *)map_is_internal},
	{"mapResize", "(JI)V", (void *)map_resize},
	{"mapLookup", "(I[BI)[B", (void *)map_lookup},
	{"mapUpdate", "(I[B[BJ)V", (void *)map_update},
	{"mapDelete", "(I[B)Z", (void *)map_delete},
	{"mapNextKey", "(I[BI)[B", (void *)map_next_key},
	{"mapLookupAndDeleteBatch", "(IIII[B[B[I)I", (void *)map_lookup_and_delete_batch},
};

int gx_register_map(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
