package io.gadgetexporter.container;

import io.gadgetexporter.concurrent.DaemonThreads;
import io.gadgetexporter.config.ContainersConfig;
import io.gadgetexporter.linux.BlockedExec;
import io.gadgetexporter.linux.Fanotify;
import io.gadgetexporter.linux.SystemCallException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Sees containers start before their first instruction runs, by pausing the OCI runtime.
 *
 * <p>fanotify exec-permission marks on the runtime binaries (runc, crun) make the kernel hold each
 * {@code execve} of them until the agent answers. While it is held the agent reads the new
 * command line out of the blocked task ({@link BlockedExec}):
 *
 * <ul>
 *   <li>{@code create}: the container's process is being set up; it will wait for {@code start}.
 *       Its bundle and pid file are remembered and the exec is allowed at once.
 *   <li>{@code start}: the container is created and waiting; its process runs the user's program
 *       once this exec goes on. The agent reads the pid (pid file, or the runtime's state), the
 *       namespaces and the bundle's {@code config.json}, adds the container — which writes every
 *       instance's filter map — and only then allows the exec. So no instruction of the container
 *       runs unseen.
 *   <li>{@code run} (create and start in one, used by hand): the exec is allowed at once and the
 *       container is added as soon as the runtime has written its state; its very first
 *       instructions may run before that.
 *   <li>{@code delete}: the container is gone; it is removed (and resolves for the grace period).
 * </ul>
 *
 * <p>Nothing holds the runtime for long: the work on a held exec runs against {@code hook_timeout}
 * and the exec is allowed when it passes. If the agent dies, the kernel allows every held exec as
 * the fanotify descriptor closes.
 */
final class RuntimeHook implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(RuntimeHook.class.getName());

  /**
   * Host paths where distributions and Kubernetes installers put runc and crun. Symlinks to one
   * binary are marked once (marks are on inodes).
   */
  static final List<Path> WELL_KNOWN_RUNTIME_PATHS =
      List.of(
          Path.of("/usr/bin/runc"),
          Path.of("/usr/sbin/runc"),
          Path.of("/usr/local/bin/runc"),
          Path.of("/usr/local/sbin/runc"),
          Path.of("/bin/runc"),
          Path.of("/sbin/runc"),
          Path.of("/usr/bin/crun"),
          Path.of("/usr/local/bin/crun"),
          Path.of("/usr/libexec/crio/runc"),
          Path.of("/usr/libexec/crio/crun"),
          Path.of("/usr/lib/cri-o-runc/sbin/runc"),
          Path.of("/run/torcx/unpack/docker/bin/runc"),
          Path.of("/var/lib/rancher/k3s/data/current/bin/runc"),
          Path.of("/var/lib/rancher/rke2/bin/runc"),
          Path.of("/var/lib/k0s/bin/runc"),
          Path.of("/home/kubernetes/bin/runc"),
          Path.of("/snap/microk8s/current/bin/runc"));

  /** Creates not yet started; a bound, since a create may fail and never be started. */
  private static final int PENDING_MAX = 4096;

  private static final long PENDING_TTL_NANOS = TimeUnit.MINUTES.toNanos(5);
  private static final long RUN_POLL_MILLIS = 5;

  /** A create seen, waiting for its start. */
  private record Pending(RuntimeCommand command, Optional<Path> cwd, long seenAt) {}

  private final ContainersConfig config;
  private final ContainerInspector inspector;
  private final ContainerCollection collection;
  private final DiscoveryProblems problems;
  private final Runnable onAdded;
  private final Map<String, Pending> pending = new LinkedHashMap<>(); // hook thread only
  private final ExecutorService worker =
      Executors.newSingleThreadExecutor(
          DaemonThreads.named("container-hook-worker"));
  private Fanotify fanotify;
  private Thread thread;
  private volatile boolean stopping;

  /**
   * @param onAdded told after each container the hook adds (counts discoveries)
   */
  RuntimeHook(
      ContainersConfig config,
      ContainerInspector inspector,
      ContainerCollection collection,
      DiscoveryProblems problems,
      Runnable onAdded) {
    this.config = config;
    this.inspector = inspector;
    this.collection = collection;
    this.problems = problems;
    this.onAdded = onAdded;
  }

  /**
   * Marks every runtime binary present and starts answering.
   *
   * @return false when no mark could be placed (logged, with the reason and what it costs)
   */
  boolean start() {
    if (!kernelReadsBlockedExecSafely(System.getProperty("os.version", ""))) {
      logger.warning(
          "runtime hook off: on kernels before 5.7 reading a held exec's arguments waits for the"
              + " exec itself (cred_guard_mutex), which would deadlock the runtime; containers are"
              + " found by the /proc scan every "
              + config.reconcileInterval().toMillis()
              + " ms instead");
      return false;
    }
    List<Path> binaries = runtimeBinaries();
    if (binaries.isEmpty()) {
      logger.info(
          "runtime hook: no runc or crun binary found (looked in the well-known paths and"
              + " containers.runtime_paths); containers are found by the /proc scan every "
              + config.reconcileInterval().toMillis()
              + " ms instead");
      return false;
    }
    try {
      fanotify = Fanotify.forExecPermission();
    } catch (SystemCallException | UnsatisfiedLinkError e) {
      logger.warning(
          "runtime hook off: cannot create the fanotify group ("
              + e.getMessage()
              + "; it needs CAP_SYS_ADMIN and a kernel with FAN_OPEN_EXEC_PERM, 5.0+);"
              + " containers are found by the /proc scan every "
              + config.reconcileInterval().toMillis()
              + " ms instead, so the first events of a short-lived container may be missed");
      return false;
    }
    List<Path> ok = new ArrayList<>();
    for (Path binary : binaries) {
      try {
        fanotify.markExecutable(binary);
        ok.add(binary);
      } catch (SystemCallException e) {
        logger.warning(
            "runtime hook: cannot watch " + binary + ": " + e.getMessage() + "; skipping it");
      }
    }
    if (ok.isEmpty()) {
      fanotify.close();
      fanotify = null;
      logger.warning(
          "runtime hook off: no runtime binary could be marked; containers are found by the"
              + " /proc scan instead");
      return false;
    }
    logger.info("runtime hook: watching " + ok);
    thread = new Thread(this::loop, "container-hook");
    thread.setDaemon(true);
    thread.start();
    return true;
  }

  /** 5.7 moved /proc/PID/{syscall,mem} off the lock a held exec holds. */
  static boolean kernelReadsBlockedExecSafely(String release) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
    if (!m.find()) {
      return false;
    }
    int major = Integer.parseInt(m.group(1));
    int minor = Integer.parseInt(m.group(2));
    return major > 5 || (major == 5 && minor >= 7);
  }

  /** Existing runtime binaries, one path per distinct file. */
  List<Path> runtimeBinaries() {
    Set<Path> candidates = new LinkedHashSet<>();
    WELL_KNOWN_RUNTIME_PATHS.forEach(p -> candidates.add(config.onHost(p)));
    config.runtimePaths().forEach(p -> candidates.add(config.onHost(p)));
    Set<Object> seen = new java.util.HashSet<>();
    List<Path> binaries = new ArrayList<>();
    for (Path p : candidates) {
      if (!Files.isRegularFile(p)) {
        continue;
      }
      try {
        Object key = Files.readAttributes(p, "unix:dev,ino").values().toString();
        if (seen.add(key)) {
          binaries.add(p);
        }
      } catch (IOException | RuntimeException e) {
        binaries.add(p);
      }
    }
    return binaries;
  }

  private void loop() {
    List<Fanotify.ExecRequest> requests = new ArrayList<>();
    while (!stopping) {
      requests.clear();
      try {
        fanotify.poll(500, requests);
      } catch (RuntimeException e) {
        if (!stopping) {
          logger.log(Level.WARNING, "runtime hook: reading fanotify events failed", e);
          sleep(100);
        }
        continue;
      }
      for (Fanotify.ExecRequest r : requests) {
        try {
          handle(r);
        } catch (RuntimeException e) {
          logger.log(Level.WARNING, "runtime hook: handling pid " + r.pid() + " failed", e);
        } finally {
          fanotify.respond(r, true); // no-op when already answered; the runtime always goes on
        }
      }
      expirePending();
    }
  }

  private void handle(Fanotify.ExecRequest request) {
    int pid = request.pid();
    Optional<RuntimeCommand> parsed =
        BlockedExec.arguments(pid).flatMap(RuntimeCommand::parse);
    if (parsed.isEmpty() || parsed.get().containerId().isEmpty()) {
      return;
    }
    RuntimeCommand command = parsed.get();
    String key = stateRoot(command) + "/" + command.containerId().get();
    switch (command.command()) {
      case "create" -> {
        if (pending.size() >= PENDING_MAX) {
          pending.remove(pending.keySet().iterator().next());
        }
        pending.put(key, new Pending(command, BlockedExec.workingDirectory(pid), System.nanoTime()));
      }
      case "start" -> {
        Pending p = pending.remove(key);
        Future<?> work = worker.submit(() -> addStarted(command, p));
        awaitHeld(work, command);
      }
      case "run" -> {
        Optional<Path> cwd = BlockedExec.workingDirectory(pid);
        fanotify.respond(request, true);
        worker.submit(() -> addRunning(command, cwd));
      }
      case "delete" -> {
        fanotify.respond(request, true);
        collection.remove(command.containerId().get());
      }
      default -> {
        // init, state, kill, exec, ...: nothing changes in the collection
      }
    }
  }

  /** Waits for the work done while the runtime is held, at most hook_timeout. */
  private void awaitHeld(Future<?> work, RuntimeCommand command) {
    try {
      work.get(config.hookTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      problems.report(
          "hook_timeout",
          "runtime hook: inspecting container "
              + command.containerId().orElse("?")
              + " took longer than containers.hook_timeout ("
              + config.hookTimeout().toMillis()
              + " ms); let the runtime go on, the container is added when inspection ends");
    } catch (ExecutionException e) {
      logger.log(Level.WARNING, "runtime hook: inspecting a container failed", e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@code start}: the container exists and waits; its pid is in the pid file or the state. */
  private void addStarted(RuntimeCommand start, Pending create) {
    String id = start.containerId().get();
    Optional<RuntimeState> state = readState(start, id);
    OptionalInt pid = OptionalInt.empty();
    Optional<Path> bundle = Optional.empty();
    if (create != null) {
      Optional<Path> cwd = create.cwd();
      bundle = Optional.of(resolve(create.command().bundle().orElse("."), cwd));
      Optional<String> pidFile = create.command().pidFile();
      if (pidFile.isPresent()) {
        Path file = resolve(pidFile.get(), cwd);
        try {
          pid = PidFile.read(file);
        } catch (ContainerMetadataException e) {
          problems.report(e.reason().label(), e.getMessage());
        }
        if (pid.isEmpty()) {
          problems.report(
              "missing_pid_file",
              "runtime hook: container "
                  + id
                  + ": pid file "
                  + file
                  + " is missing"
                  + (state.isPresent() ? "; took the pid from the runtime's state" : ""));
        }
      }
    }
    if (pid.isEmpty() && state.isPresent()) {
      pid = OptionalInt.of(state.get().pid());
    }
    if (bundle.isEmpty() && state.isPresent()) {
      bundle = state.get().bundle().map(config::onHost);
    }
    if (pid.isEmpty()) {
      problems.report(
          "unknown_container_pid",
          "runtime hook: container "
              + id
              + " is starting but neither a pid file nor the runtime's state gives its pid;"
              + " the /proc scan will find it");
      return;
    }
    add(id, start.runtime(), pid.getAsInt(), bundle);
  }

  /** {@code run}: poll the runtime's state until the container's process exists. */
  private void addRunning(RuntimeCommand run, Optional<Path> cwd) {
    String id = run.containerId().get();
    long deadline = System.nanoTime() + config.hookTimeout().toNanos();
    while (System.nanoTime() < deadline && !stopping) {
      Optional<RuntimeState> state = readState(run, id);
      if (state.isPresent() && state.get().pid() > 0) {
        Optional<Path> bundle =
            Optional.of(resolve(run.bundle().orElse("."), cwd))
                .filter(ContainerInspector::hasConfig)
                .or(() -> state.get().bundle().map(config::onHost));
        add(id, run.runtime(), state.get().pid(), bundle);
        return;
      }
      sleep(RUN_POLL_MILLIS);
    }
  }

  private void add(String id, String runtime, int pid, Optional<Path> bundle) {
    inspector
        .inspect(id, runtime, pid, bundle, Container.Source.RUNTIME_HOOK)
        .ifPresent(
            c -> {
              if (collection.add(c)) {
                onAdded.run();
              }
            });
  }

  private Optional<RuntimeState> readState(RuntimeCommand command, String id) {
    try {
      return RuntimeState.read(config.onHost(Path.of(stateRoot(command))).resolve(id));
    } catch (ContainerMetadataException e) {
      problems.report(e.reason().label(), e.getMessage());
      return Optional.empty();
    }
  }

  /** The runtime's {@code --root}, or its default. */
  private static String stateRoot(RuntimeCommand command) {
    return command.root().orElse(command.runtime().equals("crun") ? "/run/crun" : "/run/runc");
  }

  /** A path from the runtime's command line: relative ones are from its working directory. */
  private Path resolve(String path, Optional<Path> cwd) {
    Path p = Path.of(path);
    if (!p.isAbsolute()) {
      p = cwd.orElse(Path.of("/")).resolve(p).normalize();
    }
    return config.onHost(p);
  }

  private void expirePending() {
    long now = System.nanoTime();
    pending.values().removeIf(p -> now - p.seenAt() > PENDING_TTL_NANOS);
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    stopping = true;
    if (fanotify != null) {
      fanotify.wakeup();
    }
    if (thread != null) {
      try {
        thread.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    worker.shutdownNow();
    if (fanotify != null) {
      fanotify.close(); // allows anything still held
    }
  }
}
