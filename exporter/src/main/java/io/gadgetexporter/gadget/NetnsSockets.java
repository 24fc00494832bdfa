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
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Where an instance's socket-filter programs run: one packet socket per network namespace the
 * instance traces, opened inside that namespace, with every socket-filter program attached. A
 * socket filter runs in softirq context with no process to test against the mount-namespace
 * filter, so the selector applies here instead: the host's namespace gets a socket when the
 * selector includes the host, and each selected container's namespace gets one, followed as
 * containers start, stop and change (a socket is closed when the last selected container in its
 * namespace goes). Containers sharing a namespace (a pod's) share its socket.
 *
 * <p>When the object has a map {@value #TRACED_NETNS_MAP} ({@code u64 netns inode → u8}), it
 * lists the namespaces that have a socket, for the gadget's other programs (tracepoints see every
 * namespace).
 *
 * <p>Lock order, as {@link SelectorFilter}: the collection's lock, then this one.
 */
final class NetnsSockets implements ContainerCollection.Listener {
  private static final Logger logger = Logger.getLogger(NetnsSockets.class.getName());

  static final String TRACED_NETNS_MAP = "gadget_traced_netns";
  /** The host's network namespace: init's (the agent runs with the host's pid namespace). */
  private static final Path INIT_NETNS = Path.of("/proc/1/ns/net");
  /** The owner key of the host's socket; container ids are never empty. */
  private static final String HOST = "";
  private static final byte[] PRESENT = {1};

  /** A namespace's socket, and the containers (or the host) it is open for. */
  private static final class Socket {
    final SocketFilterTarget target;
    final List<BpfLink> links;
    final Set<String> owners = new HashSet<>();

    Socket(SocketFilterTarget target, List<BpfLink> links) {
      this.target = target;
      this.links = links;
    }
  }

  private final String instanceName;
  private final List<BpfProgram> programs;
  private final BpfMap tracedMap;
  private final ContainerCollection collection;
  private volatile ContainerSelector selector;
  private final Map<Long, Socket> sockets = new HashMap<>(); // by netns inode; guarded by this
  private final Map<String, Long> netnsOf = new HashMap<>(); // owner -> inode; guarded by this
  private long failures; // guarded by this

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
   *     cannot run. A container's socket that cannot be opened (it exited meanwhile) is logged.
   */
  void start() {
    if (collection == null) {
      synchronized (this) {
        if (selector.includesHost()) {
          openHost();
        }
      }
      return;
    }
    collection.withContainers(
        running -> {
          synchronized (this) {
            if (selector.includesHost()) {
              openHost();
            }
            collection.subscribe(this);
            apply(running);
          }
        });
  }

  /** Applies a new selector: sockets opened and closed at once. */
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
              openHost();
            } else {
              release(HOST);
            }
            apply(running);
          }
        });
  }

  /** Closes every socket; idempotent. */
  void close() {
    if (collection != null) {
      collection.unsubscribe(this);
    }
    synchronized (this) {
      for (Socket s : sockets.values()) {
        closeSocket(s);
      }
      sockets.clear();
      netnsOf.clear();
    }
  }

  /** The inodes of the namespaces with a socket now. */
  synchronized Set<Long> namespaces() {
    return new TreeSet<>(sockets.keySet());
  }

  /** Sockets that could not be opened for a selected container (it exited first, mostly). */
  synchronized long failures() {
    return failures;
  }

  @Override
  public synchronized void added(Container container) {
    if (selector.matches(container)) {
      openFor(container);
    }
  }

  @Override
  public synchronized void removed(Container container) {
    release(container.id());
  }

  @Override
  public synchronized void changed(Container before, Container after) {
    if (before.netnsId() != after.netnsId() || before.pid() != after.pid()) {
      release(before.id());
    }
    if (selector.matches(after)) {
      openFor(after);
    } else {
      release(after.id());
    }
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
    for (Container c : running) {
      if (wanted.contains(c.id())) {
        openFor(c);
      }
    }
  }

  private void openHost() {
    if (!netnsOf.containsKey(HOST)) {
      open(HOST, hostNetns(), 0); // no container to check against: failing here is fatal
    }
  }

  /** A container's socket; never throws (called while the collection notifies). */
  private void openFor(Container c) {
    if (netnsOf.containsKey(c.id())) {
      return;
    }
    try {
      open(c.id(), Path.of("/proc", Integer.toString(c.pid()), "ns", "net"), c.netnsId());
    } catch (RuntimeException e) {
      logger.log(
          failures++ == 0 ? Level.WARNING : Level.FINE,
          "instance '" + instanceName + "': no socket in the network namespace of container "
              + c.id() + " (pid " + c.pid() + "): " + e.getMessage());
    }
  }

  /**
   * Adds {@code owner} to the socket of the namespace {@code file} names, opening it if it is the
   * first.
   *
   * @param expected the namespace the owner is known to have (0: unknown); a pid reused by another
   *     process would lead elsewhere
   */
  private void open(String owner, Path file, long expected) {
    long inode = expected != 0 ? expected : inodeOf(file);
    Socket shared = sockets.get(inode);
    if (shared != null) {
      shared.owners.add(owner);
      netnsOf.put(owner, inode);
      return;
    }
    SocketFilterTarget target = SocketFilterTarget.packetInNamespace(file);
    List<BpfLink> links = new ArrayList<>();
    try {
      if (expected != 0 && target.netnsId() != expected) {
        throw new IllegalStateException(
            file + " is network namespace " + target.netnsId() + ", not " + expected
                + ": the process is gone");
      }
      for (BpfProgram p : programs) {
        links.add(p.attachSocketFilter(target.fd()));
      }
      if (tracedMap != null) {
        tracedMap.update(key(target.netnsId()), PRESENT, BpfMap.ANY);
      }
      target.listen(); // only now: no frame was queued before the filters
    } catch (RuntimeException e) {
      closeSocket(new Socket(target, links));
      throw e;
    }
    Socket s = new Socket(target, links);
    s.owners.add(owner);
    sockets.put(target.netnsId(), s);
    netnsOf.put(owner, target.netnsId());
  }

  private void release(String owner) {
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
        logger.log(Level.FINE, "the object is closed", e); // the instance is closing
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
}
