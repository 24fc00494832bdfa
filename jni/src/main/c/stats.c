/*
 * Kernel-wide BPF run-time statistics. The kernel counts run_cnt/run_time_ns per program only
 * while statistics are enabled, because timing every run costs a little; BPF_ENABLE_STATS turns
 * them on for as long as the returned fd stays open (the sysctl kernel.bpf_stats_enabled is the
 * global switch; the fd is a reference that cannot be leaked past our process).
 */
#include "jni_util.h"
#include "log.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <unistd.h>

static jint JNICALL stats_enable(JNIEnv *env, jclass cls)
{
	gx_log_reset();
	int fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (fd < 0)
		gx_throw_errno(env, fd, "BPF_ENABLE_STATS(BPF_STATS_RUN_TIME)");
	return fd;
}

/* Closes a descriptor this library handed out (stats, sockets). Returns 0 or -errno. */
static jint JNICALL close_fd(JNIEnv *env, jclass cls, jint fd)
{
	return close(fd) < 0 ? -errno : 0;
}

static const JNINativeMethod methods[] = {
	{"statsEnable", "()I", (void *)stats_enable},
	{"closeFd", "(I)I", (void *)close_fd},
};

int gx_register_stats(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
