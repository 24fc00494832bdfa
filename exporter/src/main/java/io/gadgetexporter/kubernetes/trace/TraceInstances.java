package io.gadgetexporter.kubernetes.trace;

import io.fabric8.kubernetes.client.utils.Serialization;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.ConfigLocation;
import io.gadgetexporter.config.InstanceConfig;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Turns a Trace's spec into the gadget instance it asks for, with the config file's own checks.
 *
 * <p>The instance part of the spec (all but {@code nodeSelector}) is written out as JSON, which is
 * YAML, and read by {@link ConfigLoader#parseInstance}: the same keys, types, units and messages as
 * a {@code gadgets[]} entry, and values keep the type the API server stored ({@code "32"} stays a
 * string, as it would quoted in a file). Problems are reported by key path from {@code spec}, as
 * {@code spec.params.max_arg: unknown parameter …}; line and column would point into that generated
 * text, so they are left out.
 *
 * <p>Two differences from a config file, both because a Trace comes from any user allowed to create
 * one rather than from the node's administrator:
 *
 * <ul>
 *   <li>{@code gadget} must be a built-in gadget. A path would load a BPF object from the node's
 *       filesystem, which holds directories that pods can write to (emptyDir and hostPath volumes,
 *       reachable under {@code containers.host_root}): the right to create a Trace would become
 *       the right to load any program into every node's kernel. Gadgets from directories belong in
 *       the config file.
 *   <li>{@code ${NAME}} reads no environment: the agent's variables (tokens among them) are not the
 *       Trace author's to read. {@code ${NAME:-default}} gives the default, {@code $$} a {@code $}.
 * </ul>
 */
final class TraceInstances {

  private static final String SPEC = "spec";

  private TraceInstances() {}

  /**
   * The instance {@code trace} asks for, named {@code trace/<metadata.name>}.
   *
   * @throws ConfigException with every problem found, key paths starting at {@code spec}
   */
  static InstanceConfig instance(Trace trace) {
    String traceName = trace.getMetadata().getName();
    TraceSpec spec = trace.getSpec() != null ? trace.getSpec() : new TraceSpec();
    InstanceConfig instance =
        ConfigLoader.parseInstance(
            instanceText(spec), "Trace/" + traceName, SPEC, Trace.instanceName(traceName));
    if (!instance.isBuiltIn()) {
      throw instance.gadgetError(
          "'"
              + instance.gadget()
              + "' is a path: a Trace runs built-in gadgets only (a gadget directory is loaded"
              + " from the node's filesystem, so it belongs in the agent's config file)");
    }
    return instance;
  }

  /** The instance part of a spec as text for the config reader: JSON, a subset of YAML. */
  static String instanceText(TraceSpec spec) {
    return Serialization.asJson(spec.instanceKeys());
  }

  /** The problems as users read them in a status: {@code key.path: message}, one per line. */
  static String message(ConfigException e) {
    return message(e.problems());
  }

  static String message(List<ConfigException.Problem> problems) {
    return problems.stream()
        .map(p -> (p.keyPath().isEmpty() ? SPEC : p.keyPath()) + ": " + p.message())
        .collect(Collectors.joining("\n"));
  }

  /** A problem with the spec found outside the config reader (the node selector). */
  static ConfigException.Problem problem(String traceName, String keyPath, String message) {
    return new ConfigException.Problem(
        ConfigLocation.wholeFile("Trace/" + traceName), keyPath, message);
  }
}
