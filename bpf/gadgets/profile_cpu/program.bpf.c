// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * profile_cpu: on-CPU sampling. A software cpu-clock perf event per online CPU fires `frequency`
 * times a second (the agent opens them: the target is not in the section name); each sample
 * counts one hit for (mount namespace, process, thread name, kernel stack, user stack) in a hash
 * map that the agent reads and empties every interval.
 *
 * Stacks are ids into BPF_MAP_TYPE_STACK_TRACE maps, double-buffered with the count map by epoch
 * (gadget/stacks.h says why and how), so an id is always read before its stack is dropped.
 *
 * cpu-clock is a software event: it needs no hardware PMU, so it works in VMs, and it samples
 * wall time on the CPU, so a process's samples are frequency x its CPU seconds.
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/stacks.h>

/* The whole key is hashed: the sample zeroes it first (4 bytes of tail padding). */
struct sample_key {
	gadget_mntns_id mntns_id;
	gadget_pid pid;
	gadget_kernel_stack kernel_stack;
	gadget_user_stack user_stack;
	gadget_comm comm[GADGET_COMM_LEN];
};

struct sample_count {
	__u64 samples;
};

GADGET_EVENT_TYPE(sample_key);
GADGET_EVENT_TYPE(sample_count);

/*
 * Distinct (process, thread name, stacks) seen in one interval. 10240 x ~100 bytes preallocated
 * per map: a busy node at 49 Hz x 64 CPUs x 10 s takes ~31k samples an interval, most of them
 * repeating a few hundred hot stacks. The agent resizes both (map_entries); a full map is counted
 * in gadget_lost (gadget_aggregate_slot). gadget.yaml names counts_0 (aggregate.map): the agent
 * reads counts_<old epoch> each interval.
 */
#define COUNTS_DEFAULT_ENTRIES 10240

struct counts_map {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, COUNTS_DEFAULT_ENTRIES);
	__type(key, struct sample_key);
	__type(value, struct sample_count);
};

struct counts_map counts_0 SEC(".maps");
struct counts_map counts_1 SEC(".maps");

/* Parameters (gadget.yaml). */
const volatile bool kernel_stacks = true;
const volatile bool user_stacks = true;
const volatile bool include_idle = false;

SEC("perf_event")
int sample(struct bpf_perf_event_data *ctx)
{
	static const struct sample_count zero;
	struct task_struct *task = bpf_get_current_task_btf();
	struct sample_count *v;
	struct sample_key key;
	__u64 mntns_id;
	__u32 epoch;

	/* pid 0 is a CPU's idle task (swapper/N): an idle CPU, not a process. */
	if (task->pid == 0 && !include_idle)
		return 0;
	mntns_id = gadget_current_mntns_id();
	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;

	epoch = gadget_stack_epoch_now();
	__builtin_memset(&key, 0, sizeof(key));
	key.mntns_id = mntns_id;
	key.pid = task->tgid;
	*(__u64 *)&key.comm[0] = *(__u64 *)&task->comm[0];
	*(__u64 *)&key.comm[8] = *(__u64 *)&task->comm[8];
	key.kernel_stack = kernel_stacks ? gadget_get_stack(ctx, epoch, 0) : GADGET_STACK_NOT_COLLECTED;
	key.user_stack = user_stacks ? gadget_get_stack(ctx, epoch, BPF_F_USER_STACK)
				     : GADGET_STACK_NOT_COLLECTED;
	v = epoch ? gadget_aggregate_slot(&counts_1, &key, &zero)
		  : gadget_aggregate_slot(&counts_0, &key, &zero);
	if (v)
		__sync_fetch_and_add(&v->samples, 1);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
