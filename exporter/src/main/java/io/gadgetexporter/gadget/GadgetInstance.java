package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.AttachKind;
import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfLoadException;
import io.gadgetexporter.bpf.BpfMap;
import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BpfProgram;
import io.gadgetexporter.bpf.ProgramStats;
import io.gadgetexporter.bpf.RingBufferReader;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.config.ParamValue;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerSelector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * One running copy of a gadget, as one entry of the config's {@code gadgets:} list describes it: its
 * own BPF object (so its own maps and ring buffer), its parameters, and one drain thread.
 *
 * <p>The drain thread sleeps until the kernel wakes it (the ring holds more than {@code
 * wakeup_bytes}) or the drain interval passes, then copies a batch of records into one direct
 * buffer in one JNI call and decodes them in place. Nothing per event crosses JNI or allocates.
 *
 * <p>An aggregating gadget ({@link GadgetSpec#isAggregate()}) has no drain thread: its ring buffer
 * is shrunk to one page and an {@link AggregateReader} empties its map every interval instead,
 * delivering the rows through the same enrichment and sink as events.
 */
public final class GadgetInstance implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(GadgetInstance.class.getName());

  /** Bytes handed to each drain call: big enough that one wake-up's worth fits in a few calls. */
  static final int DRAIN_BUFFER_BYTES = 1 << 20;

  static final String EVENTS_MAP = "events";
  static final String LOST_MAP = "gadget_lost";
  static final String INCOMPLETE_MAP = "gadget_incomplete";
  static final String WAKEUP_CONSTANT = "gadget_wakeup_bytes";
  static final String FILTER_MODE_CONSTANT = "gadget_mntns_filter_mode";
  static final String FILTER_MAP = "gadget_mntns_filter";
  static final String FILTERED_MAP = "gadget_filtered";
  private static final int ENOENT = 2;
  private static final long CLOCK_REFRESH_NANOS = 10_000_000_000L;

  /** Where an instance is in its life. */
  public enum State {
    STARTING,
    RUNNING,
    FAILED,
    STOPPED
  }

  private final InstanceConfig config;
  private final Gadget gadget;
  private final EventSink sink;
  private final BootClock clock;
  private final Map<String, Object> params;
  /** Null when container discovery is off: no enrichment, and only an empty selector. */
  private final ContainerCollection containers;
  private final ContainerSelector selector;
  private final Redaction redaction;
  private SelectorFilter filter;
  private BpfMap filteredMap;
  private NetnsSockets netnsSockets;

  private volatile State state = State.STARTING;
  private volatile String failure;
  private BpfObject object;
  private RingBufferReader reader;
  private BpfMap lostMap;
  /** Null for an object built before gadget.h had it: nothing counted, 0. */
  private BpfMap incompleteMap;
  private EventSchema schema;
  private List<String> programNames = List.of();
  private Thread drainThread;
  /** An aggregating gadget's reader, in place of the ring buffer's drain thread; else null. */
  private AggregateReader aggregateReader;
  private volatile boolean stopping;

  /** A snapshot gadget's iterators and timer (no ring buffer is drained then); else null. */
  private volatile SnapshotSource snapshots;

  // Written by one thread at a time, once per batch (the drain thread, or a snapshot under its
  // lock); read by metric collection.
  private volatile long eventsTotal;
  private volatile long malformedTotal;
  // The kernel's count is gone with the map: kept from the last read before close.
  private volatile long lostAtStop;
  private volatile long incompleteAtStop;
  private volatile long filteredAtStop;

  // Self-metrics, read by collection threads while the instance may be closing. Published by
  // start() once everything is attached and never cleared; a read that finds the object closed
  // gives the last values read instead.
  private volatile List<BpfProgram> attachedPrograms = List.of();
  private volatile List<BpfMap> usageMaps = List.of();
  private volatile long ringBufferBytes;
  private volatile Map<String, ProgramStats> lastProgramStats = Map.of();
  private volatile List<MapUsage> lastMapUsage = List.of();

  /**
   * Checks the instance's parameters against the gadget's declarations.
   *
   * @throws ConfigException naming the parameter's place in the config file
   */
  public GadgetInstance(InstanceConfig config, Gadget gadget, EventSink sink, BootClock clock) {
    this(config, gadget, sink, clock, null);
  }

  /**
   * @param containers the node's containers, for enrichment and the selector; null when discovery
   *     is off (then the instance must select everything)
   */
  public GadgetInstance(
      InstanceConfig config,
      Gadget gadget,
      EventSink sink,
      BootClock clock,
      ContainerCollection containers) {
    this(config, gadget, sink, clock, containers, Redaction.NONE);
  }

  /**
   * @param redaction rewrites string fields before the sink sees them
   */
  public GadgetInstance(
      InstanceConfig config,
      Gadget gadget,
      EventSink sink,
      BootClock clock,
      ContainerCollection containers,
      Redaction redaction) {
    this.config = config;
    this.redaction = redaction;
    this.gadget = gadget;
    this.sink = sink;
    this.clock = clock;
    this.params = resolveParams(config, gadget.spec());
    this.containers = containers;
    this.selector = new ContainerSelector(config.selector());
    if (containers == null && selector.filterMode() != ContainerSelector.FilterMode.OFF) {
      throw config.error("a selector needs container discovery, which is off");
    }
  }

  static Map<String, Object> resolveParams(InstanceConfig config, GadgetSpec spec) {
    Map<String, Object> values = new LinkedHashMap<>();
    for (ParamSpec p : spec.params()) {
      values.put(p.name(), p.defaultValue());
    }
    List<ConfigException.Problem> problems = new ArrayList<>();
    for (ParamValue v : config.params().values()) {
      ParamSpec p = spec.param(v.key()).orElse(null);
      if (p == null) {
        List<String> declared = spec.params().stream().map(ParamSpec::name).toList();
        problems.add(
            v.problem(
                "unknown parameter '"
                    + v.key()
                    + "' for gadget "
                    + spec.name()
                    + (declared.isEmpty()
                        ? " (it has none)"
                        : " (declared: " + String.join(", ", declared) + ")")));
        continue;
      }
      String problem = p.problemWith(v.value());
      if (problem != null) {
        problems.add(v.problem(problem));
      } else {
        values.put(p.name(), p.convert(v.value()));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    return values;
  }

  public String name() {
    return config.name();
  }

  public Gadget gadget() {
    return gadget;
  }

  public InstanceConfig config() {
    return config;
  }

  public State state() {
    return state;
  }

  /** Why the instance failed, or null. */
  public String failure() {
    return failure;
  }

  /** The decoded event layout; available once started. */
  public EventSchema schema() {
    return schema;
  }

  public Map<String, Object> params() {
    return params;
  }

  /** The gadget's BPF programs, as named in its object; known once started. */
  public List<String> programNames() {
    return programNames;
  }

  /**
   * Opens, configures, loads and attaches the gadget, then starts draining.
   *
   * @throws GadgetException saying what the kernel refused and what to do; the instance is then
   *     {@link State#FAILED} and holds nothing in the kernel
   */
  public void start() {
    try {
      object = BpfObject.open(config.name(), gadget.object());
      schema = EventSchema.of(object, gadget);
      configure();
      try {
        object.load();
      } catch (BpfLoadException e) {
        throw new GadgetException(
            where()
                + ": the kernel refused to load it: "
                + e.getMessage()
                + loadHint(e, KernelLockdown.mode()),
            e);
      }
      programNames = object.programs().stream().map(BpfProgram::name).toList();
      filteredMap = object.map(FILTERED_MAP);
      if (gadget.spec().snapshot() != null) {
        snapshots =
            new SnapshotSource(
                this,
                object,
                gadget.spec().snapshot(),
                (java.time.Duration)
                    params.getOrDefault(SnapshotSource.INTERVAL_PARAM, java.time.Duration.ZERO),
                new EventView(schema, clock, redaction),
                clock);
      }
      if (selector.filterMode() != ContainerSelector.FilterMode.OFF) {
        // Filled before any program is attached: no event passes a half-written filter.
        filter = new SelectorFilter(config.name(), object.map(FILTER_MAP), containers, selector);
        filter.start();
      }
      Tracefs.ensureMounted();
      List<BpfProgram> attached = new ArrayList<>();
      List<BpfProgram> socketFilters = new ArrayList<>();
      for (BpfProgram program : object.programs()) {
        if (program.attachKind().orElse(null) == AttachKind.SOCKET_FILTER) {
          socketFilters.add(program); // on a socket per traced network namespace, below
          continue;
        }
        try {
          if (snapshots != null && snapshots.attach(program)) {
            attached.add(program);
            continue;
          }
          if (program.attachKind().orElse(null) == AttachKind.PERF_EVENT) {
            PerfSampling.attach(program, frequencyHz());
          } else {
            program.attach();
          }
          attached.add(program);
        } catch (BpfException e) {
          if (e.errno() == ENOENT && gadget.spec().optionalPrograms().contains(program.name())) {
            logger.info(
                where()
                    + ": "
                    + program.sectionName()
                    + " does not exist on this kernel; running without program '"
                    + program.name()
                    + "'");
            continue;
          }
          throw new GadgetException(
              where()
                  + ": attaching program '"
                  + program.name()
                  + "' to "
                  + program.sectionName()
                  + " failed: "
                  + e.getMessage()
                  + hint(e.errno()),
              e);
        }
      }
      if (!socketFilters.isEmpty()) {
        netnsSockets =
            new NetnsSockets(
                config.name(),
                socketFilters,
                object.findMap(NetnsSockets.TRACED_NETNS_MAP).orElse(null),
                containers,
                selector);
        netnsSockets.start();
        attached.addAll(socketFilters);
      }
      lostMap = object.map(LOST_MAP);
      incompleteMap = object.findMap(INCOMPLETE_MAP).orElse(null);
      attachedPrograms = List.copyOf(attached);
      usageMaps = object.maps().stream().filter(MapUsage::reported).toList();
      if (gadget.spec().isAggregate()) {
        ringBufferBytes = object.map(EVENTS_MAP).maxEntries();
        startAggregateReader();
      } else if (snapshots != null) {
        ringBufferBytes = object.map(EVENTS_MAP).maxEntries();
        snapshots.start(); // rows come from the iterators: no ring buffer to drain
      } else {
        ByteBuffer buffer =
            ByteBuffer.allocateDirect(DRAIN_BUFFER_BYTES).order(ByteOrder.nativeOrder());
        RingBufferReader ring = RingBufferReader.create(object.map(EVENTS_MAP), buffer);
        reader = ring;
        ringBufferBytes = ring.ringSize();
        drainThread = new Thread(() -> drainLoop(ring, buffer), "drain-" + config.name());
        drainThread.setDaemon(true);
        drainThread.start();
      }
      state = State.RUNNING;
    } catch (RuntimeException | Error e) {
      // Error too (no native thread left, direct memory exhausted): nothing may stay attached.
      state = State.FAILED;
      failure = e.getMessage();
      if (filter != null) {
        filter.close();
      }
      if (netnsSockets != null) {
        netnsSockets.close();
      }
      closeKernelObjects();
      if (e instanceof GadgetException g) {
        throw g;
      }
      throw new GadgetException(where() + ": " + e, e);
    }
  }

  private void configure() {
    for (Map.Entry<String, Object> p : params.entrySet()) {
      if (!object.hasConstant(p.getKey())) {
        if (agentParams().contains(p.getKey())) {
          continue;
        }
        throw new GadgetException(
            "gadget "
                + gadget.name()
                + ": parameter '"
                + p.getKey()
                + "' has no const volatile variable of that name in the program");
      }
      Object v = p.getValue();
      if (v instanceof Long n) {
        object.setConstant(p.getKey(), n);
      } else if (v instanceof java.time.Duration d) {
        object.setConstant(p.getKey(), d.toNanos()); // a program's durations are nanoseconds
      } else if (v instanceof Boolean b) {
        object.setConstant(p.getKey(), b.booleanValue());
      } else {
        object.setConstant(p.getKey(), (String) v);
      }
    }
    object.setConstant(WAKEUP_CONSTANT, config.ringBuffer().wakeupBytes());
    object.setConstant(FILTER_MODE_CONSTANT, selector.filterMode().kernelValue());
    // An aggregating or snapshot gadget sends nothing through the ring buffer: one page, the
    // kernel's minimum.
    object
        .map(EVENTS_MAP)
        .resize(
            gadget.spec().isAggregate() || gadget.spec().snapshot() != null
                ? io.gadgetexporter.bpf.Bpf.pageSize()
                : (int) config.ringBuffer().sizeBytes());
    for (Map.Entry<String, String> m : gadget.spec().mapSizes().entrySet()) {
      BpfMap map =
          object
              .findMap(m.getKey())
              .orElseThrow(
                  () ->
                      new GadgetException(
                          "gadget " + gadget.name() + ": mapSizes names map '" + m.getKey()
                              + "', which the object does not have"));
      map.resize(Math.toIntExact((Long) params.get(m.getValue())));
    }
  }

  private void startAggregateReader() {
    AggregateSpec spec = gadget.spec().aggregate();
    aggregateReader =
        new AggregateReader(
            config.name(),
            spec,
            aggregateMaps(spec),
            StackTraces.present(object) ? new StackTraces(object, KernelSymbols::system) : null,
            new EventView(schema, clock, redaction),
            (java.time.Duration) params.get(AggregateSpec.INTERVAL),
            Math.toIntExact((Long) params.get(AggregateSpec.MAX_ROWS)),
            clock,
            this::deliverRows,
            e -> {
              failure = "aggregate reader failed: " + e;
              state = State.FAILED;
            });
    aggregateReader.start();
  }

  /**
   * The aggregate map; with stack maps, which double-buffer it by epoch ({@link StackTraces}), the
   * map named {@code <name>_0} and its twin {@code <name>_1}.
   */
  private List<BpfMap> aggregateMaps(AggregateSpec spec) {
    BpfMap map = object.map(spec.map());
    if (!StackTraces.present(object)) {
      return List.of(map);
    }
    String twin = spec.map().endsWith("_0") ? spec.map().replaceAll("_0$", "_1") : "";
    return List.of(
        map,
        object
            .findMap(twin)
            .orElseThrow(
                () ->
                    new GadgetException(
                        "gadget "
                            + gadget.name()
                            + " has stack maps, so its aggregate map is double-buffered by epoch:"
                            + " aggregate.map must name '<name>_0' and the object have '<name>_1'"
                            + " (bpf/include/gadget/stacks.h)")));
  }

  /**
   * Parameters the agent reads for this gadget rather than the program (how often a map is read,
   * how many rows are kept): they need no {@code const volatile} of their name.
   */
  java.util.Set<String> agentParams() {
    java.util.Set<String> names = new java.util.HashSet<>(gadget.spec().agentParams());
    names.add(PerfSampling.FREQUENCY_PARAM); // where perf events are opened, not a program's
    return names;
  }

  /** The sampling frequency of perf_event programs: the gadget's {@code frequency} parameter. */
  private long frequencyHz() {
    if (!(params.get(PerfSampling.FREQUENCY_PARAM) instanceof Long hz)) {
      throw new GadgetException(
          "gadget "
              + gadget.name()
              + " has a perf_event program but no uint parameter '"
              + PerfSampling.FREQUENCY_PARAM
              + "' (samples per second per CPU)");
    }
    return hz;
  }

  /**
   * A snapshot gadget's iterators: {@link SnapshotSource#take} for a snapshot now, and its
   * counters. Empty for another gadget, and until the instance has started.
   */
  public Optional<SnapshotSource> snapshots() {
    return Optional.ofNullable(snapshots);
  }

  /** The selector in force. */
  public ContainerSelector selector() {
    SelectorFilter f = filter;
    return f == null ? selector : f.selector();
  }

  /**
   * Changes which containers are traced, at once (the filter map is rewritten). The new selector
   * must keep the filter mode the program was loaded with: whether host processes are traced and
   * whether anything is selected at all.
   *
   * @throws IllegalArgumentException when the mode would change (the instance must be restarted)
   */
  public void updateSelector(io.gadgetexporter.config.SelectorConfig next) {
    ContainerSelector compiled = new ContainerSelector(next);
    SelectorFilter f = filter;
    if (f == null) {
      if (compiled.filterMode() != ContainerSelector.FilterMode.OFF) {
        throw new IllegalArgumentException(
            "instance '" + config.name() + "' was loaded without a selector: restart it");
      }
      return;
    }
    f.reselect(compiled);
    if (netnsSockets != null) {
      netnsSockets.reselect(compiled);
    }
  }

  /**
   * The network namespaces (inodes) where the instance's socket filters run; empty for a gadget
   * without socket filters.
   */
  public java.util.Set<Long> tracedNetworkNamespaces() {
    NetnsSockets s = netnsSockets;
    return s == null ? java.util.Set.of() : s.namespaces();
  }

  /**
   * The instance's socket filters: the namespaces with a socket, the selected containers whose
   * socket could not be opened (retried), and the failed opens. Empty for a gadget without socket
   * filters, and until the instance has started.
   */
  public Optional<SocketFilters> socketFilters() {
    NetnsSockets s = netnsSockets;
    return s == null ? Optional.empty() : Optional.of(s.status());
  }

  /** Mount namespaces in the instance's kernel filter map. */
  public int filterEntries() {
    SelectorFilter f = filter;
    return f == null ? 0 : f.entries();
  }

  private String where() {
    return "instance '" + config.name() + "' (gadget " + gadget.name() + ")";
  }

  /**
   * What a user can do about a refused load. A verifier rejection also comes as EACCES: not a
   * privilege problem then, but its log may show the refusal kernel lockdown makes.
   */
  static String loadHint(BpfLoadException e, Optional<String> lockdownMode) {
    return e.verifierLog().isEmpty()
        ? hint(e.errno())
        : KernelLockdown.explainLoadFailure(e.verifierLog(), lockdownMode);
  }

  /** What a user can do about the common kernel refusals. */
  static String hint(int errno) {
    return switch (errno) {
      case 1, 13 ->
          " — the agent lacks privileges: run it as root, or grant CAP_BPF, CAP_PERFMON and"
              + " CAP_SYS_RESOURCE (CAP_SYS_ADMIN on kernels before 5.8)";
      case 2 -> " — this kernel or architecture has no such hook";
      case 22 -> " — this kernel does not support what the program needs";
      default -> "";
    };
  }

  /**
   * The drain thread. It holds its own reference to the reader: after {@link #close()} the reader
   * is closed (calls return 0 or an error), never null under the thread's feet.
   */
  private void drainLoop(RingBufferReader reader, ByteBuffer buffer) {
    try {
      drain(reader, buffer);
    } catch (RuntimeException | Error e) {
      // Nothing drains any more: say so in /readyz and the log rather than look healthy.
      failure = "drain thread failed: " + e;
      state = State.FAILED;
      logger.log(Level.SEVERE, where() + ": drain thread failed; its events are no longer read", e);
    }
  }

  private void drain(RingBufferReader reader, ByteBuffer buffer) {
    int timeoutMs = (int) Math.max(1, config.ringBuffer().drainInterval().toMillis());
    long wakeupBytes = config.ringBuffer().wakeupBytes();
    EventView view = new EventView(schema, clock, redaction);
    long nextClockRefresh = System.nanoTime() + CLOCK_REFRESH_NANOS;
    while (!stopping) {
      int n = reader.poll(timeoutMs);
      if (System.nanoTime() - nextClockRefresh > 0) {
        clock.refresh(); // follow a wall clock stepped after start (NTP at boot)
        nextClockRefresh = System.nanoTime() + CLOCK_REFRESH_NANOS;
      }
      while (n > 0) {
        process(buffer, n, view);
        // Keep the ring below the wake-up threshold: above it, every submit wakes us again.
        n = reader.pendingBytes() > wakeupBytes / 2 && !stopping ? reader.drain() : 0;
      }
      if (n < 0 && n != -4 /* EINTR */ && !stopping) {
        logger.log(Level.WARNING, "{0}: ring buffer drain failed: errno {1}", new Object[] {where(), -n});
        sleepQuietly(timeoutMs);
      }
    }
  }

  /** Decodes one drained batch; package-private for tests that feed it hand-made records. */
  void process(ByteBuffer buffer, int records, EventView view) {
    boolean enrich = enriches();
    int offset = 0;
    long good = 0;
    long bad = 0;
    for (int i = 0; i < records; i++) {
      int length = buffer.getInt(offset);
      int at = offset + RingBufferReader.RECORD_HEADER_BYTES;
      if (deliver(buffer, at, length, view, enrich, sink)) {
        good++;
      } else {
        bad++;
      }
      offset += RingBufferReader.RECORD_HEADER_BYTES + ((length + 7) & ~7);
    }
    endBatch(good, bad);
  }

  /** One interval's rows of an aggregating gadget, through the same path as events. */
  private void deliverRows(ByteBuffer rows, int rowSize, int[] order, int count, EventView view) {
    boolean enrich = enriches();
    long good = 0;
    for (int i = 0; i < count; i++) {
      if (deliver(rows, order[i] * rowSize, rowSize, view, enrich, sink)) {
        good++;
      }
    }
    endBatch(good, count - good); // a row that does not bind is malformed, counted as an event's
  }

  /**
   * Binds, enriches and hands one record (an event, a row) to {@code to}: the instance's {@link
   * #outputs}, or whoever asked for a snapshot; false when it is malformed. One thread at a time.
   */
  boolean deliver(
      ByteBuffer buffer, int offset, int length, EventView view, boolean enrich, EventSink to) {
    if (!view.bind(buffer, offset, length)) {
      return false;
    }
    if (enrich) {
      view.enrich(containers);
    }
    accept(to, view);
    return true;
  }

  /** Where the config sends the events: logs, metrics, JSON lines, the live stream. */
  EventSink outputs() {
    return sink;
  }

  private void accept(EventSink to, EventView view) {
    try {
      to.accept(this, view);
    } catch (RuntimeException e) {
      // An output must not stop the drain; the event still counts as delivered to the agent.
      logger.log(Level.FINE, "output failed", e);
    }
  }

  /** The end of a batch of {@link #deliver} calls: outputs flushed, counters advanced. */
  void endBatch(long good, long bad) {
    try {
      sink.flush();
    } catch (RuntimeException e) {
      logger.log(Level.FINE, "output flush failed", e);
    }
    eventsTotal += good;
    malformedTotal += bad;
  }

  /**
   * The end of a batch of {@link #deliver} calls to {@code to} rather than the outputs (a snapshot
   * on demand): {@code to} flushed; its records are not the instance's events, but a malformed one
   * is the gadget's fault whoever asked, so it is counted.
   */
  void endBatch(EventSink to, long bad) {
    try {
      to.flush();
    } catch (RuntimeException e) {
      logger.log(Level.FINE, "flush failed", e);
    }
    malformedTotal += bad;
  }

  /** Whether records are tied to containers: discovery is on and the event has an id field. */
  boolean enriches() {
    return containers != null && schema.hasContainerKeys();
  }

  /** Events drained and decoded; for an aggregating gadget, rows delivered. */
  public long eventsTotal() {
    return eventsTotal;
  }

  /**
   * Rows an aggregating gadget read from its map but did not deliver because the interval had more
   * than {@code max_rows} (the smallest by {@code sortBy}); 0 for a tracer.
   */
  public long rowsDroppedTotal() {
    AggregateReader r = aggregateReader;
    return r == null ? 0 : r.rowsDropped();
  }

  /**
   * How long an aggregating gadget's last read took (taking the rows out of the map, sorting and
   * delivering them), in nanoseconds; 0 for a tracer or before the first read.
   */
  public long lastReadNanos() {
    AggregateReader r = aggregateReader;
    return r == null ? 0 : r.lastReadNanos();
  }

  /** Records that were too short or inconsistent to decode: counted and skipped. */
  public long malformedTotal() {
    return malformedTotal;
  }

  /**
   * Events the kernel could not put in the ring buffer (reserve failed: ring full), or, for an
   * aggregating gadget, updates its full map refused: whatever the program counted with {@code
   * gadget_count_lost()}.
   */
  public long lostTotal() {
    return state != State.RUNNING ? lostAtStop : sumPerCpu(lostMap, lostAtStop);
  }

  /**
   * What events were delivered without, for lack of room in a bounded map (a socket's owner, a
   * query's start, a stack): whatever the program counted with {@code gadget_count_incomplete()}.
   * Those events are not lost, so not in {@link #lostTotal()}.
   */
  public long incompleteTotal() {
    return state != State.RUNNING ? incompleteAtStop : sumPerCpu(incompleteMap, incompleteAtStop);
  }

  /** Events the selector's filter dropped in the kernel: they never reached userspace. */
  public long filteredTotal() {
    return state != State.RUNNING ? filteredAtStop : sumPerCpu(filteredMap, filteredAtStop);
  }

  /** A per-CPU counter's total; {@code fallback} when the map is gone (closing concurrently). */
  private static long sumPerCpu(BpfMap map, long fallback) {
    if (map == null) {
      return fallback;
    }
    try {
      byte[] perCpu = map.lookup(new byte[4]);
      if (perCpu == null) {
        return 0;
      }
      ByteBuffer b = ByteBuffer.wrap(perCpu).order(ByteOrder.nativeOrder());
      long sum = 0;
      for (int at = 0; at + 8 <= perCpu.length; at += 8) {
        sum += b.getLong(at);
      }
      return sum;
    } catch (RuntimeException e) {
      return fallback; // closing concurrently: the map is gone
    }
  }

  /** Bytes waiting in the ring buffer. */
  public long pendingBytes() {
    RingBufferReader r = reader;
    return r == null || state != State.RUNNING ? 0 : r.pendingBytes();
  }

  /** The ring buffer's data size in bytes ({@code ring_buffer.size}); 0 before start. */
  public long ringBufferBytes() {
    return ringBufferBytes;
  }

  /**
   * Run count and run time of each attached program, by name, in the object's order: the gadget's
   * own cost in the kernel. Both stay 0 unless BPF statistics are on ({@link
   * io.gadgetexporter.bpf.BpfStats}). Programs that did not attach (an optional hook this kernel
   * lacks) are left out: they never run. One {@code bpf(2)} call per program.
   *
   * @return empty before start; the last values read once the instance is no longer running or is
   *     closing concurrently (never throws for that)
   */
  public Map<String, ProgramStats> programStats() {
    List<BpfProgram> programs = attachedPrograms;
    if (programs.isEmpty() || state != State.RUNNING) {
      return lastProgramStats;
    }
    try {
      Map<String, ProgramStats> stats = new LinkedHashMap<>();
      for (BpfProgram p : programs) {
        stats.put(p.name(), p.stats());
      }
      Map<String, ProgramStats> snapshot = Collections.unmodifiableMap(stats);
      lastProgramStats = snapshot;
      return snapshot;
    } catch (RuntimeException e) {
      return lastProgramStats; // closing concurrently: the object is gone
    }
  }

  /**
   * Fill of the gadget's maps that can fill up: hash-like maps (see {@link MapUsage#reported}), not
   * the ring buffer, the global-variable maps or arrays. Counting a map's entries walks its keys,
   * one {@code bpf(2)} call per entry under the object's lock, so maps above {@link
   * MapUsage#COUNT_LIMIT} entries of capacity report capacity only.
   *
   * @return empty before start; the last values read once the instance is no longer running or is
   *     closing concurrently (never throws for that)
   */
  public List<MapUsage> mapUsage() {
    List<BpfMap> maps = usageMaps;
    if (maps.isEmpty() || state != State.RUNNING) {
      return lastMapUsage;
    }
    try {
      List<MapUsage> usage = maps.stream().map(MapUsage::read).toList();
      lastMapUsage = usage;
      return usage;
    } catch (RuntimeException e) {
      return lastMapUsage; // closing concurrently: the object is gone
    }
  }

  /** Detaches, unloads and frees everything; idempotent. */
  @Override
  public void close() {
    if (state == State.STOPPED) {
      return;
    }
    if (filter != null) {
      filter.close();
    }
    if (netnsSockets != null) {
      netnsSockets.close();
    }
    stopping = true;
    if (aggregateReader != null) {
      aggregateReader.close(); // after its last read: the map still exists
    }
    if (snapshots != null) {
      snapshots.stop();
    }
    if (reader != null) {
      reader.wakeup();
    }
    if (drainThread != null) {
      try {
        drainThread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    // The kernel's counts are gone with the maps: kept as read last, once the readers are done
    // (an aggregate's last read, a drain) and just before the programs are detached with them.
    if (state == State.RUNNING) {
      lostAtStop = lostTotal();
      incompleteAtStop = incompleteTotal();
      filteredAtStop = filteredTotal();
    }
    closeKernelObjects();
    if (state != State.FAILED) {
      state = State.STOPPED;
    }
  }

  private void closeKernelObjects() {
    if (reader != null) {
      reader.close();
      reader = null;
    }
    if (object != null) {
      object.close();
      object = null;
    }
  }

  private static void sleepQuietly(int ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
