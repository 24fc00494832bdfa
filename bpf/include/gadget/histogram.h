/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Log2 histograms kept in map values: fields of gadget_histogram_slot (types.h). */
#ifndef GADGET_HISTOGRAM_H
#define GADGET_HISTOGRAM_H

/* floor(log2(v)), 0 for v = 0 and 1: branch-free steps, no loop for the verifier to bound. */
static __always_inline __u32 gadget_log2(__u64 v)
{
	__u32 r = 0, shift;

	shift = (v > 0xFFFFFFFFull) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/* The slot of `v` in a histogram of `slots` slots: the last one takes everything larger. */
static __always_inline __u32 gadget_histogram_slot_of(__u64 v, __u32 slots)
{
	__u32 slot = gadget_log2(v);

	return slot < slots ? slot : slots - 1;
}

#endif /* GADGET_HISTOGRAM_H */
