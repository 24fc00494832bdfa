package io.gadgetexporter.gadget;

import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * For aggregating gadgets: keeps every row (typed values and human forms) grouped by the read that
 * delivered it (one {@link EventSink#flush()} per read), with the time each read ended.
 */
public final class RowBatchSink implements EventSink {
  /** One read's rows, in delivery order (sortBy order), and when the read was flushed. */
  public record Batch(List<RecordingSink.Recorded> rows, long nanoTime) {}

  private final RecordingSink current = new RecordingSink();
  private int taken;
  private final AwaitableList<Batch> batches = new AwaitableList<>();

  @Override
  public void accept(GadgetInstance instance, EventView event) {
    current.accept(instance, event);
  }

  @Override
  public void flush() {
    List<RecordingSink.Recorded> all = current.events();
    batches.add(new Batch(List.copyOf(all.subList(taken, all.size())), System.nanoTime()));
    taken = all.size();
  }

  public List<Batch> batches() {
    return batches.snapshot();
  }

  /** Every row of every read so far. */
  public List<RecordingSink.Recorded> rows() {
    return current.events();
  }

  /** Waits for a read whose batch matches {@code test}. */
  public Batch await(Predicate<Batch> test, Duration timeout) throws InterruptedException {
    return batches.await(test, timeout);
  }

  /** The sum of a numeric field over the rows that match {@code rows}. */
  public long sum(String field, Predicate<RecordingSink.Recorded> rows) {
    return rows().stream().filter(rows).mapToLong(r -> (Long) r.value(field)).sum();
  }
}
