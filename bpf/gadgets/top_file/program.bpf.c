// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * top_file: reads and writes, with their bytes, per process and file. An aggregating gadget: the
 * counts live in the `stats` hash map, which the agent empties every interval (gadget.yaml
 * `aggregate:`); nothing goes through the ring buffer.
 *
 * Hooks: the sys_exit tracepoints of read, write, pread64, pwrite64, readv, writev, preadv,
 * pwritev, preadv2 and pwritev2. At exit the result (bytes moved) is known and the fd is still in
 * the thread's saved registers (first argument of all ten), so one program per call does all:
 * fd -> struct file through the task's fd table, then the row keyed by the file's device and
 * inode. Calls that failed are not counted; a read at end of file (0 bytes) is.
 *
 * The path is built only when a row is created (once per file and process per interval), from the
 * file's dentry chain up to the process's root, crossing mount points: bpf_d_path() would do it,
 * but tracepoint programs may not call it. Depth and length are bounded (MAX_DEPTH components,
 * PATH_LEN bytes); a longer path is cut at the end. Needs Linux 5.17+ (bpf_loop).
 *
 * Not seen: sendfile, splice, copy_file_range, io_uring and mmap'ed I/O, which do not go through
 * these syscalls; 32-bit (compat) syscalls.
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/files.h>

/* Count every kind of file (sockets, pipes, devices, ...), not only regular files. */
const volatile bool all_files = false;

#define PATH_LEN 512  /* bytes of path kept (power of two: used as a mask) */
#define NAME_COPY 256 /* NAME_MAX + 1: one component at most */
#define MAX_DEPTH 32  /* components kept (power of two: used as a mask) */
#define MAX_MOUNTS 8  /* mount points crossed on the way up */

#define S_IFMT_ 0170000
#define S_IFREG_ 0100000

struct file_key {
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	__u32 dev; /* the file system's device: major << 20 | minor, as the kernel keeps it */
	__u64 inode;
};

struct file_stats {
	__u64 reads;
	__u64 writes;
	__u64 rbytes;
	__u64 wbytes;
	gadget_file_type type;
	gadget_tid tid; /* the first thread seen on this row in the interval */
	gadget_comm comm[GADGET_COMM_LEN];
	gadget_path path[PATH_LEN];
};

/*
 * 10240 rows per interval by default, resized from the map_entries parameter before load. Values
 * are ~570 bytes (the path): BPF_F_NO_PREALLOC allocates an element when a row is created instead
 * of ~6 MiB up front; a full map is counted in gadget_lost.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct file_key);
	__type(value, struct file_stats);
} stats SEC(".maps");

/* A row under construction: too big for the 512-byte BPF stack. */
struct scratch {
	struct file_stats init;
	struct dentry *dentries[MAX_DEPTH];
	char buf[PATH_LEN + NAME_COPY]; /* a component may start anywhere below PATH_LEN */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

/*
 * An index below PATH_LEN the verifier can see is below PATH_LEN. The barrier hides what the
 * compiler knows of `off` (e.g. that it is below PATH_LEN - 1 after a check), which would let it
 * drop the mask and leave the verifier with a bound it cannot prove.
 */
static __always_inline __u32 masked(__u32 off)
{
	barrier_var(off);
	return off & (PATH_LEN - 1);
}

/* What the two loops of file_path() share (bpf_loop callbacks take one context pointer). */
struct walk {
	struct scratch *s;
	struct dentry *dentry;
	struct vfsmount *vfsmnt;
	struct mount *mnt;
	struct dentry *root;
	struct vfsmount *root_mnt;
	__u32 n;   /* components kept in s->dentries, the file's first */
	__u32 off; /* bytes written to s->buf */
	bool rooted;
};

/*
 * One step up the chain; 1 ends the walk. The pointers are copied out of `w` before each
 * BPF_CORE_READ: inside the macro, `w->x` would get a CO-RE relocation against struct walk, which
 * the kernel's BTF does not have.
 */
static long walk_up(__u32 i, struct walk *w)
{
	struct dentry *dentry = w->dentry, *parent;
	struct vfsmount *vfsmnt = w->vfsmnt;
	struct mount *mnt = w->mnt;

	if (dentry == w->root && vfsmnt == w->root_mnt) {
		w->rooted = true;
		return 1;
	}
	if (dentry == BPF_CORE_READ(vfsmnt, mnt_root)) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);

		if (up == mnt) { /* the mount namespace's root: above the process's root */
			w->rooted = true;
			return 1;
		}
		w->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		w->mnt = up;
		w->vfsmnt = &up->mnt;
		return 0;
	}
	parent = BPF_CORE_READ(dentry, d_parent);
	if (parent == dentry || w->n >= MAX_DEPTH) /* a pseudo file's dentry is its own parent */
		return 1;
	w->s->dentries[w->n & (MAX_DEPTH - 1)] = dentry;
	w->n++;
	w->dentry = parent;
	return 0;
}

/* Writes "/name" of the i-th component from the top; 1 ends the loop. */
static long write_down(__u32 i, struct walk *w)
{
	struct dentry *d;
	long len;

	if (i >= w->n || w->off >= PATH_LEN - 1)
		return 1;
	d = w->s->dentries[(w->n - 1 - i) & (MAX_DEPTH - 1)];
	w->s->buf[masked(w->off)] = '/';
	w->off++;
	len = bpf_probe_read_kernel_str(&w->s->buf[masked(w->off)], NAME_COPY,
					BPF_CORE_READ(d, d_name.name));
	if (len <= 0)
		return 1;
	w->off += len - 1; /* the NUL is overwritten by the next '/' */
	return 0;
}

/*
 * The file's path as the process sees it (from its root, so a container's file shows its path in
 * the container), written into s->init.path. Empty for a file with no place in a directory tree
 * (a pipe, a socket, an anonymous inode): its type and inode identify it.
 *
 * Two bpf_loop()s (5.17+): up the dentry chain keeping each component, then the names top-down.
 * The verifier checks a bpf_loop callback once; plain bounded loops of this shape, in each of the
 * ten programs, exceed its instruction budget.
 */
static __always_inline void file_path(struct scratch *s, struct file *file, struct task_struct *task)
{
	struct walk w = {
		.s = s,
		.dentry = BPF_CORE_READ(file, f_path.dentry),
		.vfsmnt = BPF_CORE_READ(file, f_path.mnt),
		.root = BPF_CORE_READ(task, fs, root.dentry),
		.root_mnt = BPF_CORE_READ(task, fs, root.mnt),
	};

	w.mnt = container_of(w.vfsmnt, struct mount, mnt);
	bpf_loop(MAX_DEPTH + MAX_MOUNTS, walk_up, &w, 0);
	if (!w.rooted) {
		s->init.path[0] = '\0';
		return;
	}
	bpf_loop(MAX_DEPTH, write_down, &w, 0);
	if (w.n == 0) /* the root itself */
		s->buf[masked(w.off++)] = '/';
	s->buf[masked(w.off < PATH_LEN ? w.off : PATH_LEN - 1)] = '\0'; /* cut if too long */
	__builtin_memcpy(s->init.path, s->buf, PATH_LEN);
}

static __always_inline int account(struct trace_event_raw_sys_exit *ctx, bool write)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct file_key key = {};
	struct file_stats *st;
	struct inode *inode;
	struct file *file;
	long ret = ctx->ret;
	__u32 mode, zero = 0;

	key.mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(key.mntns_id))
		return 0;
	if (ret < 0)
		return 0;
	file = gadget_file_of_fd(task,
				 PT_REGS_PARM1_CORE_SYSCALL((struct pt_regs *)bpf_task_pt_regs(task)));
	if (!file)
		return 0;
	inode = BPF_CORE_READ(file, f_inode);
	mode = BPF_CORE_READ(inode, i_mode) & S_IFMT_;
	if (!all_files && mode != S_IFREG_)
		return 0;
	key.pid = task->tgid;
	key.dev = BPF_CORE_READ(inode, i_sb, s_dev);
	key.inode = BPF_CORE_READ(inode, i_ino);

	st = bpf_map_lookup_elem(&stats, &key);
	if (!st) {
		struct scratch *s = bpf_map_lookup_elem(&scratch, &zero);

		if (!s)
			return 0;
		__builtin_memset(&s->init, 0, offsetof(struct file_stats, comm));
		s->init.type = mode;
		s->init.tid = task->pid;
		bpf_get_current_comm(s->init.comm, sizeof(s->init.comm));
		file_path(s, file, task);
		st = gadget_aggregate_slot(&stats, &key, &s->init);
		if (!st)
			return 0; /* counted */
	}
	if (write) {
		__sync_fetch_and_add(&st->writes, 1);
		__sync_fetch_and_add(&st->wbytes, ret);
	} else {
		__sync_fetch_and_add(&st->reads, 1);
		__sync_fetch_and_add(&st->rbytes, ret);
	}
	return 0;
}

#define EXIT(call, write)                                           \
	SEC("tracepoint/syscalls/sys_exit_" #call)                  \
	int exit_##call(struct trace_event_raw_sys_exit *ctx)       \
	{                                                           \
		return account(ctx, write);                         \
	}

EXIT(read, false)
EXIT(pread64, false)
EXIT(readv, false)
EXIT(preadv, false)
EXIT(preadv2, false)
EXIT(write, true)
EXIT(pwrite64, true)
EXIT(writev, true)
EXIT(pwritev, true)
EXIT(pwritev2, true)

char LICENSE[] SEC("license") = "Dual BSD/GPL";
