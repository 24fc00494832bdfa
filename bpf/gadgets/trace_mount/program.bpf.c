// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * trace_mount: filesystems mounted and unmounted, with source, target, type, flags, options and
 * the result. Syscall exit tracepoints only, arguments read from the thread's saved registers at
 * exit as trace_open does (see there why: one program per call, no entry/exit map, the strings
 * are resident because the kernel has just copied them).
 *
 * mount(2)      op "mount": everything is in the arguments. It also does bind mounts (MS_BIND),
 *               moves (MS_MOVE), remounts (MS_REMOUNT) and propagation changes (MS_SHARED, ...):
 *               the flags say which.
 * umount2(2)    op "umount": the target and the umount flags.
 * move_mount(2) op "move_mount": the new mount API's last step (fsopen, fsconfig, fsmount,
 *               then move_mount; util-linux 2.39+ mount(8) works so). The source, type and flags
 *               are not arguments of any one call, so they are read from the mount being
 *               attached, which the caller holds as a descriptor (fsmount, open_tree): its device
 *               name, its superblock's type and its flags in effect, in MS_* terms. A mount moved
 *               by path instead gives its source path as passed and no type or flags.
 * Failures of fsopen, fsconfig and fsmount (an unknown type, a bad option) are not reported:
 * only move_mount's, when the steps before it succeeded.
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/files.h>

#define OP_LEN 12
#define FSTYPE_LEN 32	/* filesystem type names are short ("fuse.sshfs"); longer ones are cut */
#define PATH_LEN 256	/* source and target, cut past 255 bytes */
#define DATA_LEN 128	/* the options string, cut past 127 bytes */

struct event {
	gadget_timestamp timestamp;
	gadget_mntns_id mntns_id;
	gadget_syscall_ret ret;
	gadget_mount_flags flags;
	gadget_pid pid;
	gadget_tid tid;
	gadget_uid uid;
	gadget_umount_flags umount_flags;
	gadget_comm comm[GADGET_COMM_LEN];
	char op[OP_LEN];
	char fstype[FSTYPE_LEN];
	gadget_path source[PATH_LEN];
	gadget_path target[PATH_LEN];
	char data[DATA_LEN];
};

GADGET_EVENT_TYPE(event);

/* include/uapi/linux/mount.h */
#define MS_RDONLY_ 1
#define MS_NOSUID_ 2
#define MS_NODEV_ 4
#define MS_NOEXEC_ 8
#define MS_NOSYMFOLLOW_ 256
#define MS_NOATIME_ 1024
#define MS_NODIRATIME_ 2048
#define MS_RELATIME_ (1 << 21)
#define MOVE_MOUNT_F_EMPTY_PATH_ 0x04
/* include/linux/fs.h (a #define, not in BTF): the superblock is read-only. */
#define SB_RDONLY_ 1
/* include/linux/mount.h: the kernel's per-mount flags (an enum in BTF only since Linux 6.x; the
 * values have not changed since MNT_NOSYMFOLLOW, 5.10). */
#define MNT_NOSUID_ 0x01
#define MNT_NODEV_ 0x02
#define MNT_NOEXEC_ 0x04
#define MNT_NOATIME_ 0x08
#define MNT_NODIRATIME_ 0x10
#define MNT_RELATIME_ 0x20
#define MNT_READONLY_ 0x40
#define MNT_NOSYMFOLLOW_ 0x80

/* Reserves a record and fills what every operation has; NULL (counted) when the ring is full. */
static __always_inline struct event *start_event(long ret, const char *op)
{
	struct task_struct *task = bpf_get_current_task_btf();
	__u64 mntns_id = gadget_current_mntns_id();
	struct event *e;

	if (gadget_should_discard_mntns_id(mntns_id))
		return NULL;
	e = gadget_reserve(sizeof(*e));
	if (!e)
		return NULL;
	e->timestamp = bpf_ktime_get_boot_ns();
	e->mntns_id = mntns_id;
	e->ret = ret;
	e->pid = task->tgid;
	e->tid = task->pid;
	e->uid = task->cred->uid.val;
	e->flags = 0;
	e->umount_flags = 0;
	bpf_probe_read_kernel(e->comm, sizeof(e->comm), task->comm);
	bpf_probe_read_kernel_str(e->op, sizeof(e->op), op);
	return e;
}

/* A user string into a field; NULL or unreadable gives an empty string. */
static __always_inline void user_str(char *dst, __u32 size, const char *src)
{
	if (!src || bpf_probe_read_user_str(dst, size, src) < 0)
		dst[0] = 0;
}

static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/* mount(const char *dev_name, const char *dir_name, const char *type, unsigned long flags,
 *       void *data) */
SEC("tracepoint/syscalls/sys_exit_mount")
int exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();
	struct event *e = start_event(ctx->ret, "mount");

	if (!e)
		return 0;
	e->flags = PT_REGS_PARM4_SYSCALL(regs);
	user_str(e->source, sizeof(e->source), (const char *)PT_REGS_PARM1_SYSCALL(regs));
	user_str(e->target, sizeof(e->target), (const char *)PT_REGS_PARM2_SYSCALL(regs));
	user_str(e->fstype, sizeof(e->fstype), (const char *)PT_REGS_PARM3_SYSCALL(regs));
	/* A string for nearly every filesystem; binary for a few (old NFS): then bytes up to the
	 * first NUL. */
	user_str(e->data, sizeof(e->data), (const char *)PT_REGS_PARM5_SYSCALL(regs));
	gadget_submit(e);
	return 0;
}

/* umount2(const char *name, int flags); the syscall is named umount in the kernel. */
SEC("tracepoint/syscalls/sys_exit_umount")
int exit_umount(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();
	struct event *e = start_event(ctx->ret, "umount");

	if (!e)
		return 0;
	e->umount_flags = PT_REGS_PARM2_SYSCALL(regs);
	user_str(e->target, sizeof(e->target), (const char *)PT_REGS_PARM1_SYSCALL(regs));
	e->source[0] = 0;
	e->fstype[0] = 0;
	e->data[0] = 0;
	gadget_submit(e);
	return 0;
}

/* The mount a descriptor of the current task refers to (from fsmount or open_tree), or NULL. */
static __always_inline struct vfsmount *fd_mount(int fd)
{
	struct file *file = gadget_file_of_fd(bpf_get_current_task_btf(), fd);

	return file ? BPF_CORE_READ(file, f_path.mnt) : NULL;
}

/* The flags in effect on a mount, as MS_* (the kernel keeps its own MNT_* bits). */
static __always_inline __u64 ms_flags(struct vfsmount *mnt)
{
	int mnt_flags = BPF_CORE_READ(mnt, mnt_flags);
	unsigned long sb_flags = BPF_CORE_READ(mnt, mnt_sb, s_flags);
	__u64 ms = 0;

	if (mnt_flags & MNT_READONLY_ || sb_flags & SB_RDONLY_)
		ms |= MS_RDONLY_;
	if (mnt_flags & MNT_NOSUID_)
		ms |= MS_NOSUID_;
	if (mnt_flags & MNT_NODEV_)
		ms |= MS_NODEV_;
	if (mnt_flags & MNT_NOEXEC_)
		ms |= MS_NOEXEC_;
	if (mnt_flags & MNT_NOSYMFOLLOW_)
		ms |= MS_NOSYMFOLLOW_;
	if (mnt_flags & MNT_NOATIME_)
		ms |= MS_NOATIME_;
	if (mnt_flags & MNT_NODIRATIME_)
		ms |= MS_NODIRATIME_;
	if (mnt_flags & MNT_RELATIME_)
		ms |= MS_RELATIME_;
	return ms;
}

/* move_mount(int from_dfd, const char *from_pathname, int to_dfd, const char *to_pathname,
 *            unsigned int flags) */
SEC("tracepoint/syscalls/sys_exit_move_mount")
int exit_move_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct pt_regs *regs = syscall_regs();
	struct event *e = start_event(ctx->ret, "move_mount");
	struct vfsmount *mnt = NULL;

	if (!e)
		return 0;
	user_str(e->target, sizeof(e->target), (const char *)PT_REGS_PARM4_SYSCALL(regs));
	user_str(e->source, sizeof(e->source), (const char *)PT_REGS_PARM2_SYSCALL(regs));
	if (!e->source[0] && PT_REGS_PARM5_SYSCALL(regs) & MOVE_MOUNT_F_EMPTY_PATH_)
		mnt = fd_mount(PT_REGS_PARM1_SYSCALL(regs));
	if (mnt) {
		struct mount *m = container_of(mnt, struct mount, mnt);

		bpf_probe_read_kernel_str(e->source, sizeof(e->source), BPF_CORE_READ(m, mnt_devname));
		bpf_probe_read_kernel_str(e->fstype, sizeof(e->fstype),
					  BPF_CORE_READ(mnt, mnt_sb, s_type, name));
		e->flags = ms_flags(mnt);
	} else {
		e->fstype[0] = 0;
	}
	e->data[0] = 0;
	gadget_submit(e);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
