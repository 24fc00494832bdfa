package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.AttachKind;
import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfIterator;
import io.gadgetexporter.bpf.BpfMap;
import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BpfProgram;
import io.gadgetexporter.concurrent.DaemonThreads;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The rows of a snapshot gadget: its BPF iterators, run on demand ({@link #take}) and, with the
 * {@code interval} parameter, every interval from a timer thread (the first at start).
 *
 * <p>A snapshot runs the {@code prepare} iterators (their output ignored: they fill maps), then
 * every other iterator; those write one {@code event:} struct per row with {@code bpf_seq_write}.
 * The output is cut into structs and each goes the way a tracer's event goes ({@link
 * GadgetInstance#deliver}: bound to the view, enriched by namespace, handed on). An interval's rows
 * go to the instance's outputs, so logs, JSON, the live stream and metrics work unchanged, and
 * count as events; the rows of a snapshot on demand go only to whoever asked (see {@link #take}).
 * A trailing piece shorter than a struct counts as one malformed record. Network-scoped iterators
 * ({@code iter/tcp}, {@code iter/udp}, ...) see only the sockets of the namespace they run in:
 * with {@code networkNamespaces}, they run once in each namespace a {@code prepare} pass listed
 * (see {@link BpfIterator#readInNetworkNamespace}). Afterwards the {@code clear} maps are emptied.
 *
 * <p>One snapshot at a time per instance: a request that comes while one runs waits for it (the
 * HTTP API lets concurrent requests share one run: {@code SnapshotRequests}).
 */
public final class SnapshotSource {
  private static final Logger logger = Logger.getLogger(SnapshotSource.class.getName());

  /** The parameter the agent reads: time between snapshots; 0 = on demand only. */
  public static final String INTERVAL_PARAM = "interval";

  /** Iterator targets that walk the network namespace of the thread running them. */
  private static final Set<String> NETWORK_TARGETS =
      Set.of("tcp", "udp", "unix", "netlink", "ipv6_route");

  /** Elements taken per call when emptying a map: ~a hundred KiB of keys and values at most. */
  private static final int CLEAR_BATCH = 1024;

  private static final int EPERM = 1;
  private static final int ESRCH = 3;

  /**
   * One snapshot.
   *
   * @param namespaces network namespaces visited (0 when no iterator is network-scoped)
   * @param namespacesSkipped of those, how many could not be entered (the process listed for it was
   *     gone, or entering needs a privilege the agent lacks)
   */
  public record Result(
      Instant time,
      long durationNanos,
      long rows,
      long malformed,
      int namespaces,
      int namespacesSkipped) {}

  /**
   * Counters since start, of the snapshots on the interval and on demand alike.
   *
   * @param lastRows rows of the last snapshot that completed
   * @param lastDurationNanos how long that one took
   */
  public record Stats(
      long taken, long failed, long lastRows, long lastDurationNanos, long namespacesSkipped) {}

  private record RowIterator(BpfIterator iterator, boolean networkScoped) {}

  private final GadgetInstance instance;
  private final SnapshotSpec spec;
  private final EventView view;
  private final BootClock clock;
  private final Duration interval;
  private final BpfMap namespacesMap; // null: network-scoped iterators run in our namespace only
  private final List<BpfMap> clear = new ArrayList<>();
  private final List<BpfIterator> prepare = new ArrayList<>();
  private final List<RowIterator> rows = new ArrayList<>();
  private final Object lock = new Object();
  private ScheduledExecutorService timer;
  private volatile boolean stopping;
  private boolean warnedNamespaces;
  private String lastFailureLogged;

  private volatile long taken;
  private volatile long failed;
  private volatile long lastRows;
  private volatile long lastDurationNanos;
  private volatile long namespacesSkipped;

  /**
   * Checks the {@code snapshot:} section against the loaded object.
   *
   * @throws GadgetException when it names a program that is not an iterator or a map that is
   *     missing or of the wrong shape: the gadget is broken
   */
  SnapshotSource(
      GadgetInstance instance,
      BpfObject object,
      SnapshotSpec spec,
      Duration interval,
      EventView view,
      BootClock clock) {
    this.instance = instance;
    this.spec = spec;
    this.interval = interval;
    this.view = view;
    this.clock = clock;
    String where = "gadget " + instance.gadget().name() + ": snapshot";
    for (String name : spec.prepare()) {
      BpfProgram p =
          object.programs().stream()
              .filter(q -> q.name().equals(name))
              .findFirst()
              .orElseThrow(
                  () -> new GadgetException(where + ".prepare: no program '" + name + "'"));
      if (!isIterator(p)) {
        throw new GadgetException(
            where + ".prepare: program '" + name + "' is " + p.sectionName() + ", not an iterator");
      }
    }
    if (spec.networkNamespaces() != null) {
      BpfMap m = map(object, spec.networkNamespaces(), where + ".networkNamespaces");
      if (m.keySize() != 8 || m.valueSize() != 4) {
        throw new GadgetException(
            where
                + ".networkNamespaces: map '"
                + m.name()
                + "' must map a u64 namespace id to a u32 pid, has "
                + m.keySize()
                + "-byte keys and "
                + m.valueSize()
                + "-byte values");
      }
      namespacesMap = m;
    } else {
      namespacesMap = null;
    }
    for (String name : spec.clear()) {
      clear.add(map(object, name, where + ".clear"));
    }
  }

  private static BpfMap map(BpfObject object, String name, String where) {
    return object.maps().stream()
        .filter(m -> m.name().equals(name))
        .findFirst()
        .orElseThrow(() -> new GadgetException(where + ": no map '" + name + "'"));
  }

  private static boolean isIterator(BpfProgram p) {
    return p.attachKind().filter(k -> k == AttachKind.ITERATOR).isPresent();
  }

  /**
   * Attaches {@code program} if it is an iterator, as a {@code prepare} or a row iterator.
   *
   * @return false for any other program: the instance attaches it the usual way (a snapshot gadget
   *     may keep a map current with tracepoints)
   */
  boolean attach(BpfProgram program) {
    if (!isIterator(program)) {
      return false;
    }
    BpfIterator it = program.attachIterator();
    if (spec.prepare().contains(program.name())) {
      prepare.add(it);
    } else {
      String section = program.sectionName();
      String target = section.substring(section.indexOf('/') + 1);
      rows.add(new RowIterator(it, NETWORK_TARGETS.contains(target)));
    }
    return true;
  }

  /** Starts the timer when there is an interval; the first snapshot is taken at once. */
  void start() {
    if (rows.isEmpty()) {
      throw new GadgetException(
          "gadget "
              + instance.gadget().name()
              + ": a snapshot gadget needs an iterator program (SEC(\"iter/...\")) that is not in"
              + " snapshot.prepare: none writes rows");
    }
    if (interval.isZero()) {
      return;
    }
    timer =
        Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("snapshot-" + instance.name()));
    timer.scheduleAtFixedRate(this::scheduled, 0, interval.toNanos(), TimeUnit.NANOSECONDS);
  }

  /** Time between snapshots; zero when they are taken on demand only. */
  public Duration interval() {
    return interval;
  }

  private void scheduled() {
    try {
      run(instance.outputs(), true);
    } catch (RuntimeException e) {
      if (stopping) {
        return; // the object closed under the run
      }
      // Once per kind of failure at WARNING: an interval of seconds must not flood the log.
      String message = String.valueOf(e.getMessage());
      boolean repeat = message.equals(lastFailureLogged);
      lastFailureLogged = message;
      logger.log(
          repeat ? Level.FINE : Level.WARNING,
          "instance '" + instance.name() + "': snapshot failed: " + message,
          e);
    }
  }

  /**
   * Takes a snapshot now for whoever asks (the HTTP API): its rows go to {@code to} only, on the
   * calling thread, then one {@code to.flush()}. Not to the instance's outputs, and they do not
   * count as its events: looking must not change what is exported (a counter's increase per
   * interval, the logs). A malformed row is still counted: the gadget's fault whoever asked.
   *
   * @throws BpfException when the kernel fails an iterator run
   * @throws IllegalStateException when the instance is closing
   */
  public Result take(EventSink to) {
    return run(Objects.requireNonNull(to, "to"), false);
  }

  /** A snapshot's rows to {@code to}: the outputs (counted as events) or who asked. */
  private Result run(EventSink to, boolean outputs) {
    synchronized (lock) {
      if (stopping) {
        throw new IllegalStateException("instance '" + instance.name() + "' is stopping");
      }
      Instant time = Instant.now();
      long start = System.nanoTime();
      long[] counts = new long[2]; // rows, malformed
      TreeMap<Long, Integer> pids = new TreeMap<>();
      Set<Long> skipped = new HashSet<>();
      try {
        clock.refresh(); // rows carry boot-time stamps: follow a stepped wall clock
        for (BpfIterator p : prepare) {
          p.read();
        }
        pids = namespacePids();
        for (RowIterator r : rows) {
          if (!r.networkScoped() || namespacesMap == null) {
            split(r.iterator().read(), to, counts);
            continue;
          }
          for (var ns : pids.entrySet()) {
            byte[] out = skipped.contains(ns.getKey()) ? null : readIn(r.iterator(), ns);
            if (out == null) {
              skipped.add(ns.getKey());
            } else {
              split(out, to, counts);
            }
          }
        }
      } catch (RuntimeException e) {
        failed++;
        throw e;
      } finally {
        if (outputs) {
          instance.endBatch(counts[0], counts[1]); // the rows delivered before a failure count
        } else {
          instance.endBatch(to, counts[1]);
        }
        clearMaps();
      }
      long duration = System.nanoTime() - start;
      taken++;
      lastRows = counts[0];
      lastDurationNanos = duration;
      namespacesSkipped += skipped.size();
      return new Result(time, duration, counts[0], counts[1], pids.size(), skipped.size());
    }
  }

  /** The namespaces the prepare pass listed, taken out of their map (so it is empty after). */
  private TreeMap<Long, Integer> namespacePids() {
    TreeMap<Long, Integer> pids = new TreeMap<>();
    if (namespacesMap == null) {
      return pids;
    }
    for (int round = 0; round <= namespacesMap.maxEntries() / CLEAR_BATCH; round++) {
      BpfMap.Batch b = namespacesMap.lookupAndDeleteBatch(CLEAR_BATCH);
      for (int i = 0; i < b.size(); i++) {
        ByteBuffer key = ByteBuffer.wrap(b.keys().get(i)).order(ByteOrder.nativeOrder());
        ByteBuffer value = ByteBuffer.wrap(b.values().get(i)).order(ByteOrder.nativeOrder());
        pids.put(key.getLong(0), value.getInt(0));
      }
      if (b.isEmpty()) {
        break;
      }
    }
    return pids;
  }

  /** One run in a namespace (id → pid); null when it cannot be entered (counted by the caller). */
  private byte[] readIn(BpfIterator it, Map.Entry<Long, Integer> ns) {
    try {
      return it.readInNetworkNamespace(ns.getValue(), ns.getKey());
    } catch (BpfException e) {
      if (e.errno() == ESRCH) {
        return null; // its process left since the prepare pass: the namespace may be gone too
      }
      if (e.errno() != EPERM) {
        throw e;
      }
      if (!warnedNamespaces) {
        warnedNamespaces = true;
        logger.warning(
            "instance '"
                + instance.name()
                + "': cannot enter other network namespaces (needs CAP_SYS_ADMIN): only the"
                + " agent's own is listed; "
                + e.getMessage());
      }
      return null;
    }
  }

  /** Cuts an iterator's output into rows, each handed to {@code to}; package-private for tests. */
  void split(byte[] out, EventSink to, long[] counts) {
    int size = view.schema().size();
    ByteBuffer buffer = ByteBuffer.wrap(out).order(ByteOrder.nativeOrder());
    int whole = out.length / size;
    boolean enrich = instance.enriches();
    for (int i = 0; i < whole; i++) {
      counts[instance.deliver(buffer, i * size, size, view, enrich, to) ? 0 : 1]++;
    }
    if (out.length % size != 0) {
      counts[1]++; // a piece that is not a struct: the program wrote something else
    }
  }

  private void clearMaps() {
    for (BpfMap m : clear) {
      try {
        for (int round = 0; round <= m.maxEntries() / CLEAR_BATCH; round++) {
          if (m.lookupAndDeleteBatch(CLEAR_BATCH).isEmpty()) {
            break;
          }
        }
      } catch (RuntimeException e) {
        // Closing under us, or the kernel refused: the next snapshot's prepare pass writes what
        // is current again, so a stale entry can only describe something that is gone.
        logger.log(Level.FINE, "clearing map '" + m.name() + "' failed", e);
      }
    }
  }

  public Stats stats() {
    return new Stats(taken, failed, lastRows, lastDurationNanos, namespacesSkipped);
  }

  /**
   * Stops the timer and waits for its snapshot in progress; later {@link #take} calls fail. A take
   * of another thread (the HTTP API) still running ends when the object closes: an iterator run
   * holds the object's lock, and the next one finds its link closed.
   */
  void stop() {
    stopping = true;
    if (timer != null) {
      timer.shutdownNow();
      try {
        timer.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
