package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfMap;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The reader thread of an aggregating gadget ({@link AggregateSpec}): every {@code interval} it
 * takes every element out of the map with {@code BPF_MAP_LOOKUP_AND_DELETE_BATCH}, lays each out as
 * one row (key struct, then value struct at {@link AggregateSpec#valueOffset}), keeps the first
 * {@code max_rows} in {@code sortBy} order — counting the rest in {@link #rowsDropped()} — and
 * hands them to the instance, which enriches and delivers them like events. On close it reads once
 * more, so what was counted since the last read is delivered, not lost with the map.
 *
 * <p>Each element is taken out whole in one step under its hash bucket's lock, so a row lands in
 * exactly one interval: a program's update after the element is taken creates a new element, read
 * next time. What the kernel cannot guarantee is an add in flight: a program that found the element
 * just before it was taken and adds just after the copy adds to an element no longer in the map
 * (the kernel may even reuse its memory for another key). That is a window of a few instructions
 * per program run in flight at the moment of the read, once per interval; it cannot be counted, and
 * is documented in docs/architecture.md.
 *
 * <p>A gadget with stack maps ({@link StackTraces}) has two maps, one per epoch: each read first
 * flips the epoch and waits for the programs still using the old one, then takes the old map out
 * whole, resolves the rows' stack ids while they are delivered, and empties the old stack map. That
 * also closes the window above: no program adds to the map being read.
 */
final class AggregateReader implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(AggregateReader.class.getName());

  /** What receives one interval's rows: {@code count} rows, row {@code order[i]} i-th. */
  interface RowSink {
    void deliver(ByteBuffer rows, int rowSize, int[] order, int count, EventView view);
  }

  /**
   * Elements taken out per call. One call walks the map's buckets once, so a key updated during
   * the read (a new element in a bucket already walked) waits for the next read. A map larger than
   * this is read in several calls, each walking from the first bucket again: such a key can then
   * come twice in one read (two rows, each with its own counts; nothing counted twice). The bound
   * keeps a read's copy buffers (this many keys and values, allocated per call) from following a
   * huge map_entries.
   */
  static final int CHUNK_ROWS = 65_536;

  private final String name;
  /** The map, or for a gadget with stack maps the map of each epoch. */
  private final List<BpfMap> maps;
  /** Null for a gadget without stack maps. */
  private final StackTraces stacks;
  private final EventView view;
  private final EventField[] sortFields;
  private final boolean[] descending;
  private final int valueOffset;
  private final int rowSize;
  private final Duration interval;
  private final int maxRows;
  private final BootClock clock;
  private final RowSink sink;
  private final Consumer<Throwable> onFailure;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final Thread thread;
  private ByteBuffer rows = ByteBuffer.allocateDirect(0).order(ByteOrder.nativeOrder());

  // Written by the reader thread only, read by metric collection.
  private volatile long rowsDropped;
  private volatile long lastReadNanos;

  /**
   * @param name the instance's name, for the thread and messages
   * @param onFailure told when the thread dies of an unexpected error: the instance then fails
   */
  AggregateReader(
      String name,
      AggregateSpec spec,
      List<BpfMap> maps,
      StackTraces stacks,
      EventView view,
      Duration interval,
      int maxRows,
      BootClock clock,
      RowSink sink,
      Consumer<Throwable> onFailure) {
    this.name = name;
    this.maps = List.copyOf(maps);
    this.stacks = stacks;
    view.stacks(stacks);
    this.view = view;
    List<EventField> sort = spec.sortFields(view.schema(), name);
    this.sortFields = sort.toArray(EventField[]::new);
    this.descending = new boolean[sortFields.length];
    for (int i = 0; i < sortFields.length; i++) {
      descending[i] = spec.sortBy().get(i).descending();
    }
    this.valueOffset = AggregateSpec.valueOffset(maps.get(0).keySize());
    this.rowSize = view.schema().size();
    this.interval = interval;
    this.maxRows = maxRows;
    this.clock = clock;
    this.sink = sink;
    this.onFailure = onFailure;
    this.thread = new Thread(this::run, "aggregate-" + name);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** Rows read from the map but not delivered because the interval had more than max_rows. */
  long rowsDropped() {
    return rowsDropped;
  }

  /** How long the last read took: taking the rows out of the map, sorting and delivering them. */
  long lastReadNanos() {
    return lastReadNanos;
  }

  private void run() {
    try {
      while (!stop.await(interval.toNanos(), TimeUnit.NANOSECONDS)) {
        readQuietly();
      }
      readQuietly(); // what was counted since the last read
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException | Error e) {
      logger.log(Level.SEVERE, name + ": aggregate reader failed; its map is no longer read", e);
      onFailure.accept(e);
    }
  }

  /** One read; a refused map call is logged and the next interval tries again. */
  private void readQuietly() {
    try {
      read();
    } catch (BpfException e) {
      logger.log(
          Level.WARNING,
          "{0}: reading map ''{1}'' failed: {2}",
          new Object[] {name, maps.get(0).name(), e.getMessage()});
    }
  }

  /** Takes everything out of the map and delivers up to max_rows rows; returns rows delivered. */
  int read() {
    long start = System.nanoTime();
    clock.refresh(); // follow a wall clock stepped after start, as the drain threads do
    BpfMap map = maps.get(stacks == null ? 0 : stacks.flip());
    int capacity = map.maxEntries();
    int n = 0;
    // One walk to the map's end. A call can stop short of it for want of room (its chunk, or a
    // bucket larger than what was left to ask: the kernel copies buckets whole); the next call then
    // starts from the first bucket again, where what was read is gone. Once a walk has reached the
    // end, what is in the map was added after it passed: that is the next interval's, or a key
    // re-inserted while the read ran would come twice in one read. Never more than one map's worth.
    while (n < capacity) {
      BpfMap.Batch batch = map.lookupAndDeleteBatch(Math.min(CHUNK_ROWS, capacity - n));
      ensureCapacity(n + batch.size());
      for (int i = 0; i < batch.size(); i++, n++) {
        rows.put(n * rowSize, batch.keys().get(i));
        rows.put(n * rowSize + valueOffset, batch.values().get(i));
      }
      if (batch.reachedEnd() || batch.isEmpty()) {
        break;
      }
    }
    int[] order = order(n);
    int kept = Math.min(n, maxRows);
    sink.deliver(rows, rowSize, order, kept, view);
    if (stacks != null) {
      stacks.clear(); // every id of this epoch was resolved while its rows were delivered
    }
    rowsDropped += n - kept;
    lastReadNanos = System.nanoTime() - start;
    return kept;
  }

  /** Grows the row buffer to hold {@code n} rows, keeping those already in it. */
  private void ensureCapacity(int n) {
    if (rows.capacity() < n * rowSize) {
      ByteBuffer bigger =
          ByteBuffer.allocateDirect(Math.max(n, 2 * rows.capacity() / rowSize) * rowSize)
              .order(ByteOrder.nativeOrder());
      bigger.put(0, rows, 0, rows.capacity());
      rows = bigger;
    }
  }

  /** Row indices in sortBy order (stable: ties keep the map's order). */
  private int[] order(int n) {
    Integer[] order = new Integer[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
    }
    if (sortFields.length > 0 && n > 1) {
      int k = sortFields.length;
      long[] keys = new long[n * k];
      for (int i = 0; i < n; i++) {
        view.bind(rows, i * rowSize, rowSize);
        for (int j = 0; j < k; j++) {
          keys[i * k + j] = view.getLong(sortFields[j]);
        }
      }
      Comparator<Integer> byKeys =
          (a, b) -> {
            for (int j = 0; j < k; j++) {
              long x = keys[a * k + j];
              long y = keys[b * k + j];
              int c = sortFields[j].signed() ? Long.compare(x, y) : Long.compareUnsigned(x, y);
              if (c != 0) {
                return descending[j] ? -c : c;
              }
            }
            return 0;
          };
      Arrays.sort(order, byKeys);
    }
    return Arrays.stream(order).mapToInt(Integer::intValue).toArray();
  }

  /** Stops the thread after its last read; returns once it is done (at most a few seconds). */
  @Override
  public void close() {
    stop.countDown();
    if (thread.isAlive() && thread != Thread.currentThread()) {
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
