package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * What the agent says about itself on every log record and metric (the OpenTelemetry resource;
 * Prometheus shows it as {@code target_info}). {@code service.version} and {@code host.name} are
 * always added.
 *
 * @param serviceName {@code service.name}; config, else {@code OTEL_SERVICE_NAME}, else
 *     gadget-exporter
 * @param nodeName {@code k8s.node.name}; config, else the {@code NODE_NAME} environment variable
 *     (the chart sets it from the downward API)
 * @param clusterName {@code k8s.cluster.name}
 * @param attributes more attributes; {@code OTEL_RESOURCE_ATTRIBUTES} adds to them (the file wins
 *     for a key set in both)
 */
public record ResourceConfig(
    String serviceName,
    Optional<String> nodeName,
    Optional<String> clusterName,
    Map<String, String> attributes) {

  public static final String DEFAULT_SERVICE_NAME = "gadget-exporter";

  public static final ResourceConfig DEFAULT =
      new ResourceConfig(DEFAULT_SERVICE_NAME, Optional.empty(), Optional.empty(), Map.of());

  public ResourceConfig {
    requireNonNull(serviceName, "serviceName");
    requireNonNull(nodeName, "nodeName");
    requireNonNull(clusterName, "clusterName");
    attributes = Collections.unmodifiableMap(new LinkedHashMap<>(attributes));
  }
}
