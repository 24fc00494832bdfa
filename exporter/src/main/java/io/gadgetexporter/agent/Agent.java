package io.gadgetexporter.agent;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerDiscovery;
import io.gadgetexporter.config.MetricConfig;
import io.gadgetexporter.export.BpfStatsHolder;
import io.gadgetexporter.export.EventMetrics;
import io.gadgetexporter.export.LogOutput;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.Redaction;
import io.opentelemetry.api.logs.Logger;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetException;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.Tracefs;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.http.AgentHttpServer;
import io.gadgetexporter.http.LiveEvents;
import io.gadgetexporter.kubernetes.KubernetesMetadata;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;


/**
 * The running agent: its gadget instances, metrics and HTTP server. Start-up is all or nothing: a
 * configuration the gadgets reject, or a kernel that refuses one, stops the start with a message
 * and leaves nothing loaded.
 */
public final class Agent implements AutoCloseable {
  private static final java.util.logging.Logger logger =
      java.util.logging.Logger.getLogger(Agent.class.getName());

  private final List<GadgetInstance> instances = new CopyOnWriteArrayList<>();
  private final BootClock clock = BootClock.system();
  private ContainerDiscovery discovery;
  private Telemetry telemetry;
  private AgentHttpServer http;
  private BpfStatsHolder bpfStats;
  private LiveEvents live;
  private KubernetesMetadata kubernetes;
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
      agent.doStart(config, catalog, sink);
      return agent;
    } catch (RuntimeException e) {
      agent.close();
      throw e;
    }
  }

  private void doStart(AgentConfig config, GadgetCatalog catalog, EventSink sink) {
    // Configuration first: every mistake in the file is reported before the kernel is touched.
    List<ConfigException.Problem> problems = new ArrayList<>();
    // The instances take the collection now and read it only once started.
    ContainerCollection containers = null;
    if (config.containers().enabled()) {
      discovery = ContainerDiscovery.create(config.containers());
      containers = discovery.collection();
    }
    telemetry = new Telemetry(config, version(), this::instances, discovery);
    List<Prepared> prepared = new ArrayList<>();
    Map<String, MetricConfig> metricNames = new LinkedHashMap<>();
    // Every instance's events also go to /api/v1/events; with no client that costs nothing.
    live = new LiveEvents(config.http().streamQueueEvents());
    live.registerMetrics(telemetry.meter());
    for (InstanceConfig ic : config.gadgets()) {
      try {
        Gadget gadget =
            ic.gadgetDirectory().isPresent()
                ? GadgetCatalog.fromDirectory(ic.gadgetDirectory().get())
                : catalog
                    .find(ic.gadget())
                    .orElseThrow(
                        () ->
                            ic.gadgetError(
                                "unknown gadget '"
                                    + ic.gadget()
                                    + "' (built-in: "
                                    + String.join(", ", catalog.builtInNames())
                                    + "; or a path to a directory holding gadget.yaml and"
                                    + " program.bpf.o)"));
        prepared.add(prepare(config, ic, gadget, sink, containers));
        checkMetricNames(ic, metricNames);
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      } catch (GadgetException e) {
        problems.add(ic.gadgetProblem(e.getMessage()));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
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
    for (Prepared p : prepared) {
      instances.add(p.instance());
      telemetry.eventMetrics().register(p.metrics());
      try {
        p.instance().start();
      } catch (GadgetException e) {
        throw new AgentStartException(e.getMessage(), e);
      }
      logger.info(
          "instance '"
              + p.instance().name()
              + "' ("
              + p.instance().gadget().name()
              + ") attached"
              + (p.logs() ? "; its events go out as OTLP log records" : ""));
    }
  }

  /** An instance built and checked, not yet started, with its outputs. */
  private record Prepared(GadgetInstance instance, EventMetrics metrics, boolean logs) {}

  /**
   * Builds an instance and its outputs against its gadget's event fields: labels, values, log
   * fields and redaction rules that name no field are reported here, with their place in the file.
   */
  private Prepared prepare(
      AgentConfig config,
      InstanceConfig ic,
      Gadget gadget,
      EventSink sink,
      ContainerCollection containers) {
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
  private static void checkMetricNames(InstanceConfig ic, Map<String, MetricConfig> seen) {
    List<ConfigException.Problem> problems = new ArrayList<>();
    for (MetricConfig m : ic.metrics()) {
      MetricConfig first = seen.putIfAbsent(m.name(), m);
      if (first != null && (first.type() != m.type() || !first.unit().equals(m.unit()))) {
        problems.add(
            m.problem(
                "metric '"
                    + m.name()
                    + "' is also defined in "
                    + first.keyPath()
                    + " as a "
                    + first.type().name().toLowerCase()
                    + " in '"
                    + first.unit()
                    + "': the same name must have the same type and unit"));
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
  }


  public Collection<GadgetInstance> instances() {
    return instances;
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
   * Ready once every instance is attached and draining, and the node's pods are synced from the
   * Kubernetes API (or its {@code sync_timeout} passed).
   */
  public AgentHttpServer.Readiness readiness() {
    Map<String, Object> detail = new LinkedHashMap<>();
    boolean ready = !closed && !instances.isEmpty();
    for (GadgetInstance i : instances) {
      boolean running = i.state() == GadgetInstance.State.RUNNING;
      ready &= running;
      detail.put(
          i.name(),
          i.failure() != null ? "failed: " + i.failure() : i.state().name().toLowerCase());
    }
    if (kubernetes != null) {
      KubernetesMetadata.Readiness k = kubernetes.readiness();
      ready &= k.ready();
      detail.put("kubernetes", k.detail());
    }
    return new AgentHttpServer.Readiness(ready, detail);
  }

  public static String version() {
    String v = Agent.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Detaches and unloads every gadget, then stops serving. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (GadgetInstance i : instances) {
      i.close();
    }
    if (http != null) {
      http.close();
    }
    if (kubernetes != null) {
      kubernetes.close();
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
