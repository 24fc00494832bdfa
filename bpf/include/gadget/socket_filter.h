/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The selector for socket-filter programs (SEC("socket")). The agent opens one packet socket in
 * each network namespace the instance traces and attaches the filters there (NetnsSockets), and
 * keeps gadget_traced_netns saying, per namespace, what may be emitted. A packet in softirq has
 * no process to test against the mount-namespace filter, and a namespace is not a selection unit:
 * a selector naming one host-network pod makes the agent trace the host's namespace, where every
 * host process and every other host-network pod sends too. So a socket filter decides per packet,
 * with gadget_should_discard_packet():
 *
 *  - when it knows the process (a tracepoint program recorded it for this flow), the
 *    mount-namespace filter decides, as for any event;
 *  - when it does not, the packet is emitted only if the whole namespace is selected: every
 *    process the agent knows in it is (a selected container's own namespace, the host's when the
 *    selector includes the host and every container sharing it). Otherwise it is dropped.
 *
 * Both drops are counted in gadget_filtered. Include after gadget.h.
 */
#ifndef GADGET_SOCKET_FILTER_H
#define GADGET_SOCKET_FILTER_H

/* Values in gadget_traced_netns (a bit set). */
#define GADGET_NETNS_TRACED 1       /* the agent has a socket there */
#define GADGET_NETNS_ALL_SELECTED 2 /* every process in it is selected */

/*
 * The network namespaces where the agent has a socket (inode -> GADGET_NETNS_* bits), maintained
 * by the agent as containers and the selector change; tracepoint programs of the gadget use it to
 * ignore the namespaces no socket filter sees. Same bound and reasoning as gadget_mntns_filter.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GADGET_MNTNS_FILTER_MAX);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, __u64);
	__type(value, __u8);
} gadget_traced_netns SEC(".maps");

/* Whether the agent has a socket in this network namespace. */
static __always_inline bool gadget_netns_traced(__u64 netns)
{
	return bpf_map_lookup_elem(&gadget_traced_netns, &netns) != NULL;
}

/* Counts one event the selector dropped (gadget_should_discard_mntns_id's counter). */
static __always_inline void gadget_count_filtered(void)
{
	__u32 zero = 0;
	__u64 *filtered = bpf_map_lookup_elem(&gadget_filtered, &zero);

	if (filtered)
		*filtered += 1; /* per-CPU: no other writer */
}

/*
 * True (counted in gadget_filtered) when a packet seen in network namespace `netns` must not be
 * emitted: its process is known (`process_known`, with mount namespace `mntns_id`) and not
 * selected, or it is unknown and the namespace is not wholly selected.
 */
static __always_inline bool gadget_should_discard_packet(__u64 netns, bool process_known,
							 __u64 mntns_id)
{
	__u8 *flags;

	if (process_known)
		return gadget_should_discard_mntns_id(mntns_id);
	if (gadget_mntns_filter_mode == GADGET_FILTER_OFF)
		return false;
	flags = bpf_map_lookup_elem(&gadget_traced_netns, &netns);
	/* No entry: the socket is closing, so the namespace is no longer selected. */
	if (flags && (*flags & GADGET_NETNS_ALL_SELECTED))
		return false;
	gadget_count_filtered();
	return true;
}

#endif /* GADGET_SOCKET_FILTER_H */
