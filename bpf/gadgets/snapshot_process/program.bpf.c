// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * snapshot_process: the processes (or, with `threads`, every thread) running when the snapshot is
 * taken, one row each, from a BPF task iterator (iter/task). The agent runs the iterator on
 * demand and on an interval; each run walks the kernel's task list afresh and writes one
 * struct event per task with bpf_seq_write: nothing goes through the ring buffer.
 *
 * Every field is read from the task itself, so a row is as consistent as the task list under RCU:
 * a task that exits during the walk may still appear (as a zombie, state Z, without namespaces).
 */
#include "vmlinux.h"
#include <gadget/gadget.h>

#define EXEPATH_LEN 256 /* bpf_d_path's result, cut past 255 bytes */

struct event {
	gadget_timestamp timestamp;
	gadget_timestamp start_time;
	gadget_mntns_id mntns_id;
	gadget_netns_id netns_id;
	gadget_cgroup_id cgroup_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_ppid ppid;
	gadget_uid uid;
	gadget_gid gid;
	__u32 threads;
	char state[2];
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_path exepath[EXEPATH_LEN];
};

GADGET_EVENT_TYPE(event);

/* One row per thread instead of one per process (thread group leader). */
const volatile bool threads = false;

/*
 * The row is built here, not on the 512-byte stack (it is ~350 bytes and bpf_d_path wants a
 * buffer it can fill). Per-CPU is safe: an iterator run does not migrate, and the agent runs one
 * snapshot of an instance at a time.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} scratch SEC(".maps");

/* Before 5.14 the field was `state`: CO-RE picks whichever this kernel has. */
struct task_struct___pre514 {
	long state;
} __attribute__((preserve_access_index));

/* include/linux/sched.h: the states ps reports, and the letters it shows them with. */
#define TASK_REPORT_MASK 0x7f /* RUNNING..EXIT_ZOMBIE, then TASK_PARKED (0x40) */
#define TASK_IDLE_BITS 0x402  /* TASK_UNINTERRUPTIBLE | TASK_NOLOAD */
#define TASK_RTLOCK_WAIT 0x1000

/* The state letter of /proc/<pid>/stat: R S D T t X Z P I (task_state_index in the kernel). */
static __always_inline char state_letter(struct task_struct *task)
{
	unsigned int raw, bits;

	if (bpf_core_field_exists(task->__state))
		raw = BPF_CORE_READ(task, __state);
	else
		raw = BPF_CORE_READ((struct task_struct___pre514 *)task, state);
	if (raw == TASK_IDLE_BITS)
		return 'I';
	if (raw == TASK_RTLOCK_WAIT)
		return 'D'; /* sleeping on an RT lock reads as uninterruptible */
	bits = (raw | BPF_CORE_READ(task, exit_state)) & TASK_REPORT_MASK;
	/* The highest state bit set picks the letter (fls in the kernel). */
	if (bits & 0x40)
		return 'P';
	if (bits & 0x20)
		return 'Z';
	if (bits & 0x10)
		return 'X';
	if (bits & 0x08)
		return 't';
	if (bits & 0x04)
		return 'T';
	if (bits & 0x02)
		return 'D';
	if (bits & 0x01)
		return 'S';
	return 'R';
}

SEC("iter/task")
int snapshot_process(struct bpf_iter__task *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct task_struct *task = ctx->task;
	struct file *exe;
	__u32 zero = 0;
	struct event *e;
	__u64 mntns_id;

	if (!task)
		return 0; /* the end of the walk */
	if (!threads && task->pid != task->tgid)
		return 0;
	mntns_id = gadget_task_mntns_id(task);
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->netns_id = BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
	e->cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	e->start_time = task->start_boottime; /* CLOCK_BOOTTIME, as gadget_timestamp */
	e->pid = task->tgid;
	e->tid = task->pid;
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = BPF_CORE_READ(task, cred, uid.val);
	e->gid = BPF_CORE_READ(task, cred, gid.val);
	e->threads = BPF_CORE_READ(task, signal, nr_threads);
	e->state[0] = state_letter(task);
	e->state[1] = 0;
	bpf_probe_read_kernel_str(e->comm, sizeof(e->comm), task->comm);
	e->exepath[0] = 0;
	/* Kernel threads have no mm; an exiting task may have dropped it already. */
	exe = task->mm ? task->mm->exe_file : NULL;
	if (exe && bpf_d_path((struct path *)&exe->f_path, e->exepath, sizeof(e->exepath)) < 0)
		e->exepath[0] = 0;
	bpf_seq_write(seq, e, sizeof(*e));
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
