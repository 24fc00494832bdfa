package io.gadgetexporter.container;

import io.gadgetexporter.concurrent.DaemonThreads;
import io.gadgetexporter.config.ContainersConfig;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Collectors;

/**
 * Keeps the {@link ContainerCollection} true: a scan of /proc at start, the runtime hook for
 * containers as they start, and a periodic reconcile that adds what the hook missed (or everything,
 * when the hook is off), removes containers whose process is gone, and forgets those past their
 * grace period.
 */
public final class ContainerDiscovery implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(ContainerDiscovery.class.getName());

  private final ContainersConfig config;
  private final Procfs procfs;
  private final DiscoveryProblems problems = new DiscoveryProblems();
  private final ContainerCollection collection;
  private ContainerScanner scanner; // from start()
  private RuntimeHook hook; // from start()
  private final Map<Container.Source, LongAdder> discovered = new EnumMap<>(Container.Source.class);
  private final ScheduledExecutorService reconciler =
      Executors.newSingleThreadScheduledExecutor(
          DaemonThreads.named("container-reconcile"));
  private boolean hookActive;

  private ContainerDiscovery(ContainersConfig config, Procfs procfs) {
    this.config = config;
    this.procfs = procfs;
    for (Container.Source s : Container.Source.values()) {
      discovered.put(s, new LongAdder());
    }
    this.collection = new ContainerCollection(config.exitedGracePeriod().toNanos(), System::nanoTime);
  }

  /** A discovery that has not looked at anything yet: {@link #start()} does. */
  public static ContainerDiscovery create(ContainersConfig config) {
    return new ContainerDiscovery(config, Procfs.system());
  }

  /**
   * Scans for the containers running now, starts the runtime hook (when configured and possible)
   * and the periodic reconcile.
   *
   * @throws IllegalStateException when not even the agent's own namespaces can be read
   */
  public synchronized void start() {
    // pid 1's namespaces are the host's (the agent itself may run in a container of its own).
    // Where pid 1 cannot be read (a sandbox that hides it), the agent's own are the best guess.
    long hostMntns;
    long hostNetns;
    if (procfs.namespaceId(1, "mnt").isPresent()) {
      hostMntns = procfs.namespaceId(1, "mnt").getAsLong();
      hostNetns = procfs.namespaceId(1, "net").orElse(0);
    } else {
      int self = (int) ProcessHandle.current().pid();
      hostMntns =
          procfs
              .namespaceId(self, "mnt")
              .orElseThrow(() -> new IllegalStateException("cannot read /proc/self/ns/mnt"));
      hostNetns = procfs.namespaceId(self, "net").orElse(0);
      logger.warning(
          "cannot read /proc/1/ns/mnt (the agent needs the host's pid namespace, hostPID, and"
              + " CAP_SYS_PTRACE): taking the agent's own namespaces as the host's");
    }
    collection.setHost(hostMntns, hostNetns);
    ContainerInspector inspector = new ContainerInspector(procfs, problems, hostMntns);
    scanner = new ContainerScanner(config, procfs, inspector, problems, hostMntns);
    hook =
        new RuntimeHook(
            config,
            inspector,
            collection,
            problems,
            () -> discovered.get(Container.Source.RUNTIME_HOOK).increment());
    // The hook first: a container started during the scan is then seen by one or the other.
    hookActive = config.runtimeHook() && hook.start();
    scan(Container.Source.STARTUP_SCAN);
    logger.info(
        "containers: "
            + collection.size()
            + " found at start; runtime hook "
            + (hookActive ? "on" : "off"));
    long interval = config.reconcileInterval().toMillis();
    reconciler.scheduleWithFixedDelay(
        this::reconcileQuietly, interval, interval, TimeUnit.MILLISECONDS);
  }

  public ContainerCollection collection() {
    return collection;
  }

  public DiscoveryProblems problems() {
    return problems;
  }

  /** Whether the runtime hook is watching a runtime binary. */
  public boolean hookActive() {
    return hookActive;
  }

  /** Containers found so far, by how (lower-case source names). */
  public Map<String, Long> discoveredBySource() {
    Map<String, Long> m = new TreeMap<>();
    discovered.forEach((s, n) -> {
      if (s != Container.Source.AGENT) {
        m.put(s.name().toLowerCase(Locale.ROOT), n.sum());
      }
    });
    return m;
  }

  /** One reconcile pass now (tests; the agent runs them on its interval). */
  public synchronized void reconcile() {
    if (scanner == null) {
      return; // not started
    }
    for (Container c : collection.containers()) {
      // Gone when its first process is gone, or its pid now belongs to another namespace.
      if (procfs.namespaceId(c.pid(), "mnt").orElse(0) != c.mntnsId()) {
        collection.remove(c.id());
      }
    }
    scan(Container.Source.RECONCILE);
    collection.expire();
  }

  private synchronized void scan(Container.Source source) {
    // Host-private namespaces are examined again each time: one caught while a runtime was still
    // writing its state would otherwise stay "host" for good.
    Set<Long> known =
        collection.containers().stream().map(Container::mntnsId).collect(Collectors.toSet());
    ContainerScanner.Result result = scanner.scan(source, known::contains);
    for (Container c : result.containers()) {
      if (collection.add(c)) {
        discovered.get(source).increment();
        if (source == Container.Source.RECONCILE && hookActive) {
          logger.info(
              "container " + c.shortId() + " (" + c.name() + ") found by reconcile: the runtime"
                  + " hook did not see it start (a runtime binary not watched?)");
        }
      }
    }
    collection.setHostNamespaces(result.hostNamespaces());
  }

  private void reconcileQuietly() {
    try {
      reconcile();
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "container reconcile failed; retrying next interval", e);
    }
  }

  @Override
  public synchronized void close() {
    reconciler.shutdownNow();
    if (hook != null) {
      hook.close();
    }
  }
}
