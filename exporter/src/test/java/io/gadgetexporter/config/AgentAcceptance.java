package io.gadgetexporter.config;

import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.export.EventMetrics;
import io.gadgetexporter.export.LogOutput;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventSchema;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.Redaction;
import io.opentelemetry.api.logs.LoggerProvider;
import java.util.Map;

/** A config file as the agent would take it, for tests of the files the project ships. */
public final class AgentAcceptance {
  private AgentAcceptance() {}

  /**
   * What the agent checks before it starts: the file, then each instance against its gadget
   * (parameters, metrics, logs, redaction), without loading anything into the kernel.
   *
   * @throws ConfigException or AssertionError naming what the agent would refuse
   */
  public static AgentConfig check(String configYaml, String file, Map<String, String> environment) {
    AgentConfig config = ConfigLoader.parse(configYaml, file, environment);
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    for (InstanceConfig ic : config.gadgets()) {
      Gadget g =
          catalog
              .find(ic.gadget())
              .orElseThrow(() -> new AssertionError("no gadget " + ic.gadget()));
      EventSchema schema = EventSchema.of(g);
      Redaction redaction = Redaction.compile(schema, config.redact(), ic.redact());
      EventMetrics.compile(ic, g.name(), schema, g.spec().eventName(), config.metrics(), () -> 0L);
      if (ic.logs().enabled()) {
        LogOutput.compile(
            ic.logs(),
            ic.name(),
            g.name(),
            schema,
            g.spec().eventName(),
            LoggerProvider.noop().get("none"));
      }
      new GadgetInstance(
              ic,
              g,
              EventSink.NONE,
              BootClock.system(),
              new ContainerCollection(0, System::nanoTime),
              redaction)
          .close();
    }
    return config;
  }
}
