package io.gadgetexporter.bpf;

import java.nio.charset.StandardCharsets;

/**
 * An attached BPF iterator ({@code SEC("iter/task")} and the like). Each {@link #read()} runs the
 * program over the kernel objects it iterates, from scratch, and returns what it wrote with {@code
 * bpf_seq_printf}/{@code bpf_seq_write}: a consistent snapshot, not a stream.
 */
public final class BpfIterator extends BpfLink {
  BpfIterator(BpfObject owner, BpfProgram program, long handle) {
    super(owner, program, handle, "iterator");
  }

  /**
   * Runs the iterator once and returns all its output.
   *
   * @throws BpfException when the kernel fails the run (or output exceeds 256 MiB)
   */
  public byte[] read() {
    synchronized (owner) {
      return io.gadgetexporter.bpf.internal.Native.iteratorRead(liveHandle());
    }
  }

  /**
   * Runs a network-scoped iterator ({@code iter/tcp}, {@code iter/udp}, {@code iter/unix}, {@code
   * iter/netlink}, {@code iter/ipv6_route}) over another network namespace. Those walk the
   * namespace of the thread that starts the run, so a short-lived native thread enters the
   * namespace of process {@code pid} (checked to be {@code netnsId}, the inode number of {@code
   * /proc/<pid>/ns/net}) and starts it there; no Java thread changes namespace. Entering another
   * namespace needs CAP_SYS_ADMIN; the caller's own namespace needs nothing more than {@link
   * #read()}.
   *
   * @throws BpfException with errno ESRCH when the process is gone or no longer in that namespace,
   *     EPERM without the privilege, or what the run itself failed with
   */
  public byte[] readInNetworkNamespace(int pid, long netnsId) {
    synchronized (owner) {
      return io.gadgetexporter.bpf.internal.Native.iteratorReadInNetns(liveHandle(), pid, netnsId);
    }
  }

  /** {@link #read()} as UTF-8 text. */
  public String readString() {
    return new String(read(), StandardCharsets.UTF_8);
  }
}
