// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_exec: programs executed with execve(2) and execveat(2), with their arguments and the
 * result; failed execs (ENOENT, EACCES, ...) are events too. Tracepoints only.
 *
 * sys_enter_execve(at):  mntns filter; remember the filename and argv pointers by thread id.
 * sched_process_exec:    the exec succeeded (past the point of no return, in the new program):
 *                        emit the event, ret = 0, path = bprm->filename, arguments read from
 *                        the new program's stack, where the kernel has just written them.
 * sys_exit_execve(at):   an entry still there means the exec failed: emit it with -errno, the
 *                        path and arguments read from the caller's memory, which is unchanged.
 *
 * Nothing is read at entry: the strings are read where they are known to be resident (a
 * non-faulting BPF read fails on a page not yet touched, e.g. a string literal in a freshly
 * forked child). On success both the path (kernel memory) and the arguments (written by the
 * kernel) always are; on failure the path is (the kernel copied it), the arguments only if the
 * kernel got as far as copying them or the caller had touched them: else args_truncated is set.
 *
 * What the other fields mean: pid, tid, ppid, uid, gid, comm and cgroup_id are read at the time
 * of the event. After a successful exec they describe the new program: comm is its name, tid is
 * the pid when a non-leader thread exec'd (the kernel makes it the leader), and args are the
 * argv the new program sees (for a script: interpreter, script, arguments, as in
 * /proc/<pid>/cmdline). After a failed exec they describe the unchanged caller and the argv it
 * passed. uid/gid are the real ids (a set-user-ID program changes only the effective ones).
 * mntns_id is taken at entry; exec does not change it.
 */
#include "vmlinux.h"
#include <gadget/gadget.h>

#define EXEPATH_LEN 256 /* the path as given, cut past 255 bytes */
#define ARGS_LEN 4096	/* all arguments, NUL-separated: a power of two (see read_args) */
#define ARG_LEN 512	/* one argument at most: a huge one (a classpath) cannot crowd out the rest */
#define MAX_ARGS_LIMIT 64 /* the loop's hard bound: max_args is clamped to it */

struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_cgroup_id cgroup_id;
	gadget_syscall_ret ret;
	gadget_pid pid;
	gadget_tid tid;
	gadget_ppid ppid;
	gadget_uid uid;
	gadget_gid gid;
	__u32 args_count;		/* arguments in args */
	gadget_args_size args_size;	/* meaningful bytes of args */
	gadget_bool args_truncated;	/* max_args, ARG_LEN, ARGS_LEN or a failed read cut something */
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_path exepath[EXEPATH_LEN];
	gadget_args args[ARGS_LEN];
};

GADGET_EVENT_TYPE(event);

/* Arguments captured per exec (argv[0] included). The rest are cut and args_truncated is set. */
const volatile __u32 max_args = 20;

struct start {
	const char *filename;	  /* user pointers of the caller, read only if the exec fails */
	const char *const *argv;
	__u64 mntns_id;
};

/*
 * Execs in flight by thread id, from entry to success or exit. The count is the number of threads
 * inside execve at once: tiny. An entry is left behind only if the thread dies in between without
 * passing either (a fatal signal during a failing exec); it is overwritten when the tid is reused.
 * 10240 bounds that with room to spare; preallocated (10240 * ~64 bytes), so entry never
 * allocates. When full, the exec is counted in gadget_lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u32);
	__type(value, struct start);
} starts SEC(".maps");

/*
 * Where the event is built before one copy into the ring (gadget_output). Not in the ring record
 * itself: the tail lets the verifier accept a read of up to ARG_LEN bytes at any offset below
 * ARGS_LEN (the code never writes past args[ARGS_LEN - 1]), and a record must be exactly the
 * event's size. Per-CPU is safe: tracepoint programs run with preemption off and do not nest.
 * The bytes of args past args_size, and of strings past their NUL, are left over from earlier
 * events; decoders stop at args_size and at the NUL.
 */
struct scratch {
	struct event event;
	char verifier_slack[ARG_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

static __always_inline struct event *scratch_event(void)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

	return s ? &s->event : NULL;
}

/* Copies argv[0..] NUL-separated into e->args, within max_args, ARG_LEN and ARGS_LEN. */
static __always_inline void read_args(struct event *e, const char *const *argv)
{
	__u32 limit = max_args < MAX_ARGS_LIMIT ? max_args : MAX_ARGS_LIMIT;
	__u64 size = 0;
	__u32 count = 0;
	bool truncated = false;

	for (__u32 i = 0; i <= MAX_ARGS_LIMIT; i++) {
		const char *arg = NULL;
		__u64 off, room;
		long n;

		if (bpf_probe_read_user(&arg, sizeof(arg), &argv[i])) {
			truncated = true; /* argv itself unreadable */
			break;
		}
		if (!arg)
			break; /* the end of argv */
		if (i >= limit || size >= ARGS_LEN) {
			truncated = true;
			break;
		}
		/*
		 * off == size here; the mask only tells the verifier off < ARGS_LEN. barrier_var keeps
		 * clang from dropping it as redundant after the check above (the verifier does not carry
		 * that check over to the copy clang would use).
		 */
		off = size;
		barrier_var(off);
		off &= ARGS_LEN - 1;
		room = ARGS_LEN - off;
		if (room > ARG_LEN)
			room = ARG_LEN;
		n = bpf_probe_read_user_str(&e->args[off], room, arg);
		if (n <= 0) {
			truncated = true; /* this string was unreadable */
			break;
		}
		if (n == room) {
			/* The room is full: cut unless the string ended exactly there. */
			char last = 0;

			bpf_probe_read_user(&last, 1, arg + n - 1);
			if (last)
				truncated = true;
		}
		size += n;
		count++;
	}
	e->args_size = size;
	e->args_count = count;
	e->args_truncated = truncated;
}

static __always_inline void fill_task(struct event *e)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u64 uid_gid = bpf_get_current_uid_gid();

	e->timestamp = bpf_ktime_get_boot_ns();
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

static __always_inline int trace_enter(const char *filename, const char *const *argv)
{
	__u64 mntns_id = gadget_current_mntns_id();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct start s = {.filename = filename, .argv = argv, .mntns_id = mntns_id};

	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	if (bpf_map_update_elem(&starts, &tid, &s, BPF_ANY))
		gadget_count_lost();
	return 0;
}

/* execve(const char *filename, const char *const *argv, const char *const *envp) */
SEC("tracepoint/syscalls/sys_enter_execve")
int enter_execve(struct trace_event_raw_sys_enter *ctx)
{
	return trace_enter((const char *)ctx->args[0], (const char *const *)ctx->args[1]);
}

/* execveat(int fd, const char *filename, const char *const *argv, const char *const *envp, int flags) */
SEC("tracepoint/syscalls/sys_enter_execveat")
int enter_execveat(struct trace_event_raw_sys_enter *ctx)
{
	return trace_enter((const char *)ctx->args[1], (const char *const *)ctx->args[2]);
}

/*
 * The new program's argv, as the ELF loader laid it out at mm->start_stack: argc, then argv[]
 * (argv[0] == mm->arg_start). NULL when the layout is not that one (a 32-bit program has 4-byte
 * slots; another binary format may differ): then no arguments are reported, args_truncated set.
 */
static __always_inline const char *const *new_argv(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	unsigned long start_stack = BPF_CORE_READ(task, mm, start_stack);
	unsigned long arg_start = BPF_CORE_READ(task, mm, arg_start);
	unsigned long argv0 = 0;

	if (!start_stack ||
	    bpf_probe_read_user(&argv0, sizeof(argv0), (void *)(start_stack + sizeof(long))) ||
	    argv0 != arg_start)
		return NULL;
	return (const char *const *)(start_stack + sizeof(long));
}

/*
 * Runs in the new program, past the point of no return: the exec has succeeded. `old_pid` is the
 * thread id execve was called with, `pid` the one it returns with: they differ when a non-leader
 * thread exec'd.
 */
SEC("tracepoint/sched/sched_process_exec")
int sched_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	__u32 old_tid = ctx->old_pid;
	__u16 filename_off = ctx->__data_loc_filename & 0xFFFF;
	const char *const *argv;
	struct start *s;
	struct event *e;

	s = bpf_map_lookup_elem(&starts, &old_tid);
	if (!s)
		return 0;
	e = scratch_event();
	if (!e)
		goto out;
	fill_task(e);
	e->mntns_id = s->mntns_id;
	e->ret = 0;
	/* bprm->filename: the argument as given, or /dev/fd/N[/name] for execveat on a fd. */
	bpf_probe_read_kernel_str(e->exepath, sizeof(e->exepath), (void *)ctx + filename_off);
	argv = new_argv();
	if (argv) {
		read_args(e, argv);
	} else {
		e->args_size = 0;
		e->args_count = 0;
		e->args_truncated = true;
	}
	gadget_output(e, sizeof(*e));
out:
	bpf_map_delete_elem(&starts, &old_tid);
	return 0;
}

static __always_inline int trace_exit(struct trace_event_raw_sys_exit *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct start *s;
	struct event *e;

	s = bpf_map_lookup_elem(&starts, &tid);
	if (!s)
		return 0; /* filtered out, or succeeded: sched_exec emitted it */
	e = scratch_event();
	if (!e)
		goto out;
	fill_task(e);
	e->mntns_id = s->mntns_id;
	e->ret = ctx->ret;
	if (e->ret < 0) {
		/* Failed: the caller's memory is as it was at entry. */
		bpf_probe_read_user_str(e->exepath, sizeof(e->exepath), s->filename);
		read_args(e, s->argv);
	} else {
		/* Succeeded without sched_process_exec (it was attached mid-exec): the pointers
		 * belong to the old program, so only the ids are known. */
		e->exepath[0] = 0;
		e->args_size = 0;
		e->args_count = 0;
		e->args_truncated = true;
	}
	gadget_output(e, sizeof(*e));
out:
	bpf_map_delete_elem(&starts, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_execve")
int exit_execve(struct trace_event_raw_sys_exit *ctx)
{
	return trace_exit(ctx);
}

SEC("tracepoint/syscalls/sys_exit_execveat")
int exit_execveat(struct trace_event_raw_sys_exit *ctx)
{
	return trace_exit(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
