package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A runc or crun command line, as seen in an exec event or {@code /proc/<pid>/cmdline}: which
 * container it acts on, and where that container's bundle and state are.
 *
 * <p>The shape is {@code runtime [global flags] command [command flags] [container-id] [args]}.
 * containerd's shim, for example, runs:
 *
 * <pre>
 * runc --root /run/containerd/runc/k8s.io --log $TASK/log.json --log-format json
 *      create --bundle $TASK --pid-file $TASK/init.pid ID
 *
 * where TASK=/run/containerd/io.containerd.runtime.v2.task/k8s.io/ID
 * </pre>
 *
 * <p>Flags are read as runc (Go) and crun (argp) accept them: {@code --flag value}, {@code
 * --flag=value}, and for runc also the single-dash long form ({@code -root /x}). A flag that is
 * not known to take a value is taken as a boolean, so an unknown value flag would make its value
 * look like the container id; the value flags of every runc and crun command are listed to avoid
 * that. Not handled: argp's attached short values ({@code -b/path}) and clustered short flags.
 * An executable that is neither runc nor crun (youki, runsc, a wrapper) is parsed the runc way.
 *
 * @param runtime the executable's file name ({@code runc}, {@code crun})
 * @param command the subcommand ({@code create}, {@code delete}, …; {@code init} for the runtime
 *     re-executing itself inside a new container)
 * @param containerId the first argument after the command's flags
 * @param bundle {@code -b}/{@code --bundle} as written: may be relative ({@code .}) to the
 *     process's working directory; when absent the runtime uses that directory
 * @param pidFile {@code --pid-file} as written
 * @param root the global {@code --root}, the runtime's state directory; when absent the runtime's
 *     default ({@link RuntimeState#KNOWN_ROOTS})
 * @param force {@code delete -f}/{@code --force}
 */
public record RuntimeCommand(
    String runtime,
    String command,
    Optional<String> containerId,
    Optional<String> bundle,
    Optional<String> pidFile,
    Optional<String> root,
    boolean force) {

  /** Global flags that take a value (runc and crun). Every other global flag is a boolean. */
  private static final Set<String> GLOBAL_VALUE_FLAGS =
      Set.of(
          "--root",
          "--log",
          "--log-format",
          "--log-level",
          "--criu",
          "--rootless",
          "--cgroup-manager");

  /** Flags of create, run, exec and restore that take a value. */
  private static final Set<String> CREATE_VALUE_FLAGS =
      Set.of(
          "--bundle",
          "-b",
          "--console-socket",
          "--pid-file",
          "--preserve-fds",
          "--notify-socket",
          "--process",
          "-p",
          "--cwd",
          "--env",
          "-e",
          "--user",
          "-u",
          "--additional-gids",
          "-g",
          "--cap",
          "-c",
          "--apparmor",
          "--process-label",
          "--image-path",
          "--work-path",
          "--parent-path",
          "--manage-cgroups-mode",
          "--empty-ns",
          "--lsm-mount-context",
          "--lsm-profile",
          // runc exec --cgroup; crun create/run --config (-f)
          "--cgroup",
          "--config",
          "-f",
          "--page-server",
          "--status-fd");

  /** Value flags of the other commands. */
  private static final Map<String, Set<String>> OTHER_VALUE_FLAGS =
      Map.of(
          "checkpoint",
          Set.of(
              "--image-path",
              "--work-path",
              "--parent-path",
              "--page-server",
              "--manage-cgroups-mode",
              "--empty-ns",
              "--status-fd"),
          "update",
          Set.of(
              "--resources",
              "-r",
              "--blkio-weight",
              "--cpu-period",
              "--cpu-quota",
              "--cpu-share",
              "--cpu-rt-period",
              "--cpu-rt-runtime",
              "--cpuset-cpus",
              "--cpuset-mems",
              "--cpu-idle",
              "--kernel-memory",
              "--kernel-memory-tcp",
              "--memory",
              "--memory-reservation",
              "--memory-swap",
              "--pids-limit",
              "--l3-cache-schema",
              "--mem-bw-schema"),
          "ps", Set.of("--format", "-f"),
          "list", Set.of("--format", "-f"),
          "events", Set.of("--interval"),
          "spec", Set.of("--bundle", "-b"),
          // crun delete --regex
          "delete", Set.of("--regex", "-r"));

  private static final Set<String> CREATE_LIKE = Set.of("create", "run", "exec", "restore");

  public RuntimeCommand {
    requireNonNull(runtime, "runtime");
    requireNonNull(command, "command");
    requireNonNull(containerId, "containerId");
    requireNonNull(bundle, "bundle");
    requireNonNull(pidFile, "pidFile");
    requireNonNull(root, "root");
  }

  /**
   * Parses a runtime's argument vector ({@code argv[0]} is the executable, possibly a path).
   *
   * @return empty when there is no command ({@code runc}, {@code runc --version}, an empty argv)
   */
  public static Optional<RuntimeCommand> parse(List<String> argv) {
    requireNonNull(argv, "argv");
    if (argv.isEmpty()) {
      return Optional.empty();
    }
    String runtime = basename(argv.get(0));
    Optional<String> root = Optional.empty();
    int i = 1;
    String command = null;
    while (i < argv.size()) {
      String arg = argv.get(i++);
      if (arg.equals("--")) {
        break;
      }
      Flag flag = Flag.of(arg, GLOBAL_VALUE_FLAGS);
      if (flag == null) {
        command = arg;
        break;
      }
      String value = flag.value;
      if (flag.takesValue && value == null && i < argv.size()) {
        value = argv.get(i++);
      }
      if (flag.name.equals("--root") && value != null) {
        root = Optional.of(value);
      }
    }
    if (command == null && i < argv.size()) {
      command = argv.get(i++); // after "--"
    }
    if (command == null || command.isEmpty()) {
      return Optional.empty();
    }

    Set<String> valueFlags =
        CREATE_LIKE.contains(command)
            ? CREATE_VALUE_FLAGS
            : OTHER_VALUE_FLAGS.getOrDefault(command, Set.of());
    Optional<String> containerId = Optional.empty();
    Optional<String> bundle = Optional.empty();
    Optional<String> pidFile = Optional.empty();
    boolean force = false;
    while (i < argv.size()) {
      String arg = argv.get(i++);
      if (arg.equals("--")) {
        if (i < argv.size()) {
          containerId = Optional.of(argv.get(i));
        }
        break;
      }
      Flag flag = Flag.of(arg, valueFlags);
      if (flag == null) {
        containerId = Optional.of(arg);
        break;
      }
      String value = flag.value;
      if (flag.takesValue && value == null && i < argv.size()) {
        value = argv.get(i++);
      }
      if (value == null && flag.takesValue) {
        continue; // a value flag at the very end: its value is missing
      }
      switch (flag.name) {
        case "--bundle", "-b" -> {
          if (CREATE_LIKE.contains(command)) { // spec -b is where to write a new config.json
            bundle = Optional.of(value);
          }
        }
        case "--pid-file" -> pidFile = Optional.of(value);
        case "--force", "-f" -> {
          if (command.equals("delete")) {
            force = value == null || !value.equalsIgnoreCase("false");
          }
        }
        default -> {}
      }
    }
    return Optional.of(
        new RuntimeCommand(runtime, command, containerId, bundle, pidFile, root, force));
  }

  private static String basename(String path) {
    String trimmed = path;
    while (trimmed.length() > 1 && trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    int slash = trimmed.lastIndexOf('/');
    return slash >= 0 && slash < trimmed.length() - 1 ? trimmed.substring(slash + 1) : trimmed;
  }

  /** One flag: its canonical name, whether it takes a value, and the value given with '='. */
  private record Flag(String name, boolean takesValue, String value) {

    /**
     * @return null when {@code arg} is not a flag (a positional argument; "-" alone is one)
     */
    static Flag of(String arg, Set<String> valueFlags) {
      if (arg.length() < 2 || arg.charAt(0) != '-') {
        return null;
      }
      String name = arg;
      String value = null;
      int equals = arg.indexOf('=');
      if (equals > 0) {
        name = arg.substring(0, equals);
        value = arg.substring(equals + 1);
      }
      if (!name.startsWith("--") && name.length() > 2 && valueFlagOrKnownLong(name, valueFlags)) {
        name = "-" + name; // Go's flag package: -root is --root
      }
      return new Flag(name, valueFlags.contains(name), value);
    }

    private static boolean valueFlagOrKnownLong(String singleDash, Set<String> valueFlags) {
      String asLong = "-" + singleDash;
      return valueFlags.contains(asLong) || asLong.equals("--force");
    }
  }
}
