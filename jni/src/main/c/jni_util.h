/*
 * Shared JNI plumbing: cached classes and method ids, exception helpers, small array helpers.
 *
 * Rules every native in this library follows (see STYLE.md, "JNI glue"):
 *  - setup calls (open, load, attach, ...) report failure by throwing and return at once after it;
 *  - hot calls (ring buffer drain/poll) never throw: they return >= 0 or -errno;
 *  - after any JNI call that can raise an exception, check before making another JNI call.
 */
#ifndef GX_JNI_UTIL_H
#define GX_JNI_UTIL_H

#include <jni.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The Java class holding every native method, in JNI's slash notation. */
#define GX_NATIVE_CLASS "io/gadgetexporter/bpf/internal/Native"

/* Classes and constructors cached in JNI_OnLoad. Global refs, valid for the library's life. */
struct gx_jni_cache {
	jclass bpf_exception;          /* io.gadgetexporter.bpf.BpfException */
	jmethodID bpf_exception_init;  /* (String message, int errno) */
	jclass bpf_load_exception;     /* io.gadgetexporter.bpf.BpfLoadException */
	/* (String message, int errno, String program, String log) */
	jmethodID bpf_load_exception_init;
	jclass syscall_exception;      /* io.gadgetexporter.linux.SystemCallException */
	jmethodID syscall_exception_init; /* (String message, int errno) */
	jclass illegal_argument;       /* java.lang.IllegalArgumentException */
	jclass illegal_state;          /* java.lang.IllegalStateException */
	jclass out_of_memory;          /* java.lang.OutOfMemoryError */
	jclass string;                 /* java.lang.String */
	jclass object;                 /* java.lang.Object */
};

extern struct gx_jni_cache gx_jni;

/* Fills gx_jni; returns 0, or -1 with a pending exception naming what is missing. */
int gx_jni_cache_init(JNIEnv *env);
void gx_jni_cache_free(JNIEnv *env);

/*
 * Registers `count` natives of the Native class. Each subsystem file owns its table and calls
 * this from its gx_register_<subsystem>() function; returns 0 or -1 with an exception pending.
 */
int gx_register(JNIEnv *env, const JNINativeMethod *methods, int count);

/*
 * Throws BpfException with "<formatted message>: <strerror> (<ENAME>)", followed by the libbpf
 * warnings printed on this thread since the native call began (see log.h), if any.
 * `err` is a positive errno; a negative one is accepted and negated (libbpf returns -errno).
 */
void gx_throw_errno(JNIEnv *env, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * Throws io.gadgetexporter.linux.SystemCallException with "<formatted call>: <strerror> (<ENAME>)",
 * then "; <hint>" when `hint` is not NULL (what the errno means for this call, e.g. the kernel
 * version that added a flag). For the plain system calls of io.gadgetexporter.linux, where libbpf
 * plays no part and a BpfException would mislead.
 */
void gx_throw_syscall(JNIEnv *env, int err, const char *hint, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void gx_throw_illegal_argument(JNIEnv *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gx_throw_illegal_state(JNIEnv *env, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void gx_throw_oom(JNIEnv *env, const char *what);

/* "EPERM" for 1, "E<n>" for numbers glibc has no name for (e.g. the kernel-internal 524). */
const char *gx_errno_name(int err, char *buf, size_t len);
/* "Operation not permitted", or a description for kernel-internal values glibc lacks. */
const char *gx_strerror(int err, char *buf, size_t len);

/*
 * Replaces bytes >= 0x80 with '?'. Text from libbpf and the verifier (which quotes source lines)
 * may hold UTF-8 that JNI's modified UTF-8 cannot take (4-byte sequences); messages stay ASCII.
 */
void gx_ascii(char *s);

/*
 * Copies a Java String to a malloc'ed, NUL-terminated modified-UTF-8 C string. NULL in gives NULL
 * out without an exception; a failed copy returns NULL with OutOfMemoryError pending, so callers
 * that accept null strings check (*env)->ExceptionCheck.
 */
char *gx_strdup_utf(JNIEnv *env, jstring s);

/* New Java String from a C string (NULL gives null). */
jstring gx_new_string(JNIEnv *env, const char *s);

/* New byte[] holding `len` bytes at `data`; NULL with an exception pending on failure. */
jbyteArray gx_new_byte_array(JNIEnv *env, const void *data, size_t len);

/* Pointer <-> jlong handle, in one place so the casts are not scattered. */
static inline jlong gx_handle(const void *p) { return (jlong)(uintptr_t)p; }
#define GX_PTR(type, h) ((type *)(uintptr_t)(h))

#define GX_ARRAY_SIZE(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Subsystem registration entry points, called from JNI_OnLoad (onload.c). */
int gx_register_library(JNIEnv *env);
int gx_register_object(JNIEnv *env);
int gx_register_program(JNIEnv *env);
int gx_register_map(JNIEnv *env);
int gx_register_ringbuf(JNIEnv *env);
int gx_register_btf(JNIEnv *env);
int gx_register_probe(JNIEnv *env);
int gx_register_stats(JNIEnv *env);
int gx_register_elf(JNIEnv *env);
int gx_register_socket(JNIEnv *env);
int gx_register_fanotify(JNIEnv *env);

#endif
