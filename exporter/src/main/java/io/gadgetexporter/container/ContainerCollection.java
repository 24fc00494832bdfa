package io.gadgetexporter.container;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Every container on the node, however it was found, and the lookup that ties an event to one.
 *
 * <p>Writers (the runtime hook, the scans) are serialised by the collection's lock and rare; each
 * change rebuilds an immutable {@link Index} that the event path reads through one volatile field,
 * allocation-free: an event is matched by mount namespace, then network namespace (the pod when
 * several of its containers share it), then cgroup id.
 *
 * <p>The collection keeps what the runtime said of each container, and shows it through an {@link
 * Enricher} (the Kubernetes API's pod metadata, when that is on): {@link #reenrich()} applies the
 * enricher again when what it knows changes, replacing the records whose metadata changed and
 * telling listeners of each with {@link Listener#changed}.
 *
 * <p>A removed container stays resolvable for the grace period: its last events may still be in a
 * ring buffer when it exits. After that its mount namespace id is remembered (bounded) so a late
 * event is counted as {@link MissReason#EXPIRED} rather than {@link MissReason#UNKNOWN}.
 */
public final class ContainerCollection {
  private static final Logger logger = Logger.getLogger(ContainerCollection.class.getName());

  /** Mount namespace ids of expired containers kept to name late misses; a bound, not a need. */
  static final int EXPIRED_IDS_KEPT = 4096;

  /** Why an event could not be tied to a container or the host. */
  public enum MissReason {
    /** Its namespaces belong to nothing the agent has seen (yet). */
    UNKNOWN,
    /** It belonged to a container that exited longer than the grace period ago. */
    EXPIRED;

    public String label() {
      return name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  /** Told of containers as they come and go; called under the collection's lock, in order. */
  public interface Listener {
    void added(Container container);

    void removed(Container container);

    /**
     * A running container's record was replaced with the same namespaces but other metadata (its
     * pod's labels or owner arrived from the API server). By default, removed then added; a
     * listener that can apply the change in one step should.
     */
    default void changed(Container before, Container after) {
      removed(before);
      added(after);
    }
  }

  /**
   * Adds to a container what other sources know (the pod's labels and owners from the API
   * server). Called under the collection's lock, so it must not block: it reads what it already
   * has, and may ask for more in the background, then call {@link #reenrich()}.
   */
  @FunctionalInterface
  public interface Enricher {
    /** Nothing added: the runtime's record as it is. */
    Enricher NONE = c -> c;

    /**
     * @param fromRuntime the record as discovery made it
     * @return the record to show; {@code fromRuntime} itself when there is nothing to add
     */
    Container enrich(Container fromRuntime);
  }

  /**
   * A container as the runtime said ({@code raw}), as shown ({@code container}: enriched), and
   * since when it is gone (nanoTime), or -1 while it runs.
   */
  private record Entry(Container raw, Container container, long removedAt) {
    boolean live() {
      return removedAt < 0;
    }
  }

  /** What the event path reads: rebuilt whole on every change. */
  private record Index(
      LongIndex<Container> byMntns,
      LongIndex<Container> byNetns,
      LongIndex<Container> byCgroup,
      LongIndex<Boolean> hostMntns,
      LongIndex<Boolean> expiredMntns) {}

  private volatile long hostMntnsId;
  private volatile long hostNetnsId;
  private final long gracePeriodNanos;
  private final LongSupplier nanoTime;
  private final Map<String, Entry> entries = new LinkedHashMap<>(); // guarded by this
  private final Map<Long, Boolean> expiredMntns = lruSet(); // guarded by this
  private LongIndex<Boolean> hostNamespaces = LongIndex.empty(); // guarded by this
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();
  private final LongAdder[] misses = new LongAdder[MissReason.values().length];
  private Enricher enricher = Enricher.NONE; // guarded by this
  private boolean enricherFailed; // guarded by this
  private volatile Index index;

  /**
   * @param gracePeriodNanos how long a removed container still resolves
   */
  public ContainerCollection(long gracePeriodNanos, LongSupplier nanoTime) {
    this.gracePeriodNanos = gracePeriodNanos;
    this.nanoTime = nanoTime;
    for (int i = 0; i < misses.length; i++) {
      misses[i] = new LongAdder();
    }
    rebuild();
  }

  /**
   * The host's namespaces (pid 1's), known once discovery starts.
   *
   * @param mntnsId its processes are the host
   * @param netnsId shared by host-network pods, so never a key to a container
   */
  public synchronized void setHost(long mntnsId, long netnsId) {
    this.hostMntnsId = mntnsId;
    this.hostNetnsId = netnsId;
    rebuild();
  }

  /**
   * Adds a container, or replaces the record with the same id. Listeners hear of a new container,
   * and of a replaced one only when its namespaces changed (a rescan finding what the hook already
   * knows changes nothing).
   *
   * @return whether the container was new
   */
  public synchronized boolean add(Container container) {
    Entry old = entries.get(container.id());
    if (old != null && old.live() && sameNamespaces(old.raw(), container)) {
      return false;
    }
    Container shown = enrich(container);
    entries.put(container.id(), new Entry(container, shown, -1));
    rebuild();
    for (Listener l : listeners) {
      if (old != null && old.live()) {
        notify(l, old.container(), false);
      }
      notify(l, shown, true);
    }
    return old == null || !old.live();
  }

  /**
   * Sets what adds to the runtime's records, and applies it to the running containers at once.
   */
  public synchronized void setEnricher(Enricher enricher) {
    this.enricher = java.util.Objects.requireNonNull(enricher, "enricher");
    this.enricherFailed = false;
    reenrich();
  }

  /**
   * Applies the enricher again to every running container: a record whose result differs is
   * replaced, the index rebuilt once, and listeners told with {@link Listener#changed}. Exited
   * containers keep the metadata they had when they went, for their late events.
   *
   * @return how many records changed
   */
  public synchronized int reenrich() {
    List<Container[]> changes = new ArrayList<>();
    for (Map.Entry<String, Entry> me : entries.entrySet()) {
      Entry e = me.getValue();
      if (!e.live()) {
        continue;
      }
      Container shown = enrich(e.raw());
      if (!shown.equals(e.container())) {
        me.setValue(new Entry(e.raw(), shown, -1));
        changes.add(new Container[] {e.container(), shown});
      }
    }
    if (changes.isEmpty()) {
      return 0;
    }
    rebuild();
    for (Listener l : listeners) {
      for (Container[] c : changes) {
        try {
          l.changed(c[0], c[1]);
        } catch (RuntimeException ex) {
          logger.log(Level.WARNING, "container listener failed for " + c[1].id(), ex);
        }
      }
    }
    return changes.size();
  }

  /**
   * Marks a container gone; it still resolves for the grace period. Unknown or already removed
   * ids are ignored.
   */
  public synchronized Optional<Container> remove(String id) {
    Entry e = entries.get(id);
    if (e == null || !e.live()) {
      return Optional.empty();
    }
    entries.put(id, new Entry(e.raw(), e.container(), nanoTime.getAsLong()));
    rebuild();
    for (Listener l : listeners) {
      notify(l, e.container(), false);
    }
    return Optional.of(e.container());
  }

  /** Forgets containers removed longer than the grace period ago; returns how many. */
  public synchronized int expire() {
    long now = nanoTime.getAsLong();
    int expired = 0;
    var it = entries.values().iterator();
    while (it.hasNext()) {
      Entry e = it.next();
      if (!e.live() && now - e.removedAt() >= gracePeriodNanos) {
        it.remove();
        expiredMntns.put(e.container().mntnsId(), Boolean.TRUE);
        expired++;
      }
    }
    if (expired > 0) {
      rebuild();
    }
    return expired;
  }

  /**
   * Mount namespaces that belong to no container (processes of the host in private namespaces,
   * such as systemd services with PrivateTmp): events in them are the host's.
   */
  public synchronized void setHostNamespaces(Collection<Long> mntnsIds) {
    LongIndex.Builder<Boolean> b = new LongIndex.Builder<>();
    mntnsIds.forEach(id -> b.putIfAbsent(id, Boolean.TRUE));
    hostNamespaces = b.build();
    rebuild();
  }

  /**
   * Registers a listener and returns the running containers at that moment, atomically: the
   * listener then hears of every later change and misses none.
   */
  public synchronized List<Container> subscribe(Listener listener) {
    listeners.add(listener);
    return containers();
  }

  /**
   * Runs {@code action} on the running containers while no change can happen, so a listener can
   * re-evaluate them (a selector changed) without missing or reordering a notification.
   */
  public synchronized void withContainers(java.util.function.Consumer<List<Container>> action) {
    action.accept(containers());
  }

  public void unsubscribe(Listener listener) {
    listeners.remove(listener);
  }

  /** Running containers, in the order they were added. */
  public synchronized List<Container> containers() {
    List<Container> live = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (e.live()) {
        live.add(e.container());
      }
    }
    return live;
  }

  /** Containers gone but still resolvable (within the grace period). */
  public synchronized List<Container> exited() {
    List<Container> gone = new ArrayList<>();
    for (Entry e : entries.values()) {
      if (!e.live()) {
        gone.add(e.container());
      }
    }
    return gone;
  }

  public synchronized Optional<Container> get(String id) {
    Entry e = entries.get(id);
    return e == null || !e.live() ? Optional.empty() : Optional.of(e.container());
  }

  /** Running containers (not counting those within their grace period). */
  public synchronized int size() {
    return (int) entries.values().stream().filter(Entry::live).count();
  }

  /**
   * The container (or pod, or the host) an event belongs to, by its ids (0 = the event has no such
   * field); null when nothing matches, counted by reason. Allocation-free; any thread.
   */
  public Container resolve(long mntnsId, long netnsId, long cgroupId) {
    Index idx = index;
    Container c = idx.byMntns().get(mntnsId);
    if (c != null) {
      return c;
    }
    if (mntnsId != 0 && (mntnsId == hostMntnsId || idx.hostMntns().get(mntnsId) != null)) {
      return Container.HOST;
    }
    c = idx.byNetns().get(netnsId);
    if (c != null) {
      return c;
    }
    // Known only by its network namespace (a packet dropped in softirq, no process), and that is
    // the host's: the host. Host-network pods share it, but their events with a process carry
    // their own mount namespace and resolved above.
    if (mntnsId == 0 && netnsId != 0 && netnsId == hostNetnsId) {
      return Container.HOST;
    }
    c = idx.byCgroup().get(cgroupId);
    if (c != null) {
      return c;
    }
    MissReason reason =
        idx.expiredMntns().get(mntnsId) != null ? MissReason.EXPIRED : MissReason.UNKNOWN;
    misses[reason.ordinal()].increment();
    return null;
  }

  /** Events that matched nothing, for one reason, since start. */
  public long misses(MissReason reason) {
    return misses[reason.ordinal()].sum();
  }

  private void rebuild() {
    LongIndex.Builder<Container> byMntns = new LongIndex.Builder<>();
    LongIndex.Builder<Container> byCgroup = new LongIndex.Builder<>();
    Map<Long, List<Container>> byNetns = new LinkedHashMap<>();
    // Running containers first: a namespace id reused after a container exited belongs to the
    // new owner.
    for (boolean live : new boolean[] {true, false}) {
      for (Entry e : entries.values()) {
        if (e.live() != live) {
          continue;
        }
        Container c = e.container();
        byMntns.putIfAbsent(c.mntnsId(), c);
        byCgroup.putIfAbsent(c.cgroupId(), c);
        if (c.netnsId() != 0 && c.netnsId() != hostNetnsId && !c.sandbox()) {
          byNetns.computeIfAbsent(c.netnsId(), k -> new ArrayList<>()).add(c);
        }
      }
    }
    LongIndex.Builder<Container> netns = new LongIndex.Builder<>();
    byNetns.forEach(
        (id, sharing) -> {
          if (sharing.size() == 1) {
            netns.putIfAbsent(id, sharing.get(0));
            return;
          }
          // Several containers: only what they have in common, the pod, when there is one.
          Optional<Container.Pod> pod = sharing.get(0).pod();
          boolean onePod =
              pod.isPresent()
                  && sharing.stream()
                      .allMatch(c -> c.pod().map(p -> p.uid().equals(pod.get().uid())).orElse(false));
          if (onePod) {
            netns.putIfAbsent(id, Container.podLevel(pod.get(), id));
          }
        });
    LongIndex.Builder<Boolean> expired = new LongIndex.Builder<>();
    expiredMntns.keySet().forEach(id -> expired.putIfAbsent(id, Boolean.TRUE));
    index =
        new Index(byMntns.build(), netns.build(), byCgroup.build(), hostNamespaces, expired.build());
  }

  /** The enricher's record; the runtime's when the enricher fails (logged once). */
  private Container enrich(Container raw) {
    try {
      Container shown = enricher.enrich(raw);
      if (shown == null
          || !shown.id().equals(raw.id())
          || !sameNamespaces(shown, raw)
          || shown.kind() != raw.kind()) {
        throw new IllegalStateException(
            "the enricher changed the container's identity or namespaces: " + raw.id());
      }
      return shown;
    } catch (RuntimeException e) {
      if (!enricherFailed) {
        enricherFailed = true;
        logger.log(Level.WARNING, "container enrichment failed; records shown as found", e);
      }
      return raw;
    }
  }

  private static boolean sameNamespaces(Container a, Container b) {
    return a.mntnsId() == b.mntnsId()
        && a.netnsId() == b.netnsId()
        && a.cgroupId() == b.cgroupId()
        && a.pid() == b.pid();
  }

  private static void notify(Listener l, Container c, boolean added) {
    try {
      if (added) {
        l.added(c);
      } else {
        l.removed(c);
      }
    } catch (RuntimeException e) {
      // One instance's filter map failing must not keep the others (or the collection) stale.
      logger.log(Level.WARNING, "container listener failed for " + c.id(), e);
    }
  }

  private static Map<Long, Boolean> lruSet() {
    return new LinkedHashMap<>(64, 0.75f, false) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, Boolean> eldest) {
        return size() > EXPIRED_IDS_KEPT;
      }
    };
  }
}
