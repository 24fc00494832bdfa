package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which processes a gadget instance traces, as written under {@code selector:}. Each list holds
 * names (with {@code *} wildcards); an entry starting with {@code !} excludes. A list that is
 * absent or holds only exclusions accepts every other value.
 *
 * @param namespaces Kubernetes namespaces
 * @param pods pod names
 * @param containers container names: the Kubernetes container name or the runtime's name
 * @param labels pod labels, name to value ({@code "!value"} excludes that value)
 * @param host whether processes outside containers are traced; empty = "yes when nothing else is
 *     selected", so {@code selector: {namespaces: [shop]}} means shop's containers only
 * @param location where {@code selector:} is written, for errors found later
 */
public record SelectorConfig(
    List<String> namespaces,
    List<String> pods,
    List<String> containers,
    Map<String, String> labels,
    Optional<Boolean> host,
    ConfigLocation location) {

  /** No selector: everything, host included. */
  public static final SelectorConfig ALL =
      new SelectorConfig(
          List.of(), List.of(), List.of(), Map.of(), Optional.empty(), ConfigLocation.wholeFile(""));

  public SelectorConfig {
    namespaces = List.copyOf(namespaces);
    pods = List.copyOf(pods);
    containers = List.copyOf(containers);
    labels = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(labels));
    requireNonNull(host, "host");
    requireNonNull(location, "location");
  }

  /** Whether any container criterion is written. */
  public boolean namesContainers() {
    return !namespaces.isEmpty() || !pods.isEmpty() || !containers.isEmpty() || !labels.isEmpty();
  }

  /** Whether host processes are traced, with the default applied. */
  public boolean includesHost() {
    return host.orElse(!namesContainers());
  }

  /** Whether this selects everything: then there is nothing to filter. */
  public boolean selectsEverything() {
    return !namesContainers() && includesHost();
  }
}
