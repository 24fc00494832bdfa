/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Stack traces for aggregating gadgets (profile_cpu): stack ids that userspace turns into frames
 * (gadget_kernel_stack / gadget_user_stack fields, see types.h) and a double buffer that keeps
 * every id valid until the row holding it has been read.
 *
 * Why a double buffer: a stack id is a bucket of a BPF_MAP_TYPE_STACK_TRACE map. Rows are taken
 * out of the count map with a batch lookup-and-delete, then their ids are resolved, then the stack
 * map must be emptied (it would fill up otherwise). A sample taken between the count read and the
 * clearing creates a row whose stack is deleted under it: next time that id resolves to nothing,
 * or to another stack that hashed to the same bucket. So every sample takes the current epoch
 * (0 or 1) once and uses that epoch's stack map and that epoch's count map: the gadget declares
 * two count maps `<name>_0` and `<name>_1`, and gadget.yaml's aggregate.map names `<name>_0`. The
 * agent (AggregateReader, StackTraces), each interval:
 *   1. flips gadget_stack_epoch;
 *   2. waits until no program still runs with the old epoch: it rewrites the one slot of
 *      gadget_stack_sync, and the kernel answers an update of a map-in-map only after a
 *      synchronize_rcu() (every non-sleepable BPF program that could still see the old value has
 *      returned: BPF programs run under RCU);
 *   3. reads the old epoch's count map (now complete and frozen), resolving ids through the old
 *      epoch's stack map;
 *   4. empties that stack map. Nothing refers to it any more; it is current again next interval.
 *
 * Memory: each stack map preallocates max_entries * (8 * GADGET_STACK_DEPTH + ~16) bytes, ~8.1 MiB
 * each at the default 8192 entries; the agent resizes both (a gadget parameter).
 */
#ifndef GADGET_STACKS_H
#define GADGET_STACKS_H

#include "gadget.h"

/* The kernel's default kernel.perf_event_max_stack: deeper stacks are cut by the kernel anyway. */
#define GADGET_STACK_DEPTH 127
#define GADGET_STACKS_DEFAULT_ENTRIES 8192

/* A stack kind that the gadget was told not to collect (distinct from the helper's -EFAULT). */
#define GADGET_STACK_NOT_COLLECTED (-2) /* -ENOENT */

struct gadget_stack_map {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, GADGET_STACKS_DEFAULT_ENTRIES);
	__type(key, __u32);
	__type(value, __u64[GADGET_STACK_DEPTH]);
};

struct gadget_stack_map gadget_stacks_0 SEC(".maps");
struct gadget_stack_map gadget_stacks_1 SEC(".maps");

/* The epoch new samples go to; written by the agent only. */
struct gadget_stack_epoch_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} gadget_stack_epoch SEC(".maps");

/* Never read by programs: the agent rewrites its slot (with the epoch map, the only map of the
 * right shape at hand) to get the kernel's synchronize_rcu() (step 2 above). */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct gadget_stack_epoch_map);
} gadget_stack_sync SEC(".maps") = {
	.values = {[0] = &gadget_stack_epoch},
};

/* The current epoch, 0 or 1. Read it once per sample and pass it to everything of that sample. */
static __always_inline __u32 gadget_stack_epoch_now(void)
{
	__u32 zero = 0;
	__u32 *epoch = bpf_map_lookup_elem(&gadget_stack_epoch, &zero);

	return epoch && *epoch ? 1 : 0;
}

/*
 * The id of the current stack (flags: 0 = kernel stack, BPF_F_USER_STACK = user stack) in the
 * epoch's stack map, or -errno: -EFAULT when there is no such stack (a kernel thread has no user
 * stack; a sample taken in user mode has no kernel stack), -EEXIST when the stack's bucket holds
 * another stack, -ENOMEM when the map is out of entries. The last two lose the stack, not the
 * sample (it is still counted, without that stack): counted in gadget_incomplete.
 */
static __always_inline __s32 gadget_get_stack(void *ctx, __u32 epoch, __u64 flags)
{
	long id = epoch ? bpf_get_stackid(ctx, &gadget_stacks_1, flags)
			: bpf_get_stackid(ctx, &gadget_stacks_0, flags);

	if (id == -17 /* EEXIST */ || id == -12 /* ENOMEM */)
		gadget_count_incomplete();
	return (__s32)id;
}

#endif /* GADGET_STACKS_H */
