package io.gadgetexporter.agent;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.config.MetricConfig;
import io.gadgetexporter.config.SameDefinition;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerDiscovery;
import io.gadgetexporter.container.ContainerSelector;
import io.gadgetexporter.export.BpfStatsHolder;
import io.gadgetexporter.export.EventMetrics;
import io.gadgetexporter.export.LogOutput;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetException;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.Redaction;
import io.gadgetexporter.gadget.Tracefs;
import io.gadgetexporter.http.AgentHttpServer;
import io.gadgetexporter.http.LiveEvents;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gadgetexporter.kubernetes.KubernetesClients;
import io.gadgetexporter.kubernetes.KubernetesMetadata;
import io.gadgetexporter.kubernetes.trace.TraceController;
import io.opentelemetry.api.logs.Logger;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * The running agent: its gadget instances, metrics and HTTP server.
 *
 * <p>Start-up is all or nothing: a configuration the gadgets reject, or a kernel that refuses one,
 * stops the start with a message and leaves nothing loaded; only an instance marked {@code
 * optional} that the kernel refuses is kept as failed, and readiness does not wait for it. Afterwards instances come and go one
 * source at a time ({@link InstanceLifecycle}): the config file on reload, each Trace resource; an
 * instance that does not change keeps running untouched, with its counters.
 */
public final class Agent implements InstanceLifecycle, AutoCloseable {
  private static final java.util.logging.Logger logger =
      java.util.logging.Logger.getLogger(Agent.class.getName());

  /** An instance the agent runs (or that failed to start), with where it came from. */
  private record Running(
      String source, GadgetInstance instance, EventMetrics metrics, InstanceConfig config) {}

  // Changed only under this object's lock; read lock-free through the snapshot.
  private final Map<String, Running> running = new LinkedHashMap<>();
  private volatile List<Running> runningSnapshot = List.of();
  private volatile List<GadgetInstance> instanceSnapshot = List.of();
  private final Map<String, Supplier<String>> extraReadiness = new ConcurrentHashMap<>();
  private final BootClock clock = BootClock.system();
  private AgentConfig config; // the agent-wide settings in force; under the lock
  private GadgetCatalog catalog;
  private EventSink sink;
  private ContainerCollection containers;
  private ContainerDiscovery discovery;
  private Telemetry telemetry;
  private AgentHttpServer http;
  private BpfStatsHolder bpfStats;
  private LiveEvents live;
  private KubernetesMetadata kubernetes;
  private volatile TraceController traces;
  private KubernetesClient traceClient; // only when the pod metadata has no client to share
  private volatile boolean closed;

  private Agent() {}

  /**
   * Validates the instances against their gadgets, then loads and attaches them all and serves
   * HTTP.
   *
   * @throws ConfigException when the configuration names an unknown gadget or a bad parameter
   * @throws AgentStartException when the host or kernel cannot run the gadgets
   */
  public static Agent start(AgentConfig config, GadgetCatalog catalog, EventSink sink) {
    Agent agent = new Agent();
    try {
      synchronized (agent) {
        agent.doStart(config, catalog, sink);
      }
      return agent;
    } catch (RuntimeException e) {
      agent.close();
      throw e;
    }
  }

  private void doStart(AgentConfig config, GadgetCatalog catalog, EventSink sink) {
    this.config = config;
    this.catalog = catalog;
    this.sink = sink;
    // The instances take the collection now and read it only once started.
    if (config.containers().enabled()) {
      discovery = ContainerDiscovery.create(config.containers());
      containers = discovery.collection();
    }
    telemetry = new Telemetry(config, version(), this::instances, discovery);
    // Every instance's events also go to /api/v1/events; with no client that costs nothing.
    live = new LiveEvents(config.http().streamQueueEvents());
    live.registerMetrics(telemetry.meter());
    // Configuration first: every mistake in the file is reported before the kernel is touched.
    Plan plan = plan(CONFIG_SOURCE, config.gadgets(), false);
    Tracefs.ensureMounted();
    List<String> hostProblems = Preflight.forThisHost().problems();
    if (!hostProblems.isEmpty()) {
      throw new AgentStartException(
          "this host cannot run gadgets:\n  - " + String.join("\n  - ", hostProblems), null);
    }
    if (config.metrics().bpfStats()) {
      bpfStats = BpfStatsHolder.tryEnable();
      if (!bpfStats.enabled()) {
        logger.warning(bpfStats.reason());
      }
    }
    if (discovery != null) {
      // Before any instance starts: their filter maps are written from the collection.
      try {
        discovery.start();
      } catch (RuntimeException e) {
        throw new AgentStartException("container discovery cannot start: " + e.getMessage(), e);
      }
    }
    // Pod metadata from the API server; never waits for it (readiness does, for a while).
    try {
      kubernetes =
          KubernetesMetadata.start(config.kubernetes(), containers, telemetry.meter()).orElse(null);
    } catch (RuntimeException e) {
      throw new AgentStartException("kubernetes: cannot use the API: " + e.getMessage(), e);
    }
    http =
        AgentHttpServer.builder(config.http())
            .telemetry(telemetry)
            .readiness(this::readiness)
            .containers(containers)
            .instances(this::instances)
            .liveEvents(live)
            .start();
    for (Outcome o : execute(plan)) {
      if (o.failure().isPresent()) {
        if (!running.get(o.name()).config().optional()) {
          throw new AgentStartException(o.failure().get(), null);
        }
        // Listed as failed, with why, in /api/v1/gadgets, /readyz and gadget_instances.
        logger.warning(
            "optional instance '" + o.name() + "' is not running; the agent runs without it");
      }
    }
    if (config.kubernetes().enabled() && config.kubernetes().traces()) {
      // After the config file's instances: a Trace can never take a name or a metric from them.
      // Its applies wait for this start to finish (they take the agent's lock). Without container
      // discovery there is no pod metadata, but Traces still run (host-wide): a client of their own.
      KubernetesClient client;
      if (kubernetes != null) {
        client = kubernetes.client();
      } else {
        client = KubernetesClients.create(config.kubernetes());
        traceClient = client;
      }
      traces =
          new TraceController(
              client,
              config.kubernetes().nodeName().orElseThrow(),
              this,
              config.kubernetes().traceStatusInterval());
      traces.registerMetrics(telemetry.meter());
      traces.start();
      readinessDetail("traces", () -> traceSummary(traces));
    }
  }

  private static String traceSummary(TraceController traces) {
    if (!traces.synced()) {
      return "waiting for the first list of Trace resources";
    }
    Map<String, String> states = traces.states();
    return states.isEmpty() ? "none selects this node" : states.toString();
  }

  // ---- dynamic instances --------------------------------------------------------------------

  @Override
  public synchronized List<Outcome> apply(String source, List<InstanceConfig> instances) {
    if (closed) {
      throw new IllegalStateException("the agent is stopped");
    }
    return execute(plan(source, instances, false));
  }

  /**
   * Applies a new configuration file: its instances as {@link #apply} does; a change of the
   * agent-wide redaction rules restarts every instance (of every source) under the new rules.
   * Sections that only a restart can change (HTTP server, containers, OTLP, resource, metric
   * settings, Kubernetes) keep their running values and are named in the returned report.
   *
   * @throws ConfigException when an instance is invalid against its gadget; nothing was changed
   */
  public synchronized Reload reload(AgentConfig next) {
    if (closed) {
      throw new IllegalStateException("the agent is stopped");
    }
    List<String> needRestart = new ArrayList<>();
    addIfChanged(needRestart, "http", config.http(), next.http());
    addIfChanged(needRestart, "containers", config.containers(), next.containers());
    addIfChanged(needRestart, "otlp", config.otlp(), next.otlp());
    addIfChanged(needRestart, "resource", config.resource(), next.resource());
    addIfChanged(needRestart, "metrics", config.metrics(), next.metrics());
    addIfChanged(needRestart, "kubernetes", config.kubernetes(), next.kubernetes());
    boolean redactChanged = !SameDefinition.of(config.redact(), next.redact());
    AgentConfig previous = config;
    config =
        new AgentConfig(
            next.source(),
            previous.http(),
            previous.containers(),
            next.gadgets(),
            previous.otlp(),
            previous.resource(),
            previous.metrics(),
            next.redact(),
            previous.kubernetes());
    List<Plan> plans = new ArrayList<>();
    try {
      plans.add(plan(CONFIG_SOURCE, next.gadgets(), redactChanged));
      if (redactChanged) {
        for (String source : sources()) {
          if (!source.equals(CONFIG_SOURCE)) {
            plans.add(plan(source, configsOf(source), true));
          }
        }
      }
    } catch (ConfigException e) {
      config = previous;
      throw e;
    }
    List<Outcome> outcomes = new ArrayList<>();
    plans.forEach(p -> outcomes.addAll(execute(p)));
    if (!needRestart.isEmpty()) {
      logger.warning(
          "configuration reloaded, but changes to "
              + String.join(", ", needRestart)
              + " take effect only when the agent restarts");
    }
    return new Reload(outcomes, needRestart);
  }

  /**
   * What a {@link #reload} did.
   *
   * @param needRestart the changed sections that keep their running values until a restart
   */
  public record Reload(List<Outcome> outcomes, List<String> needRestart) {
    public Reload {
      outcomes = List.copyOf(outcomes);
      needRestart = List.copyOf(needRestart);
    }

    /** "1 added, 2 restarted, 1 removed, 3 unchanged" (only the non-zero ones). */
    public String summary() {
      Map<Change, Long> counts = new java.util.EnumMap<>(Change.class);
      outcomes.forEach(o -> counts.merge(o.change(), 1L, Long::sum));
      List<String> parts = new ArrayList<>();
      counts.forEach((c, n) -> parts.add(n + " " + c.name().toLowerCase(java.util.Locale.ROOT)));
      long failed = outcomes.stream().filter(o -> o.failure().isPresent()).count();
      if (failed > 0) {
        parts.add(failed + " failed to start");
      }
      return parts.isEmpty() ? "no instances" : String.join(", ", parts);
    }
  }

  private static void addIfChanged(List<String> changed, String section, Object was, Object is) {
    if (!SameDefinition.of(was, is)) {
      changed.add(section);
    }
  }

  @Override
  public Optional<GadgetInstance> instance(String name) {
    return instanceSnapshot.stream().filter(i -> i.name().equals(name)).findFirst();
  }

  /** The source that runs the instance of that name. */
  public Optional<String> sourceOf(String name) {
    return runningSnapshot.stream()
        .filter(r -> r.instance().name().equals(name))
        .map(Running::source)
        .findFirst();
  }

  private List<String> sources() {
    return running.values().stream().map(Running::source).distinct().toList();
  }

  private List<InstanceConfig> configsOf(String source) {
    return running.values().stream()
        .filter(r -> r.source().equals(source))
        .map(Running::config)
        .toList();
  }

  /**
   * What applying a source's instances will do, every new definition already built and checked.
   *
   * @param restart the instances whose definition changed (or that failed before), to stop and
   *     start again; {@code reselect} those whose selector alone changed, updated in place
   */
  private record Plan(
      String source,
      List<Prepared> start,
      List<Running> stop,
      Map<String, InstanceConfig> reselect,
      List<String> unchanged) {}

  /**
   * Sorts the wanted instances into new, changed, unchanged and gone, and builds every new or
   * changed one against its gadget.
   *
   * @param forceRestart every listed instance restarts (the agent-wide rules they were built with
   *     changed)
   * @throws ConfigException with every problem, each at its place in the source
   */
  private Plan plan(String source, List<InstanceConfig> wanted, boolean forceRestart) {
    List<ConfigException.Problem> problems = new ArrayList<>();
    List<Prepared> start = new ArrayList<>();
    List<Running> stop = new ArrayList<>();
    Map<String, InstanceConfig> reselect = new LinkedHashMap<>();
    List<String> unchanged = new ArrayList<>();
    java.util.Set<String> wantedNames = new java.util.HashSet<>();
    // Metric names are checked against every instance that keeps running.
    Map<String, MetricConfig> metricNames = new LinkedHashMap<>();
    Map<String, String> metricSources = new LinkedHashMap<>();
    for (Running r : running.values()) {
      boolean replaced = r.source().equals(source);
      if (!replaced) {
        for (MetricConfig m : r.config().metrics()) {
          metricNames.putIfAbsent(m.name(), m);
          metricSources.putIfAbsent(m.name(), describeSource(r.source()));
        }
      }
    }
    for (InstanceConfig ic : wanted) {
      wantedNames.add(ic.name());
      Running current = running.get(ic.name());
      if (current != null && !current.source().equals(source)) {
        problems.add(
            ic.problem(
                "instance name '"
                    + ic.name()
                    + "' is already used by "
                    + describeSource(current.source())));
        continue;
      }
      if (current != null && !forceRestart && current.instance().failure() == null) {
        if (SameDefinition.of(current.config(), ic)) {
          unchanged.add(ic.name());
          checkMetricNames(ic, metricNames, metricSources, problems);
          continue;
        }
        if (onlySelectorChanged(current, ic)) {
          reselect.put(ic.name(), ic);
          checkMetricNames(ic, metricNames, metricSources, problems);
          continue;
        }
      }
      try {
        start.add(prepare(ic, resolveGadget(ic)));
        checkMetricNames(ic, metricNames, metricSources, problems);
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      } catch (GadgetException e) {
        problems.add(ic.gadgetProblem(e.getMessage()));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    java.util.Set<String> restarting = names(start.stream().map(Prepared::instance));
    for (Running r : running.values()) {
      String name = r.instance().name();
      if (r.source().equals(source)
          && (!wantedNames.contains(name) || restarting.contains(name))) {
        stop.add(r);
      }
    }
    return new Plan(source, start, stop, reselect, unchanged);
  }

  private static String describeSource(String source) {
    return source.equals(CONFIG_SOURCE) ? "the config file" : source;
  }

  /**
   * A selector is rewritten in the running program's filter map when the program's filter mode
   * (fixed at load) stays: no restart, no lost counters.
   */
  private static boolean onlySelectorChanged(Running current, InstanceConfig next) {
    InstanceConfig was = current.config();
    InstanceConfig withNewSelector =
        new InstanceConfig(
            was.name(),
            was.gadget(),
            was.params(),
            next.selector(),
            was.ringBuffer(),
            was.logs(),
            was.metrics(),
            was.redact(),
            was.optional(),
            was.keyPath(),
            was.location(),
            was.gadgetLocation());
    return SameDefinition.of(withNewSelector, next)
        && current.instance().state() == GadgetInstance.State.RUNNING
        && new ContainerSelector(next.selector()).filterMode()
            == current.instance().selector().filterMode();
  }

  private Gadget resolveGadget(InstanceConfig ic) {
    if (ic.gadgetDirectory().isPresent()) {
      return GadgetCatalog.fromDirectory(ic.gadgetDirectory().get());
    }
    return catalog
        .find(ic.gadget())
        .orElseThrow(
            () ->
                ic.gadgetError(
                    "unknown gadget '"
                        + ic.gadget()
                        + "' (built-in: "
                        + String.join(", ", catalog.builtInNames())
                        + "; or a path to a directory holding gadget.yaml and program.bpf.o)"));
  }

  /** Stops what goes, updates selectors, then starts what comes; returns one outcome each. */
  private List<Outcome> execute(Plan plan) {
    try {
      return executeSteps(plan);
    } finally {
      // Whatever happened, the lists readers see are those the agent runs.
      runningSnapshot = List.copyOf(running.values());
      instanceSnapshot = runningSnapshot.stream().map(Running::instance).toList();
    }
  }

  private List<Outcome> executeSteps(Plan plan) {
    List<Outcome> outcomes = new ArrayList<>();
    java.util.Set<String> starting = names(plan.start().stream().map(Prepared::instance));
    java.util.Set<String> stopping = names(plan.stop().stream().map(Running::instance));
    for (Running r : plan.stop()) {
      String name = r.instance().name();
      stopInstance(r);
      if (!starting.contains(name)) {
        outcomes.add(new Outcome(name, Change.REMOVED, Optional.empty()));
        logger.info("instance '" + name + "' (" + describeSource(r.source()) + ") detached");
      }
    }
    plan.reselect()
        .forEach(
            (name, ic) -> {
              Running r = running.get(name);
              try {
                r.instance().updateSelector(ic.selector());
              } catch (RuntimeException e) {
                // The old selector stays in force (and in Running, so the next apply tries again).
                String why = "its new selector could not be written to the filter map: " + e;
                logger.warning("instance '" + name + "': " + why);
                outcomes.add(new Outcome(name, Change.UPDATED, Optional.of(why)));
                return;
              }
              running.put(name, new Running(r.source(), r.instance(), r.metrics(), ic));
              outcomes.add(new Outcome(name, Change.UPDATED, Optional.empty()));
              logger.info("instance '" + name + "': selector updated in place");
            });
    plan.unchanged().forEach(n -> outcomes.add(new Outcome(n, Change.UNCHANGED, Optional.empty())));
    for (Prepared p : plan.start()) {
      Change change = stopping.contains(p.instance().name()) ? Change.RESTARTED : Change.ADDED;
      outcomes.add(startInstance(plan.source(), p, change));
    }
    return outcomes;
  }

  private static java.util.Set<String> names(java.util.stream.Stream<GadgetInstance> instances) {
    return instances.map(GadgetInstance::name).collect(java.util.stream.Collectors.toSet());
  }

  private Outcome startInstance(String source, Prepared p, Change change) {
    GadgetInstance instance = p.instance();
    // Listed even if the kernel refuses it: /api/v1/gadgets and /readyz then say why.
    running.put(instance.name(), new Running(source, instance, p.metrics(), instance.config()));
    telemetry.eventMetrics().register(p.metrics());
    try {
      instance.start();
    } catch (GadgetException e) {
      telemetry.eventMetrics().unregister(p.metrics());
      logger.warning("instance '" + instance.name() + "' failed to start: " + e.getMessage());
      return new Outcome(instance.name(), change, Optional.of(e.getMessage()));
    }
    logger.info(
        "instance '"
            + instance.name()
            + "' ("
            + instance.gadget().name()
            + (source.equals(CONFIG_SOURCE) ? "" : ", from " + source)
            + ") "
            + (change == Change.RESTARTED ? "restarted with its new definition" : "attached")
            + (p.logs() ? "; its events go out as OTLP log records" : ""));
    return new Outcome(instance.name(), change, Optional.empty());
  }

  private void stopInstance(Running r) {
    r.instance().close();
    telemetry.eventMetrics().unregister(r.metrics());
    running.remove(r.instance().name());
  }

  /** An instance built and checked, not yet started, with its outputs. */
  private record Prepared(GadgetInstance instance, EventMetrics metrics, boolean logs) {}

  /**
   * Builds an instance and its outputs against its gadget's event fields: labels, values, log
   * fields and redaction rules that name no field are reported here, with their place in the file.
   */
  private Prepared prepare(InstanceConfig ic, Gadget gadget) {
    EventSchema schema = EventSchema.of(gadget);
    String eventName = gadget.spec().eventName();
    List<ConfigException.Problem> problems = new ArrayList<>();
    Redaction redaction = null;
    EventMetrics metrics = null;
    LogOutput logs = null;
    try {
      redaction = Redaction.compile(schema, config.redact(), ic.redact());
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    try {
      metrics =
          EventMetrics.compile(
              ic, gadget.name(), schema, eventName, config.metrics(), Telemetry::epochNanos);
    } catch (ConfigException e) {
      problems.addAll(e.problems());
    }
    if (ic.logs().enabled()) {
      try {
        // Checked even when nothing is pushed, so a config is valid or not whatever the endpoint.
        Logger otel = telemetry.logger(ic.name()).orElse(null);
        logs =
            LogOutput.compile(
                ic.logs(),
                ic.name(),
                gadget.name(),
                schema,
                eventName,
                otel != null ? otel : io.opentelemetry.api.logs.LoggerProvider.noop().get("none"));
        if (otel == null) {
          logger.warning(
              "instance '"
                  + ic.name()
                  + "' has logs on, but no OTLP endpoint is configured (otlp.endpoint or"
                  + " OTEL_EXPORTER_OTLP_ENDPOINT): its log records are not sent");
          logs = null;
        }
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    List<EventSink> sinks = new ArrayList<>();
    sinks.add(metrics);
    if (logs != null) {
      sinks.add(logs);
    }
    sinks.add(sink);
    sinks.add(live);
    GadgetInstance instance =
        new GadgetInstance(ic, gadget, EventSink.all(sinks), clock, containers, redaction);
    return new Prepared(instance, metrics, logs != null);
  }

  /** One metric name means one metric: the same type and unit wherever it is defined. */
  private static void checkMetricNames(
      InstanceConfig ic,
      Map<String, MetricConfig> seen,
      Map<String, String> otherSources,
      List<ConfigException.Problem> problems) {
    for (MetricConfig m : ic.metrics()) {
      MetricConfig first = seen.putIfAbsent(m.name(), m);
      if (first != null && (first.type() != m.type() || !first.unit().equals(m.unit()))) {
        problems.add(
            m.problem(
                "metric '"
                    + m.name()
                    + "' is also defined in "
                    + (otherSources.containsKey(m.name())
                        ? otherSources.get(m.name()) + " at "
                        : "")
                    + first.keyPath()
                    + " as a "
                    + first.type().name().toLowerCase(java.util.Locale.ROOT)
                    + " in '"
                    + first.unit()
                    + "': the same name must have the same type and unit"));
      }
    }
  }

  /** Every instance, of every source, in the order they started; a snapshot. */
  public Collection<GadgetInstance> instances() {
    return instanceSnapshot;
  }

  /** The node's containers; empty when discovery is off. */
  public java.util.Optional<ContainerDiscovery> containers() {
    return java.util.Optional.ofNullable(discovery);
  }

  public int httpPort() {
    return http.port();
  }

  /** The live event streams, with their per-instance counters (clients, sent, dropped). */
  public LiveEvents liveEvents() {
    return live;
  }

  /**
   * Ready once every instance of the config file is attached and draining, and the node's pods
   * are synced from the Kubernetes API (or its {@code sync_timeout} passed). Instances of other
   * sources (Trace resources) are listed but never make the agent unready: a bad Trace is its
   * owner's problem, reported in its status, not a reason to take the node's agent out.
   */
  public AgentHttpServer.Readiness readiness() {
    Map<String, Object> detail = new LinkedHashMap<>();
    boolean ready = !closed;
    boolean anyFromConfig = false;
    // A snapshot: an apply loading programs holds the lock, and probes must not wait for it.
    for (Running r : runningSnapshot) {
      GadgetInstance i = r.instance();
      if (r.source().equals(CONFIG_SOURCE)) {
        anyFromConfig = true;
        // An optional instance the kernel refused does not keep the agent unready forever.
        ready &=
            i.state() == GadgetInstance.State.RUNNING
                || (r.config().optional() && i.failure() != null);
      }
      detail.put(
          i.name(),
          i.failure() != null ? "failed: " + i.failure() : i.state().name().toLowerCase());
    }
    if (kubernetes != null) {
      KubernetesMetadata.Readiness k = kubernetes.readiness();
      ready &= k.ready();
      detail.put("kubernetes", k.detail());
    }
    extraReadiness.forEach((key, status) -> detail.put(key, status.get()));
    return new AgentHttpServer.Readiness(ready && anyFromConfig, detail);
  }

  /**
   * Adds a line to {@code /readyz}'s detail (the config file's reload state, the Kubernetes API's
   * sync state) without making readiness depend on it.
   */
  public void readinessDetail(String key, Supplier<String> status) {
    extraReadiness.put(key, status);
  }

  /** The agent's OpenTelemetry meter, for the self-metrics of parts started beside it. */
  public io.opentelemetry.api.metrics.Meter meter() {
    return telemetry.meter();
  }

  public static String version() {
    String v = Agent.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Detaches and unloads every gadget, then stops serving. Idempotent. */
  @Override
  public void close() {
    // First, and without the agent's lock: the controller stops its instances through apply(),
    // which takes that lock, and waits for its thread, which may be waiting for it.
    TraceController t = traces;
    if (t != null) {
      t.close();
    }
    closeTheRest();
  }

  private synchronized void closeTheRest() {
    if (closed) {
      return;
    }
    closed = true;
    for (Running r : running.values()) {
      r.instance().close();
    }
    if (http != null) {
      http.close();
    }
    if (kubernetes != null) {
      kubernetes.close();
    }
    if (traceClient != null) {
      traceClient.close();
    }
    if (discovery != null) {
      discovery.close();
    }
    if (telemetry != null) {
      telemetry.close(); // after the instances: their last events are sent
    }
    if (bpfStats != null) {
      bpfStats.close();
    }
  }
}
