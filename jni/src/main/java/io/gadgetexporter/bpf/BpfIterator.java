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

  /** {@link #read()} as UTF-8 text. */
  public String readString() {
    return new String(read(), StandardCharsets.UTF_8);
  }
}
