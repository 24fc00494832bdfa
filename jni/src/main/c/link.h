/* A handle for anything that keeps a program attached; closing it detaches. */
#ifndef GX_LINK_H
#define GX_LINK_H

struct bpf_link;

enum gx_link_kind {
	GX_LINK_LIBBPF,        /* a libbpf bpf_link: tracepoint, raw_tp, uprobe, iter, perf_event */
	GX_LINK_SOCKET_FILTER, /* SO_ATTACH_BPF on a socket the caller owns */
};

struct gx_link {
	enum gx_link_kind kind;
	struct bpf_link *link; /* GX_LINK_LIBBPF */
	int sock_fd;           /* GX_LINK_SOCKET_FILTER */
};

#endif
