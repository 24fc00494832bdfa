package io.gadgetexporter.kubernetes.trace;

import io.gadgetexporter.concurrent.DaemonThreads;
import static java.util.Objects.requireNonNull;

import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.base.PatchContext;
import io.fabric8.kubernetes.client.dsl.base.PatchType;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gadgetexporter.agent.InstanceLifecycle;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.gadget.GadgetInstance;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import tools.jackson.databind.json.JsonMapper;

/**
 * Runs the {@link Trace} resources that select this node, and reports on them in their status.
 *
 * <p>Two informers feed it: every Trace (they are few, and cluster-scoped), and this node alone
 * ({@code metadata.name=<node>}), whose labels the node selectors are matched against. Each Trace
 * is its own source for the {@link InstanceLifecycle}: {@code apply("trace/<name>", [instance])}
 * while it selects this node and is valid, {@code apply("trace/<name>", [])} once it is deleted,
 * edited to be invalid, or no longer selects the node. A Trace therefore never touches the config
 * file's instances or another Trace's.
 *
 * <p>All the work happens on one thread ({@code trace-controller}), in the order events came:
 * informer callbacks only queue the name of what changed, and the work reads the informers'
 * caches, so a burst of updates to one Trace costs one look. Whatever one Trace does wrong is
 * caught and reported on that Trace alone.
 *
 * <p>Status: this node's entry of {@code status.nodes} (see {@link TraceStatus}), written with a
 * JSON merge patch on the status subresource that names only this node's key. A change of state is
 * written at once; the counters at most every {@code statusInterval}, and only when they moved. An
 * entry another writer removed or changed is written again on the next check. A write the API
 * server refused (it is down) is retried on every check until it succeeds. Nothing is written when
 * a Trace is deleted, or when the controller closes: the instances stop, the last reports stay,
 * and their {@code lastUpdateTime} ages.
 */
public final class TraceController implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(TraceController.class.getName());

  /** Source names (and instance names) of Traces: {@code trace/<metadata.name>}. */
  public static final String SOURCE_PREFIX = "trace/";

  /** The longest a failed instance or a removed status entry goes unnoticed. */
  static final Duration MAX_CHECK_PERIOD = Duration.ofSeconds(5);

  private static final JsonMapper JSON = JsonMapper.builder().build();
  private static final AttributeKey<String> STATE = AttributeKey.stringKey("state");

  private final KubernetesClient client;
  private final String nodeName;
  private final InstanceLifecycle lifecycle;
  private final Duration statusInterval;
  private final Clock clock;
  private final ScheduledExecutorService executor;

  private SharedIndexInformer<Node> nodeInformer;
  private SharedIndexInformer<Trace> traceInformer;
  private volatile boolean closed;

  /** The thread while it writes a status, so that {@link #close} can interrupt the write alone. */
  private final Object writeLock = new Object();

  private Thread writer;

  // Confined to the executor's thread.
  /** This node's labels; null until the node has been read. */
  private Map<String, String> nodeLabels;

  private final Map<String, Tracked> tracked = new TreeMap<>();

  /** A copy of each selecting Trace's state for other threads (readiness, metrics). */
  private volatile Map<String, TraceNodeStatus> published = Map.of();

  /** What this node does about one Trace that selects it. */
  private static final class Tracked {
    /** The instance part as last applied; null when nothing was applied (invalid selector). */
    String instanceText;

    /** Whether an instance of it may be running (a source to empty when it goes). */
    boolean applied;

    /** What this node reports now. */
    TraceNodeStatus status;

    /** What was last written successfully; null before the first write or after a failed one. */
    TraceNodeStatus written;

    Instant writtenAt = Instant.EPOCH;
  }

  /**
   * @param nodeName this node, as in {@code spec.nodeName} of its pods ({@code $NODE_NAME})
   * @param statusInterval the least time between two writes of a Trace's counters
   */
  public TraceController(
      KubernetesClient client,
      String nodeName,
      InstanceLifecycle lifecycle,
      Duration statusInterval) {
    this(client, nodeName, lifecycle, statusInterval, Clock.systemUTC());
  }

  TraceController(
      KubernetesClient client,
      String nodeName,
      InstanceLifecycle lifecycle,
      Duration statusInterval,
      Clock clock) {
    this.client = requireNonNull(client, "client");
    this.nodeName = requireNonNull(nodeName, "nodeName");
    this.lifecycle = requireNonNull(lifecycle, "lifecycle");
    this.statusInterval = requireNonNull(statusInterval, "statusInterval");
    this.clock = requireNonNull(clock, "clock");
    if (nodeName.isEmpty()) {
      throw new IllegalArgumentException("nodeName is empty");
    }
    if (statusInterval.isNegative() || statusInterval.isZero()) {
      throw new IllegalArgumentException("statusInterval must be positive: " + statusInterval);
    }
    this.executor =
        Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("trace-controller"));
  }

  /**
   * Starts watching this node and the Traces. Returns at once: while the API server cannot be
   * reached the informers keep retrying, and {@link #synced()} stays false.
   */
  public synchronized void start() {
    if (traceInformer != null) {
      throw new IllegalStateException("already started");
    }
    nodeInformer = client.nodes().withName(nodeName).runnableInformer(0);
    nodeInformer.exceptionHandler(retryAlways("node " + nodeName));
    nodeInformer.addEventHandler(
        new ResourceEventHandler<Node>() {
          @Override
          public void onAdd(Node node) {
            submit(() -> nodeChanged(node));
          }

          @Override
          public void onUpdate(Node old, Node node) {
            submit(() -> nodeChanged(node));
          }

          @Override
          public void onDelete(Node node, boolean deletedFinalStateUnknown) {
            // Its last labels still say which Traces selected it; the agent goes with the node.
          }
        });
    traceInformer = client.resources(Trace.class).runnableInformer(0);
    traceInformer.exceptionHandler(retryAlways("Traces"));
    traceInformer.addEventHandler(
        new ResourceEventHandler<Trace>() {
          @Override
          public void onAdd(Trace trace) {
            String name = trace.getMetadata().getName();
            submit(() -> reconcile(name));
          }

          @Override
          public void onUpdate(Trace old, Trace trace) {
            String name = trace.getMetadata().getName();
            submit(() -> reconcile(name));
          }

          @Override
          public void onDelete(Trace trace, boolean deletedFinalStateUnknown) {
            String name = trace.getMetadata().getName();
            submit(() -> reconcile(name));
          }
        });
    logStop(nodeInformer, "node " + nodeName);
    logStop(traceInformer, "Traces");
    nodeInformer.start();
    traceInformer.start();
    long period = Math.min(statusInterval.toMillis(), MAX_CHECK_PERIOD.toMillis());
    executor.scheduleWithFixedDelay(this::refresh, period, period, TimeUnit.MILLISECONDS);
  }

  /** Whether both informers have listed once: every existing Trace has been looked at. */
  public boolean synced() {
    SharedIndexInformer<Node> n = nodeInformer;
    SharedIndexInformer<Trace> t = traceInformer;
    return n != null && t != null && n.hasSynced() && t.hasSynced();
  }

  /**
   * The Traces that select this node and what became of each: {@code running}, or {@code failed:
   * <message>}. For {@code /readyz} details; a failed Trace says nothing about the agent's health.
   */
  public Map<String, String> states() {
    Map<String, String> states = new TreeMap<>();
    published.forEach(
        (name, s) ->
            states.put(
                name,
                TraceNodeStatus.RUNNING.equals(s.getState())
                    ? "running"
                    : "failed: " + s.getMessage()));
    return states;
  }

  /** This node's report on each Trace that selects it, as last computed. */
  public Map<String, TraceNodeStatus> statuses() {
    return published;
  }

  /**
   * {@code gadget.traces}: the Traces that select this node, by state ({@code running}, {@code
   * failed}). Close the returned handle to remove the callback.
   */
  public AutoCloseable registerMetrics(Meter meter) {
    Attributes running = Attributes.of(STATE, "running");
    Attributes failed = Attributes.of(STATE, "failed");
    return meter
        .gaugeBuilder("gadget.traces")
        .ofLongs()
        .setDescription(
            "Trace resources that select this node, by state: running, or failed (the Trace's"
                + " status.nodes says why).")
        .setUnit("{trace}")
        .buildWithCallback(
            m -> {
              long r =
                  published.values().stream()
                      .filter(s -> TraceNodeStatus.RUNNING.equals(s.getState()))
                      .count();
              m.record(r, running);
              m.record(published.size() - r, failed);
            });
  }

  /**
   * Stops watching and stops every instance this controller started; the Traces and their status
   * are left as they are.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (traceInformer != null) {
      traceInformer.stop();
      nodeInformer.stop();
    }
    // Queued work sees closed and does nothing. A status write waiting for an API server that is
    // gone is interrupted; nothing else is (an instance being loaded or closed must finish).
    executor.shutdown();
    synchronized (writeLock) {
      if (writer != null) {
        writer.interrupt();
      }
    }
    try {
      if (!executor.awaitTermination(30, TimeUnit.SECONDS)) {
        logger.warning(
            "the Trace controller's thread did not stop in 30s: its instances are left to the"
                + " agent to stop");
        return;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    stopAll(); // here: the executor's thread is done, so this thread may touch its state
  }

  // ---- the work, on the executor's thread ------------------------------------------------------

  private void submit(Runnable work) {
    if (closed) {
      return;
    }
    try {
      executor.execute(
          () -> {
            if (closed) {
              return;
            }
            try {
              work.run();
            } catch (RuntimeException e) {
              logger.log(Level.WARNING, "Trace controller: unexpected error", e);
            }
          });
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // Closing.
    }
  }

  private void nodeChanged(Node node) {
    Map<String, String> labels =
        node.getMetadata().getLabels() == null ? Map.of() : Map.copyOf(node.getMetadata().getLabels());
    if (labels.equals(nodeLabels)) {
      return;
    }
    boolean first = nodeLabels == null;
    nodeLabels = labels;
    if (!first) {
      logger.info("node " + nodeName + " labels changed: matching the Traces' node selectors again");
    }
    Set<String> names = new TreeSet<>(tracked.keySet());
    names.addAll(traceInformer.getStore().listKeys());
    for (String name : names) {
      reconcile(name);
    }
  }

  /** Brings one Trace's instance and status in line with the Trace as the cache has it now. */
  private void reconcile(String name) {
    try {
      reconcile(name, traceInformer.getStore().getByKey(name));
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "Trace " + name + ": unexpected error", e);
      Tracked t = tracked.get(name);
      if (t != null && t.status != null) {
        t.status = failed(t.status, TraceNodeStatus.INSTANCE_FAILED, "internal error: " + e, null);
      }
    } finally {
      publish();
    }
  }

  private void reconcile(String name, Trace trace) {
    String source = SOURCE_PREFIX + name;
    Tracked t = tracked.get(name);
    if (trace == null) {
      if (t != null) {
        stop(source, t);
        tracked.remove(name);
        logger.info("Trace " + name + " deleted: its instance is stopped");
      }
      return;
    }
    Long generation = trace.getMetadata().getGeneration();
    TraceSpec spec = trace.getSpec() != null ? trace.getSpec() : new TraceSpec();
    boolean selected;
    try {
      if (spec.getNodeSelector() != null && nodeLabels == null) {
        return; // this node's labels are not known yet: decide once they are
      }
      selected = NodeSelectors.matches(spec, nodeLabels == null ? Map.of() : nodeLabels, name);
    } catch (ConfigException e) {
      t = tracked.computeIfAbsent(name, n -> new Tracked());
      stop(source, t);
      t.instanceText = null;
      String message = TraceInstances.message(e);
      if (t.status == null || !message.equals(t.status.getMessage())) {
        logger.warning("Trace " + name + " is invalid:\n" + message);
      }
      report(name, t, failed(t.status, TraceNodeStatus.INVALID_SPEC, message, generation));
      return;
    }
    if (!selected) {
      if (t != null) {
        stop(source, t);
        tracked.remove(name);
        logger.info("Trace " + name + " no longer selects node " + nodeName + ": stopped");
      }
      // The cache may not show our last write yet: what we wrote counts as there.
      if (liveEntry(trace) != null || (t != null && t.written != null)) {
        removeEntry(name);
      }
      return;
    }
    if (t == null) {
      t = new Tracked();
      tracked.put(name, t);
    }
    String text = TraceInstances.instanceText(spec);
    if (text.equals(t.instanceText) && t.status != null) {
      // The instance is as applied (another node's status write, a label change that keeps it).
      if (!Objects.equals(t.status.getObservedGeneration(), generation)) {
        TraceNodeStatus next = copy(t.status);
        next.setObservedGeneration(generation);
        report(name, t, next);
      }
      return;
    }
    t.instanceText = text;
    report(name, t, run(name, source, trace, t, generation));
  }

  /** Checks and applies the Trace's instance; what to report about it. */
  private TraceNodeStatus run(String name, String source, Trace trace, Tracked t, Long generation) {
    InstanceConfig instance;
    try {
      instance = TraceInstances.instance(trace);
    } catch (ConfigException e) {
      stop(source, t);
      logger.warning("Trace " + name + " is invalid:\n" + TraceInstances.message(e));
      return failed(t.status, TraceNodeStatus.INVALID_SPEC, TraceInstances.message(e), generation);
    }
    List<InstanceLifecycle.Outcome> outcomes;
    try {
      t.applied = true;
      outcomes = lifecycle.apply(source, List.of(instance));
    } catch (ConfigException e) {
      // Checked against its gadget (unknown gadget or parameter): nothing changed, so the
      // previous definition may still run; the Trace asks for this one, so stop that.
      stop(source, t);
      logger.warning("Trace " + name + " is invalid:\n" + TraceInstances.message(e));
      return failed(t.status, TraceNodeStatus.INVALID_SPEC, TraceInstances.message(e), generation);
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "Trace " + name + ": starting its instance failed", e);
      try {
        stop(source, t);
      } catch (RuntimeException ignored) {
        // Already reported; the next reconcile tries again.
      }
      return failed(t.status, TraceNodeStatus.INSTANCE_FAILED, "internal error: " + e, generation);
    }
    Optional<String> failure =
        outcomes.stream()
            .filter(o -> o.name().equals(instance.name()))
            .findFirst()
            .map(InstanceLifecycle.Outcome::failure)
            .orElse(Optional.of("the agent did not start the instance"));
    for (InstanceLifecycle.Outcome o : outcomes) {
      logger.info(
          "Trace "
              + name
              + ": instance "
              + o.name()
              + " "
              + o.change().name().toLowerCase()
              + o.failure().map(f -> ", failed: " + f).orElse(""));
    }
    TraceNodeStatus next =
        failure.isPresent()
            ? failed(t.status, TraceNodeStatus.INSTANCE_FAILED, failure.get(), generation)
            : running(t.status, generation);
    counts(instance.name()).ifPresent(c -> setCounts(next, c));
    return next;
  }

  private void stop(String source, Tracked t) {
    if (t.applied) {
      lifecycle.apply(source, List.of());
      t.applied = false;
    }
  }

  private void stopAll() {
    for (Map.Entry<String, Tracked> e : tracked.entrySet()) {
      try {
        stop(SOURCE_PREFIX + e.getKey(), e.getValue());
      } catch (RuntimeException ex) {
        logger.log(Level.WARNING, "Trace " + e.getKey() + ": stopping its instance failed", ex);
      }
    }
    tracked.clear();
    published = Map.of();
  }

  /**
   * Every few seconds: picks up instances that failed while running, writes counters that moved
   * (at most every {@code statusInterval}), retries failed writes and restores an entry someone
   * else removed or changed.
   */
  private void refresh() {
    if (closed) {
      return;
    }
    Instant now = clock.instant();
    for (Map.Entry<String, Tracked> e : tracked.entrySet()) {
      String name = e.getKey();
      Tracked t = e.getValue();
      try {
        if (t.status == null) {
          continue;
        }
        TraceNodeStatus next = copy(t.status);
        if (t.applied) {
          Optional<GadgetInstance> instance = lifecycle.instance(SOURCE_PREFIX + name);
          if (instance.isPresent()) {
            GadgetInstance i = instance.get();
            if (i.state() == GadgetInstance.State.FAILED
                && TraceNodeStatus.RUNNING.equals(next.getState())) {
              next =
                  failed(
                      t.status,
                      TraceNodeStatus.INSTANCE_FAILED,
                      String.valueOf(i.failure()),
                      t.status.getObservedGeneration());
            }
            setCounts(next, new long[] {i.eventsTotal(), i.lostTotal()});
          }
        }
        boolean stateChanged = t.written == null || !sameState(next, t.written);
        boolean countsMoved =
            t.written != null
                && (!Objects.equals(next.getEvents(), t.written.getEvents())
                    || !Objects.equals(next.getLost(), t.written.getLost()));
        boolean due = !now.isBefore(t.writtenAt.plus(statusInterval));
        Trace live = traceInformer.getStore().getByKey(name);
        TraceNodeStatus entry = live == null ? null : liveEntry(live);
        // Our own write may not be in the cache yet: only trust a differing entry after a while.
        boolean tampered =
            t.written != null
                && (entry == null || !sameState(entry, t.written))
                && !now.isBefore(t.writtenAt.plus(MAX_CHECK_PERIOD));
        t.status = next;
        if (live != null && (stateChanged || tampered || (countsMoved && due))) {
          write(name, t);
        }
      } catch (RuntimeException ex) {
        logger.log(Level.WARNING, "Trace " + name + ": refreshing its status failed", ex);
      }
    }
    publish();
  }

  // ---- status ----------------------------------------------------------------------------------

  /** Sets what this node reports, and writes it if its state differs from what was written. */
  private void report(String name, Tracked t, TraceNodeStatus next) {
    t.status = next;
    if (t.written == null
        || !sameState(next, t.written)
        || !Objects.equals(next.getObservedGeneration(), t.written.getObservedGeneration())) {
      write(name, t);
    }
  }

  private void write(String name, Tracked t) {
    TraceNodeStatus s = copy(t.status);
    s.setLastUpdateTime(timestamp(clock.instant()));
    Map<String, Object> entry = new LinkedHashMap<>();
    entry.put("state", s.getState());
    entry.put("reason", s.getReason()); // null: a merge patch removes what an earlier one wrote
    entry.put("message", s.getMessage());
    entry.put("events", s.getEvents());
    entry.put("lost", s.getLost());
    entry.put("observedGeneration", s.getObservedGeneration());
    entry.put("lastTransitionTime", s.getLastTransitionTime());
    entry.put("lastUpdateTime", s.getLastUpdateTime());
    if (patchStatus(name, entry)) {
      t.written = s;
      t.writtenAt = clock.instant();
    } else {
      t.written = null;
    }
  }

  private void removeEntry(String name) {
    patchStatus(name, null);
  }

  /** Merge-patches {@code status.nodes.<this node>} alone; false when it could not be written. */
  private boolean patchStatus(String name, Map<String, Object> entry) {
    Map<String, Object> nodes = new HashMap<>();
    nodes.put(nodeName, entry);
    String patch = JSON.writeValueAsString(Map.of("status", Map.of("nodes", nodes)));
    synchronized (writeLock) {
      if (closed) {
        return false;
      }
      writer = Thread.currentThread();
    }
    try {
      client
          .resources(Trace.class)
          .withName(name)
          .subresource("status")
          .patch(PatchContext.of(PatchType.JSON_MERGE), patch);
      return true;
    } catch (KubernetesClientException e) {
      if (closed) {
        return false;
      }
      if (e.getCode() == 404) {
        return true; // deleted meanwhile: nothing to report on
      }
      logger.warning(
          "Trace "
              + name
              + ": cannot write its status for node "
              + nodeName
              + " (retried every "
              + MAX_CHECK_PERIOD.toSeconds()
              + "s): "
              + e.getMessage());
      return false;
    } finally {
      synchronized (writeLock) {
        writer = null;
        Thread.interrupted(); // an interrupt from close() was for the write alone
      }
    }
  }

  private TraceNodeStatus liveEntry(Trace trace) {
    TraceStatus status = trace.getStatus();
    return status == null || status.getNodes() == null ? null : status.getNodes().get(nodeName);
  }

  private TraceNodeStatus running(TraceNodeStatus previous, Long generation) {
    TraceNodeStatus s = new TraceNodeStatus();
    s.setState(TraceNodeStatus.RUNNING);
    s.setEvents(0L);
    s.setLost(0L);
    s.setObservedGeneration(generation);
    s.setLastTransitionTime(transitionTime(previous, s));
    return s;
  }

  private TraceNodeStatus failed(
      TraceNodeStatus previous, String reason, String message, Long generation) {
    TraceNodeStatus s = new TraceNodeStatus();
    s.setState(TraceNodeStatus.FAILED);
    s.setReason(reason);
    s.setMessage(message);
    s.setObservedGeneration(generation);
    s.setLastTransitionTime(transitionTime(previous, s));
    return s;
  }

  private String transitionTime(TraceNodeStatus previous, TraceNodeStatus next) {
    return previous != null && sameState(previous, next) && previous.getLastTransitionTime() != null
        ? previous.getLastTransitionTime()
        : timestamp(clock.instant());
  }

  private static boolean sameState(TraceNodeStatus a, TraceNodeStatus b) {
    return Objects.equals(a.getState(), b.getState())
        && Objects.equals(a.getReason(), b.getReason())
        && Objects.equals(a.getMessage(), b.getMessage());
  }

  private Optional<long[]> counts(String instanceName) {
    return lifecycle
        .instance(instanceName)
        .map(i -> new long[] {i.eventsTotal(), i.lostTotal()});
  }

  private static void setCounts(TraceNodeStatus s, long[] counts) {
    s.setEvents(counts[0]);
    s.setLost(counts[1]);
  }

  private static TraceNodeStatus copy(TraceNodeStatus s) {
    TraceNodeStatus c = new TraceNodeStatus();
    c.setState(s.getState());
    c.setReason(s.getReason());
    c.setMessage(s.getMessage());
    c.setEvents(s.getEvents());
    c.setLost(s.getLost());
    c.setObservedGeneration(s.getObservedGeneration());
    c.setLastTransitionTime(s.getLastTransitionTime());
    c.setLastUpdateTime(s.getLastUpdateTime());
    return c;
  }

  private static String timestamp(Instant instant) {
    return instant.truncatedTo(ChronoUnit.SECONDS).toString();
  }

  private void publish() {
    Map<String, TraceNodeStatus> copy = new TreeMap<>();
    tracked.forEach(
        (name, t) -> {
          if (t.status != null) {
            copy.put(name, copy(t.status));
          }
        });
    published = java.util.Collections.unmodifiableMap(copy);
  }

  // ---- informers -------------------------------------------------------------------------------

  /**
   * Keeps an informer retrying whatever fails (the API server down, a 403 until RBAC is fixed),
   * where fabric8's default gives up before the first list and on watch errors; Traces already
   * running carry on meanwhile. It retries about every second while the API server is away: the
   * same failure is logged once, and again only every few minutes.
   */
  private ExceptionHandler retryAlways(String what) {
    String[] lastMessage = {null};
    long[] lastLoggedAt = {0};
    return (started, t) -> {
      if (!closed) {
        String message = "watching " + what + " failed, retrying: " + t + hint(t);
        long now = System.nanoTime();
        synchronized (lastMessage) {
          if (!message.equals(lastMessage[0]) || now - lastLoggedAt[0] > REPEAT_FAILURE_LOG_NANOS) {
            logger.warning(message);
            lastMessage[0] = message;
            lastLoggedAt[0] = now;
          }
        }
      }
      return !closed;
    };
  }

  private static final long REPEAT_FAILURE_LOG_NANOS = TimeUnit.MINUTES.toNanos(5);

  private static String hint(Throwable t) {
    if (ExceptionHandler.isDeserializationException(t)) {
      return " (an object does not match the model: a CRD of another version?)";
    }
    if (t instanceof KubernetesClientException e && e.getCode() == 404) {
      return " (is the Trace CRD installed? charts/gadget-exporter/crds/)";
    }
    if (t instanceof KubernetesClientException e && e.getCode() == 403) {
      return " (the agent's ServiceAccount lacks a permission: see docs/traces.md, RBAC)";
    }
    return "";
  }

  private void logStop(SharedIndexInformer<?> informer, String what) {
    informer
        .stopped()
        .whenComplete(
            (v, t) -> {
              if (t != null && !closed) {
                logger.log(Level.SEVERE, "watching " + what + " stopped", t);
              }
            });
  }
}
