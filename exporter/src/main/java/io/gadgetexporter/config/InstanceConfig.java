package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One gadget instance: which gadget runs, under what name, with what parameters and ring buffer.
 *
 * <p>The same gadget may run as several instances (with different parameters); the name tells them
 * apart in metrics, logs and thread names, hence its strict form ({@code [a-z0-9][a-z0-9_-]*}, at
 * most 63 characters) and its uniqueness.
 *
 * <p>The loader cannot know whether a built-in gadget exists or what a gadget directory holds; the
 * runtime finds out, and reports it at {@link #gadgetLocation} via {@link #gadgetProblem}.
 *
 * @param gadget a built-in gadget name ({@code trace_exec}) or, when it contains {@code /}, a path
 *     to a directory holding {@code program.bpf.o} and {@code gadget.yaml}, as written
 * @param params in the order written; keys as written
 * @param selector the processes traced; {@link SelectorConfig#ALL} when not written
 * @param logs whether and how each event becomes an OTLP log record
 * @param metrics the metrics derived from the events, beside the implicit event count
 * @param redact rules for this instance's fields, applied with the agent-wide ones
 * @param optional whether the agent starts (and is ready) without this instance when the kernel
 *     refuses its gadget (a gadget needing a newer kernel than some nodes have): it is then listed
 *     as failed, with the reason, instead of stopping the start
 * @param keyPath {@code gadgets[i]}, for error messages
 * @param location the start of this instance's mapping in the file
 * @param gadgetLocation where {@code gadget:}'s value is written
 */
public record InstanceConfig(
    String name,
    String gadget,
    Map<String, ParamValue> params,
    SelectorConfig selector,
    RingBufferConfig ringBuffer,
    LogsConfig logs,
    List<MetricConfig> metrics,
    List<RedactionRule> redact,
    boolean optional,
    String keyPath,
    ConfigLocation location,
    ConfigLocation gadgetLocation) {

  public InstanceConfig {
    requireNonNull(name, "name");
    requireNonNull(gadget, "gadget");
    requireNonNull(selector, "selector");
    requireNonNull(ringBuffer, "ringBuffer");
    requireNonNull(logs, "logs");
    metrics = List.copyOf(metrics);
    redact = List.copyOf(redact);
    requireNonNull(keyPath, "keyPath");
    requireNonNull(location, "location");
    requireNonNull(gadgetLocation, "gadgetLocation");
    params = Collections.unmodifiableMap(new LinkedHashMap<>(requireNonNull(params, "params")));
  }

  /** Whether {@link #gadget} names a built-in gadget rather than a directory. */
  public boolean isBuiltIn() {
    return !gadget.contains("/");
  }

  /**
   * The gadget directory, for a gadget given as a path. A relative path is taken from the directory
   * of the config file, not the working directory, so a config and its gadgets can move together.
   */
  public Optional<Path> gadgetDirectory() {
    if (isBuiltIn()) {
      return Optional.empty();
    }
    Path path = Path.of(gadget);
    Path configDirectory = Path.of(location.file()).toAbsolutePath().getParent();
    return Optional.of(path.isAbsolute() ? path : configDirectory.resolve(path).normalize());
  }

  /** A problem with the instance as a whole (a required param missing), at its start. */
  public ConfigException.Problem problem(String message) {
    return new ConfigException.Problem(location, keyPath, message);
  }

  /** {@link #problem} as an exception, ready to throw. */
  public ConfigException error(String message) {
    return new ConfigException(List.of(problem(message)));
  }

  /** A problem with {@link #gadget} (no such built-in gadget, no gadget.yaml), at its value. */
  public ConfigException.Problem gadgetProblem(String message) {
    return new ConfigException.Problem(gadgetLocation, keyPath + ".gadget", message);
  }

  /** {@link #gadgetProblem} as an exception, ready to throw. */
  public ConfigException gadgetError(String message) {
    return new ConfigException(List.of(gadgetProblem(message)));
  }
}
