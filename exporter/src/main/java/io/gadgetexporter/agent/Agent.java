package io.gadgetexporter.agent;

import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerDiscovery;
import io.gadgetexporter.export.Telemetry;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetException;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.Tracefs;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.http.AgentHttpServer;
import io.gadgetexporter.http.LiveEvents;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Logger;

/**
 * The running agent: its gadget instances, metrics and HTTP server. Start-up is all or nothing: a
 * configuration the gadgets reject, or a kernel that refuses one, stops the start with a message
 * and leaves nothing loaded.
 */
public final class Agent implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(Agent.class.getName());

  private final List<GadgetInstance> instances = new CopyOnWriteArrayList<>();
  private final BootClock clock = BootClock.system();
  private ContainerDiscovery discovery;
  private Telemetry telemetry;
  private AgentHttpServer http;
  private LiveEvents live;
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
    List<GadgetInstance> created = new ArrayList<>();
    List<ConfigException.Problem> problems = new ArrayList<>();
    // The instances take the collection now and read it only once started.
    ContainerCollection containers = null;
    if (config.containers().enabled()) {
      discovery = ContainerDiscovery.create(config.containers());
      containers = discovery.collection();
    }
    // Every instance's events also go to /api/v1/events; with no client that costs nothing.
    live = new LiveEvents(config.http().streamQueueEvents());
    EventSink outputs = EventSink.both(sink, live);
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
        created.add(new GadgetInstance(ic, gadget, outputs, clock, containers));
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
    if (discovery != null) {
      // Before any instance starts: their filter maps are written from the collection.
      try {
        discovery.start();
      } catch (RuntimeException e) {
        throw new AgentStartException("container discovery cannot start: " + e.getMessage(), e);
      }
    }
    telemetry = new Telemetry(version(), this::instances, discovery);
    http =
        AgentHttpServer.builder(config.http())
            .telemetry(telemetry)
            .readiness(this::readiness)
            .containers(containers)
            .instances(this::instances)
            .liveEvents(live)
            .start();
    for (GadgetInstance instance : created) {
      instances.add(instance);
      try {
        instance.start();
      } catch (GadgetException e) {
        throw new AgentStartException(e.getMessage(), e);
      }
      logger.info(
          "instance '" + instance.name() + "' (" + instance.gadget().name() + ") attached");
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

  /** Ready once every instance is attached and draining. */
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
    if (discovery != null) {
      discovery.close();
    }
    if (telemetry != null) {
      telemetry.close();
    }
  }
}
