// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_exit: processes that ended, with the exit code or the signal that killed them, and how
 * long they lived. One tracepoint: sched/sched_process_exit, which every exiting thread passes in
 * do_exit(), as the exiting thread, after its exit code is set and while its namespaces, creds
 * and parent are still in place.
 *
 * One event per process by default: the exit of the thread that ends it, i.e. the last of its
 * threads (the kernel's "group_dead"), whichever thread that is (the main thread may have called
 * pthread_exit long before). A thread that exec()s is not an exit: its siblings are killed, the
 * process lives on. With all_threads set, every thread's exit is an event.
 *
 * What the process event reports is what the parent's wait() will see: the group exit code when
 * the process was ended as a whole (exit_group(2), a fatal signal: SIGNAL_GROUP_EXIT), else the
 * main thread's own exit code (the process ended by its threads exiting one by one). Lifetime
 * runs from the fork of the main thread, name and ppid are the main thread's.
 */
#include "vmlinux.h"
#include <gadget/gadget.h>

struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_cgroup_id cgroup_id;
	__u64 lifetime;		/* ns, from fork to exit (suspend included) */
	gadget_pid pid;
	gadget_tid tid;
	gadget_ppid ppid;
	gadget_uid uid;
	gadget_gid gid;
	__u32 exit_code;	/* the value given to exit(), when no signal ended it */
	gadget_signal signal;	/* the signal that ended it, or 0 */
	gadget_bool core_dumped;
	gadget_bool last_thread;
	gadget_comm comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

/* Report every thread's exit, not only the one that ends its process. */
const volatile bool all_threads = false;

/* include/linux/sched/signal.h: the whole thread group is exiting with signal->group_exit_code.
 * A #define, so not in BTF; the value has not changed since it was introduced. */
#define SIGNAL_GROUP_EXIT_ 0x00000004

/*
 * The tracepoint's record, declared here: before Linux 6.16 the event had no struct of its own
 * (it shared sched_process_template's, without group_dead), so not every vmlinux.h has it.
 * CO-RE relocates the fields against the running kernel's layout.
 */
struct trace_event_raw_sched_process_exit___gx {
	struct trace_entry ent;
	char comm[16];
	pid_t pid;
	int prio;
	bool group_dead;
} __attribute__((preserve_access_index));

/* Linux 6.16 added group_dead to the tracepoint; before, signal->live has just dropped to 0 for
 * the thread that ends the group (do_exit decrements it before the tracepoint in every version). */
static __always_inline bool group_dead(struct trace_event_raw_sched_process_exit___gx *ctx,
				       struct task_struct *task)
{
	if (bpf_core_field_exists(ctx->group_dead))
		return ctx->group_dead;
	return task->signal->live.counter == 0;
}

SEC("tracepoint/sched/sched_process_exit")
int sched_exit(struct trace_event_raw_sched_process_exit___gx *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *leader, *subject;
	const struct cred *cred;
	bool last = group_dead(ctx, task);
	__u64 mntns_id;
	struct event *e;
	__u32 status;

	if (!last && !all_threads)
		return 0; /* the cheapest way out: one load, most threads of a busy host end here */
	mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;

	leader = task->group_leader;
	if (last) {
		struct signal_struct *signal = task->signal;

		/* As wait_task_zombie() computes the status the parent gets. */
		status = signal->flags & SIGNAL_GROUP_EXIT_ ? signal->group_exit_code
							     : leader->exit_code;
		subject = leader;
	} else {
		status = task->exit_code;
		subject = task;
	}

	e = gadget_reserve(sizeof(*e));
	if (!e)
		return 0;
	cred = task->cred;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->cgroup_id = bpf_get_current_cgroup_id();
	/* start_boottime: the fork, on the same clock as the timestamp. */
	e->lifetime = e->timestamp - subject->start_boottime;
	e->pid = task->tgid;
	e->tid = task->pid;
	e->ppid = task->real_parent->tgid;
	e->uid = cred->uid.val;
	e->gid = cred->gid.val;
	/* The wait status encoding: code << 8 for exit(code), else the signal | 0x80 on a core. */
	e->signal = status & 0x7f;
	e->exit_code = e->signal ? 0 : (status >> 8) & 0xff;
	e->core_dumped = (status & 0x80) != 0;
	e->last_thread = last;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), subject->comm);
	gadget_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
