// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * syscall_count: system calls per container (mount namespace) and syscall, with how many failed;
 * optionally per process. An aggregating gadget: counts live in the `counts` hash map, which the
 * agent empties every interval (gadget.yaml `aggregate:`); nothing goes through the ring buffer.
 *
 * One program, on raw_syscalls/sys_exit: it sees every syscall's number and result, so one hit
 * per syscall counts both the call and its failure (a second program at sys_enter would double
 * the cost). The syscalls that never return, exit and exit_group, are therefore not counted (a
 * successful execve does return, in the new program).
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>

/* Key one process's calls apart (its pid and comm in the row); off by default: one row per
 * process and syscall can be far more rows than one per container and syscall. */
const volatile bool per_process = false;

struct syscall_key {
	gadget_mntns_id mntns_id;
	gadget_pid pid; /* 0 unless per_process */
	gadget_syscall_nr syscall;
};

struct syscall_stats {
	__u64 count;
	__u64 errors;
	gadget_comm comm[GADGET_COMM_LEN]; /* the first caller's in the interval; per_process only */
};

/*
 * 10240 rows per interval by default, resized from the map_entries parameter before load: a node
 * with a few hundred containers calling a few dozen distinct syscalls each stays well below, and
 * a full map is counted in gadget_lost. Preallocated (the default): an update never allocates on
 * this hot path; 10240 elements are ~0.7 MiB.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct syscall_key);
	__type(value, struct syscall_stats);
} counts SEC(".maps");

/* A failed syscall returns -errno, -4095..-1 (the kernel's MAX_ERRNO). */
#define MAX_ERRNO 4095

/* A 32-bit (compat) syscall comes through the same tracepoint with a number from another table:
 * it is skipped, as the per-syscall tracepoints skip it, rather than counted under a wrong name. */
static __always_inline bool compat_syscall(struct task_struct *task)
{
#if defined(__TARGET_ARCH_x86)
	return task->thread_info.status & 0x0002; /* TS_COMPAT */
#elif defined(__TARGET_ARCH_arm64)
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(task);

	return BPF_CORE_READ(regs, pstate) & 0x10; /* PSR_MODE32_BIT: an AArch32 task */
#else
	return false;
#endif
}

SEC("tracepoint/raw_syscalls/sys_exit")
int sys_exit(struct trace_event_raw_sys_exit *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct syscall_key key = {};
	struct syscall_stats *stats;
	long ret = ctx->ret;

	key.mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(key.mntns_id))
		return 0;
	if (ctx->id < 0 || compat_syscall(task))
		return 0;
	key.syscall = ctx->id;
	if (per_process)
		key.pid = task->tgid;

	stats = bpf_map_lookup_elem(&counts, &key);
	if (!stats) {
		struct syscall_stats init = {};

		if (per_process)
			bpf_get_current_comm(init.comm, sizeof(init.comm));
		stats = gadget_aggregate_slot(&counts, &key, &init);
		if (!stats)
			return 0; /* counted */
	}
	__sync_fetch_and_add(&stats->count, 1);
	if (ret < 0 && ret >= -MAX_ERRNO)
		__sync_fetch_and_add(&stats->errors, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
