package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How the agent learns which containers run on its node ({@code containers:}).
 *
 * @param enabled off: no discovery, no enrichment, and selectors are refused
 * @param runtimeHook watch runc/crun with fanotify so containers are known before they run
 * @param runtimePaths runtime binaries to watch besides the well-known install paths
 * @param runtimeStateDirs runc/crun {@code --root} directories to read besides the well-known ones
 * @param hostRoot where the host's filesystem is seen (a DaemonSet mounts it at {@code /host});
 *     runtime binaries, bundles, pid files and state dirs are host paths under it
 * @param reconcileInterval how often /proc is rescanned for containers the hook missed, and
 *     containers whose processes are gone are removed
 * @param exitedGracePeriod how long an exited container still enriches late events
 * @param hookTimeout the longest a runtime exec is held while the container is inspected
 */
public record ContainersConfig(
    boolean enabled,
    boolean runtimeHook,
    List<Path> runtimePaths,
    List<Path> runtimeStateDirs,
    Path hostRoot,
    Duration reconcileInterval,
    Duration exitedGracePeriod,
    Duration hookTimeout) {

  public static final Duration DEFAULT_RECONCILE_INTERVAL = Duration.ofSeconds(2);
  public static final Duration DEFAULT_EXITED_GRACE_PERIOD = Duration.ofSeconds(10);
  public static final Duration DEFAULT_HOOK_TIMEOUT = Duration.ofSeconds(2);
  static final Duration MIN_INTERVAL = Duration.ofMillis(100);
  static final Duration MAX_INTERVAL = Duration.ofMinutes(10);
  static final Duration MAX_HOOK_TIMEOUT = Duration.ofSeconds(30);

  public static final ContainersConfig DEFAULT =
      new ContainersConfig(
          true,
          true,
          List.of(),
          List.of(),
          Path.of("/"),
          DEFAULT_RECONCILE_INTERVAL,
          DEFAULT_EXITED_GRACE_PERIOD,
          DEFAULT_HOOK_TIMEOUT);

  public ContainersConfig {
    runtimePaths = List.copyOf(runtimePaths);
    runtimeStateDirs = List.copyOf(runtimeStateDirs);
    requireNonNull(hostRoot, "hostRoot");
    Optional<String> problem =
        intervalProblem(requireNonNull(reconcileInterval, "reconcileInterval"))
            .or(() -> gracePeriodProblem(requireNonNull(exitedGracePeriod, "exitedGracePeriod")))
            .or(() -> hookTimeoutProblem(requireNonNull(hookTimeout, "hookTimeout")));
    if (problem.isPresent()) {
      throw new IllegalArgumentException(problem.get());
    }
  }

  static Optional<String> intervalProblem(Duration d) {
    return d.compareTo(MIN_INTERVAL) < 0 || d.compareTo(MAX_INTERVAL) > 0
        ? Optional.of(
            "must be from "
                + Units.formatDuration(MIN_INTERVAL)
                + " to "
                + Units.formatDuration(MAX_INTERVAL))
        : Optional.empty();
  }

  static Optional<String> gracePeriodProblem(Duration d) {
    return d.isNegative() || d.compareTo(MAX_INTERVAL) > 0
        ? Optional.of("must be from 0s to " + Units.formatDuration(MAX_INTERVAL))
        : Optional.empty();
  }

  static Optional<String> hookTimeoutProblem(Duration d) {
    return d.compareTo(MIN_INTERVAL) < 0 || d.compareTo(MAX_HOOK_TIMEOUT) > 0
        ? Optional.of(
            "must be from "
                + Units.formatDuration(MIN_INTERVAL)
                + " to "
                + Units.formatDuration(MAX_HOOK_TIMEOUT)
                + ": the runtime waits for the agent that long at most")
        : Optional.empty();
  }

  /** A host path as the agent sees it. */
  public Path onHost(Path hostPath) {
    if (hostRoot.equals(Path.of("/"))) {
      return hostPath;
    }
    return hostRoot.resolve(Path.of("/").relativize(hostPath.toAbsolutePath()));
  }
}
