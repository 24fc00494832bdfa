package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What the discovery needs from an OCI runtime bundle's {@code config.json} (the container's
 * configuration as the runtime received it, from containerd, CRI-O, Docker or podman).
 *
 * <p>Only these fields are read; all others are ignored. A field of the wrong type (annotations
 * as a list, args as a string) makes the whole file {@link Reason#MALFORMED_CONFIG_JSON}: a
 * runtime would not have accepted it either.
 *
 * @param annotations {@code annotations}; entries whose value is not a string are skipped (the
 *     spec allows only strings). Kubernetes names are in these: see {@link OciAnnotations}.
 * @param hostname {@code hostname}, when not empty
 * @param processArgs {@code process.args}; empty when there is no process
 * @param rootPath {@code root.path}, the container's root filesystem. {@link #read} resolves a
 *     relative path against the bundle directory; {@link #parse} keeps it as written.
 * @param cgroupsPath {@code linux.cgroupsPath} as written: a path ({@code /kubepods/...}) or, with
 *     the systemd driver, {@code slice:prefix:name}
 * @param namespacePaths {@code linux.namespaces} entries that join an existing namespace, type
 *     → path ({@code network → /var/run/netns/cni-…}); namespaces the runtime creates have no
 *     path and are not listed
 */
public record OciConfig(
    Map<String, String> annotations,
    Optional<String> hostname,
    List<String> processArgs,
    Optional<Path> rootPath,
    Optional<String> cgroupsPath,
    Map<String, String> namespacePaths) {

  /** The largest {@code config.json} read: 1 MiB; real ones are a few to a few tens of KiB. */
  public static final int MAX_BYTES = 1 << 20;

  public OciConfig {
    annotations = Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
    requireNonNull(hostname, "hostname");
    processArgs = List.copyOf(processArgs);
    requireNonNull(rootPath, "rootPath");
    requireNonNull(cgroupsPath, "cgroupsPath");
    namespacePaths = Collections.unmodifiableMap(new LinkedHashMap<>(namespacePaths));
  }

  /**
   * Reads a bundle's {@code config.json}.
   *
   * @throws ContainerMetadataException {@link Reason#MISSING_CONFIG_JSON} when the file does not
   *     exist, {@link Reason#CONFIG_JSON_TOO_LARGE} above {@link #MAX_BYTES}, {@link
   *     Reason#MALFORMED_CONFIG_JSON}, or {@link Reason#READ_FAILED}
   */
  public static OciConfig read(Path configJson) {
    requireNonNull(configJson, "configJson");
    String json =
        MetadataFiles.readUtf8(
                configJson, MAX_BYTES, Reason.CONFIG_JSON_TOO_LARGE, Reason.MALFORMED_CONFIG_JSON)
            .orElseThrow(
                () ->
                    new ContainerMetadataException(
                        Reason.MISSING_CONFIG_JSON, configJson.toString(), "no such file"));
    Path bundle = configJson.toAbsolutePath().getParent();
    OciConfig config = parse(json, configJson.toString());
    return config.rootPath().isEmpty() || bundle == null
        ? config
        : new OciConfig(
            config.annotations(),
            config.hostname(),
            config.processArgs(),
            config.rootPath().map(bundle::resolve),
            config.cgroupsPath(),
            config.namespacePaths());
  }

  /**
   * Parses the text of a {@code config.json}.
   *
   * @param sourceName names the file in error messages
   * @throws ContainerMetadataException {@link Reason#MALFORMED_CONFIG_JSON}
   */
  public static OciConfig parse(String json, String sourceName) {
    requireNonNull(json, "json");
    requireNonNull(sourceName, "sourceName");
    JsonFields f = new JsonFields(sourceName, Reason.MALFORMED_CONFIG_JSON);
    JsonObject top = f.document(json);

    Map<String, String> annotations = new LinkedHashMap<>();
    f.object(top, "annotations", "annotations")
        .ifPresent(
            a -> {
              for (Map.Entry<String, Object> e : a) {
                if (e.getValue() instanceof String value) {
                  annotations.put(e.getKey(), value);
                }
              }
            });

    Optional<String> hostname = f.string(top, "hostname", "hostname").filter(h -> !h.isEmpty());

    List<String> args =
        f.object(top, "process", "process")
            .map(p -> f.strings(p, "args", "process.args"))
            .orElse(List.of());

    Optional<Path> rootPath = Optional.empty();
    Optional<JsonObject> root = f.object(top, "root", "root");
    if (root.isPresent()) {
      Optional<String> path = f.string(root.get(), "path", "root.path");
      if (path.isPresent() && !path.get().isEmpty()) {
        rootPath = Optional.of(f.path(path.get(), "root.path"));
      }
    }

    Optional<String> cgroupsPath = Optional.empty();
    Map<String, String> namespacePaths = new LinkedHashMap<>();
    Optional<JsonObject> linux = f.object(top, "linux", "linux");
    if (linux.isPresent()) {
      cgroupsPath = f.string(linux.get(), "cgroupsPath", "linux.cgroupsPath");
      Optional<JsonArray> namespaces = f.array(linux.get(), "namespaces", "linux.namespaces");
      if (namespaces.isPresent()) {
        for (int i = 0; i < namespaces.get().size(); i++) {
          String at = "linux.namespaces[" + i + "]";
          Object entry = namespaces.get().getValue(i);
          if (!(entry instanceof JsonObject namespace)) {
            throw f.wrongType(at, entry, "an object");
          }
          Optional<String> type = f.string(namespace, "type", at + ".type");
          Optional<String> path = f.string(namespace, "path", at + ".path");
          if (type.isEmpty()) {
            throw f.problem(at + " has no type");
          }
          if (path.isPresent() && !path.get().isEmpty()) {
            namespacePaths.putIfAbsent(type.get(), path.get());
          }
        }
      }
    }
    return new OciConfig(annotations, hostname, args, rootPath, cgroupsPath, namespacePaths);
  }
}
