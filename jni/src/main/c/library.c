/* Library-wide facts: libbpf version, possible CPUs, errno names, clocks. */
#include "jni_util.h"

#include <bpf/libbpf.h>
#include <time.h>
#include <unistd.h>

static jstring JNICALL libbpf_version(JNIEnv *env, jclass cls)
{
	return gx_new_string(env, libbpf_version_string());
}

/* Per-CPU maps hold one value slot per *possible* CPU (not online): this is that count. */
static jint JNICALL possible_cpus(JNIEnv *env, jclass cls)
{
	return libbpf_num_possible_cpus(); /* or -errno */
}

static jint JNICALL page_size(JNIEnv *env, jclass cls)
{
	return (jint)sysconf(_SC_PAGESIZE);
}

static jstring JNICALL errno_name(JNIEnv *env, jclass cls, jint err)
{
	char buf[16];
	return gx_new_string(env, gx_errno_name(err, buf, sizeof(buf)));
}

static jstring JNICALL errno_text(JNIEnv *env, jclass cls, jint err)
{
	char buf[128];
	return gx_new_string(env, gx_strerror(err, buf, sizeof(buf)));
}

static jlong clock_nanos(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (jlong)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* CLOCK_BOOTTIME is what bpf_ktime_get_boot_ns() reads: it keeps counting through suspend. */
static jlong JNICALL boottime_nanos(JNIEnv *env, jclass cls)
{
	return clock_nanos(CLOCK_BOOTTIME);
}

static jlong JNICALL realtime_nanos(JNIEnv *env, jclass cls)
{
	return clock_nanos(CLOCK_REALTIME);
}

static jlong JNICALL monotonic_nanos(JNIEnv *env, jclass cls)
{
	return clock_nanos(CLOCK_MONOTONIC);
}

static const JNINativeMethod methods[] = {
	{"libbpfVersion", "()Ljava/lang/String;", (void *)libbpf_version},
	{"possibleCpus", "()I", (void *)possible_cpus},
	{"pageSize", "()I", (void *)page_size},
	{"errnoName", "(I)Ljava/lang/String;", (void *)errno_name},
	{"errnoText", "(I)Ljava/lang/String;", (void *)errno_text},
	{"boottimeNanos", "()J", (void *)boottime_nanos},
	{"realtimeNanos", "()J", (void *)realtime_nanos},
	{"monotonicNanos", "()J", (void *)monotonic_nanos},
};

int gx_register_library(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
