/*
 * Feature probe: can this kernel, with our privileges, load and attach each kind of program?
 *
 * Each kind is decided by doing it: a two-instruction program (r0 = 0; exit) is loaded with the
 * right program type, attached to a harmless hook where attaching is cheap, then everything is
 * closed again. Reading kernel config or version numbers would guess; lockdown, missing config
 * options and seccomp are only seen by trying. The reason string says what was done or what
 * failed and how, for the agent's status output.
 *
 * Kind codes are the ordinals of io.gadgetexporter.bpf.AttachKind.
 */
#include "elf.h"
#include "jni_util.h"
#include "log.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SO_ATTACH_BPF
#define SO_ATTACH_BPF 50
#endif

enum attach_kind { /* = AttachKind ordinals */
	A_TRACEPOINT,
	A_RAW_TRACEPOINT,
	A_TP_BTF,
	A_KPROBE,
	A_FENTRY,
	A_ITERATOR,
	A_UPROBE,
	A_PERF_EVENT,
	A_SOCKET_FILTER,
};

struct result {
	int supported;
	char reason[512];
};

static void say(struct result *r, int supported, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void say(struct result *r, int supported, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	r->supported = supported;
}

/* "Operation not permitted (EPERM)" */
static const char *err_text(int err, char *buf, size_t len)
{
	char nb[16], tb[128];
	snprintf(buf, len, "%s (%s)", gx_strerror(err, tb, sizeof(tb)),
		 gx_errno_name(err, nb, sizeof(nb)));
	return buf;
}

/*
 * Loads r0 = 0; exit as `type`. On failure records "load failed: <errno>: <last verifier line>"
 * in r and returns -1.
 */
static int load_trivial(struct result *r, enum bpf_prog_type type, enum bpf_attach_type expected,
			__u32 attach_btf_id)
{
	const struct bpf_insn insns[] = {
		{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0},
		{.code = BPF_JMP | BPF_EXIT},
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = expected,
		    .attach_btf_id = attach_btf_id);
	int fd = bpf_prog_load(type, "gx_probe", "GPL", insns, GX_ARRAY_SIZE(insns), &opts);
	if (fd >= 0)
		return fd;
	int err = -fd;

	/* Again with a log, for the verifier's last words (often the real reason). */
	char log[4096] = "";
	LIBBPF_OPTS(bpf_prog_load_opts, again, .expected_attach_type = expected,
		    .attach_btf_id = attach_btf_id, .log_level = 1, .log_buf = log,
		    .log_size = sizeof(log));
	int fd2 = bpf_prog_load(type, "gx_probe", "GPL", insns, GX_ARRAY_SIZE(insns), &again);
	if (fd2 >= 0)
		close(fd2);
	size_t n = strnlen(log, sizeof(log));
	while (n > 0 && log[n - 1] == '\n')
		log[--n] = '\0';
	const char *last = strrchr(log, '\n');
	last = last ? last + 1 : log;

	char eb[160];
	say(r, 0, "load failed: %s%s%s", err_text(err, eb, sizeof(eb)), last[0] ? ": " : "", last);
	return -1;
}

static int perf_open(struct perf_event_attr *attr, int pid, int cpu)
{
	return (int)syscall(__NR_perf_event_open, attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* Reads a small integer from a sysfs/tracefs file; -1 if absent. */
static long read_number(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static long tracepoint_id(const char *category, const char *name)
{
	static const char *roots[] = {"/sys/kernel/tracing", "/sys/kernel/debug/tracing"};
	char path[256];
	for (int i = 0; i < GX_ARRAY_SIZE(roots); i++) {
		snprintf(path, sizeof(path), "%s/events/%s/%s/id", roots[i], category, name);
		long id = read_number(path);
		if (id >= 0)
			return id;
	}
	return -1;
}

/* Attaches prog_fd to an open perf event with PERF_EVENT_IOC_SET_BPF; closes pfd. */
static int set_bpf(struct result *r, int pfd, int prog_fd, const char *what)
{
	char eb[160];
	int rc = ioctl(pfd, PERF_EVENT_IOC_SET_BPF, prog_fd);
	int err = errno;
	close(pfd);
	if (rc < 0) {
		say(r, 0, "attach to %s failed: %s", what, err_text(err, eb, sizeof(eb)));
		return -1;
	}
	say(r, 1, "attached to %s", what);
	return 0;
}

static void probe_tracepoint(struct result *r)
{
	char eb[160];
	long id = tracepoint_id("syscalls", "sys_enter_getpid");
	if (id < 0) {
		say(r, 0, "no tracefs: events/syscalls/sys_enter_getpid/id not found under "
			  "/sys/kernel/tracing or /sys/kernel/debug/tracing");
		return;
	}
	int fd = load_trivial(r, BPF_PROG_TYPE_TRACEPOINT, 0, 0);
	if (fd < 0)
		return;
	struct perf_event_attr attr = {.type = PERF_TYPE_TRACEPOINT, .size = sizeof(attr),
				       .config = (__u64)id, .sample_period = 1, .wakeup_events = 1};
	int pfd = perf_open(&attr, -1, 0);
	if (pfd < 0)
		say(r, 0, "perf_event_open(tracepoint syscalls/sys_enter_getpid) failed: %s",
		    err_text(errno, eb, sizeof(eb)));
	else
		set_bpf(r, pfd, fd, "tracepoint syscalls/sys_enter_getpid");
	close(fd);
}

static void probe_raw_tracepoint(struct result *r)
{
	char eb[160];
	int fd = load_trivial(r, BPF_PROG_TYPE_RAW_TRACEPOINT, 0, 0);
	if (fd < 0)
		return;
	int link = bpf_raw_tracepoint_open("sys_enter", fd);
	if (link < 0)
		say(r, 0, "attach to raw tracepoint sys_enter failed: %s",
		    err_text(-link, eb, sizeof(eb)));
	else {
		say(r, 1, "attached to raw tracepoint sys_enter");
		close(link);
	}
	close(fd);
}

/* BTF-typed programs (tp_btf, fentry, iterators) name their target by a vmlinux BTF id. */
static int vmlinux_id(struct result *r, const struct btf *vmlinux, const char *name, __u32 kind)
{
	if (!vmlinux) {
		say(r, 0, "no kernel BTF (/sys/kernel/btf/vmlinux): needs CONFIG_DEBUG_INFO_BTF");
		return -1;
	}
	int id = btf__find_by_name_kind(vmlinux, name, kind);
	if (id <= 0)
		say(r, 0, "kernel BTF has no %s", name);
	return id > 0 ? id : -1;
}

/* TRACING programs attach through BPF_RAW_TRACEPOINT_OPEN with no name (the target is in BTF). */
static void probe_tracing(struct result *r, const struct btf *vmlinux, const char *target,
			  __u32 btf_kind, enum bpf_attach_type type, const char *what)
{
	char eb[160];
	int id = vmlinux_id(r, vmlinux, target, btf_kind);
	if (id < 0)
		return;
	int fd = load_trivial(r, BPF_PROG_TYPE_TRACING, type, (__u32)id);
	if (fd < 0)
		return;
	int link = bpf_raw_tracepoint_open(NULL, fd);
	if (link < 0)
		say(r, 0, "attach %s failed: %s", what, err_text(-link, eb, sizeof(eb)));
	else {
		say(r, 1, "attached %s", what);
		close(link);
	}
	close(fd);
}

static void probe_iterator(struct result *r, const struct btf *vmlinux)
{
	char eb[160];
	int id = vmlinux_id(r, vmlinux, "bpf_iter_task", BTF_KIND_FUNC);
	if (id < 0)
		return;
	int fd = load_trivial(r, BPF_PROG_TYPE_TRACING, BPF_TRACE_ITER, (__u32)id);
	if (fd < 0)
		return;
	int link = bpf_link_create(fd, 0, BPF_TRACE_ITER, NULL);
	if (link < 0) {
		say(r, 0, "link of iterator task failed: %s", err_text(-link, eb, sizeof(eb)));
	} else {
		int it = bpf_iter_create(link);
		if (it < 0) {
			say(r, 0, "bpf_iter_create(task) failed: %s",
			    err_text(-it, eb, sizeof(eb)));
		} else {
			char buf[64];
			while (read(it, buf, sizeof(buf)) > 0)
				;
			close(it);
			say(r, 1, "ran iterator task");
		}
		close(link);
	}
	close(fd);
}

/* The perf PMU type of kprobe/uprobe from sysfs: present when the kernel has fd-based probes. */
static int pmu_type(const char *pmu)
{
	char path[128];
	snprintf(path, sizeof(path), "/sys/bus/event_source/devices/%s/type", pmu);
	return (int)read_number(path);
}

static void probe_kprobe(struct result *r)
{
	char eb[160];
	int type = pmu_type("kprobe");
	if (type < 0) {
		if (access("/sys/kernel/tracing/kprobe_events", F_OK) == 0 ||
		    access("/sys/kernel/debug/tracing/kprobe_events", F_OK) == 0)
			say(r, 0, "no kprobe PMU in /sys/bus/event_source/devices "
				  "(only legacy tracefs kprobe_events, not used)");
		else
			say(r, 0, "kernel built without CONFIG_KPROBES (no kprobe PMU in "
				  "/sys/bus/event_source/devices, no kprobe_events in tracefs)");
		return;
	}
	int fd = load_trivial(r, BPF_PROG_TYPE_KPROBE, 0, 0);
	if (fd < 0)
		return;
	static const char *funcs[] = {"do_sys_openat2", "do_sys_open"};
	for (int i = 0; i < GX_ARRAY_SIZE(funcs); i++) {
		struct perf_event_attr attr = {.type = (__u32)type, .size = sizeof(attr),
					       .config1 = (__u64)(uintptr_t)funcs[i]};
		int pfd = perf_open(&attr, -1, 0);
		if (pfd < 0) {
			say(r, 0, "perf_event_open(kprobe %s) failed: %s", funcs[i],
			    err_text(errno, eb, sizeof(eb)));
			continue;
		}
		char what[64];
		snprintf(what, sizeof(what), "kprobe %s", funcs[i]);
		set_bpf(r, pfd, fd, what);
		break;
	}
	close(fd);
}

/* The path of the libc this process uses, from /proc/self/maps. */
static int libc_path(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[4096];
	int found = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = strchr(line, '/');
		if (!p || !strstr(p, "/libc.so") )
			continue;
		p[strcspn(p, "\n")] = '\0';
		snprintf(out, len, "%s", p);
		found = 0;
		break;
	}
	fclose(f);
	return found;
}

/*
 * A uprobe on libc's getpid in this process only (pid filter): the breakpoint goes into no other
 * process, and the JVM does not call getpid in the moment it exists.
 */
static void probe_uprobe(struct result *r)
{
	char eb[160], path[1024];
	int type = pmu_type("uprobe");
	if (type < 0) {
		say(r, 0, "no uprobe PMU in /sys/bus/event_source/devices "
			  "(CONFIG_UPROBE_EVENTS off?)");
		return;
	}
	if (libc_path(path, sizeof(path)) < 0) {
		say(r, 0, "libc not found in /proc/self/maps to place a test uprobe");
		return;
	}
	long long off = gx_elf_symbol_offset(path, "getpid");
	if (off < 0) {
		say(r, 0, "getpid not found in %s: %s", path, err_text((int)-off, eb, sizeof(eb)));
		return;
	}
	int fd = load_trivial(r, BPF_PROG_TYPE_KPROBE, 0, 0);
	if (fd < 0)
		return;
	struct perf_event_attr attr = {.type = (__u32)type, .size = sizeof(attr),
				       .config1 = (__u64)(uintptr_t)path, .config2 = (__u64)off};
	int pfd = perf_open(&attr, getpid(), -1);
	if (pfd < 0) {
		say(r, 0, "perf_event_open(uprobe %s:getpid) failed: %s", path,
		    err_text(errno, eb, sizeof(eb)));
	} else {
		char what[1100];
		snprintf(what, sizeof(what), "uprobe %s:getpid", path);
		set_bpf(r, pfd, fd, what);
	}
	close(fd);
}

static void probe_perf_event(struct result *r)
{
	char eb[160];
	int fd = load_trivial(r, BPF_PROG_TYPE_PERF_EVENT, 0, 0);
	if (fd < 0)
		return;
	struct perf_event_attr attr = {.type = PERF_TYPE_SOFTWARE, .size = sizeof(attr),
				       .config = PERF_COUNT_SW_CPU_CLOCK, .freq = 1,
				       .sample_freq = 1};
	int pfd = perf_open(&attr, -1, 0);
	if (pfd < 0)
		say(r, 0, "perf_event_open(software cpu-clock, CPU 0) failed: %s",
		    err_text(errno, eb, sizeof(eb)));
	else
		set_bpf(r, pfd, fd, "software cpu-clock on CPU 0");
	close(fd);
}

static void probe_socket_filter(struct result *r)
{
	char eb[160];
	int fd = load_trivial(r, BPF_PROG_TYPE_SOCKET_FILTER, 0, 0);
	if (fd < 0)
		return;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		say(r, 0, "socket(AF_INET, SOCK_DGRAM) failed: %s",
		    err_text(errno, eb, sizeof(eb)));
	} else {
		if (setsockopt(s, SOL_SOCKET, SO_ATTACH_BPF, &fd, sizeof(fd)) < 0)
			say(r, 0, "SO_ATTACH_BPF failed: %s", err_text(errno, eb, sizeof(eb)));
		else
			say(r, 1, "attached to a UDP socket with SO_ATTACH_BPF");
		close(s);
	}
	close(fd);
}

static jboolean JNICALL probe_attach(JNIEnv *env, jclass cls, jint kind, jobjectArray jreason)
{
	struct result r = {0};
	struct btf *vmlinux = NULL;

	gx_log_reset();
	if (kind == A_TP_BTF || kind == A_FENTRY || kind == A_ITERATOR) {
		vmlinux = btf__load_vmlinux_btf();
		if (libbpf_get_error(vmlinux))
			vmlinux = NULL;
	}
	switch (kind) {
	case A_TRACEPOINT: probe_tracepoint(&r); break;
	case A_RAW_TRACEPOINT: probe_raw_tracepoint(&r); break;
	case A_TP_BTF:
		probe_tracing(&r, vmlinux, "btf_trace_sys_enter", BTF_KIND_TYPEDEF,
			      BPF_TRACE_RAW_TP, "tp_btf to sys_enter");
		break;
	case A_KPROBE: probe_kprobe(&r); break;
	case A_FENTRY:
		probe_tracing(&r, vmlinux, "do_sys_openat2", BTF_KIND_FUNC, BPF_TRACE_FENTRY,
			      "fentry to do_sys_openat2");
		break;
	case A_ITERATOR: probe_iterator(&r, vmlinux); break;
	case A_UPROBE: probe_uprobe(&r); break;
	case A_PERF_EVENT: probe_perf_event(&r); break;
	case A_SOCKET_FILTER: probe_socket_filter(&r); break;
	default: say(&r, 0, "unknown attach kind %d", (int)kind); break;
	}
	btf__free(vmlinux);

	jstring s = gx_new_string(env, r.reason);
	if (s)
		(*env)->SetObjectArrayElement(env, jreason, 0, s);
	return r.supported ? JNI_TRUE : JNI_FALSE;
}

static jboolean JNICALL probe_ring_buffer(JNIEnv *env, jclass cls, jobjectArray jreason)
{
	char eb[160], reason[256];
	int rc = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);

	if (rc == 1)
		snprintf(reason, sizeof(reason), "created a BPF_MAP_TYPE_RINGBUF map");
	else if (rc == 0)
		snprintf(reason, sizeof(reason), "kernel has no BPF_MAP_TYPE_RINGBUF (needs 5.8+)");
	else
		snprintf(reason, sizeof(reason), "probing BPF_MAP_TYPE_RINGBUF failed: %s",
			 err_text(-rc, eb, sizeof(eb)));
	jstring s = gx_new_string(env, reason);
	if (s)
		(*env)->SetObjectArrayElement(env, jreason, 0, s);
	return rc == 1 ? JNI_TRUE : JNI_FALSE;
}

static const JNINativeMethod methods[] = {
	{"probeAttach", "(I[Ljava/lang/String;)Z", (void *)probe_attach},
	{"probeRingBuffer", "([Ljava/lang/String;)Z", (void *)probe_ring_buffer},
};

int gx_register_probe(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
