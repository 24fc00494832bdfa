// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * profile_blockio: block I/O latency per device and operation, as a log2 histogram in
 * microseconds plus totals, kept in a hash map that the agent reads and empties every interval.
 *
 * Latency is device time: from block_rq_issue (the request handed to the driver) to the first
 * block_rq_complete of that request, like biolatency without -Q. Time queued in the I/O scheduler
 * before issue is not included. tp_btf gives the typed `struct request *`, by which the issue
 * time is kept in a hash map until completion.
 *
 * The mount namespace is the one of the task that issues the request. For direct and synchronous
 * I/O that is usually the submitter; requests dispatched later by the block layer (kblockd,
 * after a scheduler held them), written back by flusher threads, or submitted by a filesystem's
 * or a stacked driver's own threads (loop, dm-crypt workers) are attributed to that kernel
 * thread, i.e. to the host.
 */
#include "vmlinux.h"
#include <bpf/bpf_tracing.h>
#include <gadget/gadget.h>
#include <gadget/histogram.h>

#define DISK_NAME_LEN_ 32 /* DISK_NAME_LEN */
#define LATENCY_SLOTS 27  /* 2^27 us ~ 134 s: the last slot takes anything slower */
#define REQ_OP_MASK_ ((1u << 8) - 1) /* REQ_OP_BITS = 8 since 4.10 */

struct io_key {
	gadget_mntns_id mntns_id;
	gadget_dev dev;
	gadget_block_op op;
	char disk[DISK_NAME_LEN_];
};

struct io_stats {
	__u64 requests;
	__u64 errors;
	__u64 bytes;
	__u64 latency_sum;
	gadget_histogram_slot latency[LATENCY_SLOTS];
};

GADGET_EVENT_TYPE(io_key);
GADGET_EVENT_TYPE(io_stats);

/* Devices x operations x issuing namespaces seen in one interval: a node rarely has more than a
 * few dozen disks, a few operations each. The agent resizes it (map_entries); full = lost. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct io_key);
	__type(value, struct io_stats);
} stats SEC(".maps");

struct start {
	__u64 ts;
	__u64 mntns_id;
	__u64 bytes;
};

/*
 * Requests between issue and completion. Requests are preallocated per hardware queue and tag,
 * so a request whose completion was never seen (the gadget started in between) leaves a stale
 * entry that its next issue overwrites: the map stays bounded by the number of requests that
 * exist. 10240 covers 40 queues of depth 256. Full = lost (counted).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct start);
} inflight SEC(".maps");

/* The kernel's enum req_op changed numbering over time (ZONE_APPEND was 13, is 7): compare with
 * the running kernel's values (CO-RE), skipping names this kernel does not have. */
#define OP(name, gadget_op)                                                                        \
	if (bpf_core_enum_value_exists(enum req_op, name) &&                                       \
	    op == bpf_core_enum_value(enum req_op, name))                                          \
		return gadget_op;

static __always_inline gadget_block_op block_op(__u32 cmd_flags)
{
	__u32 op = cmd_flags & REQ_OP_MASK_;

	OP(REQ_OP_READ, GADGET_BLOCK_OP_READ)
	OP(REQ_OP_WRITE, GADGET_BLOCK_OP_WRITE)
	OP(REQ_OP_FLUSH, GADGET_BLOCK_OP_FLUSH)
	OP(REQ_OP_DISCARD, GADGET_BLOCK_OP_DISCARD)
	OP(REQ_OP_SECURE_ERASE, GADGET_BLOCK_OP_SECURE_ERASE)
	OP(REQ_OP_WRITE_ZEROES, GADGET_BLOCK_OP_WRITE_ZEROES)
	OP(REQ_OP_ZONE_APPEND, GADGET_BLOCK_OP_ZONE_APPEND)
	OP(REQ_OP_ZONE_OPEN, GADGET_BLOCK_OP_ZONE_OPEN)
	OP(REQ_OP_ZONE_CLOSE, GADGET_BLOCK_OP_ZONE_CLOSE)
	OP(REQ_OP_ZONE_FINISH, GADGET_BLOCK_OP_ZONE_FINISH)
	OP(REQ_OP_ZONE_RESET, GADGET_BLOCK_OP_ZONE_RESET)
	OP(REQ_OP_ZONE_RESET_ALL, GADGET_BLOCK_OP_ZONE_RESET_ALL)
	OP(REQ_OP_DRV_IN, GADGET_BLOCK_OP_DRV_IN)
	OP(REQ_OP_DRV_OUT, GADGET_BLOCK_OP_DRV_OUT)
	return GADGET_BLOCK_OP_OTHER;
}

SEC("tp_btf/block_rq_issue")
int BPF_PROG(issue, struct request *rq)
{
	__u64 mntns_id = gadget_current_mntns_id();
	__u64 key = (__u64)rq;
	struct start s;

	if (gadget_should_discard_mntns_id(mntns_id))
		return 0;
	s.ts = bpf_ktime_get_ns();
	s.mntns_id = mntns_id;
	s.bytes = rq->__data_len;
	if (bpf_map_update_elem(&inflight, &key, &s, BPF_ANY))
		gadget_count_lost();
	return 0;
}

/* A request put back to be issued again (the driver was busy): its next issue starts anew. */
SEC("tp_btf/block_rq_requeue")
int BPF_PROG(requeue, struct request *rq)
{
	__u64 key = (__u64)rq;

	bpf_map_delete_elem(&inflight, &key);
	return 0;
}

SEC("tp_btf/block_rq_complete")
int BPF_PROG(complete, struct request *rq, blk_status_t error, unsigned int nr_bytes)
{
	static const struct io_stats zero;
	__u64 key = (__u64)rq;
	struct gendisk *disk;
	struct io_stats *v;
	struct start *s;
	struct io_key k;
	__u64 now = bpf_ktime_get_ns();
	__u64 latency;

	/* Absent: issued before the gadget started, filtered out, or a later partial completion of
	 * a request already counted at its first. */
	s = bpf_map_lookup_elem(&inflight, &key);
	if (!s)
		return 0;
	latency = now > s->ts ? now - s->ts : 0;
	__builtin_memset(&k, 0, sizeof(k));
	k.mntns_id = s->mntns_id;
	disk = rq->q->disk;
	if (disk) {
		k.dev = (__u32)disk->major << 20 | (__u32)disk->first_minor;
		bpf_probe_read_kernel_str(k.disk, sizeof(k.disk), disk->disk_name);
	}
	k.op = block_op(rq->cmd_flags);

	v = gadget_aggregate_slot(&stats, &k, &zero);
	if (v) {
		__sync_fetch_and_add(&v->requests, 1);
		if (error)
			__sync_fetch_and_add(&v->errors, 1);
		__sync_fetch_and_add(&v->bytes, s->bytes);
		__sync_fetch_and_add(&v->latency_sum, latency);
		__sync_fetch_and_add(&v->latency[gadget_histogram_slot_of(latency / 1000, LATENCY_SLOTS)],
				     1);
	}
	bpf_map_delete_elem(&inflight, &key);
	return 0;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
