package io.gadgetexporter.chart;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import com.marcnuri.helm.TemplateCommand;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import io.gadgetexporter.gadget.GadgetBuild;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * charts/gadget-exporter through Helm itself: helm-java runs Helm's Go code as a native library in
 * this JVM (bundled in its linux-amd64 artifact: no download, no helm binary, no cluster).
 */
final class HelmChart {
  static {
    // helm-java would download its native jar when it finds none on the class path; never here.
    System.setProperty("com.marcnuri.jkube-helm.skipRemoteJar", "true");
  }

  static final Path REPOSITORY = GadgetBuild.repositoryRoot();
  static final Path CHART = REPOSITORY.resolve("charts/gadget-exporter");
  static final String RELEASE = "gadget-exporter";
  static final String NAMESPACE = "gadget-exporter";

  /**
   * The Kubernetes version templates see. helm-java's Helm reports v1.20 when asked for none (a
   * real helm binary reports its client's, an install the cluster's): name a current one.
   */
  static final String KUBERNETES = "1.33.0";

  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  private HelmChart() {}

  /** {@code helm lint --strict}: warnings fail too. */
  static LintResult lintStrict(Path chart) {
    return new Helm(chart).lint().strict().call();
  }

  /** {@code helm template} with the chart's values plus {@code valuesYaml}. */
  static Rendered render(String valuesYaml) {
    return render(CHART, valuesYaml, KUBERNETES);
  }

  /**
   * @throws IllegalStateException with Helm's message when rendering fails (a schema violation, a
   *     template's {@code fail})
   */
  static Rendered render(Path chart, String valuesYaml, String kubernetesVersion) {
    Path values = null;
    try {
      values = Files.createTempFile("chart-values-", ".yaml");
      Files.writeString(values, valuesYaml, StandardCharsets.UTF_8);
      TemplateCommand template =
          new Helm(chart)
              .template()
              .withName(RELEASE)
              .withNamespace(NAMESPACE)
              .withKubeVersion(kubernetesVersion)
              .withValuesFile(values);
      String text = template.call();
      return new Rendered(text, parse(text));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      if (values != null) {
        try {
          Files.deleteIfExists(values);
        } catch (IOException ignored) {
          // a temporary file left behind
        }
      }
    }
  }

  /**
   * What {@code helm install} prints (NOTES.txt rendered), from a client-only dry run: nothing
   * reaches a cluster.
   */
  static String installNotes(String valuesYaml) throws IOException {
    Path values = Files.createTempFile("chart-values-", ".yaml");
    try {
      Files.writeString(values, valuesYaml, StandardCharsets.UTF_8);
      return new Helm(CHART)
          .install()
          .withName(RELEASE)
          .withNamespace(NAMESPACE)
          .withKubeVersion(KUBERNETES)
          .withValuesFile(values)
          .clientOnly()
          .dryRun()
          .call()
          .getOutput();
    } finally {
      Files.deleteIfExists(values);
    }
  }

  /** The chart copied into {@code copy}, plus {@code files} (path in the chart → text). */
  static Path copyWith(Path copy, Map<String, String> files) throws IOException {
    try (Stream<Path> all = Files.walk(CHART)) {
      for (Path p : all.toList()) {
        Path target = copy.resolve(CHART.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    for (Map.Entry<String, String> f : files.entrySet()) {
      Path target = copy.resolve(f.getKey());
      Files.createDirectories(target.getParent());
      Files.writeString(target, f.getValue(), StandardCharsets.UTF_8);
    }
    return copy;
  }

  /** Each document of Helm's output as fabric8's typed object (a generic one for unknown kinds). */
  static List<HasMetadata> parse(String text) {
    List<HasMetadata> objects = new ArrayList<>();
    for (String doc : text.split("(?m)^---\\s*$")) {
      if (doc.lines().allMatch(l -> l.isBlank() || l.strip().startsWith("#"))) {
        continue;
      }
      Object o = SERIALIZATION.unmarshal(doc);
      if (!(o instanceof HasMetadata h)) {
        throw new AssertionError("not a Kubernetes object: " + o + "\n" + doc);
      }
      objects.add(h);
    }
    return objects;
  }

  /**
   * Fields of typed objects that the model does not know (fabric8 keeps them as "additional
   * properties" instead of failing): a misspelt or misplaced key in a template. Generic objects
   * (custom resources) are checked for their metadata only.
   */
  static List<String> unknownFields(HasMetadata object) {
    List<String> out = new ArrayList<>();
    String path = object.getKind() + "/" + object.getMetadata().getName();
    if (object instanceof GenericKubernetesResource g) {
      walk(
          g.getMetadata(),
          path + ".metadata",
          out,
          Collections.newSetFromMap(new IdentityHashMap<>()));
    } else {
      walk(object, path, out, Collections.newSetFromMap(new IdentityHashMap<>()));
    }
    return out;
  }

  private static void walk(Object o, String path, List<String> out, Set<Object> seen) {
    if (o == null || !seen.add(o)) {
      return;
    }
    if (o instanceof Collection<?> c) {
      int i = 0;
      for (Object e : c) {
        walk(e, path + "[" + i++ + "]", out, seen);
      }
      return;
    }
    if (o instanceof Map<?, ?> m) {
      for (Map.Entry<?, ?> e : m.entrySet()) {
        walk(e.getValue(), path + "." + e.getKey(), out, seen);
      }
      return;
    }
    if (!o.getClass().getName().startsWith("io.fabric8.kubernetes.api.model")) {
      return;
    }
    for (Method m : o.getClass().getMethods()) {
      String name = m.getName();
      if (m.getParameterCount() != 0
          || Modifier.isStatic(m.getModifiers())
          || !name.startsWith("get")
          || name.equals("getClass")) {
        continue;
      }
      Object value;
      try {
        value = m.invoke(o);
      } catch (IllegalAccessException | InvocationTargetException | RuntimeException e) {
        continue; // a computed getter (Quantity's numerical amount) that does not apply
      }
      if (name.equals("getAdditionalProperties")) {
        if (value instanceof Map<?, ?> extra && !extra.isEmpty()) {
          out.add(path + ": " + extra.keySet());
        }
        continue;
      }
      walk(
          value, path + "." + Character.toLowerCase(name.charAt(3)) + name.substring(4), out, seen);
    }
  }

  /** What one {@code helm template} rendered. */
  record Rendered(String text, List<HasMetadata> objects) {
    <T extends HasMetadata> List<T> all(Class<T> type) {
      return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    <T extends HasMetadata> T one(Class<T> type) {
      List<T> found = all(type);
      if (found.size() != 1) {
        throw new AssertionError(
            "expected one " + type.getSimpleName() + ", rendered " + found.size() + ":\n" + text);
      }
      return found.get(0);
    }

    List<GenericKubernetesResource> generic(String kind) {
      return all(GenericKubernetesResource.class).stream()
          .filter(g -> g.getKind().equals(kind))
          .toList();
    }

    List<String> kinds() {
      return objects.stream().map(HasMetadata::getKind).toList();
    }
  }
}
