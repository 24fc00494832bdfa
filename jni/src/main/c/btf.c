/*
 * Struct layouts from BTF, so Java decodes events without hand-written offsets.
 *
 * The result crosses JNI as two flat arrays instead of Java objects built from C: an int[] of
 * numbers and a String[] of names, which BtfStruct/BtfField reassemble (see Btf.java). The field
 * kind codes below are the ordinals of BtfField.Kind and must stay in that order.
 */
#include "jni_util.h"
#include "log.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

enum field_kind { /* = BtfField.Kind ordinals */
	K_INT,
	K_CHAR,
	K_BOOL,
	K_ENUM,
	K_FLOAT,
	K_POINTER,
	K_ARRAY,
	K_STRUCT,
	K_UNION,
	K_OTHER,
};

/* int[] layout: struct size, field count, then FIELD_INTS per field in this order. */
enum { F_OFFSET, F_SIZE, F_KIND, F_SIGNED, F_ELEM_KIND, F_ELEM_SIZE, F_ELEM_COUNT, F_BIT_OFFSET,
       F_BIT_SIZE, FIELD_INTS };
/* String[] layout: struct name, then FIELD_STRINGS per field. */
enum { S_NAME, S_TYPEDEF, S_TYPE_NAME, S_ELEM_TYPEDEF, FIELD_STRINGS };

struct resolved {
	int kind;
	const char *typedef_name; /* outermost typedef met while peeling, or NULL */
	const char *type_name;    /* the concrete type's name ("" when anonymous) */
	const char *elem_typedef; /* ARRAY: the typedef the element type was declared with */
	__u32 id;                 /* the concrete type */
	__s64 size;
	int is_signed;
	int elem_kind;
	__s64 elem_size;
	__u32 elem_count;
	int int_bits; /* INT only: value bits, for old-style (non-kflag) bitfields */
};

static const char *name_of(const struct btf *btf, const struct btf_type *t)
{
	const char *s = btf__name_by_offset(btf, t->name_off);
	return s ? s : "";
}

/* Peels typedefs and qualifiers: the first typedef met is the one the field was declared with. */
static void peel(const struct btf *btf, __u32 id, struct resolved *r)
{
	r->typedef_name = NULL;
	for (int hops = 0; hops < 64; hops++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!t)
			break;
		switch (btf_kind(t)) {
		case BTF_KIND_TYPEDEF:
			if (!r->typedef_name)
				r->typedef_name = name_of(btf, t);
			id = t->type;
			continue;
		case BTF_KIND_CONST:
		case BTF_KIND_VOLATILE:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
			id = t->type;
			continue;
		default:
			break;
		}
		break;
	}
	r->id = id;
}

static void classify(const struct btf *btf, __u32 id, struct resolved *r)
{
	peel(btf, id, r);
	const struct btf_type *t = btf__type_by_id(btf, r->id);
	r->size = btf__resolve_size(btf, r->id);
	if (r->size < 0)
		r->size = 0;
	r->is_signed = 0;
	r->elem_kind = -1;
	r->elem_size = 0;
	r->elem_count = 0;
	r->int_bits = 0;
	r->type_name = "";
	r->elem_typedef = NULL;
	if (!t || r->id == 0) { /* void */
		r->kind = K_OTHER;
		r->type_name = "void";
		return;
	}
	r->type_name = name_of(btf, t);
	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		__u8 enc = btf_int_encoding(t);
		r->is_signed = (enc & BTF_INT_SIGNED) != 0;
		r->int_bits = btf_int_bits(t);
		if (enc & BTF_INT_BOOL)
			r->kind = K_BOOL;
		else if (strcmp(r->type_name, "char") == 0)
			r->kind = K_CHAR; /* plain char is text; signed/unsigned char are bytes */
		else
			r->kind = K_INT;
		break;
	}
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		r->kind = K_ENUM;
		/* kflag: signed, set by newer compilers for enums with negative values */
		r->is_signed = btf_kflag(t);
		break;
	case BTF_KIND_FLOAT:
		r->kind = K_FLOAT;
		r->is_signed = 1;
		break;
	case BTF_KIND_PTR:
		r->kind = K_POINTER;
		break;
	case BTF_KIND_STRUCT:
		r->kind = K_STRUCT;
		break;
	case BTF_KIND_UNION:
		r->kind = K_UNION;
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *arr = btf_array(t);
		struct resolved elem;
		classify(btf, arr->type, &elem);
		r->kind = K_ARRAY;
		r->elem_kind = elem.kind;
		r->elem_size = elem.size;
		r->elem_count = arr->nelems;
		r->is_signed = elem.is_signed;
		r->type_name = elem.type_name; /* arrays are anonymous: name the element type */
		r->elem_typedef = elem.typedef_name;
		break;
	}
	default:
		r->kind = K_OTHER;
		break;
	}
}

/* The struct called `name`, or one a typedef of that name stands for; 0 when there is none. */
static __u32 find_struct(const struct btf *btf, const char *name)
{
	__s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_STRUCT);
	if (id > 0)
		return (__u32)id;
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id <= 0)
		return 0;
	struct resolved r;
	peel(btf, (__u32)id, &r);
	const struct btf_type *t = btf__type_by_id(btf, r.id);
	return t && btf_is_struct(t) ? r.id : 0;
}

static jobjectArray JNICALL btf_struct(JNIEnv *env, jclass cls, jlong h, jstring jname)
{
	const struct btf *btf = GX_PTR(const struct btf, h);
	char *name = gx_strdup_utf(env, jname);
	if (!name)
		return NULL;
	__u32 id = find_struct(btf, name);
	free(name);
	if (!id)
		return NULL;

	const struct btf_type *t = btf__type_by_id(btf, id);
	int nfields = btf_vlen(t);
	jint *nums = calloc(2 + (size_t)nfields * FIELD_INTS, sizeof(jint));
	jobjectArray out = NULL, strs = NULL;
	jintArray jnums = NULL;
	if (!nums) {
		gx_throw_oom(env, "btf struct");
		return NULL;
	}
	strs = (*env)->NewObjectArray(env, 1 + nfields * FIELD_STRINGS, gx_jni.string, NULL);
	if (!strs)
		goto out;

	nums[0] = (jint)t->size;
	nums[1] = nfields;
	jstring jstruct_name = gx_new_string(env, name_of(btf, t));
	if (!jstruct_name)
		goto out;
	(*env)->SetObjectArrayElement(env, strs, 0, jstruct_name);
	(*env)->DeleteLocalRef(env, jstruct_name);

	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < nfields; i++, m++) {
		struct resolved r;
		classify(btf, m->type, &r);
		__u32 bit_off = btf_member_bit_offset(t, (__u32)i);
		__u32 bit_size = btf_member_bitfield_size(t, (__u32)i);
		/* Old-style bitfields (no kflag) show as an INT narrower than its storage. */
		if (!bit_size && r.kind == K_INT && r.int_bits && r.int_bits != r.size * 8)
			bit_size = (__u32)r.int_bits;
		jint *f = nums + 2 + (size_t)i * FIELD_INTS;
		f[F_OFFSET] = (jint)(bit_off / 8);
		f[F_SIZE] = (jint)r.size;
		f[F_KIND] = r.kind;
		f[F_SIGNED] = r.is_signed;
		f[F_ELEM_KIND] = r.elem_kind;
		f[F_ELEM_SIZE] = (jint)r.elem_size;
		f[F_ELEM_COUNT] = (jint)r.elem_count;
		f[F_BIT_OFFSET] = (jint)bit_off;
		f[F_BIT_SIZE] = (jint)bit_size;

		const char *s[FIELD_STRINGS] = {
			btf__name_by_offset(btf, m->name_off),
			r.typedef_name,
			r.type_name,
			r.elem_typedef,
		};
		for (int k = 0; k < FIELD_STRINGS; k++) {
			if (!s[k])
				continue;
			jstring js = gx_new_string(env, s[k]);
			if (!js)
				goto out;
			(*env)->SetObjectArrayElement(env, strs, 1 + i * FIELD_STRINGS + k, js);
			(*env)->DeleteLocalRef(env, js);
		}
	}

	jsize n = (jsize)(2 + (size_t)nfields * FIELD_INTS);
	if (!(jnums = (*env)->NewIntArray(env, n)))
		goto out;
	(*env)->SetIntArrayRegion(env, jnums, 0, n, nums);
	if (!(out = (*env)->NewObjectArray(env, 2, gx_jni.object, NULL)))
		goto out;
	(*env)->SetObjectArrayElement(env, out, 0, jnums);
	(*env)->SetObjectArrayElement(env, out, 1, strs);
out:
	free(nums);
	return out;
}

/*
 * The enumerators of `enum name` (ENUM or ENUM64) as {long[] values, String[] names}, or NULL when
 * there is no such enum. Used for kernel enums whose values change between versions
 * (enum skb_drop_reason): userspace names them from the running kernel's BTF.
 */
static jobjectArray JNICALL btf_enum_values(JNIEnv *env, jclass cls, jlong h, jstring jname)
{
	const struct btf *btf = GX_PTR(const struct btf, h);
	char *name = gx_strdup_utf(env, jname);
	if (!name)
		return NULL;
	__s32 id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM);
	if (id <= 0)
		id = btf__find_by_name_kind(btf, name, BTF_KIND_ENUM64);
	free(name);
	if (id <= 0)
		return NULL;

	const struct btf_type *t = btf__type_by_id(btf, (__u32)id);
	int n = btf_vlen(t);
	bool signed_values = btf_kflag(t);
	jlong *values = calloc(n ? (size_t)n : 1, sizeof(jlong));
	jobjectArray out = NULL, names = NULL;
	jlongArray jvalues = NULL;
	if (!values) {
		gx_throw_oom(env, "btf enum");
		return NULL;
	}
	if (!(names = (*env)->NewObjectArray(env, n, gx_jni.string, NULL)))
		goto out;
	for (int i = 0; i < n; i++) {
		const char *s;
		if (btf_is_enum(t)) {
			const struct btf_enum *e = btf_enum(t) + i;
			values[i] = signed_values ? (jlong)(__s32)e->val : (jlong)(__u32)e->val;
			s = btf__name_by_offset(btf, e->name_off);
		} else {
			const struct btf_enum64 *e = btf_enum64(t) + i;
			values[i] = (jlong)btf_enum64_value(e);
			s = btf__name_by_offset(btf, e->name_off);
		}
		jstring js = gx_new_string(env, s ? s : "");
		if (!js)
			goto out;
		(*env)->SetObjectArrayElement(env, names, i, js);
		(*env)->DeleteLocalRef(env, js);
	}
	if (!(jvalues = (*env)->NewLongArray(env, n)))
		goto out;
	(*env)->SetLongArrayRegion(env, jvalues, 0, n, values);
	if (!(out = (*env)->NewObjectArray(env, 2, gx_jni.object, NULL)))
		goto out;
	(*env)->SetObjectArrayElement(env, out, 0, jvalues);
	(*env)->SetObjectArrayElement(env, out, 1, names);
out:
	free(values);
	return out;
}

static jlong JNICALL btf_load_vmlinux(JNIEnv *env, jclass cls)
{
	gx_log_reset();
	struct btf *btf = btf__load_vmlinux_btf();
	long err = libbpf_get_error(btf);
	if (err) {
		gx_throw_errno(env, (int)err, "loading the kernel's BTF (/sys/kernel/btf/vmlinux)");
		return 0;
	}
	return gx_handle(btf);
}

static void JNICALL btf_free(JNIEnv *env, jclass cls, jlong h)
{
	btf__free(GX_PTR(struct btf, h));
}

static const JNINativeMethod methods[] = {
	{"btfStruct", "(JLjava/lang/String;)[Ljava/lang/Object;", (void *)btf_struct},
	{"btfEnum", "(JLjava/lang/String;)[Ljava/lang/Object;", (void *)btf_enum_values},
	{"btfLoadVmlinux", "()J", (void *)btf_load_vmlinux},
	{"btfFree", "(J)V", (void *)btf_free},
};

int gx_register_btf(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
