/*
 * bpf_program attributes, the ways to attach one, the links that keep it attached, BPF iterator
 * runs (in the caller's network namespace or another's), and per-program run statistics.
 */
#include "jni_util.h"
#include "link.h"
#include "log.h"
#include "netns.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif
#ifndef SO_DETACH_BPF
#define SO_DETACH_BPF 27 /* same as SO_DETACH_FILTER: a socket has one filter */
#endif

/* An iterator's output beyond this is a runaway program, not a snapshot. */
#define ITER_MAX_OUTPUT (256u << 20)

static struct bpf_program *prog_of(jlong h)
{
	return GX_PTR(struct bpf_program, h);
}

static jstring JNICALL program_name(JNIEnv *env, jclass cls, jlong h)
{
	return gx_new_string(env, bpf_program__name(prog_of(h)));
}

static jstring JNICALL program_section(JNIEnv *env, jclass cls, jlong h)
{
	return gx_new_string(env, bpf_program__section_name(prog_of(h)));
}

static jint JNICALL program_type(JNIEnv *env, jclass cls, jlong h)
{
	return (jint)bpf_program__type(prog_of(h));
}

static jstring JNICALL program_type_name(JNIEnv *env, jclass cls, jint type)
{
	const char *s = libbpf_bpf_prog_type_str((enum bpf_prog_type)type);
	return gx_new_string(env, s ? s : "unknown");
}

/* The fd, or -1 before load (libbpf says -ENOENT/-EINVAL there; Java wants one value). */
static jint JNICALL program_fd(JNIEnv *env, jclass cls, jlong h)
{
	int fd = bpf_program__fd(prog_of(h));
	return fd < 0 ? -1 : fd;
}

static jboolean JNICALL program_autoload(JNIEnv *env, jclass cls, jlong h)
{
	return bpf_program__autoload(prog_of(h)) ? JNI_TRUE : JNI_FALSE;
}

static void JNICALL program_set_autoload(JNIEnv *env, jclass cls, jlong h, jboolean on)
{
	gx_log_reset();
	int err = bpf_program__set_autoload(prog_of(h), on == JNI_TRUE);
	if (err)
		gx_throw_errno(env, err, "setAutoload of program '%s'",
			       bpf_program__name(prog_of(h)));
}

/* Wraps a libbpf link, or throws for a failed attach; `what` describes the attach point. */
static jlong wrap_link(JNIEnv *env, struct bpf_program *prog, struct bpf_link *link,
		       const char *what)
{
	long err = libbpf_get_error(link);
	if (err) {
		gx_throw_errno(env, (int)err, "attach of program '%s' %s failed",
			       bpf_program__name(prog), what);
		return 0;
	}
	struct gx_link *l = calloc(1, sizeof(*l));
	if (!l) {
		bpf_link__destroy(link);
		gx_throw_oom(env, "link");
		return 0;
	}
	l->kind = GX_LINK_LIBBPF;
	l->link = link;
	return gx_handle(l);
}

static jlong JNICALL program_attach(JNIEnv *env, jclass cls, jlong h)
{
	struct bpf_program *prog = prog_of(h);
	char what[512];

	gx_log_reset();
	snprintf(what, sizeof(what), "by its section '%s'", bpf_program__section_name(prog));
	return wrap_link(env, prog, bpf_program__attach(prog), what);
}

static jlong JNICALL program_attach_tracepoint(JNIEnv *env, jclass cls, jlong h, jstring jcat,
					       jstring jname)
{
	struct bpf_program *prog = prog_of(h);
	char *cat = gx_strdup_utf(env, jcat);
	char *name = gx_strdup_utf(env, jname);
	jlong r = 0;

	gx_log_reset();
	if (cat && name) {
		char what[512];
		snprintf(what, sizeof(what), "to tracepoint %s/%s", cat, name);
		r = wrap_link(env, prog, bpf_program__attach_tracepoint(prog, cat, name), what);
	}
	free(cat);
	free(name);
	return r;
}

static jlong JNICALL program_attach_raw_tracepoint(JNIEnv *env, jclass cls, jlong h, jstring jname)
{
	struct bpf_program *prog = prog_of(h);
	char *name = gx_strdup_utf(env, jname);
	jlong r = 0;

	gx_log_reset();
	if (name) {
		char what[512];
		snprintf(what, sizeof(what), "to raw tracepoint %s", name);
		r = wrap_link(env, prog, bpf_program__attach_raw_tracepoint(prog, name), what);
	}
	free(name);
	return r;
}

/*
 * `func` (may be null) names a symbol in `path` that libbpf resolves to a file offset; `offset`
 * is then relative to it. Without `func`, `offset` is the file offset of the probed instruction.
 */
static jlong JNICALL program_attach_uprobe(JNIEnv *env, jclass cls, jlong h, jboolean retprobe,
					   jint pid, jstring jpath, jlong offset, jstring jfunc)
{
	struct bpf_program *prog = prog_of(h);
	char *path = gx_strdup_utf(env, jpath);
	char *func = gx_strdup_utf(env, jfunc);
	jlong r = 0;

	gx_log_reset();
	if (path && !(*env)->ExceptionCheck(env)) {
		char what[1024];
		LIBBPF_OPTS(bpf_uprobe_opts, opts, .retprobe = retprobe == JNI_TRUE,
			    .func_name = func);
		snprintf(what, sizeof(what), "to %s %s:%s+0x%llx (pid %d)",
			 retprobe ? "uretprobe" : "uprobe", path, func ? func : "",
			 (unsigned long long)offset, (int)pid);
		struct bpf_link *link =
			bpf_program__attach_uprobe_opts(prog, pid, path, (size_t)offset, &opts);
		r = wrap_link(env, prog, link, what);
	}
	free(path);
	free(func);
	return r;
}

static jlong JNICALL program_attach_iterator(JNIEnv *env, jclass cls, jlong h)
{
	struct bpf_program *prog = prog_of(h);

	gx_log_reset();
	return wrap_link(env, prog, bpf_program__attach_iter(prog, NULL), "as an iterator");
}

/*
 * Samples on one CPU with the software cpu-clock event: it needs no hardware PMU, so it works in
 * VMs. libbpf's perf link owns the perf fd from here on and closes it when the link is destroyed.
 */
static jlong JNICALL program_attach_perf_event(JNIEnv *env, jclass cls, jlong h, jint cpu,
					       jlong freq)
{
	struct bpf_program *prog = prog_of(h);
	char what[128];

	gx_log_reset();
	snprintf(what, sizeof(what), "to cpu-clock on CPU %d at %lld Hz", (int)cpu,
		 (long long)freq);
	if (cpu < 0 || freq <= 0) {
		gx_throw_illegal_argument(env,
					  "attach of program '%s' %s: need cpu >= 0, frequency > 0",
					  bpf_program__name(prog), what);
		return 0;
	}
	struct perf_event_attr attr = {
		.type = PERF_TYPE_SOFTWARE,
		.size = sizeof(attr),
		.config = PERF_COUNT_SW_CPU_CLOCK,
		.freq = 1,
		.sample_freq = (__u64)freq,
	};
	int pfd = (int)syscall(__NR_perf_event_open, &attr, -1 /* every task */, (int)cpu,
			       -1 /* no group */, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0) {
		gx_throw_errno(env, errno, "perf_event_open for program '%s' %s",
			       bpf_program__name(prog), what);
		return 0;
	}
	struct bpf_link *link = bpf_program__attach_perf_event(prog, pfd);
	long err = libbpf_get_error(link);
	if (err) {
		close(pfd); /* not owned by libbpf on failure */
		gx_throw_errno(env, (int)err, "attach of program '%s' %s failed",
			       bpf_program__name(prog), what);
		return 0;
	}
	return wrap_link(env, prog, link, what);
}

/*
 * SO_ATTACH_BPF on a socket the caller owns. The returned handle detaches with SO_DETACH_BPF, so
 * it must be closed before the socket is (a reused descriptor number would lose its filter).
 */
static jlong JNICALL program_attach_socket_filter(JNIEnv *env, jclass cls, jlong h, jint sock_fd)
{
	struct bpf_program *prog = prog_of(h);
	int prog_fd = bpf_program__fd(prog);

	gx_log_reset();
	if (prog_fd < 0) {
		gx_throw_illegal_state(env, "program '%s' is not loaded", bpf_program__name(prog));
		return 0;
	}
	if (setsockopt(sock_fd, SOL_SOCKET, SO_ATTACH_BPF, &prog_fd, sizeof(prog_fd)) < 0) {
		gx_throw_errno(env, errno, "attach of program '%s' to socket fd %d failed",
			       bpf_program__name(prog), (int)sock_fd);
		return 0;
	}
	struct gx_link *l = calloc(1, sizeof(*l));
	if (!l) {
		setsockopt(sock_fd, SOL_SOCKET, SO_DETACH_BPF, &prog_fd, sizeof(prog_fd));
		gx_throw_oom(env, "link");
		return 0;
	}
	l->kind = GX_LINK_SOCKET_FILTER;
	l->sock_fd = sock_fd;
	return gx_handle(l);
}

/* Returns 0 or -errno; the Java side decides whether a failed detach matters (it rarely does). */
static jint JNICALL link_close(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_link *l = GX_PTR(struct gx_link, h);
	int err = 0;

	if (!l)
		return 0;
	switch (l->kind) {
	case GX_LINK_LIBBPF:
		err = bpf_link__destroy(l->link);
		break;
	case GX_LINK_SOCKET_FILTER: {
		int unused = 0;
		if (setsockopt(l->sock_fd, SOL_SOCKET, SO_DETACH_BPF, &unused, sizeof(unused)) < 0)
			err = -errno;
		break;
	}
	}
	free(l);
	return err;
}

static jint JNICALL link_fd(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_link *l = GX_PTR(struct gx_link, h);
	return l->kind == GX_LINK_LIBBPF ? bpf_link__fd(l->link) : -1;
}

/* Reads an iterator fd to EOF into a new byte[]; closes the fd. NULL with an exception pending. */
static jbyteArray read_iterator_fd(JNIEnv *env, int fd)
{
	size_t cap = 64 * 1024, len = 0;
	char *buf = malloc(cap);
	jbyteArray out = NULL;
	if (!buf) {
		gx_throw_oom(env, "iterator output");
		goto out;
	}
	for (;;) {
		if (len == cap) {
			if (cap >= ITER_MAX_OUTPUT) {
				gx_throw_errno(env, EFBIG, "iterator output exceeds %u bytes",
					       ITER_MAX_OUTPUT);
				goto out;
			}
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				gx_throw_oom(env, "iterator output");
				goto out;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			gx_throw_errno(env, errno, "read of iterator output");
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	out = gx_new_byte_array(env, buf, len);
out:
	free(buf);
	close(fd);
	return out;
}

/* One run of an iterator: a fresh iterator fd per read, read to EOF. */
static jbyteArray JNICALL iterator_read(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_link *l = GX_PTR(struct gx_link, h);

	gx_log_reset();
	int fd = bpf_iter_create(bpf_link__fd(l->link));
	if (fd < 0) {
		gx_throw_errno(env, fd, "bpf_iter_create");
		return NULL;
	}
	return read_iterator_fd(env, fd);
}

/*
 * Network-scoped iterators (tcp, udp, unix, netlink, ipv6_route) walk the sockets of the network
 * namespace of the task that makes the iterator fd: the kernel takes current's net_ns when the
 * fd is created, not when the link was. So an fd for another namespace is made inside it
 * (gx_run_in_netns); the fd keeps its namespace, so the caller's thread reads it.
 */
struct netns_iter {
	int link_fd;
	int iter_fd; /* out: the fd, or -errno */
};

static void create_iter(void *arg)
{
	struct netns_iter *c = arg;

	c->iter_fd = bpf_iter_create(c->link_fd);
}

/*
 * One run of a network-scoped iterator in the network namespace `netns` (its inode number), which
 * process `pid` is in. ESRCH when the process has gone or is in another namespace by now (the
 * caller found it in an earlier pass): not worth an error message, the caller skips it.
 */
static jbyteArray JNICALL iterator_read_in_netns(JNIEnv *env, jclass cls, jlong h, jint pid,
						 jlong netns)
{
	struct gx_link *l = GX_PTR(struct gx_link, h);
	struct netns_iter c = {.link_fd = bpf_link__fd(l->link), .iter_fd = -1};
	struct stat target;
	const char *failed;
	char path[64];
	int ns_fd, err;

	gx_log_reset();
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	ns_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		gx_throw_errno(env, errno == ENOENT ? ESRCH : errno, "open(%s)", path);
		return NULL;
	}
	if (fstat(ns_fd, &target) || (unsigned long long)target.st_ino != (unsigned long long)netns) {
		close(ns_fd);
		gx_throw_errno(env, ESRCH, "process %d is no longer in network namespace %llu",
			       (int)pid, (unsigned long long)netns);
		return NULL;
	}
	err = gx_run_in_netns(ns_fd, create_iter, &c, &failed);
	close(ns_fd);
	if (err) {
		gx_throw_errno(env, err, "%s for network namespace %llu (of process %d)%s", failed,
			       (unsigned long long)netns, (int)pid,
			       err == EPERM ? " (entering another namespace needs CAP_SYS_ADMIN)" : "");
		return NULL;
	}
	if (c.iter_fd < 0) {
		gx_throw_errno(env, c.iter_fd, "bpf_iter_create in network namespace %llu",
			       (unsigned long long)netns);
		return NULL;
	}
	return read_iterator_fd(env, c.iter_fd);
}

/* {run_cnt, run_time_ns, recursion_misses}; counted only while BPF stats are enabled. */
static jlongArray JNICALL program_stats(JNIEnv *env, jclass cls, jint fd)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	gx_log_reset();
	memset(&info, 0, sizeof(info));
	int err = bpf_obj_get_info_by_fd(fd, &info, &len);
	if (err) {
		gx_throw_errno(env, err, "bpf_obj_get_info_by_fd(program fd %d)", (int)fd);
		return NULL;
	}
	jlong v[3] = {(jlong)info.run_cnt, (jlong)info.run_time_ns, (jlong)info.recursion_misses};
	jlongArray out = (*env)->NewLongArray(env, 3);
	if (out)
		(*env)->SetLongArrayRegion(env, out, 0, 3, v);
	return out;
}

static const JNINativeMethod methods[] = {
	{"programName", "(J)Ljava/lang/String;", (void *)program_name},
	{"programSection", "(J)Ljava/lang/String;", (void *)program_section},
	{"programType", "(J)I", (void *)program_type},
	{"programTypeName", "(I)Ljava/lang/String;", (void *)program_type_name},
	{"programFd", "(J)I", (void *)program_fd},
	{"programAutoload", "(J)Z", (void *)program_autoload},
	{"programSetAutoload", "(JZ)V", (void *)program_set_autoload},
	{"programAttach", "(J)J", (void *)program_attach},
	{"programAttachTracepoint", "(JLjava/lang/String;Ljava/lang/String;)J",
	 (void *)program_attach_tracepoint},
	{"programAttachRawTracepoint", "(JLjava/lang/String;)J",
	 (void *)program_attach_raw_tracepoint},
	{"programAttachUprobe", "(JZILjava/lang/String;JLjava/lang/String;)J",
	 (void *)program_attach_uprobe},
	{"programAttachIterator", "(J)J", (void *)program_attach_iterator},
	{"programAttachPerfEvent", "(JIJ)J", (void *)program_attach_perf_event},
	{"programAttachSocketFilter", "(JI)J", (void *)program_attach_socket_filter},
	{"programStats", "(I)[J", (void *)program_stats},
	{"linkClose", "(J)I", (void *)link_close},
	{"linkFd", "(J)I", (void *)link_fd},
	{"iteratorRead", "(J)[B", (void *)iterator_read},
	{"iteratorReadInNetns", "(JIJ)[B", (void *)iterator_read_in_netns},
};

int gx_register_program(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
