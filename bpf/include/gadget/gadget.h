/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Plumbing shared by every gadget: the event ring buffer, the lost- and incomplete-event
 * counters, the mount-namespace filter and the wake-up rule. The agent finds these by name (see
 * docs/architecture.md, "Gadgets"): keep the names.
 *
 * Include after vmlinux.h. A gadget then does:
 *
 *     struct event *e = gadget_reserve(sizeof(*e));
 *     if (!e)
 *             return 0;       // counted in gadget_lost
 *     ... fill e ...
 *     gadget_submit(e);
 */
#ifndef GADGET_GADGET_H
#define GADGET_GADGET_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "types.h"

/*
 * The event stream. 8 MiB is the default; the agent resizes it per instance before load
 * (a power of two, a multiple of the page size). 8 MiB holds ~25k trace_open records (320 bytes
 * + the ring's 8-byte header), i.e. a fraction of a second of an open-heavy loop: enough for
 * the reader's wake-up threshold below (1 MiB) plus its drain latency.
 */
#define GADGET_EVENTS_DEFAULT_SIZE (8u << 20)

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, GADGET_EVENTS_DEFAULT_SIZE);
} events SEC(".maps");

/* One per-CPU counter of events dropped because the ring buffer was full (or another bounded
 * resource, e.g. a gadget's in-flight map, was). Userspace sums the CPUs. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gadget_lost SEC(".maps");

/* Per-CPU count of parts of events a bounded resource had no room for (a socket's owner, a
 * query's start, a stack) while the events themselves are delivered: not lost, so kept out of
 * gadget_lost (see gadget_count_incomplete). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gadget_incomplete SEC(".maps");

/*
 * The mount namespaces (containers) the instance's selector names, maintained by the agent as
 * containers come and go; the value is unused (1). What a listed namespace means depends on
 * gadget_mntns_filter_mode. 16384 is far above any node's container count (Kubernetes' max-pods is
 * at most a few hundred, a few containers each) while leaving room for short-lived containers not
 * yet removed; BPF_F_NO_PREALLOC makes memory follow the real entry count (the map is only read by
 * programs, written by userspace), so the generous bound costs nothing when filtering is off.
 */
#define GADGET_MNTNS_FILTER_MAX 16384

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GADGET_MNTNS_FILTER_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} gadget_mntns_filter SEC(".maps");

/*
 * Set by the agent before load, from the instance's selector:
 *  OFF     trace everything (no selector): the map is not even looked up;
 *  INCLUDE trace only the listed namespaces (host processes not selected: anything the agent has
 *          not listed, including a container it has not seen yet, is dropped);
 *  EXCLUDE trace everything but the listed namespaces (host processes selected: processes in
 *          private namespaces, e.g. systemd services with PrivateTmp, are host processes too, and
 *          an allow-list could never name them all).
 */
#define GADGET_FILTER_OFF 0
#define GADGET_FILTER_INCLUDE 1
#define GADGET_FILTER_EXCLUDE 2
const volatile __u8 gadget_mntns_filter_mode = GADGET_FILTER_OFF;

/* Per-CPU count of events the filter discarded in the kernel: they cost userspace nothing, and
 * the count shows the selector at work. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gadget_filtered SEC(".maps");

/*
 * Submit without waking the reader unless at least this many bytes are pending in the ring.
 * A wake-up per event is what makes tracing expensive: trace_open on a loop of open+close costs
 * ~5.1x the untraced loop with 0 here, ~1.3x with 1 MiB (DESIGN.md §2 has the same picture).
 * The agent's drain timer bounds latency when traffic stays below the threshold.
 * 0 = wake on every event.
 */
const volatile __u64 gadget_wakeup_bytes = 1u << 20;

/* Keeps `struct type` in the object's BTF (a type only used by local variables would be dropped)
 * so userspace can describe the event. A const pointer lands in .rodata: no extra map. */
#define GADGET_EVENT_TYPE(type) \
	const struct type *const gadget_event_type_##type __attribute__((unused)) = 0

/*
 * The current task's mount namespace id (inode number). Where the kernel has
 * bpf_get_current_task_btf() (5.11+) the chain is walked with direct BTF loads, which cost a
 * fraction of three bpf_probe_read_kernel() calls (measured: ~20 ns vs ~115 ns); older kernels
 * take the BPF_CORE_READ path. The test is resolved at load time (CO-RE), and the verifier drops
 * the branch not taken.
 */
static __always_inline __u64 gadget_current_mntns_id(void)
{
	struct task_struct *task;

	if (bpf_core_enum_value_exists(enum bpf_func_id, BPF_FUNC_get_current_task_btf)) {
		task = bpf_get_current_task_btf();
		return task->nsproxy->mnt_ns->ns.inum; /* faults (exiting task) read as 0 */
	}
	task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

/*
 * The mount namespace id of a task other than the current one (an iterator's task, a parent):
 * 0 when it has none left (a zombie has dropped its namespaces).
 */
static __always_inline __u64 gadget_task_mntns_id(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

/*
 * Whether the selector names this mount namespace, without counting anything: for a decision
 * that is not itself an event discarded (a snapshot gadget's preparatory pass).
 */
static __always_inline bool gadget_mntns_selected(__u64 mntns_id)
{
	bool listed;

	if (gadget_mntns_filter_mode == GADGET_FILTER_OFF)
		return true;
	listed = bpf_map_lookup_elem(&gadget_mntns_filter, &mntns_id) != NULL;
	return listed == (gadget_mntns_filter_mode == GADGET_FILTER_INCLUDE);
}

/* True when the selector does not name this mount namespace: the caller returns at once. */
static __always_inline bool gadget_should_discard_mntns_id(__u64 mntns_id)
{
	__u32 zero = 0;
	__u64 *filtered;

	if (gadget_mntns_selected(mntns_id))
		return false;
	filtered = bpf_map_lookup_elem(&gadget_filtered, &zero);
	if (filtered)
		*filtered += 1; /* per-CPU: no other writer */
	return true;
}

/* An event that will not be delivered at all (a full map of the gadget's own, ...). */
static __always_inline void gadget_count_lost(void)
{
	__u32 zero = 0;
	__u64 *lost = bpf_map_lookup_elem(&gadget_lost, &zero);

	if (lost)
		__sync_fetch_and_add(lost, 1);
}

/*
 * Something events are still delivered without, for lack of room (a socket's owner, a query's
 * start, a stack): counted where it is missed, once, not per event that then lacks it. Use
 * gadget_count_lost() instead when the event itself is not delivered.
 */
static __always_inline void gadget_count_incomplete(void)
{
	__u32 zero = 0;
	__u64 *incomplete = bpf_map_lookup_elem(&gadget_incomplete, &zero);

	if (incomplete)
		__sync_fetch_and_add(incomplete, 1);
}

/* A record of `size` bytes (a compile-time constant) in `events`, or NULL (counted) when full. */
static __always_inline void *gadget_reserve(__u64 size)
{
	void *rec = bpf_ringbuf_reserve(&events, size, 0);

	if (!rec)
		gadget_count_lost();
	return rec;
}

/* The wake-up rule: wake the reader only once gadget_wakeup_bytes are pending. */
static __always_inline __u64 gadget_wakeup_flags(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= gadget_wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

/* Submit a record from gadget_reserve(). */
static __always_inline void gadget_submit(void *rec)
{
	bpf_ringbuf_submit(rec, gadget_wakeup_flags());
}

/*
 * Copy `size` bytes (a compile-time constant) from `data` (e.g. an event kept in a map between a
 * syscall's entry and exit) into `events` as one record: reserve + copy + submit in one helper.
 * A full ring is counted in gadget_lost.
 */
static __always_inline void gadget_output(void *data, __u64 size)
{
	if (bpf_ringbuf_output(&events, data, size, gadget_wakeup_flags()))
		gadget_count_lost();
}

/*
 * For aggregating gadgets (gadget.yaml `aggregate:`), whose numbers live in a hash map the agent
 * empties every interval: the value for `key`, inserted as a copy of `init` when absent. Adds go
 * into the returned value with __sync_fetch_and_add (other CPUs update the same element).
 * Returns NULL, counted in gadget_lost, when the map is full (E2BIG; or out of memory for a
 * BPF_F_NO_PREALLOC map), or when the agent's read took the new element out before this lookup:
 * what the caller meant to add is then lost, and counted.
 */
static __always_inline void *gadget_aggregate_slot(void *map, const void *key, const void *init)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	/* BPF_NOEXIST: another CPU may insert the same key first (-EEXIST); its element is used. */
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	value = bpf_map_lookup_elem(map, key);
	if (!value)
		gadget_count_lost();
	return value;
}

#endif /* GADGET_GADGET_H */
