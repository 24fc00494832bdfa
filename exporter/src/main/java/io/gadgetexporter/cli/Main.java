package io.gadgetexporter.cli;

import io.gadgetexporter.agent.Agent;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code gadget-exporter}: the command line. Without a subcommand it runs the agent. */
@Command(
    name = "gadget-exporter",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Runs eBPF gadgets and exports what they see.",
    subcommands = {RunCommand.class, GadgetsCommand.class})
public final class Main implements java.util.concurrent.Callable<Integer> {
  /** Exit code of a configuration or usage error. */
  static final int EXIT_CONFIG = 2;

  /** Exit code when the host or kernel cannot run the gadgets. */
  static final int EXIT_HOST = 1;

  public static void main(String[] args) {
    Logging.configure();
    int code =
        new CommandLine(new Main())
            // A usage mistake is a configuration error; anything else unexpected is not.
            .setExitCodeExceptionMapper(
                e -> e instanceof CommandLine.ParameterException ? EXIT_CONFIG : EXIT_HOST)
            .execute(args);
    System.exit(code);
  }

  @Override
  public Integer call() {
    // `java -jar gadget-exporter.jar` alone runs the agent on its default configuration.
    return new RunCommand().call();
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"gadget-exporter " + Agent.version()};
    }
  }
}
