package io.gadgetexporter.cli;

import io.gadgetexporter.agent.Agent;
import io.gadgetexporter.agent.AgentStartException;
import io.gadgetexporter.agent.ConfigReloader;
import io.gadgetexporter.columns.ColumnsSink;
import io.gadgetexporter.columns.JsonSink;
import io.gadgetexporter.config.AgentConfig;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.logging.Logger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import sun.misc.Signal;

/** {@code gadget-exporter run}: runs the agent until SIGINT or SIGTERM. */
@Command(
    name = "run",
    mixinStandardHelpOptions = true,
    description = "Runs the agent: loads the configured gadgets and serves /metrics.")
final class RunCommand implements Callable<Integer> {
  private static final Logger logger = Logger.getLogger(RunCommand.class.getName());

  /** What to print per event. */
  enum Output {
    columns,
    json,
    none
  }

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description = "Configuration file (YAML). Default: the embedded default configuration.")
  Path config;

  @Option(
      names = "--output",
      paramLabel = "FORMAT",
      description =
          "Per-event output on standard output: ${COMPLETION-CANDIDATES}. Default: columns when"
              + " standard output is a terminal, otherwise none.")
  Output output;

  @Override
  public Integer call() {
    AgentConfig agentConfig;
    Agent agent;
    // Before loading: an edit made while the agent starts is then seen as a change.
    byte[] loadedDigest = config == null ? null : ConfigReloader.digest(config);
    try {
      agentConfig = config == null ? ConfigLoader.loadDefault() : ConfigLoader.load(config);
      agent = Agent.start(agentConfig, GadgetCatalog.builtIn(), sink());
    } catch (ConfigException e) {
      System.err.println("gadget-exporter: invalid configuration:\n" + e.getMessage());
      return Main.EXIT_CONFIG;
    } catch (AgentStartException
        | IllegalStateException
        | GadgetException
        // the JNI library could not be loaded (e.g. a noexec extraction directory): its message
        // says what to do
        | UnsatisfiedLinkError e) {
      System.err.println("gadget-exporter: cannot start: " + e.getMessage());
      return Main.EXIT_HOST;
    }
    ConfigReloader reloader = reloadOnChange(agent, loadedDigest);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  // Not through java.util.logging: its own shutdown hook may have closed it.
                  System.err.println("gadget-exporter: stopping: detaching every gadget");
                  if (reloader != null) {
                    reloader.close();
                  }
                  agent.close();
                  System.err.println("gadget-exporter: stopped");
                  stopped.countDown();
                },
                "shutdown"));
    logger.info(
        "ready: "
            + agent.instances().size()
            + " gadget instance(s) attached; metrics at "
            + (agentConfig.http().tls().isPresent() ? "https" : "http")
            + "://"
            + agentConfig.http().host()
            + ":"
            + agent.httpPort()
            + "/metrics");
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * Applies the config file again when it changes, and on SIGHUP. The JVM's own SIGHUP handler
   * would stop the agent; with the embedded default there is nothing to reload, and SIGHUP says so.
   *
   * @return null when running the embedded default
   */
  private ConfigReloader reloadOnChange(Agent agent, byte[] loadedDigest) {
    ConfigReloader reloader = null;
    if (config != null) {
      reloader =
          new ConfigReloader(config, loadedDigest, agent, ConfigLoader::load).registerMetrics(agent.meter());
      agent.readinessDetail("config", reloader::status);
      try {
        reloader.watch();
      } catch (IOException e) {
        logger.warning(
            "cannot watch "
                + config
                + " for changes ("
                + e.getMessage()
                + "); send SIGHUP to reload it");
      }
    }
    ConfigReloader onSignal = reloader;
    Signal.handle(
        new Signal("HUP"),
        signal -> {
          if (onSignal == null) {
            logger.info("SIGHUP: running the embedded default configuration; nothing to reload");
          } else {
            onSignal.reloadLater(ConfigReloader.Trigger.SIGHUP);
          }
        });
    return reloader;
  }

  /**
   * Whether standard output is a terminal. {@code System.console()} on JDK 17 also wants standard
   * input to be one, so `agent < /dev/null` at a terminal would print nothing; the file descriptor
   * itself says it.
   */
  static boolean stdoutIsTerminal() {
    try {
      String target = Files.readSymbolicLink(Path.of("/proc/self/fd/1")).toString();
      return target.startsWith("/dev/pts/") || target.startsWith("/dev/tty") || target.equals("/dev/console");
    } catch (IOException | UnsupportedOperationException e) {
      return System.console() != null;
    }
  }

  private EventSink sink() {
    PrintStream out = System.out;
    Output chosen = output != null ? output : stdoutIsTerminal() ? Output.columns : Output.none;
    return switch (chosen) {
      case columns -> new ColumnsSink(out);
      case json -> new JsonSink(out);
      case none -> EventSink.NONE;
    };
  }
}
