package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads the names Kubernetes runtimes leave in a container's OCI annotations ({@link
 * OciConfig#annotations()}).
 *
 * <p>containerd's CRI plugin (also in k3s, rke2, kind) writes {@code io.kubernetes.cri.*} keys;
 * CRI-O writes {@code io.kubernetes.pod.*}, {@code io.kubernetes.container.name} and {@code
 * io.kubernetes.cri-o.*} keys, among them {@code io.kubernetes.cri-o.Labels}, a JSON object (as a
 * string) of the labels kubelet gave. When both families are present the containerd keys win.
 * Docker, podman and plain containerd ({@code ctr run}) write none of these: every field is then
 * empty.
 */
public final class OciAnnotations {

  // containerd CRI plugin
  static final String CRI_NAMESPACE = "io.kubernetes.cri.sandbox-namespace";
  static final String CRI_POD_NAME = "io.kubernetes.cri.sandbox-name";
  static final String CRI_POD_UID = "io.kubernetes.cri.sandbox-uid";
  static final String CRI_CONTAINER_NAME = "io.kubernetes.cri.container-name";
  static final String CRI_CONTAINER_TYPE = "io.kubernetes.cri.container-type";
  static final String CRI_SANDBOX_ID = "io.kubernetes.cri.sandbox-id";
  static final String CRI_IMAGE_NAME = "io.kubernetes.cri.image-name";

  // CRI-O
  static final String POD_NAMESPACE = "io.kubernetes.pod.namespace";
  static final String POD_NAME = "io.kubernetes.pod.name";
  static final String POD_UID = "io.kubernetes.pod.uid";
  static final String CONTAINER_NAME = "io.kubernetes.container.name";
  static final String CRIO_CONTAINER_TYPE = "io.kubernetes.cri-o.ContainerType";
  static final String CRIO_SANDBOX_ID = "io.kubernetes.cri-o.SandboxID";
  static final String CRIO_IMAGE_NAME = "io.kubernetes.cri-o.ImageName";
  static final String CRIO_IMAGE = "io.kubernetes.cri-o.Image";
  static final String CRIO_LABELS = "io.kubernetes.cri-o.Labels";

  /**
   * Image-name keys beyond the Kubernetes ones. containerd puts {@code io.containerd.image.name}
   * on images (in an image index), not on containers, and {@code ctr run} copies no image name
   * into {@code config.json}; it is read in case a tool does. {@code
   * org.opencontainers.image.ref.name} is deliberately not read: it is often only a tag, and base
   * images such as ubuntu set it as a label that every image built on them inherits.
   */
  private static final List<String> OTHER_IMAGE_KEYS = List.of("io.containerd.image.name");

  /**
   * The Kubernetes identity of a container, each part when an annotation says it.
   *
   * @param containerType {@code container}, or {@code sandbox} for a pod's pause container (as
   *     written; see {@link #isSandbox()})
   * @param sandboxId the id of the pod's sandbox (pause) container
   * @param imageName the image as the pod spec names it ({@code docker.io/library/nginx:1.27})
   * @param podLabels CRI-O's {@code io.kubernetes.cri-o.Labels}, entries with a string value. For a
   *     sandbox these are the pod's labels; for an app container kubelet gives only its own {@code
   *     io.kubernetes.*} labels. Empty with containerd, which does not put labels in annotations.
   * @param malformedLabels {@code io.kubernetes.cri-o.Labels} is present but not a JSON object;
   *     {@code podLabels} is then empty
   */
  public record KubernetesNames(
      Optional<String> namespace,
      Optional<String> podName,
      Optional<String> podUid,
      Optional<String> containerName,
      Optional<String> containerType,
      Optional<String> sandboxId,
      Optional<String> imageName,
      Map<String, String> podLabels,
      boolean malformedLabels) {

    public KubernetesNames {
      requireNonNull(namespace, "namespace");
      requireNonNull(podName, "podName");
      requireNonNull(podUid, "podUid");
      requireNonNull(containerName, "containerName");
      requireNonNull(containerType, "containerType");
      requireNonNull(sandboxId, "sandboxId");
      requireNonNull(imageName, "imageName");
      podLabels = Collections.unmodifiableMap(new LinkedHashMap<>(podLabels));
    }

    /** A pod's sandbox (pause) container: type {@code sandbox} or {@code podsandbox}, any case. */
    public boolean isSandbox() {
      return containerType
          .map(t -> t.equalsIgnoreCase("sandbox") || t.equalsIgnoreCase("podsandbox"))
          .orElse(false);
    }

    /** Some annotation named the pod (its namespace, name or uid). */
    public boolean isKubernetes() {
      return namespace.isPresent() || podName.isPresent() || podUid.isPresent();
    }
  }

  private OciAnnotations() {}

  /** The Kubernetes names in a container's annotations; all empty for a non-Kubernetes one. */
  public static KubernetesNames kubernetes(Map<String, String> annotations) {
    requireNonNull(annotations, "annotations");
    Map<String, String> labels = Map.of();
    boolean malformedLabels = false;
    String labelsJson = annotations.get(CRIO_LABELS);
    if (labelsJson != null) {
      Optional<Map<String, String>> parsed = stringMap(labelsJson);
      labels = parsed.orElse(Map.of());
      malformedLabels = parsed.isEmpty();
    }
    return new KubernetesNames(
        first(annotations, labels, CRI_NAMESPACE, POD_NAMESPACE),
        first(annotations, labels, CRI_POD_NAME, POD_NAME),
        first(annotations, labels, CRI_POD_UID, POD_UID),
        first(annotations, labels, CRI_CONTAINER_NAME, CONTAINER_NAME),
        first(annotations, Map.of(), CRI_CONTAINER_TYPE, CRIO_CONTAINER_TYPE),
        first(annotations, Map.of(), CRI_SANDBOX_ID, CRIO_SANDBOX_ID),
        first(annotations, Map.of(), CRI_IMAGE_NAME, CRIO_IMAGE_NAME, CRIO_IMAGE),
        labels,
        malformedLabels);
  }

  /**
   * The container's image name from whichever known annotation has one: the Kubernetes ones
   * first ({@code io.kubernetes.cri.image-name}, CRI-O's {@code ImageName}), then {@code
   * io.containerd.image.name}. Empty for Docker, podman and {@code ctr run} containers, whose
   * runtimes do not annotate the image.
   */
  public static Optional<String> image(Map<String, String> annotations) {
    requireNonNull(annotations, "annotations");
    Optional<String> kubernetes = kubernetes(annotations).imageName();
    if (kubernetes.isPresent()) {
      return kubernetes;
    }
    return first(annotations, Map.of(), OTHER_IMAGE_KEYS.toArray(String[]::new));
  }

  /**
   * The first key with a non-blank value in the annotations, else (for the same keys) in CRI-O's
   * labels.
   */
  private static Optional<String> first(
      Map<String, String> annotations, Map<String, String> labels, String... keys) {
    for (Map<String, String> source : List.of(annotations, labels)) {
      for (String key : keys) {
        String value = source.get(key);
        if (value != null && !value.isBlank()) {
          return Optional.of(value);
        }
      }
    }
    return Optional.empty();
  }

  /** A JSON object's string entries, or empty when the text is not a JSON object. */
  private static Optional<Map<String, String>> stringMap(String json) {
    Object value;
    try {
      value = Json.decodeValue(json);
    } catch (DecodeException e) {
      return Optional.empty();
    }
    if (!(value instanceof JsonObject object)) {
      return Optional.empty();
    }
    Map<String, String> map = new LinkedHashMap<>();
    for (Map.Entry<String, Object> e : object) {
      if (e.getValue() instanceof String s) {
        map.put(e.getKey(), s);
      }
    }
    return Optional.of(map);
  }
}
