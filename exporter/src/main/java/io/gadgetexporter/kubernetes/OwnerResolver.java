package io.gadgetexporter.kubernetes;

import io.gadgetexporter.concurrent.DaemonThreads;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.OwnerReference;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.gadgetexporter.container.Container;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.LongSupplier;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * A pod's controller chain: its controller from the pod itself, and one level more for the two
 * kinds whose own controller matters — a ReplicaSet's Deployment, a Job's CronJob — read from the
 * API server with one GET, lazily, off the caller's thread, and cached.
 *
 * <p>{@link #owners} never waits: until a lookup answers it gives the pod's own controller, and
 * when the answer changes the chain it calls {@code onResolved} (the caller re-enriches). Answers
 * are kept {@link #TTL} (bounded to {@link #MAX_ENTRIES}, least recently used first out); a failed
 * lookup is retried after {@link #RETRY_AFTER}, and meanwhile a ReplicaSet whose pods carry the
 * {@code pod-template-hash} label that ends its name is taken to belong to the Deployment named by
 * the rest, which is how Deployments name their ReplicaSets.
 */
final class OwnerResolver implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(OwnerResolver.class.getName());

  static final Duration TTL = Duration.ofMinutes(10);
  static final Duration RETRY_AFTER = Duration.ofSeconds(30);
  static final int MAX_ENTRIES = 1024;
  /** Lookups waiting at most; more are dropped and asked again on a later enrichment. */
  static final int MAX_QUEUED = 256;

  /** The kinds looked up, and the kind of their controller that names the workload. */
  static final Map<String, String> LOOKED_UP = Map.of("ReplicaSet", "Deployment", "Job", "CronJob");

  /** How a lookup ended, for {@code gadget_kubernetes_owner_lookups_total}. */
  enum Outcome {
    /** The object was read; its controller (if any) is in the chain. */
    FOUND,
    /** The object is gone (or is another one of the same name): the chain stops at it. */
    NOT_FOUND,
    /** The API did not answer or refused: the fallback, and a retry later. */
    FAILED;

    String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private record Key(String namespace, String kind, String name, String uid) {}

  /**
   * @param chain what {@link #owners} gives now
   * @param refreshAt nanoTime after which the next use asks the API again
   * @param pending a lookup is queued or running
   */
  private record Entry(List<Container.Owner> chain, long refreshAt, boolean pending) {}

  private final KubernetesClient client;
  private final Runnable onResolved;
  private final LongSupplier nanoTime;
  private final ThreadPoolExecutor executor;
  private final Map<Key, Entry> cache = lruMap(); // guarded by this
  private final Map<String, LongAdder> outcomes = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean failing;

  OwnerResolver(KubernetesClient client, Runnable onResolved, LongSupplier nanoTime) {
    this.client = client;
    this.onResolved = onResolved;
    this.nanoTime = nanoTime;
    this.executor =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED),
            DaemonThreads.named("gadget-kubernetes-owners"),
            new ThreadPoolExecutor.AbortPolicy());
  }

  /** The pod's controller chain, nearest first, as known now; never blocks. */
  List<Container.Owner> owners(PodMetadata pod) {
    if (pod.controller().isEmpty()) {
      return List.of();
    }
    PodMetadata.Controller c = pod.controller().get();
    Container.Owner self = new Container.Owner(c.kind(), c.name());
    if (!LOOKED_UP.containsKey(c.kind())) {
      return List.of(self);
    }
    Key key = new Key(pod.namespace(), c.kind(), c.name(), c.uid());
    synchronized (this) {
      Entry e = cache.get(key);
      long now = nanoTime.getAsLong();
      if (e != null && (e.pending() || now - e.refreshAt() < 0)) {
        return e.chain();
      }
      List<Container.Owner> chain = e != null ? e.chain() : List.of(self);
      String templateHash = pod.labels().getOrDefault(PodMetadata.POD_TEMPLATE_HASH, "");
      try {
        executor.execute(() -> lookUp(key, self, templateHash));
        cache.put(key, new Entry(chain, now, true));
      } catch (RejectedExecutionException full) {
        // Too many lookups waiting (or closed): asked again the next time the pod is enriched.
        cache.put(key, new Entry(chain, now, false));
      }
      return chain;
    }
  }

  /** Lookups by kind and outcome since start: {@code "ReplicaSet/found"} → count. */
  Map<String, Long> outcomes() {
    Map<String, Long> m = new LinkedHashMap<>();
    outcomes.forEach((k, v) -> m.put(k, v.sum()));
    return m;
  }

  private void lookUp(Key key, Container.Owner self, String templateHash) {
    List<Container.Owner> chain;
    Outcome outcome;
    Duration keep = TTL;
    try {
      HasMetadata object =
          key.kind().equals("ReplicaSet")
              ? client.apps().replicaSets().inNamespace(key.namespace()).withName(key.name()).get()
              : client.batch().v1().jobs().inNamespace(key.namespace()).withName(key.name()).get();
      if (object == null
          || (!key.uid().isEmpty() && !key.uid().equals(object.getMetadata().getUid()))) {
        chain = List.of(self);
        outcome = Outcome.NOT_FOUND;
      } else {
        chain = new ArrayList<>(List.of(self));
        controllerOf(object).ifPresent(chain::add);
        outcome = Outcome.FOUND;
      }
      if (failing) {
        failing = false;
        logger.info("owner lookups answer again");
      }
    } catch (RuntimeException e) {
      outcome = Outcome.FAILED;
      keep = RETRY_AFTER;
      chain = fallback(self, templateHash);
      if (!failing) {
        failing = true;
        logger.log(
            Level.WARNING,
            "cannot read "
                + key.kind()
                + " "
                + key.namespace()
                + "/"
                + key.name()
                + " to find its owner ("
                + KubernetesMetadata.describe(e)
                + "); workloads are named from pod labels where they can be until it answers"
                + " (logged once until it does)");
      }
    }
    outcomes.computeIfAbsent(key.kind() + "/" + outcome.label(), k -> new LongAdder()).increment();
    boolean changed;
    synchronized (this) {
      Entry before = cache.get(key);
      changed = before == null || !before.chain().equals(chain);
      cache.put(key, new Entry(List.copyOf(chain), nanoTime.getAsLong() + keep.toNanos(), false));
    }
    if (changed) {
      try {
        onResolved.run();
      } catch (RuntimeException e) {
        logger.log(Level.WARNING, "re-enrichment after an owner lookup failed", e);
      }
    }
  }

  /**
   * Without the API: a Deployment's ReplicaSet is named {@code <deployment>-<pod-template-hash>},
   * and its pods carry the hash as a label; nothing else is guessed.
   */
  static List<Container.Owner> fallback(Container.Owner self, String templateHash) {
    if (self.kind().equals("ReplicaSet")
        && !templateHash.isEmpty()
        && self.name().endsWith("-" + templateHash)
        && self.name().length() > templateHash.length() + 1) {
      String deployment = self.name().substring(0, self.name().length() - templateHash.length() - 1);
      return List.of(self, new Container.Owner("Deployment", deployment));
    }
    return List.of(self);
  }

  private static java.util.Optional<Container.Owner> controllerOf(HasMetadata object) {
    List<OwnerReference> refs = object.getMetadata().getOwnerReferences();
    if (refs != null) {
      for (OwnerReference r : refs) {
        if (Boolean.TRUE.equals(r.getController()) && r.getKind() != null && r.getName() != null) {
          return java.util.Optional.of(new Container.Owner(r.getKind(), r.getName()));
        }
      }
    }
    return java.util.Optional.empty();
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }

  private static Map<Key, Entry> lruMap() {
    return new LinkedHashMap<>(64, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Key, Entry> eldest) {
        return size() > MAX_ENTRIES;
      }
    };
  }
}
