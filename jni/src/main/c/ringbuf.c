/*
 * A BPF ring buffer consumer of our own, over the kernel's shared mapping.
 *
 * Why not libbpf's ring_buffer__poll(): in libbpf 1.1 it advances consumer_pos *before* calling
 * the sample callback, so a callback that finds the Java buffer full can only drop the record.
 * Here a record is consumed after it was copied; one that does not fit stays in the ring for the
 * next drain, and nothing is lost on the way to Java.
 *
 * The kernel's layout (kernel/bpf/ringbuf.c), as libbpf maps it:
 *   offset 0          one page, consumer_pos (unsigned long), written by us: mapped read-write
 *   offset page_size  one page, producer_pos, then the data area of `size` bytes mapped twice in a
 *                     row, so a record that wraps around the end is still contiguous: read-only
 * Each record starts at an 8-byte-aligned position with an 8-byte header:
 *   u32 len  (BPF_RINGBUF_BUSY_BIT: still being written; BPF_RINGBUF_DISCARD_BIT: discarded)
 *   u32 pg_off (for the kernel)
 * and occupies round_up(len + 8, 8) bytes. Positions only grow; position & (size-1) is the offset.
 *
 * What Java gets in the bound direct buffer, starting at 0, per record:
 *   u32 length, u32 0 (reserved), payload, zero padding to the next multiple of 8.
 */
#include "jni_util.h"
#include "log.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#define OUT_HEADER 8u

struct gx_ring {
	int map_fd;   /* our own dup: the reader does not depend on the object staying open */
	int epoll_fd; /* holds map_fd (the kernel's wake-ups) and event_fd (wakeup()) */
	int event_fd;
	size_t page_size;
	__u64 mask;                  /* data size - 1 */
	unsigned long *consumer_pos; /* RW page */
	void *producer_map;          /* RO: producer page + data twice */
	const unsigned long *producer_pos;
	const __u8 *data;
	__u8 *out; /* the Java direct buffer, bound once */
	size_t out_cap;
	__u64 oversized; /* records larger than the whole buffer: skipped, counted */
};

static inline size_t round8(size_t n)
{
	return (n + 7) & ~(size_t)7;
}

static void ring_free(struct gx_ring *r)
{
	if (r->producer_map && r->producer_map != MAP_FAILED)
		munmap(r->producer_map, r->page_size + 2 * (r->mask + 1));
	if (r->consumer_pos && (void *)r->consumer_pos != MAP_FAILED)
		munmap(r->consumer_pos, r->page_size);
	if (r->epoll_fd >= 0)
		close(r->epoll_fd);
	if (r->event_fd >= 0)
		close(r->event_fd);
	if (r->map_fd >= 0)
		close(r->map_fd);
	free(r);
}

static jlong JNICALL ring_open(JNIEnv *env, jclass cls, jint map_fd, jobject jbuf)
{
	gx_log_reset();
	struct gx_ring *r = calloc(1, sizeof(*r));
	if (!r) {
		gx_throw_oom(env, "ring reader");
		return 0;
	}
	r->map_fd = r->epoll_fd = r->event_fd = -1;
	r->page_size = (size_t)sysconf(_SC_PAGESIZE);

	r->out = (*env)->GetDirectBufferAddress(env, jbuf);
	jlong cap = (*env)->GetDirectBufferCapacity(env, jbuf);
	if (!r->out || cap < 0) {
		gx_throw_illegal_argument(env, "the ring reader needs a direct ByteBuffer");
		goto fail;
	}
	r->out_cap = (size_t)cap & ~(size_t)7; /* records are 8-byte aligned */

	struct bpf_map_info info;
	__u32 info_len = sizeof(info);
	memset(&info, 0, sizeof(info));
	int err = bpf_obj_get_info_by_fd(map_fd, &info, &info_len);
	if (err) {
		gx_throw_errno(env, err, "bpf_obj_get_info_by_fd(map fd %d)", (int)map_fd);
		goto fail;
	}
	if (info.type != BPF_MAP_TYPE_RINGBUF) {
		gx_throw_illegal_argument(env, "map '%s' is not a BPF_MAP_TYPE_RINGBUF (type %u)",
					  info.name, info.type);
		goto fail;
	}
	__u64 size = info.max_entries;
	r->mask = size - 1;

	r->map_fd = fcntl(map_fd, F_DUPFD_CLOEXEC, 0);
	if (r->map_fd < 0) {
		gx_throw_errno(env, errno, "dup of ring buffer fd");
		goto fail;
	}
	r->consumer_pos =
		mmap(NULL, r->page_size, PROT_READ | PROT_WRITE, MAP_SHARED, r->map_fd, 0);
	if (r->consumer_pos == MAP_FAILED) {
		gx_throw_errno(env, errno, "mmap of ring buffer '%s' consumer page", info.name);
		goto fail;
	}
	r->producer_map = mmap(NULL, r->page_size + 2 * size, PROT_READ, MAP_SHARED, r->map_fd,
			       (off_t)r->page_size);
	if (r->producer_map == MAP_FAILED) {
		gx_throw_errno(env, errno, "mmap of ring buffer '%s' data (%llu bytes)", info.name,
			       (unsigned long long)size);
		goto fail;
	}
	r->producer_pos = r->producer_map;
	r->data = (const __u8 *)r->producer_map + r->page_size;

	r->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	r->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (r->event_fd < 0 || r->epoll_fd < 0) {
		gx_throw_errno(env, errno, "eventfd/epoll_create1 for ring buffer '%s'", info.name);
		goto fail;
	}
	/*
	 * Edge-triggered, unlike libbpf's poller. Level-triggered, a ring that woke us once stays
	 * "ready" for as long as it holds any byte, so under steady traffic every epoll_wait returns at
	 * once and the drain thread spins on tiny batches: the BPF_RB_NO_WAKEUP batching would save the
	 * producers' wake-ups but burn a core in the consumer. Edge-triggered, we sleep until the
	 * kernel's next wake-up (pending data crossed gadget_wakeup_bytes) or the drain timer.
	 */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u32 = 0};
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->map_fd, &ev) < 0) {
		gx_throw_errno(env, errno, "epoll_ctl(ring buffer '%s')", info.name);
		goto fail;
	}
	ev.events = EPOLLIN; /* the eventfd is read back to zero after each wakeup() */
	ev.data.u32 = 1;
	if (epoll_ctl(r->epoll_fd, EPOLL_CTL_ADD, r->event_fd, &ev) < 0) {
		gx_throw_errno(env, errno, "epoll_ctl(eventfd)");
		goto fail;
	}
	return gx_handle(r);
fail:
	ring_free(r);
	return 0;
}

static void JNICALL ring_close(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_ring *r = GX_PTR(struct gx_ring, h);
	if (r)
		ring_free(r);
}

/*
 * Copies complete records into the bound buffer until the ring is empty, a record is still being
 * written (BUSY: later records cannot be consumed before it), or the next record does not fit.
 * Returns the number of records copied.
 */
static int ring_drain_records(struct gx_ring *r)
{
	/* We are the only writer of consumer_pos: a plain load suffices. */
	unsigned long cons = *r->consumer_pos;
	/* Acquire pairs with the kernel's release store: records before prod are published. */
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	size_t off = 0;
	int n = 0;

	while (cons < prod) {
		const __u8 *rec = r->data + (cons & r->mask);
		__u32 len = __atomic_load_n((const __u32 *)rec, __ATOMIC_ACQUIRE);
		if (len & BPF_RINGBUF_BUSY_BIT)
			break;
		__u32 payload = len & ~(BPF_RINGBUF_BUSY_BIT | BPF_RINGBUF_DISCARD_BIT);
		unsigned long step = round8((size_t)payload + BPF_RINGBUF_HDR_SZ);

		if (!(len & BPF_RINGBUF_DISCARD_BIT)) {
			size_t need = OUT_HEADER + round8(payload);
			if (need > r->out_cap) {
				/* Can never fit: skip it, or the reader would stall forever. */
				r->oversized++;
			} else if (off + need > r->out_cap) {
				break; /* stays in the ring for the next drain */
			} else {
				__u8 *dst = r->out + off;
				((__u32 *)dst)[0] = payload;
				((__u32 *)dst)[1] = 0;
				/* Contiguous even across the end: the data area is mapped twice. */
				memcpy(dst + OUT_HEADER, rec + BPF_RINGBUF_HDR_SZ, payload);
				memset(dst + OUT_HEADER + payload, 0, round8(payload) - payload);
				off += need;
				n++;
			}
		}
		cons += step;
	}
	/* Release: our reads of the records happen before the kernel may reuse their space. */
	__atomic_store_n(r->consumer_pos, cons, __ATOMIC_RELEASE);
	return n;
}

static jint JNICALL ring_drain(JNIEnv *env, jclass cls, jlong h)
{
	return ring_drain_records(GX_PTR(struct gx_ring, h));
}

/*
 * Waits up to timeout_ms (-1: forever) for the kernel's wake-up or wakeup(), then drains.
 * Records submitted with BPF_RB_NO_WAKEUP do not end the wait: they arrive with the drain that
 * follows the timeout. Returns records copied, or -errno.
 */
static jint JNICALL ring_poll(JNIEnv *env, jclass cls, jlong h, jint timeout_ms)
{
	struct gx_ring *r = GX_PTR(struct gx_ring, h);
	struct epoll_event events[2];

	int n = epoll_wait(r->epoll_fd, events, 2, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (events[i].data.u32 == 1) {
			__u64 v;
			/* Reset the eventfd so the next poll waits again. */
			if (read(r->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
		}
	}
	return ring_drain_records(r);
}

static jint JNICALL ring_wakeup(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_ring *r = GX_PTR(struct gx_ring, h);
	__u64 one = 1;

	return write(r->event_fd, &one, sizeof(one)) < 0 ? -errno : 0;
}

/* Bytes between the consumer and producer positions: records pending, busy or discarded. */
static jlong JNICALL ring_pending(JNIEnv *env, jclass cls, jlong h)
{
	struct gx_ring *r = GX_PTR(struct gx_ring, h);
	unsigned long prod = __atomic_load_n(r->producer_pos, __ATOMIC_ACQUIRE);
	return (jlong)(prod - *r->consumer_pos);
}

static jlong JNICALL ring_oversized(JNIEnv *env, jclass cls, jlong h)
{
	return (jlong)GX_PTR(struct gx_ring, h)->oversized;
}

static const JNINativeMethod methods[] = {
	{"ringOpen", "(ILjava/nio/ByteBuffer;)J", (void *)ring_open},
	{"ringClose", "(J)V", (void *)ring_close},
	{"ringDrain", "(J)I", (void *)ring_drain},
	{"ringPoll", "(JI)I", (void *)ring_poll},
	{"ringWakeup", "(J)I", (void *)ring_wakeup},
	{"ringPending", "(J)J", (void *)ring_pending},
	{"ringOversized", "(J)J", (void *)ring_oversized},
};

int gx_register_ringbuf(JNIEnv *env)
{
	return gx_register(env, methods, GX_ARRAY_SIZE(methods));
}
