package io.gadgetexporter.bpf;

/**
 * A program's run count and total run time, as the kernel keeps them while BPF statistics are
 * enabled ({@link BpfStats}). Both are cumulative since load; take differences for rates. The agent
 * uses them to report each gadget's own overhead.
 */
public record ProgramStats(long runCount, long runTimeNs) {
  /** Mean nanoseconds per run, or 0 before the first counted run. */
  public double averageRunNs() {
    return runCount == 0 ? 0 : (double) runTimeNs / runCount;
  }
}
