// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_signal: signals sent, who sent them to whom, and what became of them.
 *
 * tp_btf/signal_generate fires for every signal the kernel generates, whatever the cause (kill,
 * tkill/tgkill, sigqueue, pidfd_send_signal, a fault, SIGCHLD, a timer, the OOM killer, the
 * tty), with the target task and the outcome (delivered, ignored, already pending, queue full).
 * The typed tp_btf arguments give the target task itself (its process id, name, namespace),
 * which the classic tracepoint's record (thread id and name only) does not.
 *
 * A call that fails before any signal is generated (ESRCH: no such process, EPERM: not allowed,
 * EINVAL: bad signal) passes no signal tracepoint: the sys_exit tracepoints of kill, tkill,
 * tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo and pidfd_send_signal report those, with the
 * arguments read from the thread's saved registers (as trace_open does). Successful calls are
 * left to signal_generate, and signal 0 (a permission/existence probe, no signal) is skipped.
 *
 * The sender is the current task: the caller for kill & co (si_code SI_USER, SI_TKILL,
 * SI_QUEUE); for a signal the kernel raises, the task it acts for (the faulting task itself for
 * SIGSEGV, the exiting child for SIGCHLD, the allocating task for an OOM kill, a kworker for a
 * tty's SIGINT). A signal raised in interrupt context (a timer's SIGALRM, SIGIO, SIGURG: si_code
 * SI_KERNEL, SI_TIMER, SI_SIGIO, ...) has no sender task, and whatever task the interrupt hit is
 * reported. Telling that apart needs the preempt count: on x86 a per-CPU variable, which BPF
 * can only reach through kallsyms data symbols (CONFIG_KALLSYMS_ALL), absent on many kernels;
 * the tracepoint's own irq flags are not visible to BPF (the header holds the regs pointer).
 *
 * Needs Linux 5.15+ (bpf_task_pt_regs for the failed calls).
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>

struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;	/* the sender's, or the target's with by_target */
	gadget_cgroup_id cgroup_id;	/* likewise */
	gadget_pid pid;			/* sender */
	gadget_tid tid;
	gadget_uid uid;
	__s32 tpid;			/* target process */
	__s32 ttid;			/* target thread */
	gadget_signal sig;
	gadget_signal_code code;
	gadget_signal_result result;
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_comm tcomm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

/* Only this signal (1-64); 0 = all. */
const volatile __u32 signal = 0;
/* Only signals that did not reach their target: failed calls, ignored, already pending, queue
 * full. */
const volatile bool failed_only = false;
/* Select by the target's mount namespace (the container receiving the signal), not the
 * sender's: the filter and mntns_id then follow the target. */
const volatile bool by_target = false;

/* include/uapi/asm-generic/siginfo.h */
#define SI_USER_ 0
#define SI_KERNEL_ 0x80
#define SI_TKILL_ -6

/* include/linux/sched/signal.h: the info argument may be one of these instead of a pointer. */
#define SEND_SIG_NOINFO_ ((struct kernel_siginfo *)0)
#define SEND_SIG_PRIV_ ((struct kernel_siginfo *)1)

static __always_inline __u64 task_mntns_id(struct task_struct *task)
{
	return task->nsproxy->mnt_ns->ns.inum; /* faults (an exiting task) read as 0 */
}

/*
 * An exiting task sends SIGCHLD after it has dropped its namespaces (mntns_id 0), but it is still
 * in its cgroup: the cgroup id still ties the event to its container.
 */
static __always_inline __u64 task_cgroup_id(struct task_struct *task)
{
	return task->cgroups->dfl_cgrp->kn->id;
}

/* The sender: the current task (see the top of this file for what that is). */
static __always_inline void fill_sender(struct event *e)
{
	struct task_struct *task = bpf_get_current_task_btf();

	e->pid = task->tgid;
	e->tid = task->pid;
	e->uid = task->cred->uid.val;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), task->comm);
}

SEC("tp_btf/signal_generate")
int BPF_PROG(signal_generate, int sig, struct kernel_siginfo *info, struct task_struct *task,
	     int group, int result)
{
	__u64 mntns_id;
	struct event *e;
	int code;

	if (signal && sig != signal)
		return 0;
	if (failed_only && (result == TRACE_SIGNAL_DELIVERED || result == TRACE_SIGNAL_LOSE_INFO))
		return 0;
	if (by_target)
		mntns_id = task_mntns_id(task);
	else
		mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;

	/* As the tracepoint's own record does (TP_STORE_SIGINFO). */
	if (info == SEND_SIG_NOINFO_)
		code = SI_USER_;
	else if (info == SEND_SIG_PRIV_)
		code = SI_KERNEL_;
	else
		code = info->si_code;

	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->cgroup_id = by_target ? task_cgroup_id(task) : bpf_get_current_cgroup_id();
	fill_sender(e);
	e->tpid = task->tgid;
	e->ttid = task->pid;
	e->sig = sig;
	e->code = code;
	e->result = result;
	bpf_probe_read_kernel(e->tcomm, sizeof(e->tcomm), task->comm);
	gadget_submit(e);
	return 0;
}

/*
 * A signalling call that failed: no signal was generated. tpid and ttid are the arguments as
 * passed, in the caller's pid namespace (for kill: negative for a process group, -1 for all).
 */
static __always_inline int failed_call(long ret, __s32 tpid, __s32 ttid, int sig, int code)
{
	__u64 mntns_id;
	struct event *e;

	if (ret >= 0 || sig == 0 || (signal && sig != signal))
		return 0;
	/* The target's namespace is unknown (it may not exist): the sender's stands for it. */
	mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->cgroup_id = bpf_get_current_cgroup_id();
	fill_sender(e);
	e->tpid = tpid;
	e->ttid = ttid;
	e->sig = sig;
	e->code = code;
	e->result = ret;
	__builtin_memset(e->tcomm, 0, sizeof(e->tcomm));
	gadget_submit(e);
	return 0;
}

static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/*
 * The si_code of a siginfo the caller passed (the kernel copied it: resident); SI_USER for none.
 * siginfo_t starts with three ints in the UAPI: si_signo, si_errno, si_code.
 */
static __always_inline int user_code(const void *uinfo)
{
	int code = SI_USER_;

	if (uinfo)
		bpf_probe_read_user(&code, sizeof(code), uinfo + 2 * sizeof(int));
	return code;
}

/* kill(pid_t pid, int sig) */
SEC("tracepoint/syscalls/sys_exit_kill")
int exit_kill(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();

	return failed_call(ctx->ret, PT_REGS_PARM1_SYSCALL(regs), 0, PT_REGS_PARM2_SYSCALL(regs),
			   SI_USER_);
}

/* tkill(pid_t tid, int sig) */
SEC("tracepoint/syscalls/sys_exit_tkill")
int exit_tkill(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();

	return failed_call(ctx->ret, 0, PT_REGS_PARM1_SYSCALL(regs), PT_REGS_PARM2_SYSCALL(regs),
			   SI_TKILL_);
}

/* tgkill(pid_t tgid, pid_t tid, int sig) */
SEC("tracepoint/syscalls/sys_exit_tgkill")
int exit_tgkill(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();

	return failed_call(ctx->ret, PT_REGS_PARM1_SYSCALL(regs), PT_REGS_PARM2_SYSCALL(regs),
			   PT_REGS_PARM3_SYSCALL(regs), SI_TKILL_);
}

/* rt_sigqueueinfo(pid_t tgid, int sig, siginfo_t *uinfo) */
SEC("tracepoint/syscalls/sys_exit_rt_sigqueueinfo")
int exit_rt_sigqueueinfo(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();

	return failed_call(ctx->ret, PT_REGS_PARM1_SYSCALL(regs), 0, PT_REGS_PARM2_SYSCALL(regs),
			   user_code((void *)PT_REGS_PARM3_SYSCALL(regs)));
}

/* rt_tgsigqueueinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *uinfo) */
SEC("tracepoint/syscalls/sys_exit_rt_tgsigqueueinfo")
int exit_rt_tgsigqueueinfo(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();

	return failed_call(ctx->ret, PT_REGS_PARM1_SYSCALL(regs), PT_REGS_PARM2_SYSCALL(regs),
			   PT_REGS_PARM3_SYSCALL(regs),
			   user_code((void *)PT_REGS_PARM4_SYSCALL(regs)));
}

/* pidfd_send_signal(int pidfd, int sig, siginfo_t *info, unsigned int flags): the target is a
 * descriptor, not a pid: tpid stays 0. */
SEC("tracepoint/syscalls/sys_exit_pidfd_send_signal")
int exit_pidfd_send_signal(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();

	return failed_call(ctx->ret, 0, 0, PT_REGS_PARM2_SYSCALL(regs),
			   user_code((void *)PT_REGS_PARM3_SYSCALL(regs)));
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
