/*
 * Work that has to happen inside another network namespace: the kernel ties a packet socket, a
 * network-scoped BPF iterator fd (and more) for life to the namespace of the task that creates
 * it, so the creator must be in that namespace; the object then serves any thread.
 */
#ifndef GX_NETNS_H
#define GX_NETNS_H

/*
 * Runs fn(arg) in the network namespace `ns_fd` refers to (an open /proc/<pid>/ns/net or
 * /run/netns/<name>), on the calling thread when that is its own namespace already (no setns,
 * so no CAP_SYS_ADMIN needed: tracing only the agent's namespace needs no more privilege than
 * tracing nothing else), else on a short-lived native thread that enters it with setns(2) and
 * ends right after fn: setns moves only the calling thread, and a JVM thread must never be left
 * in a foreign namespace (a failed switch back would leave it there); a thread that exits cannot
 * leak it. The helper thread runs with every signal blocked (the JVM's signals are for its own
 * threads) on a small stack: fn makes a system call or two, nothing deep.
 *
 * fn reports its own outcome through `arg`. Returns 0 when fn ran, else a positive errno with
 * *failed naming the step that failed: "fstat", "thread" (pthread_create), or "setns" (EPERM
 * without CAP_SYS_ADMIN; EINVAL when ns_fd is no network namespace).
 */
int gx_run_in_netns(int ns_fd, void (*fn)(void *arg), void *arg, const char **failed);

#endif /* GX_NETNS_H */
