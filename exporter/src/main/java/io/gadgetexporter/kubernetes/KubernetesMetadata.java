package io.gadgetexporter.kubernetes;

import io.gadgetexporter.concurrent.DaemonThreads;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ExceptionHandler;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import io.gadgetexporter.config.KubernetesConfig;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Pod metadata from the Kubernetes API for the node's containers: one informer on the pods bound
 * to this node ({@code spec.nodeName}; never cluster-wide), an index of them by container id and
 * pod uid that the {@link ContainerCollection} applies to every container it shows ({@link
 * PodEnricher}), and owners looked up lazily ({@link OwnerResolver}).
 *
 * <p>The API server is never needed for tracing. Unreachable at start or later, the informer
 * retries on its own (relisting after a 410, reconnecting with back-off: the exception handler
 * always asks it to go on), enrichment falls back to what the runtime's annotations gave, and the
 * state shows in {@link #readiness()} and the {@code gadget_kubernetes_*} metrics. Transitions are
 * logged once, not per retry.
 */
public final class KubernetesMetadata implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(KubernetesMetadata.class.getName());

  /** How often the informer's state is looked at. */
  static final Duration STATE_CHECK = Duration.ofSeconds(1);
  /** A synced informer whose watch is down this long is called unreachable, error or not. */
  static final Duration WATCH_DOWN = Duration.ofSeconds(5);
  /** The wait before an informer that stopped is started again. */
  static final Duration RESTART_DELAY = Duration.ofSeconds(5);

  private static final AttributeKey<String> KIND = AttributeKey.stringKey("kind");
  private static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("outcome");
  private static final AttributeKey<String> METADATA = AttributeKey.stringKey("metadata");

  /**
   * What {@code /readyz} says of the API.
   *
   * @param ready false only while waiting for the first sync, before {@code sync_timeout}
   */
  public record Readiness(boolean ready, String detail) {}

  private final KubernetesConfig config;
  private final String nodeName;
  private final KubernetesClient client;
  private final ContainerCollection collection;
  private final KeyFilter labelFilter;
  private final KeyFilter annotationFilter;
  private final OwnerResolver owners;
  private final PodEnricher enricher;
  private final ScheduledExecutorService scheduler;
  private final Map<String, PodMetadata> pods = new ConcurrentHashMap<>(); // by uid
  private final AtomicBoolean republishQueued = new AtomicBoolean();
  private final long startedAt = System.nanoTime();
  private final LongAdder errors = new LongAdder();
  private final LongAdder restarts = new LongAdder();
  private volatile SharedIndexInformer<Pod> informer;
  private volatile boolean synced;
  private volatile Instant unreachableSince;
  private volatile String lastError = "";
  private volatile boolean closed;
  private long notWatchingSince = -1; // scheduler thread only
  private boolean timeoutLogged; // scheduler thread only
  private boolean handlerFailed;

  private KubernetesMetadata(
      KubernetesConfig config, KubernetesClient client, ContainerCollection collection) {
    this.config = config;
    this.nodeName = config.nodeName().orElseThrow();
    this.client = client;
    this.collection = collection;
    this.labelFilter = new KeyFilter(config.podLabels());
    this.annotationFilter = new KeyFilter(config.podAnnotations());
    this.owners = new OwnerResolver(client, this::scheduleRepublish, System::nanoTime);
    this.enricher = new PodEnricher(owners);
    this.scheduler =
        Executors.newSingleThreadScheduledExecutor(
            DaemonThreads.named("gadget-kubernetes"));
  }

  /**
   * Starts watching the node's pods and enriching {@code containers} with them, when the config
   * turns the API on; never waits for the API server.
   *
   * @param containers the node's containers; null when discovery is off (nothing to enrich)
   * @return empty when the API is off (logged once, with why)
   * @throws KubernetesClientException when the kubeconfig cannot be used
   */
  public static Optional<KubernetesMetadata> start(
      KubernetesConfig config, ContainerCollection containers, Meter meter) {
    if (!config.enabled()) {
      logger.info("Kubernetes API off: " + config.why());
      return Optional.empty();
    }
    if (containers == null) {
      logger.warning(
          "Kubernetes API on ("
              + config.why()
              + "), but container discovery is off (containers.enabled: false): no pod metadata"
              + " to add");
      return Optional.empty();
    }
    KubernetesClient client = KubernetesClients.create(config);
    KubernetesMetadata k = new KubernetesMetadata(config, client, containers);
    try {
      k.registerMetrics(meter);
      k.begin();
    } catch (RuntimeException e) {
      k.close(); // the client, its threads and the enricher go with the failed start
      throw e;
    }
    return Optional.of(k);
  }

  /**
   * The agent's only pod watch: the pods bound to this node, in every namespace. The API server
   * applies the field selector; the handler checks {@code spec.nodeName} again, cheaply.
   */
  static SharedIndexInformer<Pod> nodePodInformer(KubernetesClient client, String nodeName) {
    return client.pods().inAnyNamespace().withField("spec.nodeName", nodeName).runnableInformer(0);
  }

  private void begin() {
    collection.setEnricher(enricher);
    logger.info(
        "Kubernetes API on ("
            + config.why()
            + "): watching the pods of node "
            + nodeName
            + " through the "
            + KubernetesClients.source(config)
            + " at "
            + client.getMasterUrl());
    startInformer();
    scheduler.scheduleWithFixedDelay(
        this::checkState, STATE_CHECK.toMillis(), STATE_CHECK.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized void startInformer() {
    if (closed) {
      return;
    }
    SharedIndexInformer<Pod> inf = nodePodInformer(client, nodeName);
    inf.removeNamespaceIndex();
    inf.addEventHandler(new Handler());
    // fabric8's default handler stops the informer on any error before the first sync (the API
    // down at start would end it for good) and on some watch errors after. Going on is always
    // right here: the reflector backs off, and each error is counted and shown.
    inf.exceptionHandler(this::onInformerError);
    informer = inf;
    inf.start().whenComplete((v, t) -> onStarted(inf, t));
    inf.stopped().whenComplete((v, t) -> onStopped(inf, t));
  }

  private boolean onInformerError(boolean started, Throwable t) {
    errors.increment();
    markUnreachable(describe(t));
    // Always go on, as documented: a pod the model cannot read must not end the node's watch.
    return !closed;
  }

  /** Logged once until the API answers again. */
  private void markUnreachable(String reason) {
    lastError = reason;
    if (unreachableSince == null) {
      unreachableSince = Instant.now();
      logger.warning(
          "Kubernetes API: "
              + (synced ? "the watch of node " + nodeName + "'s pods failed" : "cannot list node " + nodeName + "'s pods")
              + " ("
              + lastError
              + "); retrying. Until it answers, "
              + (synced
                  ? "pods keep the metadata last synced and new ones get what the runtime's annotations say"
                  : "containers get what the runtime's annotations say")
              + " (logged once until it answers)");
    }
  }

  private void onStarted(SharedIndexInformer<Pod> inf, Throwable t) {
    if (t != null || closed || inf != informer) {
      return; // a failed start ends in stopped()
    }
    // After a restart, pods deleted while no informer ran are in the old map only.
    Set<String> listed = new HashSet<>();
    for (Pod p : inf.getStore().list()) {
      listed.add(uid(p));
    }
    pods.keySet().retainAll(listed);
    boolean first = !synced;
    synced = true;
    Instant down = unreachableSince;
    unreachableSince = null;
    scheduleRepublish();
    if (first) {
      logger.info(
          "Kubernetes API: synced "
              + listed.size()
              + " pods of node "
              + nodeName
              + " after "
              + Duration.ofNanos(System.nanoTime() - startedAt).toMillis()
              + " ms");
    } else {
      logger.info("Kubernetes API: pod informer synced again (" + listed.size() + " pods)");
    }
    if (down != null && first) {
      logger.info("Kubernetes API answers (unreachable since " + down.truncatedTo(ChronoUnit.SECONDS) + ")");
    }
  }

  private void onStopped(SharedIndexInformer<Pod> inf, Throwable t) {
    if (closed || inf != informer) {
      return;
    }
    restarts.increment();
    logger.warning(
        "Kubernetes API: the pod informer stopped"
            + (t == null ? "" : " (" + describe(t) + ")")
            + "; starting it again in "
            + RESTART_DELAY.toSeconds()
            + "s");
    try {
      scheduler.schedule(
          () -> {
            inf.close();
            startInformer();
          },
          RESTART_DELAY.toMillis(),
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /** Every second: recovery, a watch down without an error, the sync timeout; logged once each. */
  private void checkState() {
    try {
      SharedIndexInformer<Pod> inf = informer;
      boolean watching = inf != null && inf.isWatching();
      long now = System.nanoTime();
      if (watching) {
        notWatchingSince = -1;
        if (synced && unreachableSince != null) {
          logger.info(
              "Kubernetes API answers again (unreachable since "
                  + unreachableSince.truncatedTo(ChronoUnit.SECONDS)
                  + "): "
                  + pods.size()
                  + " pods of node "
                  + nodeName);
          unreachableSince = null;
        }
      } else if (synced) {
        if (notWatchingSince < 0) {
          notWatchingSince = now;
        } else if (now - notWatchingSince > WATCH_DOWN.toNanos() && unreachableSince == null) {
          markUnreachable("the watch is down and reconnecting");
        }
      }
      if (!synced && !timeoutLogged && now - startedAt >= config.syncTimeout().toNanos()) {
        timeoutLogged = true;
        logger.warning(
            "Kubernetes API: no sync of node "
                + nodeName
                + "'s pods after "
                + config.syncTimeout().toSeconds()
                + "s"
                + (lastError.isEmpty() ? "" : " (" + lastError + ")")
                + "; ready without it, containers get what the runtime's annotations say until it"
                + " comes");
      }
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "Kubernetes state check failed", e);
    }
  }

  /** Rebuilds the index and re-enriches, once for a burst of changes, on the agent's thread. */
  private void scheduleRepublish() {
    if (closed || !republishQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      scheduler.execute(this::republish);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      republishQueued.set(false); // closing
    }
  }

  private void republish() {
    republishQueued.set(false);
    try {
      enricher.setIndex(new PodIndex(pods.values()));
      collection.reenrich();
    } catch (RuntimeException e) {
      logger.log(Level.WARNING, "applying pod metadata failed", e);
    }
  }

  /** Keeps what the agent needs of each of the node's pods. */
  private final class Handler implements ResourceEventHandler<Pod> {
    @Override
    public void onAdd(Pod pod) {
      safely(() -> upsert(pod));
    }

    @Override
    public void onUpdate(Pod before, Pod pod) {
      // A resync re-delivers every pod with its resourceVersion unchanged: nothing to do.
      if (Objects.equals(resourceVersion(before), resourceVersion(pod))) {
        return;
      }
      safely(() -> upsert(pod));
    }

    @Override
    public void onDelete(Pod pod, boolean finalStateUnknown) {
      safely(
          () -> {
            if (pods.remove(uid(pod)) != null) {
              scheduleRepublish();
            }
          });
    }

    private void upsert(Pod pod) {
      String uid = uid(pod);
      String podNode = pod.getSpec() == null ? null : pod.getSpec().getNodeName();
      if (!nodeName.equals(podNode)) {
        if (pods.remove(uid) != null) {
          scheduleRepublish();
        }
        return;
      }
      PodMetadata kept = PodMetadata.of(pod, labelFilter, annotationFilter);
      if (!kept.equals(pods.put(uid, kept))) {
        scheduleRepublish();
      }
    }

    private void safely(Runnable r) {
      try {
        r.run();
      } catch (RuntimeException e) {
        if (!handlerFailed) {
          handlerFailed = true;
          logger.log(Level.WARNING, "a pod from the API could not be read (logged once)", e);
        }
      }
    }
  }

  /** The client it uses, for other components that talk to the same API server. */
  public KubernetesClient client() {
    return client;
  }

  /** The node whose pods are watched. */
  public String nodeName() {
    return nodeName;
  }

  /** Whether the API is up now: synced, and no error since the watch last answered. */
  public boolean apiUp() {
    return synced && unreachableSince == null;
  }

  /** Pods of this node known now. */
  public int pods() {
    return pods.size();
  }

  /**
   * Not ready only while waiting for the first sync, for at most {@code sync_timeout}; an API that
   * goes away after never makes the agent unready (tracing goes on), it shows in the detail.
   */
  public Readiness readiness() {
    Instant since = unreachableSince;
    String down =
        since == null
            ? ""
            : "API unreachable since " + since.truncatedTo(ChronoUnit.SECONDS) + " (" + lastError + ")";
    if (synced) {
      return since == null
          ? new Readiness(true, "synced (" + pods.size() + " pods of node " + nodeName + ")")
          : new Readiness(
              true, down + ": pod metadata as last synced, new pods from runtime annotations only");
    }
    if (System.nanoTime() - startedAt < config.syncTimeout().toNanos()) {
      return new Readiness(
          false,
          "waiting for the first sync of node " + nodeName + "'s pods" + (since == null ? "" : "; " + down));
    }
    return new Readiness(
        true,
        "not synced after "
            + config.syncTimeout().toSeconds()
            + "s"
            + (since == null ? "" : "; " + down)
            + ": enrichment from runtime annotations only");
  }

  private void registerMetrics(Meter meter) {
    meter
        .gaugeBuilder("gadget.kubernetes.api.up")
        .ofLongs()
        .setDescription(
            "1 while the node's pods are synced from the Kubernetes API and its watch answers; 0"
                + " before the first sync and while it fails (enrichment then comes from runtime"
                + " annotations).")
        .buildWithCallback(m -> m.record(apiUp() ? 1 : 0));
    meter
        .gaugeBuilder("gadget.kubernetes.synced")
        .ofLongs()
        .setDescription("1 once the node's pods were listed from the Kubernetes API.")
        .buildWithCallback(m -> m.record(synced ? 1 : 0));
    meter
        .gaugeBuilder("gadget.kubernetes.pods")
        .ofLongs()
        .setDescription("Pods of this node known from the Kubernetes API.")
        .setUnit("{pod}")
        .buildWithCallback(m -> m.record(pods.size()));
    meter
        .counterBuilder("gadget.kubernetes.api.errors")
        .setDescription(
            "Failed lists and watches of the node's pods; each is retried with back-off.")
        .setUnit("{error}")
        .buildWithCallback(m -> m.record(errors.sum()));
    meter
        .counterBuilder("gadget.kubernetes.informer.restarts")
        .setDescription("Times the pod informer stopped and was started again.")
        .setUnit("{restart}")
        .buildWithCallback(m -> m.record(restarts.sum()));
    meter
        .counterBuilder("gadget.kubernetes.owner.lookups")
        .setDescription(
            "Reads of a pod's ReplicaSet or Job to find its Deployment or CronJob, by outcome"
                + " (found, not_found, failed).")
        .setUnit("{lookup}")
        .buildWithCallback(
            m ->
                owners
                    .outcomes()
                    .forEach(
                        (key, n) -> {
                          int slash = key.indexOf('/');
                          m.record(
                              n,
                              Attributes.of(
                                  KIND, key.substring(0, slash), OUTCOME, key.substring(slash + 1)));
                        }));
    meter
        .gaugeBuilder("gadget.kubernetes.containers")
        .ofLongs()
        .setDescription(
            "Running containers by where their pod metadata comes from: api (the pod from the"
                + " API server), annotations (the runtime's only), none (no pod).")
        .setUnit("{container}")
        .buildWithCallback(
            m -> {
              long api = 0;
              long annotations = 0;
              long none = 0;
              for (Container c : collection.containers()) {
                if (c.pod().isEmpty()) {
                  none++;
                } else if (c.pod().get().fromApi()) {
                  api++;
                } else {
                  annotations++;
                }
              }
              m.record(api, Attributes.of(METADATA, "api"));
              m.record(annotations, Attributes.of(METADATA, "annotations"));
              m.record(none, Attributes.of(METADATA, "none"));
            });
  }

  /** An error in a line: HTTP status and message for the API's, else the root cause. */
  static String describe(Throwable t) {
    for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof KubernetesClientException k && k.getCode() > 0) {
        String message =
            k.getStatus() != null && k.getStatus().getMessage() != null
                ? k.getStatus().getMessage()
                : k.getMessage();
        String hint =
            k.getCode() == 401 || k.getCode() == 403
                ? "; the agent's service account needs the RBAC rules of docs/kubernetes.md"
                : "";
        return "HTTP " + k.getCode() + ": " + message + hint;
      }
    }
    Throwable root = t;
    while (root.getCause() != null && root.getCause() != root) {
      root = root.getCause();
    }
    return root.getClass().getSimpleName()
        + (root.getMessage() == null ? "" : ": " + root.getMessage());
  }

  private static String uid(HasMetadata o) {
    String uid = o.getMetadata() == null ? null : o.getMetadata().getUid();
    return uid == null ? o.getMetadata().getNamespace() + "/" + o.getMetadata().getName() : uid;
  }

  private static String resourceVersion(HasMetadata o) {
    return o == null || o.getMetadata() == null ? null : o.getMetadata().getResourceVersion();
  }

  /** Stops the informer and the lookups; the containers keep the metadata they have. */
  @Override
  public void close() {
    SharedIndexInformer<Pod> inf;
    synchronized (this) {
      closed = true;
      inf = informer;
    }
    scheduler.shutdownNow();
    if (inf != null) {
      inf.close();
    }
    owners.close();
    client.close();
  }
}
