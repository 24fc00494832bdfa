package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfLink;
import io.gadgetexporter.bpf.BpfMap;
import io.gadgetexporter.bpf.BpfProgram;
import io.gadgetexporter.bpf.SocketFilterTarget;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerSelector;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Where an instance's socket-filter programs run: one packet socket per network namespace the
 * instance traces, opened inside that namespace, with every socket-filter program attached. The
 * host's namespace gets a socket when the selector includes the host, and each selected
 * container's namespace gets one, followed as containers start, stop and change (a socket is
 * closed when the last selected container in its namespace goes). Containers sharing a namespace
 * (a pod's, or host-network pods and the host) share its socket.
 *
 * <p>A namespace is not a unit of selection: a selector naming one host-network pod makes the
 * host's namespace traced, where every host process sends too. So the object's map {@value
 * #TRACED_NETNS_MAP} ({@code u64 netns inode → u8}, {@code bpf/include/gadget/socket_filter.h})
 * says per namespace whether it is traced and whether it is <em>wholly selected</em>: every
 * process the agent knows there is selected (no container in it is left out, and for the host's
 * namespace the selector includes the host). A program applies the mount-namespace filter to a
 * packet whose process it knows, and keeps one whose process it cannot know only in a wholly
 * selected namespace. This class keeps that bit true as containers come and go.
 *
 * <p>A selected container whose socket cannot be opened (it exited meanwhile, or its process is
 * not in its namespace yet) is retried with backoff ({@link #FIRST_RETRY}, doubling up to {@link
 * #MAX_RETRY}) until it opens, the container goes, or the selector drops it; {@link #status()}
 * shows such containers and counts the failures.
 *
 * <p>Lock order, as {@link SelectorFilter}: the collection's lock, then this one.
 */
final class NetnsSockets implements ContainerCollection.Listener {
  private static final Logger logger = Logger.getLogger(NetnsSockets.class.getName());

  static final String TRACED_NETNS_MAP = "gadget_traced_netns";
  /** Bits of the map's values: socket_filter.h's GADGET_NETNS_TRACED and _ALL_SELECTED. */
  static final byte TRACED = 1;

  static final byte ALL_SELECTED = 2;

  /** A failed socket is tried again after this, then after twice as long each time, at most MAX. */
  static final Duration FIRST_RETRY = Duration.ofSeconds(1);
  static final Duration MAX_RETRY = Duration.ofMinutes(5);

  /** The host's network namespace: init's (the agent runs with the host's pid namespace). */
  private static final Path INIT_NETNS = Path.of("/proc/1/ns/net");

  /** The owner key of the host's socket; container ids are never empty. */
  private static final String HOST = "";

  /** Retries of every instance's failed sockets: rare, short (a socket open each). */
  private static final ScheduledThreadPoolExecutor RETRIES = retryExecutor();

  /** A namespace's socket, and the containers (or the host) it is open for. */
  private static final class Socket {
    final SocketFilterTarget target;
    final List<BpfLink> links;
    final Set<String> owners = new HashSet<>();
    byte flags; // as written to the map

    Socket(SocketFilterTarget target, List<BpfLink> links, byte flags) {
      this.target = target;
      this.links = links;
      this.flags = flags;
    }
  }

  /** A selected container without a socket: the last failure and when to try again. */
  private record Failure(
      Container container, int attempts, String error, long nextAttemptNanos) {}

  private final String instanceName;
  private final List<BpfProgram> programs;
  private final BpfMap tracedMap;
  private final ContainerCollection collection;
  private volatile ContainerSelector selector;
  private final Map<Long, Socket> sockets = new HashMap<>(); // by netns inode; guarded by this
  private final Map<String, Long> netnsOf = new HashMap<>(); // owner -> inode; guarded by this
  private final Map<String, Failure> failures = new LinkedHashMap<>(); // guarded by this
  private long openFailures; // guarded by this
  private long hostNetns; // inode; guarded by this
  private ScheduledFuture<?> retry; // guarded by this
  private boolean closed; // guarded by this

  /**
   * @param tracedMap the object's {@value #TRACED_NETNS_MAP}, or null
   * @param collection the node's containers; null when discovery is off (the host only)
   */
  NetnsSockets(
      String instanceName,
      List<BpfProgram> programs,
      BpfMap tracedMap,
      ContainerCollection collection,
      ContainerSelector selector) {
    this.instanceName = instanceName;
    this.programs = List.copyOf(programs);
    this.tracedMap = tracedMap;
    this.collection = collection;
    this.selector = selector;
  }

  /**
   * Opens the sockets the selector asks for now, then follows the collection.
   *
   * @throws BpfException when the host's socket cannot be opened (no privilege): the instance
   *     cannot run. A container's socket that cannot be opened is retried.
   */
  void start() {
    long host = inodeOf(hostNetns());
    if (collection == null) {
      synchronized (this) {
        hostNetns = host;
        if (selector.includesHost()) {
          openHost(List.of());
        }
      }
      return;
    }
    collection.withContainers(
        running -> {
          synchronized (this) {
            hostNetns = host;
            if (selector.includesHost()) {
              openHost(running);
            }
            collection.subscribe(this);
            apply(running);
          }
        });
  }

  /** Applies a new selector: sockets opened and closed, and the map's bits rewritten, at once. */
  void reselect(ContainerSelector next) {
    if (collection == null) {
      selector = next;
      return;
    }
    collection.withContainers(
        running -> {
          synchronized (this) {
            selector = next;
            if (next.includesHost()) {
              openHost(running);
            } else {
              release(HOST);
            }
            apply(running);
          }
        });
  }

  /** Closes every socket and stops retrying; idempotent. */
  void close() {
    if (collection != null) {
      collection.unsubscribe(this);
    }
    synchronized (this) {
      closed = true;
      if (retry != null) {
        retry.cancel(false);
        retry = null;
      }
      for (Socket s : sockets.values()) {
        closeSocket(s);
      }
      sockets.clear();
      netnsOf.clear();
      failures.clear();
    }
  }

  /** The inodes of the namespaces with a socket now. */
  synchronized Set<Long> namespaces() {
    return new TreeSet<>(sockets.keySet());
  }

  /** The sockets, the containers whose socket failed to open, and how many opens failed. */
  synchronized SocketFilters status() {
    List<SocketFilters.Namespace> open = new ArrayList<>();
    new TreeMap<>(sockets)
        .forEach(
            (inode, s) ->
                open.add(new SocketFilters.Namespace(inode, (s.flags & ALL_SELECTED) != 0)));
    List<SocketFilters.Unopened> unopened = new ArrayList<>();
    long now = System.nanoTime();
    for (Failure f : failures.values()) {
      unopened.add(
          new SocketFilters.Unopened(
              f.container().id(),
              f.container().netnsId(),
              f.attempts(),
              f.error(),
              Duration.ofNanos(Math.max(0, f.nextAttemptNanos() - now))));
    }
    return new SocketFilters(open, unopened, openFailures);
  }

  // Listener calls come under the collection's lock, so containers() is consistent with them.

  @Override
  public synchronized void added(Container container) {
    List<Container> running = collection.containers();
    if (selector.matches(container)) {
      openFor(container, running);
    }
    refreshFlags(running); // an unselected container may have joined a traced namespace
  }

  @Override
  public synchronized void removed(Container container) {
    release(container.id());
    refreshFlags(collection.containers());
  }

  @Override
  public synchronized void changed(Container before, Container after) {
    List<Container> running = collection.containers();
    if (before.netnsId() != after.netnsId() || before.pid() != after.pid()) {
      release(before.id());
    }
    if (selector.matches(after)) {
      openFor(after, running);
    } else {
      release(after.id());
    }
    refreshFlags(running);
  }

  private void apply(List<Container> running) {
    Set<String> wanted = new HashSet<>();
    for (Container c : running) {
      if (selector.matches(c)) {
        wanted.add(c.id());
      }
    }
    for (String owner : List.copyOf(netnsOf.keySet())) {
      if (!owner.equals(HOST) && !wanted.contains(owner)) {
        release(owner);
      }
    }
    failures.keySet().retainAll(wanted);
    for (Container c : running) {
      if (wanted.contains(c.id())) {
        openFor(c, running);
      }
    }
    refreshFlags(running);
    scheduleRetry();
  }

  private void openHost(List<Container> running) {
    if (!netnsOf.containsKey(HOST)) {
      open(HOST, hostNetns(), 0, running); // no container to check against: failing here is fatal
    }
  }

  /** A container's socket; never throws (called while the collection notifies). */
  private void openFor(Container c, List<Container> running) {
    if (netnsOf.containsKey(c.id())) {
      return;
    }
    try {
      open(c.id(), Path.of("/proc", Integer.toString(c.pid()), "ns", "net"), c.netnsId(), running);
    } catch (RuntimeException e) {
      failed(c, e);
      return;
    }
    Failure before = failures.remove(c.id());
    if (before != null) {
      logger.info(
          "instance '" + instanceName + "': socket opened in the network namespace of container "
              + c.id() + " after " + before.attempts() + " failed attempt(s)");
      scheduleRetry();
    }
  }

  private void failed(Container c, RuntimeException e) {
    openFailures++;
    Failure before = failures.get(c.id());
    int attempts = before == null ? 1 : before.attempts() + 1;
    long delay = retryDelay(attempts).toNanos();
    failures.put(c.id(), new Failure(c, attempts, e.getMessage(), System.nanoTime() + delay));
    logger.log(
        before == null ? Level.WARNING : Level.FINE,
        "instance '" + instanceName + "': no socket in the network namespace of container "
            + c.id() + " (pid " + c.pid() + "), attempt " + attempts + ": " + e.getMessage()
            + "; its packets are not seen until a retry succeeds (next in "
            + Duration.ofNanos(delay).toMillis() + " ms)");
    scheduleRetry();
  }

  /** FIRST_RETRY after the first failure, doubling with each one after it, at most MAX_RETRY. */
  static Duration retryDelay(int attempts) {
    int doublings = Math.min(attempts - 1, 20); // 2^20 s is far past MAX_RETRY already
    Duration d = FIRST_RETRY.multipliedBy(1L << doublings);
    return d.compareTo(MAX_RETRY) > 0 ? MAX_RETRY : d;
  }

  /** (Re)arms the retry timer for the earliest failure due; none when nothing failed. */
  private void scheduleRetry() {
    if (retry != null) {
      retry.cancel(false);
      retry = null;
    }
    if (closed || failures.isEmpty()) {
      return;
    }
    long due = Long.MAX_VALUE;
    long now = System.nanoTime();
    for (Failure f : failures.values()) {
      due = Math.min(due, Math.max(0, f.nextAttemptNanos() - now));
    }
    retry = RETRIES.schedule(this::retryDue, due, TimeUnit.NANOSECONDS);
  }

  /** On the retry thread: tries again every failed container whose time has come. */
  private void retryDue() {
    try {
      collection.withContainers(
          running -> {
            synchronized (this) {
              if (closed) {
                return;
              }
              Map<String, Container> byId = new HashMap<>();
              running.forEach(c -> byId.put(c.id(), c));
              long now = System.nanoTime();
              for (Failure f : List.copyOf(failures.values())) {
                Container c = byId.get(f.container().id());
                if (c == null || !selector.matches(c)) {
                  failures.remove(f.container().id()); // gone or unselected meanwhile
                } else if (f.nextAttemptNanos() - now <= 0) {
                  openFor(c, running);
                }
              }
              refreshFlags(running);
              scheduleRetry();
            }
          });
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "instance '" + instanceName + "': socket retry failed", e);
    }
  }

  /**
   * Adds {@code owner} to the socket of the namespace {@code file} names, opening it if it is the
   * first.
   *
   * @param expected the namespace the owner is known to have (0: unknown); a pid reused by another
   *     process would lead elsewhere
   */
  private void open(String owner, Path file, long expected, List<Container> running) {
    long inode = expected != 0 ? expected : inodeOf(file);
    Socket shared = sockets.get(inode);
    if (shared != null) {
      shared.owners.add(owner);
      netnsOf.put(owner, inode);
      return;
    }
    SocketFilterTarget target = SocketFilterTarget.packetInNamespace(file);
    List<BpfLink> links = new ArrayList<>();
    byte flags = 0;
    try {
      if (expected != 0 && target.netnsId() != expected) {
        throw new IllegalStateException(
            file + " is network namespace " + target.netnsId() + ", not " + expected
                + ": the process is gone, or not in its namespace yet");
      }
      for (BpfProgram p : programs) {
        links.add(p.attachSocketFilter(target.fd()));
      }
      flags = flagsOf(target.netnsId(), notWhollySelected(running));
      if (tracedMap != null) {
        tracedMap.update(key(target.netnsId()), new byte[] {flags}, BpfMap.ANY);
      }
      target.listen(); // only now: no frame was queued before the filters
    } catch (RuntimeException e) {
      closeSocket(new Socket(target, links, flags));
      throw e;
    }
    Socket s = new Socket(target, links, flags);
    s.owners.add(owner);
    sockets.put(target.netnsId(), s);
    netnsOf.put(owner, target.netnsId());
  }

  /** Rewrites the map's value of every socket whose namespace changed whether it is whole. */
  private void refreshFlags(List<Container> running) {
    Set<Long> partial = notWhollySelected(running);
    for (Map.Entry<Long, Socket> e : sockets.entrySet()) {
      Socket s = e.getValue();
      byte flags = flagsOf(e.getKey(), partial);
      if (flags == s.flags) {
        continue;
      }
      if (tracedMap != null) {
        try {
          tracedMap.update(key(e.getKey()), new byte[] {flags}, BpfMap.ANY);
        } catch (RuntimeException ex) {
          // An update of an existing key cannot fail for room; the object is closing.
          logger.log(Level.FINE, "instance '" + instanceName + "': map update failed", ex);
          continue;
        }
      }
      s.flags = flags;
    }
  }

  private byte flagsOf(long inode, Set<Long> partial) {
    return (byte) (TRACED | (partial.contains(inode) ? 0 : ALL_SELECTED));
  }

  /**
   * The traced namespaces that are not wholly selected: where a running container is not selected
   * (sandbox containers aside: a pod's "pause" runs nothing of the user's), and the host's when
   * the selector leaves the host out.
   */
  private Set<Long> notWhollySelected(List<Container> running) {
    Set<Long> partial = new HashSet<>();
    if (selector.filterMode() == ContainerSelector.FilterMode.OFF) {
      return partial;
    }
    if (!selector.includesHost()) {
      partial.add(hostNetns);
    }
    for (Container c : running) {
      if (c.netnsId() != 0 && !c.sandbox() && !selector.matches(c)) {
        partial.add(c.netnsId());
      }
    }
    return partial;
  }

  private void release(String owner) {
    failures.remove(owner);
    Long inode = netnsOf.remove(owner);
    if (inode == null) {
      return;
    }
    Socket s = sockets.get(inode);
    if (s != null && s.owners.remove(owner) && s.owners.isEmpty()) {
      sockets.remove(inode);
      closeSocket(s);
    }
  }

  private void closeSocket(Socket s) {
    for (BpfLink link : s.links) {
      try {
        link.close(); // before the socket: its fd number could be reused
      } catch (RuntimeException e) {
        logger.log(Level.FINE, "detaching a socket filter failed", e);
      }
    }
    if (tracedMap != null) {
      try {
        tracedMap.delete(key(s.target.netnsId()));
      } catch (RuntimeException e) {
        logger.log(Level.FINE, "the object is closing", e); // or the entry was never written
      }
    }
    s.target.close();
  }

  /**
   * pid 1's namespace; where pid 1 cannot be read (a sandbox that hides it), the agent's own, as
   * ContainerDiscovery decides the host's namespaces.
   */
  private static Path hostNetns() {
    if (Files.isReadable(INIT_NETNS)) {
      return INIT_NETNS;
    }
    return Path.of("/proc", Long.toString(ProcessHandle.current().pid()), "ns", "net");
  }

  private static long inodeOf(Path file) {
    try {
      return ((Number) Files.getAttribute(file, "unix:ino")).longValue();
    } catch (IOException e) {
      throw new GadgetException("cannot read network namespace " + file + ": " + e);
    }
  }

  private static byte[] key(long netns) {
    return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(netns).array();
  }

  private static ScheduledThreadPoolExecutor retryExecutor() {
    ScheduledThreadPoolExecutor e =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "netns-socket-retry");
              t.setDaemon(true);
              return t;
            });
    e.setRemoveOnCancelPolicy(true); // a re-armed timer leaves nothing behind
    return e;
  }
}
