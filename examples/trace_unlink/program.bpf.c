// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_unlink: files and directories removed with unlink(2), unlinkat(2) and rmdir(2): the path,
 * whether a directory was meant, and the result. The example of docs/gadget-authoring.md.
 *
 * One program per syscall exit: the arguments are still in the thread's saved registers there,
 * so nothing is carried from entry to exit (see bpf/gadgets/trace_open for the measurements).
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>

#define PATH_LEN 256
#define AT_REMOVEDIR_ 0x200 /* include/uapi/linux/fcntl.h */

/* The event: its layout is read from this object's BTF by the agent; gadget.yaml describes each
 * field. Ordered for alignment (no holes). */
struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_uid uid;
	gadget_syscall_ret ret;
	gadget_bool directory;
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_path path[PATH_LEN];
};

GADGET_EVENT_TYPE(event);

/* A parameter: gadget.yaml declares it, the agent sets it before load. */
const volatile bool failed_only = false;

enum call { CALL_UNLINK, CALL_UNLINKAT, CALL_RMDIR };

static __always_inline int on_exit(struct trace_event_raw_sys_exit *ctx, enum call call)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);
	__u64 mntns_id = gadget_current_mntns_id();
	const char *path;
	struct event *e;
	bool directory;

	/* First the container filter, then the cheap parameter test: both before any work. */
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	if (failed_only && ctx->ret >= 0)
		return 0;

	switch (call) {
	case CALL_UNLINK: /* unlink(const char *pathname) */
		path = (const char *)PT_REGS_PARM1_SYSCALL(regs);
		directory = false;
		break;
	case CALL_UNLINKAT: /* unlinkat(int dirfd, const char *pathname, int flags) */
		path = (const char *)PT_REGS_PARM2_SYSCALL(regs);
		directory = PT_REGS_PARM3_SYSCALL(regs) & AT_REMOVEDIR_;
		break;
	default: /* rmdir(const char *pathname) */
		path = (const char *)PT_REGS_PARM1_SYSCALL(regs);
		directory = true;
	}

	e = gadget_reserve(sizeof(*e)); /* NULL when the ring is full: counted as lost */
	if (!e)
		return 0;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->pid = task->tgid;
	e->uid = task->cred->uid.val;
	e->ret = ctx->ret;
	e->directory = directory;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	bpf_probe_read_user_str(e->path, sizeof(e->path), path);
	gadget_submit(e);
	return 0;
}

/* unlink and rmdir do not exist on arm64 (only unlinkat): gadget.yaml lists them as optional. */
SEC("tracepoint/syscalls/sys_exit_unlink")
int exit_unlink(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, CALL_UNLINK);
}

SEC("tracepoint/syscalls/sys_exit_unlinkat")
int exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, CALL_UNLINKAT);
}

SEC("tracepoint/syscalls/sys_exit_rmdir")
int exit_rmdir(struct trace_event_raw_sys_exit *ctx)
{
	return on_exit(ctx, CALL_RMDIR);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
