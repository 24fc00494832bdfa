/* Cached JNI classes/methods and the exception helpers every subsystem uses; see jni_util.h. */
#include "jni_util.h"
#include "log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gx_jni_cache gx_jni;

/* A missing class or method means the jar and the .so disagree: fail System.load loudly. */
static jclass global_class(JNIEnv *env, const char *name)
{
	jclass local = (*env)->FindClass(env, name);
	if (!local)
		return NULL; /* NoClassDefFoundError pending, naming the class */
	jclass global = (*env)->NewGlobalRef(env, local);
	(*env)->DeleteLocalRef(env, local);
	if (!global)
		gx_throw_oom(env, name);
	return global;
}

int gx_jni_cache_init(JNIEnv *env)
{
	if (!(gx_jni.bpf_exception = global_class(env, "io/gadgetexporter/bpf/BpfException")))
		return -1;
	gx_jni.bpf_exception_init = (*env)->GetMethodID(env, gx_jni.bpf_exception, "<init>",
							"(Ljava/lang/String;I)V");
	if (!gx_jni.bpf_exception_init)
		return -1;
	gx_jni.bpf_load_exception = global_class(env, "io/gadgetexporter/bpf/BpfLoadException");
	if (!gx_jni.bpf_load_exception)
		return -1;
	gx_jni.bpf_load_exception_init = (*env)->GetMethodID(
		env, gx_jni.bpf_load_exception, "<init>",
		"(Ljava/lang/String;ILjava/lang/String;Ljava/lang/String;)V");
	if (!gx_jni.bpf_load_exception_init)
		return -1;
	gx_jni.syscall_exception =
		global_class(env, "io/gadgetexporter/linux/SystemCallException");
	if (!gx_jni.syscall_exception)
		return -1;
	gx_jni.syscall_exception_init = (*env)->GetMethodID(env, gx_jni.syscall_exception, "<init>",
							    "(Ljava/lang/String;I)V");
	if (!gx_jni.syscall_exception_init)
		return -1;
	if (!(gx_jni.illegal_argument = global_class(env, "java/lang/IllegalArgumentException")))
		return -1;
	if (!(gx_jni.illegal_state = global_class(env, "java/lang/IllegalStateException")))
		return -1;
	if (!(gx_jni.out_of_memory = global_class(env, "java/lang/OutOfMemoryError")))
		return -1;
	if (!(gx_jni.string = global_class(env, "java/lang/String")))
		return -1;
	if (!(gx_jni.object = global_class(env, "java/lang/Object")))
		return -1;
	return 0;
}

void gx_jni_cache_free(JNIEnv *env)
{
	jclass *all[] = {
		&gx_jni.bpf_exception, &gx_jni.bpf_load_exception, &gx_jni.syscall_exception,
		&gx_jni.illegal_argument, &gx_jni.illegal_state,   &gx_jni.out_of_memory,
		&gx_jni.string,        &gx_jni.object,
	};

	for (int i = 0; i < GX_ARRAY_SIZE(all); i++) {
		if (*all[i])
			(*env)->DeleteGlobalRef(env, *all[i]);
		*all[i] = NULL;
	}
}

int gx_register(JNIEnv *env, const JNINativeMethod *methods, int count)
{
	jclass cls = (*env)->FindClass(env, GX_NATIVE_CLASS);
	if (!cls)
		return -1;
	jint rc = (*env)->RegisterNatives(env, cls, methods, count);
	(*env)->DeleteLocalRef(env, cls);
	return rc == 0 ? 0 : -1; /* NoSuchMethodError pending names the mismatched native */
}

/* Kernel-internal errno values that reach user space through bpf(2); glibc cannot name them. */
static const struct {
	int err;
	const char *name;
	const char *text;
} kernel_errnos[] = {
	{512, "ERESTARTSYS", "Restart system call"},
	{515, "ENOIOCTLCMD", "No ioctl command"},
	{521, "EBADHANDLE", "Illegal NFS file handle"},
	{523, "EBADCOOKIE", "Cookie is stale"},
	{524, "ENOTSUPP", "Operation is not supported"},
	{525, "ETOOSMALL", "Buffer or request is too small"},
	{527, "EBADTYPE", "Type not supported by server"},
};

const char *gx_errno_name(int err, char *buf, size_t len)
{
	if (err < 0)
		err = -err;
	const char *name = strerrorname_np(err);
	if (name)
		return name;
	for (int i = 0; i < GX_ARRAY_SIZE(kernel_errnos); i++)
		if (kernel_errnos[i].err == err)
			return kernel_errnos[i].name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

const char *gx_strerror(int err, char *buf, size_t len)
{
	if (err < 0)
		err = -err;
	for (int i = 0; i < GX_ARRAY_SIZE(kernel_errnos); i++)
		if (kernel_errnos[i].err == err)
			return kernel_errnos[i].text;
	return strerror_r(err, buf, len); /* GNU variant: returns the message, maybe not in buf */
}

/* Throws `cls(message)` via ThrowNew, or the OOM of trying. */
static void throw_simple(JNIEnv *env, jclass cls, const char *msg)
{
	if ((*env)->ExceptionCheck(env))
		return; /* keep the first exception: it names the real cause */
	(*env)->ThrowNew(env, cls, msg);
}

void gx_throw_errno(JNIEnv *env, int err, const char *fmt, ...)
{
	if ((*env)->ExceptionCheck(env))
		return;
	if (err < 0)
		err = -err;

	char what[1024], namebuf[16], textbuf[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	/* The last lines are the ones that explain; a message needs no more than a few KiB. */
	const char *warnings = gx_log_text();
	size_t wlen = strlen(warnings);
	if (wlen > 4096) {
		const char *cut = strchr(warnings + (wlen - 4096), '\n');
		warnings = cut ? cut + 1 : warnings + (wlen - 4096);
	}
	size_t need = strlen(what) + strlen(warnings) + 256;
	char *msg = malloc(need);
	if (!msg) {
		gx_throw_oom(env, "exception message");
		return;
	}
	/* libbpf's lines already start with "libbpf: ". */
	snprintf(msg, need, "%s: %s (%s)%s%s", what, gx_strerror(err, textbuf, sizeof(textbuf)),
		 gx_errno_name(err, namebuf, sizeof(namebuf)), warnings[0] ? "\n" : "", warnings);
	/* Trim the trailing newline libbpf messages end with. */
	size_t n = strlen(msg);
	while (n > 0 && msg[n - 1] == '\n')
		msg[--n] = '\0';

	gx_ascii(msg);
	jstring jmsg = (*env)->NewStringUTF(env, msg);
	free(msg);
	if (!jmsg)
		return;
	jobject ex = (*env)->NewObject(env, gx_jni.bpf_exception, gx_jni.bpf_exception_init, jmsg,
				       (jint)err);
	(*env)->DeleteLocalRef(env, jmsg);
	if (!ex)
		return;
	(*env)->Throw(env, ex);
	(*env)->DeleteLocalRef(env, ex);
}

void gx_throw_syscall(JNIEnv *env, int err, const char *hint, const char *fmt, ...)
{
	if ((*env)->ExceptionCheck(env))
		return;
	if (err < 0)
		err = -err;

	char what[1024], msg[2048], namebuf[16], textbuf[128];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(msg, sizeof(msg), "%s: %s (%s)%s%s", what, gx_strerror(err, textbuf, sizeof(textbuf)),
		 gx_errno_name(err, namebuf, sizeof(namebuf)), hint ? "; " : "", hint ? hint : "");
	gx_ascii(msg); /* a path may hold UTF-8 that modified UTF-8 cannot take */

	jstring jmsg = (*env)->NewStringUTF(env, msg);
	if (!jmsg)
		return;
	jobject ex = (*env)->NewObject(env, gx_jni.syscall_exception, gx_jni.syscall_exception_init,
				       jmsg, (jint)err);
	(*env)->DeleteLocalRef(env, jmsg);
	if (!ex)
		return;
	(*env)->Throw(env, ex);
	(*env)->DeleteLocalRef(env, ex);
}

void gx_throw_illegal_argument(JNIEnv *env, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	throw_simple(env, gx_jni.illegal_argument, msg);
}

void gx_throw_illegal_state(JNIEnv *env, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	throw_simple(env, gx_jni.illegal_state, msg);
}

void gx_throw_oom(JNIEnv *env, const char *what)
{
	char msg[256];
	snprintf(msg, sizeof(msg), "native allocation failed: %s", what);
	throw_simple(env, gx_jni.out_of_memory, msg);
}

void gx_ascii(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			*s = '?';
}

char *gx_strdup_utf(JNIEnv *env, jstring s)
{
	if (!s)
		return NULL;
	const char *utf = (*env)->GetStringUTFChars(env, s, NULL);
	if (!utf)
		return NULL; /* OOM pending */
	char *copy = strdup(utf);
	(*env)->ReleaseStringUTFChars(env, s, utf);
	if (!copy)
		gx_throw_oom(env, "string copy");
	return copy;
}

jstring gx_new_string(JNIEnv *env, const char *s)
{
	return s ? (*env)->NewStringUTF(env, s) : NULL;
}

jbyteArray gx_new_byte_array(JNIEnv *env, const void *data, size_t len)
{
	if (len > INT32_MAX) {
		gx_throw_illegal_state(env, "%zu bytes do not fit a Java array", len);
		return NULL;
	}
	jbyteArray a = (*env)->NewByteArray(env, (jsize)len);
	if (!a)
		return NULL;
	if (len)
		(*env)->SetByteArrayRegion(env, a, 0, (jsize)len, (const jbyte *)data);
	return a;
}
