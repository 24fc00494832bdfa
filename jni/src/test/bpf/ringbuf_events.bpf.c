// SPDX-License-Identifier: GPL-2.0
/*
 * Test object for the ring buffer reader, maps, constants and BTF.
 *
 * handle_write fires on write(2) calls of one process (target_tgid) with one byte count
 * (magic_count), so a test triggers exactly the events it wants with
 * FileOutputStream("/dev/null").write(new byte[magic_count]) and nothing else interferes.
 * Every attempt takes a sequence number from counters[0]; it is then submitted, discarded (every
 * discard_every-th), or lost (reserve failed, counted per CPU in gadget_lost), so
 * attempts = received + discarded + lost.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "GPL";

/* Typedefs as gadgets use them, so the BTF test sees declared-with names. */
typedef __u64 test_timestamp;
typedef __u32 test_pid;
typedef test_pid test_tid; /* a typedef of a typedef: typedefName must be test_tid */
typedef char test_comm[16];

enum test_kind { TEST_KIND_EVEN = 2, TEST_KIND_ODD = 3 };

struct test_event {
	test_timestamp timestamp;
	__u64 seq;
	test_pid pid;
	test_tid tid;
	test_comm comm;
	__s32 negative;
	__u32 cpu;
	enum test_kind kind;
	bool odd;
	__u8 bytes[3];
	unsigned int low : 3;  /* bitfields */
	unsigned int high : 5;
	volatile __u16 qualified;
};

/* Odd sequence numbers are submitted 5 bytes longer, to exercise the 8-byte padding. */
struct test_event_long {
	struct test_event ev;
	__u8 tail[5];
} __attribute__((packed));

/* Types only the BTF test looks at, kept in BTF through a global of this type. */
struct test_nested {
	__u32 a;
	__u16 b;
};

struct test_kinds {
	const volatile int qualified_int;
	void *pointer;
	struct test_nested nested;
	union {
		__u32 as_u32;
		__u16 as_u16;
	} named_union;
	__u32 matrix[2][3];
	signed char schar;
	unsigned char uchar;
	char plain_char;
	long long llong;
	test_pid pids[2];
	union {
		__u64 anon_a;
		__u32 anon_b;
	};
};

struct test_kinds kinds_instance;

/*
 * clang emits BTF only for types reachable from globals, maps and function signatures; the event
 * struct is otherwise only a local's type. This global puts it in BTF (gadgets do the same).
 */
struct test_event *test_event_btf __attribute__((unused));

const volatile __u32 target_tgid = 0;
const volatile __u64 magic_count = 0;
/* Wake the reader only once more than this many bytes are pending; force_wakeup: always. */
const volatile __u64 wakeup_bytes = 0;
const volatile bool force_wakeup = false;
const volatile __u32 discard_every = 0;
const volatile __s8 small_signed = 0;   /* setConstant size checks */
const volatile __u16 two_bytes = 0;
const volatile char label[6] = {};      /* set with setConstant(byte[]) */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gadget_lost SEC(".maps");

/* [0] attempts (the next sequence number), [1] discarded, [2] label[0] seen at run time */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

/* For the map tests only. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} test_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u32); /* 4 bytes: per-CPU slots are 8 */
} test_percpu_hash SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} test_array SEC(".maps");

static __always_inline void fill(struct test_event *e, __u64 seq)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	e->timestamp = bpf_ktime_get_boot_ns();
	e->seq = seq;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->negative = -(__s32)seq;
	e->cpu = bpf_get_smp_processor_id();
	e->kind = (seq & 1) ? TEST_KIND_ODD : TEST_KIND_EVEN;
	e->odd = seq & 1;
	e->bytes[0] = 1;
	e->bytes[1] = 2;
	e->bytes[2] = 3;
	e->low = seq & 7;
	e->high = 31;
	e->qualified = 0xabcd;
}

static __always_inline __u64 submit_flags(void)
{
	if (force_wakeup)
		return BPF_RB_FORCE_WAKEUP;
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) > wakeup_bytes)
		return 0; /* the kernel's default: wake the reader if it is waiting */
	return BPF_RB_NO_WAKEUP;
}

static __always_inline int lost(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&gadget_lost, &zero);
	if (n)
		__sync_fetch_and_add(n, 1);
	return 0;
}

static __always_inline bool discard(__u64 seq)
{
	if (!discard_every || seq % discard_every != discard_every - 1)
		return false;
	__u32 one = 1;
	__u64 *n = bpf_map_lookup_elem(&counters, &one);
	if (n)
		__sync_fetch_and_add(n, 1);
	return true;
}

SEC("tracepoint/syscalls/sys_enter_write")
int handle_write(struct trace_event_raw_sys_enter *ctx)
{
	if (target_tgid && (bpf_get_current_pid_tgid() >> 32) != target_tgid)
		return 0;
	if (ctx->args[2] != magic_count)
		return 0;

	__u32 key = 0;
	__u64 *attempts = bpf_map_lookup_elem(&counters, &key);
	if (!attempts)
		return 0;
	__u64 seq = __sync_fetch_and_add(attempts, 1);

	key = 2;
	__u64 *label_seen = bpf_map_lookup_elem(&counters, &key);
	if (label_seen)
		*label_seen = label[0];

	if (seq & 1) {
		struct test_event_long *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return lost();
		fill((struct test_event *)e, seq); /* ev is at offset 0, 8-aligned */
		for (int i = 0; i < 5; i++)
			e->tail[i] = 0xee;
		if (discard(seq))
			bpf_ringbuf_discard(e, 0);
		else
			bpf_ringbuf_submit(e, submit_flags());
	} else {
		struct test_event *e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
		if (!e)
			return lost();
		fill(e, seq);
		if (discard(seq))
			bpf_ringbuf_discard(e, 0);
		else
			bpf_ringbuf_submit(e, submit_flags());
	}
	return 0;
}
