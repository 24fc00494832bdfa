// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_oomkill: processes the OOM killer chose, their memory, and the task that ran out of
 * memory.
 *
 * One tracepoint: oom/mark_victim, which the kernel passes when it marks a task as an OOM victim
 * (mark_oom_victim()): right after sending it SIGKILL (global OOM, a memory cgroup's limit, every
 * member of a memory.oom.group cgroup), or when the task that ran out was already exiting and is
 * only given access to the memory reserves (no kill then: the victim is the trigger itself).
 * The record holds the victim's thread id and, since Linux 6.8, its memory as the kernel's
 * "Killed process" line prints it (kB). The victim task itself (its process id, name, mount
 * namespace, cgroup) is looked up by that id with the bpf_task_from_pid kfunc (Linux 6.2+).
 *
 * The trigger is the current task, i.e. the one that called out_of_memory():
 * - an allocation (page fault, kernel allocation) that found no memory, globally or in its memory
 *   cgroup: the allocating task - often the victim itself;
 * - a write to a cgroup's memory.max (v2) below its usage that reclaim cannot meet: the writer
 *   (kubelet, systemd, a shell), not an allocator;
 * - sysrq-f / echo f > /proc/sysrq-trigger: a kworker.
 * The OOM reaper, which frees the victim's memory afterwards, does not pass this tracepoint.
 */
#include "vmlinux.h"
#include <gadget/gadget.h>

struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;	/* the victim's */
	gadget_cgroup_id cgroup_id;	/* the victim's (cgroup v2) */
	__u64 total_vm;			/* bytes, as the kernel's report (0 before Linux 6.8) */
	__u64 anon_rss;
	__u64 file_rss;
	__u64 shmem_rss;
	__u64 pgtables;
	__u64 trigger_mntns_id;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	__s32 oom_score_adj;
	gadget_pid trigger_pid;
	gadget_tid trigger_tid;
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_comm trigger_comm[GADGET_COMM_LEN];
};

GADGET_EVENT_TYPE(event);

extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

SEC("tracepoint/oom/mark_victim")
int mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct task_struct *current = bpf_get_current_task_btf();
	struct task_struct *victim;
	__u64 mntns_id;
	struct event *e;

	/*
	 * The victim still exists: the OOM killer holds a reference to it and it has not been
	 * reaped (it was just sent SIGKILL, or is still exiting). A failed lookup would mean a
	 * kernel that passes something else here: counted as lost rather than guessed.
	 */
	victim = bpf_task_from_pid(ctx->pid);
	if (!victim) {
		gadget_count_lost();
		return 0;
	}
	mntns_id = victim->nsproxy->mnt_ns->ns.inum; /* 0 once an exiting victim dropped it */
	if (gadget_should_discard_mntns_id(mntns_id))
		goto out;
	e = gadget_reserve(sizeof(*e));
	if (!e)
		goto out;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->cgroup_id = victim->cgroups->dfl_cgrp->kn->id;
	e->pid = victim->tgid;
	e->tid = victim->pid;
	e->uid = victim->cred->uid.val;
	e->oom_score_adj = victim->signal->oom_score_adj;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), victim->comm);
	if (bpf_core_field_exists(ctx->total_vm)) {
		/* kB in the record (the numbers of the "Killed process" log line). */
		e->total_vm = (__u64)ctx->total_vm << 10;
		e->anon_rss = (__u64)ctx->anon_rss << 10;
		e->file_rss = (__u64)ctx->file_rss << 10;
		e->shmem_rss = (__u64)ctx->shmem_rss << 10;
		e->pgtables = (__u64)ctx->pgtables << 10;
	} else {
		e->total_vm = 0;
		e->anon_rss = 0;
		e->file_rss = 0;
		e->shmem_rss = 0;
		e->pgtables = 0;
	}
	e->trigger_mntns_id = gadget_current_mntns_id();
	e->trigger_pid = current->tgid;
	e->trigger_tid = current->pid;
	bpf_probe_read_kernel(e->trigger_comm, sizeof(e->trigger_comm), current->comm);
	gadget_submit(e);
out:
	bpf_task_release(victim);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
