package io.gadgetexporter.kubernetes;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.gadgetexporter.config.KubernetesConfig;
import java.nio.file.Path;

/**
 * The one place a Kubernetes client is made: from {@code kubernetes.kubeconfig} when set, else as
 * fabric8 finds its way (a kubeconfig at {@code $KUBECONFIG} or {@code ~/.kube/config} when one
 * exists, else the pod's service account: the API server at {@code
 * $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT}, its CA and the token, re-read as it rotates).
 */
public final class KubernetesClients {
  /** The first retry after a failed list or watch; doubles up to 32 times this. */
  static final int RECONNECT_INTERVAL_MILLIS = 1000;

  private KubernetesClients() {}

  /**
   * @throws io.fabric8.kubernetes.client.KubernetesClientException when the kubeconfig cannot be
   *     read or used
   */
  public static KubernetesClient create(KubernetesConfig config) {
    Config c =
        config.kubeconfig().isPresent()
            ? Config.fromKubeconfig(null, config.kubeconfig().get().toFile())
            : Config.autoConfigure(null);
    return create(c);
  }

  /** A client of {@code config}, with the agent's timeouts and user agent. */
  static KubernetesClient create(Config config) {
    // A GET (an owner lookup) that cannot connect fails within seconds and is retried later by
    // the caller: the informer's reflector and the owner cache each retry on their own terms.
    config.setConnectionTimeout(5_000);
    config.setRequestTimeout(10_000);
    config.setRequestRetryBackoffLimit(1);
    config.setWatchReconnectInterval(RECONNECT_INTERVAL_MILLIS);
    config.setUserAgent("gadget-exporter/" + version());
    return new KubernetesClientBuilder().withConfig(config).build();
  }

  /** The kubeconfig named in the config, for messages. */
  static String source(KubernetesConfig config) {
    return config.kubeconfig().map(Path::toString).map(p -> "kubeconfig " + p).orElse("in-cluster or default kubeconfig");
  }

  private static String version() {
    String v = KubernetesClients.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }
}
