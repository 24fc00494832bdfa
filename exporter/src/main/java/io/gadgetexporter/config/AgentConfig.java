package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * The whole configuration of the agent, valid as far as the loader can tell (gadget parameters and
 * gadget existence are checked by the runtime).
 *
 * @param source the file it came from, as given, or {@link ConfigLoader#EMBEDDED_DEFAULT}
 * @param gadgets at least one, names unique, in the order written
 * @param otlp where OTLP is pushed; {@link OtlpConfig#NONE} when nowhere
 * @param redact agent-wide rules, applied to every instance that has the field
 * @param kubernetes the Kubernetes API: pod metadata, Trace resources
 */
public record AgentConfig(
    String source,
    HttpConfig http,
    ContainersConfig containers,
    List<InstanceConfig> gadgets,
    OtlpConfig otlp,
    ResourceConfig resource,
    MetricsConfig metrics,
    List<RedactionRule> redact,
    KubernetesConfig kubernetes) {

  public AgentConfig {
    requireNonNull(source, "source");
    requireNonNull(http, "http");
    requireNonNull(containers, "containers");
    gadgets = List.copyOf(gadgets);
    requireNonNull(otlp, "otlp");
    requireNonNull(resource, "resource");
    requireNonNull(metrics, "metrics");
    redact = List.copyOf(redact);
    requireNonNull(kubernetes, "kubernetes");
  }

  public Optional<InstanceConfig> gadget(String instanceName) {
    return gadgets.stream().filter(g -> g.name().equals(instanceName)).findFirst();
  }
}
