/*
 * bpf_object: open from memory, list programs and maps, set `const volatile` globals, load, close.
 */
#include "jni_util.h"
#include "log.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* How much of the verifier log BpfLoadException carries: the tail is where the reason is. */
#define VERIFIER_TAIL 4096

/*
 * The object plus its ELF image. libbpf copies what it needs while opening, but nothing in its
 * API promises that, and keeping the bytes (tens of KiB) for the object's life costs little.
 */
struct gx_object {
	struct bpf_object *obj;
	void *elf;
};

static struct bpf_object *obj_of(jlong h)
{
	return GX_PTR(struct gx_object, h)->obj;
}

static jlong JNICALL object_open(JNIEnv *env, jclass cls, jstring jname, jbyteArray jelf)
{
	gx_log_reset();
	jsize len = (*env)->GetArrayLength(env, jelf);
	struct gx_object *o = calloc(1, sizeof(*o));
	void *elf = malloc(len > 0 ? (size_t)len : 1);
	char *name = gx_strdup_utf(env, jname);
	if (!o || !elf || !name) {
		gx_throw_oom(env, "bpf object");
		goto fail;
	}
	(*env)->GetByteArrayRegion(env, jelf, 0, len, elf);

	LIBBPF_OPTS(bpf_object_open_opts, opts, .object_name = name);
	struct bpf_object *obj = bpf_object__open_mem(elf, (size_t)len, &opts);
	long err = libbpf_get_error(obj);
	if (err) {
		gx_throw_errno(env, (int)err, "open of BPF object '%s' (%d bytes) failed", name,
			       (int)len);
		goto fail;
	}
	free(name);
	o->obj = obj;
	o->elf = elf;
	return gx_handle(o);
fail:
	free(name);
	free(elf);
	free(o);
	return 0;
}

static void JNICALL object_close(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_object *o = GX_PTR(struct gx_object, h);

	if (!o)
		return;
	bpf_object__close(o->obj);
	free(o->elf);
	free(o);
}

static jstring JNICALL object_name(JNIEnv *env, jclass cls, jlong h)
{
	return gx_new_string(env, bpf_object__name(obj_of(h)));
}

/* Finds `needle`'s last occurrence in `hay`. */
static const char *last_strstr(const char *hay, const char *needle)
{
	const char *last = NULL;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		last = p;
	return last;
}

/*
 * From libbpf 1.1's warnings, the name of the program the kernel rejected: libbpf prints
 * "prog '<name>': BPF program load failed: <reason>" just before the verifier log.
 */
static char *failed_program(const char *text)
{
	const char *tail = last_strstr(text, "': BPF program load failed");
	if (!tail)
		tail = last_strstr(text, "': failed to load");
	if (!tail)
		return NULL;
	const char *start = tail;
	while (start > text && strncmp(start, "prog '", 6) != 0)
		start--;
	if (strncmp(start, "prog '", 6) != 0)
		return NULL;
	start += 6;
	return strndup(start, (size_t)(tail - start));
}

/*
 * The verifier's log as libbpf 1.1 prints it, between its BEGIN and END markers; its last
 * VERIFIER_TAIL bytes, cut at a line start. "" when there is none (the failure was elsewhere).
 */
static char *verifier_tail(const char *text)
{
	const char *end = last_strstr(text, "-- END PROG LOAD LOG --");
	if (!end)
		return strdup("");
	const char *begin = last_strstr(text, "-- BEGIN PROG LOAD LOG --\n");
	begin = (begin && begin < end) ? begin + strlen("-- BEGIN PROG LOAD LOG --\n") : text;
	if (end - begin > VERIFIER_TAIL) {
		begin = end - VERIFIER_TAIL;
		const char *nl = memchr(begin, '\n', (size_t)(end - begin));
		if (nl)
			begin = nl + 1;
	}
	return strndup(begin, (size_t)(end - begin));
}

/* The last `max` bytes of `s`, cut at a line start. */
static const char *text_tail(const char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return s;
	const char *p = s + (n - max);
	const char *nl = strchr(p, '\n');
	return nl ? nl + 1 : p;
}

static void throw_load_failure(JNIEnv *env, struct bpf_object *obj, int err)
{
	const char *text = gx_log_text();
	char *prog = failed_program(text);
	char *vlog = verifier_tail(text);
	char namebuf[16], textbuf[128];
	const char *reason = gx_strerror(err, textbuf, sizeof(textbuf));
	const char *ename = gx_errno_name(err, namebuf, sizeof(namebuf));
	char *msg = NULL;

	if (!vlog) {
		gx_throw_oom(env, "load failure message");
		goto out;
	}
	/* Without a verifier log, libbpf's own warnings say what failed (a map, a relocation). */
	const char *detail = vlog[0] ? vlog : text_tail(text, VERIFIER_TAIL);
	size_t need = strlen(detail) + 512 + (prog ? strlen(prog) : 0);
	msg = malloc(need);
	if (!msg) {
		gx_throw_oom(env, "load failure message");
		goto out;
	}
	if (prog)
		snprintf(msg, need, "load of program '%s' failed: %s (%s)%s%s", prog, reason, ename,
			 detail[0] ? "\n" : "", detail);
	else
		snprintf(msg, need, "load of BPF object '%s' failed: %s (%s)%s%s",
			 bpf_object__name(obj), reason, ename, detail[0] ? "\n" : "", detail);
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';
	gx_ascii(msg);
	gx_ascii(vlog);
	if (prog)
		gx_ascii(prog);

	jstring jmsg = (*env)->NewStringUTF(env, msg);
	jstring jprog = jmsg ? gx_new_string(env, prog) : NULL;
	jstring jlog = NULL;
	if (jmsg && !(*env)->ExceptionCheck(env))
		jlog = (*env)->NewStringUTF(env, vlog);
	if (jlog) {
		jobject ex = (*env)->NewObject(env, gx_jni.bpf_load_exception,
					       gx_jni.bpf_load_exception_init, jmsg, (jint)err,
					       jprog, jlog);
		if (ex)
			(*env)->Throw(env, ex);
	}
out:
	free(msg);
	free(vlog);
	free(prog);
}

static void JNICALL object_load(JNIEnv *env, jclass cls, jlong h)
{
	struct bpf_object *obj = obj_of(h);

	gx_log_reset();
	int err = bpf_object__load(obj);
	if (err)
		throw_load_failure(env, obj, err < 0 ? -err : err);
}

/* The programs (or maps) as an array of handles; the Java side asks each for its attributes. */
static jlongArray JNICALL object_programs(JNIEnv *env, jclass cls, jlong h)
{
	struct bpf_object *obj = obj_of(h);
	struct bpf_program *p;
	jsize n = 0, i = 0;

	bpf_object__for_each_program(p, obj) n++;
	jlongArray out = (*env)->NewLongArray(env, n);
	if (!out)
		return NULL;
	bpf_object__for_each_program(p, obj)
	{
		jlong v = gx_handle(p);
		(*env)->SetLongArrayRegion(env, out, i++, 1, &v);
	}
	return out;
}

static jlongArray JNICALL object_maps(JNIEnv *env, jclass cls, jlong h)
{
	struct bpf_object *obj = obj_of(h);
	struct bpf_map *m;
	jsize n = 0, i = 0;

	bpf_object__for_each_map(m, obj) n++;
	jlongArray out = (*env)->NewLongArray(env, n);
	if (!out)
		return NULL;
	bpf_object__for_each_map(m, obj)
	{
		jlong v = gx_handle(m);
		(*env)->SetLongArrayRegion(env, out, i++, 1, &v);
	}
	return out;
}

static jlong JNICALL object_btf(JNIEnv *env, jclass cls, jlong h)
{
	return gx_handle(bpf_object__btf(obj_of(h)));
}

/*
 * Locates a global in the object's read-only data: `const volatile` variables land in .rodata
 * (or a custom .rodata.<x> section), which BTF describes as a DATASEC listing each variable with
 * its offset and size. libbpf backs each such section with an internal map whose initial value is
 * writable until load; bpf_object__find_map_by_name() finds it by section name.
 */
static int find_constant(struct bpf_object *obj, const char *name, struct bpf_map **map,
			 __u32 *offset, __u32 *size)
{
	const struct btf *btf = bpf_object__btf(obj);
	if (!btf)
		return -ENOENT;
	__u32 n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_datasec(t))
			continue;
		const char *sec = btf__name_by_offset(btf, t->name_off);
		if (!sec || strncmp(sec, ".rodata", 7) != 0 || (sec[7] != '\0' && sec[7] != '.'))
			continue;
		const struct btf_var_secinfo *vsi = btf_var_secinfos(t);
		for (int j = 0; j < btf_vlen(t); j++, vsi++) {
			const struct btf_type *var = btf__type_by_id(btf, vsi->type);
			if (!var || !btf_is_var(var))
				continue;
			if (strcmp(btf__name_by_offset(btf, var->name_off), name) != 0)
				continue;
			*map = bpf_object__find_map_by_name(obj, sec);
			if (!*map)
				return -ENOENT;
			*offset = vsi->offset;
			*size = vsi->size;
			return 0;
		}
	}
	return -ENOENT;
}

static jint JNICALL object_constant_size(JNIEnv *env, jclass cls, jlong h, jstring jname)
{
	char *name = gx_strdup_utf(env, jname);
	if (!name)
		return -1;
	struct bpf_map *map;
	__u32 off, size;
	int err = find_constant(obj_of(h), name, &map, &off, &size);
	free(name);
	return err ? -1 : (jint)size;
}

static void JNICALL object_set_constant(JNIEnv *env, jclass cls, jlong h, jstring jname,
					jbyteArray jvalue)
{
	struct bpf_object *obj = obj_of(h);
	char *name = gx_strdup_utf(env, jname);
	if (!name)
		return;
	struct bpf_map *map;
	__u32 off, size;
	if (find_constant(obj, name, &map, &off, &size)) {
		gx_throw_illegal_argument(env, "BPF object '%s' has no const volatile global '%s'",
					  bpf_object__name(obj), name);
		goto out;
	}
	jsize len = (*env)->GetArrayLength(env, jvalue);
	if ((__u32)len != size) {
		gx_throw_illegal_argument(env, "'%s' is %u bytes, the value given is %d bytes",
					  name, size, (int)len);
		goto out;
	}
	size_t data_size = 0;
	char *data = (char *)bpf_map__initial_value(map, &data_size);
	if (!data || (size_t)off + size > data_size) {
		gx_throw_illegal_state(env, "'%s' lies outside its section's data (%u+%u > %zu)",
				       name, off, size, data_size);
		goto out;
	}
	(*env)->GetByteArrayRegion(env, jvalue, 0, len, (jbyte *)(data + off));
out:
	free(name);
}

static const JNINativeMethod methods[] = {
	{"objectOpen", "(Ljava/lang/String;[B)J", (void *)object_open},
	{"objectClose", "(J)V", (void *)object_close},
	{"objectName", "(J)Ljava/lang/String;", (void *)object_name},
	{"objectLoad", "(J)V", (void *)object_load},
	{"objectPrograms", "(J)[J", (void *)object_programs},
	{"objectMaps", "(J)[J", (void *)object_maps},
	{"objectBtf", "(J)J", (void *)object_btf},
	{"objectConstantSize", "(JLjava/lang/String;)I", (void *)object_constant_size},
	{"objectSetConstant", "(JLjava/lang/String;[B)V", (void *)object_set_constant},
};

int gx_register_object(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
