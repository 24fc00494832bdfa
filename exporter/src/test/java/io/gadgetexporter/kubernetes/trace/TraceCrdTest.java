package io.gadgetexporter.kubernetes.trace;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinitionVersion;
import io.fabric8.kubernetes.api.model.apiextensions.v1.JSONSchemaProps;
import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.client.utils.Serialization;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetInstance;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.ParameterizedType;
import java.lang.reflect.Type;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

/**
 * The CRD manifest in the chart against what the code reads and writes: the names and scope the
 * Java annotations give; every property of the Java model in the schema with a compatible type,
 * and nothing else; the instance keys exactly those of a {@code gadgets[]} entry as {@code
 * docs/configuration.md} lists them (which {@code ConfigDocumentationTest} checks against the
 * reader); and the examples of {@code docs/traces.md} valid against the schema, the model and the
 * config reader.
 */
class TraceCrdTest {

  private static final Path CRD = Path.of("../charts/gadget-exporter/crds/traces.gadgetexporter.io.yaml");
  private static final Path CONFIG_DOC = Path.of("../docs/configuration.md");
  private static final Path TRACES_DOC = Path.of("../docs/traces.md");

  private static CustomResourceDefinition crd;
  private static CustomResourceDefinitionVersion version;
  private static JSONSchemaProps root;

  @BeforeAll
  static void load() throws IOException {
    crd = Serialization.unmarshal(Files.readString(CRD), CustomResourceDefinition.class);
    assertThat(crd.getSpec().getVersions()).hasSize(1);
    version = crd.getSpec().getVersions().get(0);
    root = version.getSchema().getOpenAPIV3Schema();
  }

  @Test
  void namesAndScopeAreThoseOfTheJavaModel() {
    assertThat(crd.getApiVersion()).isEqualTo("apiextensions.k8s.io/v1");
    assertThat(crd.getMetadata().getName()).isEqualTo(CustomResource.getCRDName(Trace.class));
    assertThat(crd.getSpec().getGroup()).isEqualTo(HasMetadata.getGroup(Trace.class));
    assertThat(crd.getSpec().getNames().getKind()).isEqualTo(HasMetadata.getKind(Trace.class));
    assertThat(crd.getSpec().getNames().getListKind()).isEqualTo(HasMetadata.getKind(Trace.class) + "List");
    assertThat(crd.getSpec().getNames().getPlural()).isEqualTo(HasMetadata.getPlural(Trace.class));
    assertThat(crd.getSpec().getNames().getSingular()).isEqualTo(HasMetadata.getSingular(Trace.class));
    assertThat(crd.getSpec().getNames().getShortNames())
        .containsExactly(CustomResource.getShortNames(Trace.class));
    assertThat(crd.getSpec().getScope()).isEqualTo(new Trace().getScope()).isEqualTo("Cluster");
    assertThat(version.getName()).isEqualTo(HasMetadata.getVersion(Trace.class));
    assertThat(version.getServed()).isTrue();
    assertThat(version.getStorage()).isTrue();
    assertThat(version.getSubresources().getStatus()).as("status subresource").isNotNull();
    assertThat(version.getSubresources().getScale()).isNull();
    assertThat(version.getAdditionalPrinterColumns())
        .extracting(c -> c.getName() + " " + c.getJsonPath())
        .containsExactly("Gadget .spec.gadget", "Age .metadata.creationTimestamp");
  }

  @Test
  void theSchemaIsStructural() {
    List<String> problems = new ArrayList<>();
    structural("", root, problems);
    assertThat(problems).isEmpty();
  }

  @Test
  void theSchemaHasExactlyThePropertiesOfTheJavaModel() {
    assertThat(root.getProperties()).containsOnlyKeys("apiVersion", "kind", "metadata", "spec", "status");
    List<String> problems = new ArrayList<>();
    compare("spec", TraceSpec.class, root.getProperties().get("spec"), problems);
    compare("status", TraceStatus.class, root.getProperties().get("status"), problems);
    assertThat(problems).isEmpty();
  }

  @Test
  void theSpecHasExactlyTheKeysOfAConfigFileInstance() throws IOException {
    Map<String, String[]> rows = new LinkedHashMap<>();
    Matcher m =
        Pattern.compile("(?m)^\\| `gadgets\\[\\]\\.([^`]+)` \\| ([^|]+) \\| ([^|]+) \\|")
            .matcher(Files.readString(CONFIG_DOC));
    while (m.find()) {
      rows.put(m.group(1), new String[] {m.group(2).strip(), m.group(3).strip()});
    }
    assertThat(rows).containsKeys("gadget", "params", "selector.namespaces", "metrics[].name");
    rows.remove("name"); // the Trace names the instance
    rows.remove("optional"); // a Trace's instance fails alone anyway
    JSONSchemaProps spec = root.getProperties().get("spec");
    Map<String, JSONSchemaProps> properties = new LinkedHashMap<>(spec.getProperties());
    properties.remove("nodeSelector");
    List<String> problems = new ArrayList<>();
    compareWithDoc("", properties, spec.getRequired(), rows, problems);
    assertThat(problems).isEmpty();
  }

  @Test
  void theTraceExamplesAreValidAndRoundTripThroughTheModel() throws IOException {
    List<String> traces = yamlBlocks().stream().filter(b -> b.contains("kind: Trace")).toList();
    assertThat(traces).isNotEmpty();
    GadgetCatalog catalog = GadgetCatalog.builtIn();
    for (String yaml : traces) {
      JsonNode tree = Serialization.yamlMapper().readTree(yaml);
      List<String> problems = new ArrayList<>();
      validate("", tree, root, problems);
      assertThat(problems).as(yaml).isEmpty();

      Trace trace = Serialization.unmarshal(yaml, Trace.class);
      assertThat(trace.getSpec().getOtherKeys()).isEmpty();
      assertThat(trace.getSpec().getMalformedNodeSelector()).isNull();
      JsonNode written = Serialization.jsonMapper().readTree(Serialization.asJson(trace));
      assertThat(written).as("written back").isEqualTo(tree);

      InstanceConfig instance = TraceInstances.instance(trace);
      assertThat(instance.name()).isEqualTo("trace/" + trace.getMetadata().getName());
      // The gadget's own checks (parameters) pass too.
      new GadgetInstance(
              instance,
              catalog.find(instance.gadget()).orElseThrow(),
              EventSink.NONE,
              BootClock.system(),
              new ContainerCollection(0, System::nanoTime))
          .close();
      NodeSelectors.matches(trace.getSpec(), Map.of(), trace.getMetadata().getName());
    }
  }

  @Test
  void theStatusExampleIsValidAndRoundTripsThroughTheModel() throws IOException {
    List<String> statuses = yamlBlocks().stream().filter(b -> b.startsWith("status:")).toList();
    assertThat(statuses).hasSize(1);
    JsonNode status = Serialization.yamlMapper().readTree(statuses.get(0)).get("status");
    List<String> problems = new ArrayList<>();
    validate("status", status, root.getProperties().get("status"), problems);
    assertThat(problems).isEmpty();

    TraceStatus read = Serialization.jsonMapper().treeToValue(status, TraceStatus.class);
    assertThat(read.getNodes()).containsOnlyKeys("node-a", "node-b");
    assertThat(read.getNodes().get("node-b").getReason()).isEqualTo(TraceNodeStatus.INVALID_SPEC);
    assertThat(Serialization.jsonMapper().readTree(Serialization.asJson(read))).isEqualTo(status);
  }

  // ---- the Java model against the schema -------------------------------------------------------

  private static void compare(String path, Type type, JSONSchemaProps schema, List<String> problems) {
    if (schema == null) {
      problems.add(path + ": in the model, not in the schema");
      return;
    }
    Class<?> raw = rawClass(type);
    if (raw == String.class) {
      expectType(path, schema, "string", problems);
    } else if (raw == Long.class || raw == Integer.class) {
      expectType(path, schema, "integer", problems);
    } else if (raw == Boolean.class) {
      expectType(path, schema, "boolean", problems);
    } else if (raw == Object.class) {
      // Any value (logs: a boolean or a mapping): only an untyped, preserving schema fits.
      if (schema.getType() != null || !Boolean.TRUE.equals(schema.getXKubernetesPreserveUnknownFields())) {
        problems.add(path + ": any value in the model, needs an untyped preserving schema");
      }
    } else if (Map.class.isAssignableFrom(raw)) {
      expectType(path, schema, "object", problems);
      Type value = ((ParameterizedType) type).getActualTypeArguments()[1];
      if (value == Object.class) {
        // Kept as written, checked by the config reader (against docs/configuration.md below).
        if (!Boolean.TRUE.equals(schema.getXKubernetesPreserveUnknownFields())) {
          problems.add(path + ": an open mapping in the model, must preserve unknown fields");
        }
      } else if (schema.getAdditionalProperties() == null
          || schema.getAdditionalProperties().getSchema() == null) {
        problems.add(path + ": a mapping in the model, needs additionalProperties");
      } else {
        compare(path + ".*", value, schema.getAdditionalProperties().getSchema(), problems);
      }
    } else if (List.class.isAssignableFrom(raw)) {
      expectType(path, schema, "array", problems);
      if (schema.getItems() == null || schema.getItems().getSchema() == null) {
        problems.add(path + ": a list in the model, needs items");
      } else {
        compare(
            path + "[]",
            ((ParameterizedType) type).getActualTypeArguments()[0],
            schema.getItems().getSchema(),
            problems);
      }
    } else {
      expectType(path, schema, "object", problems);
      Map<String, Type> properties = javaProperties(raw);
      Map<String, JSONSchemaProps> inSchema = properties(schema);
      for (String name : union(properties.keySet(), inSchema.keySet())) {
        if (!properties.containsKey(name)) {
          problems.add(path + "." + name + ": in the schema, not in the model " + raw.getSimpleName());
        } else {
          compare(path + "." + name, properties.get(name), inSchema.get(name), problems);
        }
      }
    }
  }

  /** The JSON properties of a model class, as Jackson sees them, with their Java types. */
  private static Map<String, Type> javaProperties(Class<?> c) {
    assertThat(c).isIn(TraceSpec.class, TraceStatus.class, TraceNodeStatus.class, LabelSelector.class, LabelSelectorRequirement.class);
    Map<String, Type> properties = new LinkedHashMap<>();
    for (Field f : c.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) || f.isAnnotationPresent(JsonIgnore.class)) {
        continue;
      }
      Method getter;
      try {
        getter =
            c.getMethod(
                "get" + Character.toUpperCase(f.getName().charAt(0)) + f.getName().substring(1));
      } catch (NoSuchMethodException e) {
        continue;
      }
      if (getter.isAnnotationPresent(JsonIgnore.class) || getter.isAnnotationPresent(JsonAnyGetter.class)) {
        continue;
      }
      JsonProperty p = f.getAnnotation(JsonProperty.class);
      properties.put(p != null && !p.value().isEmpty() ? p.value() : f.getName(), f.getGenericType());
    }
    return properties;
  }

  // ---- the instance keys against docs/configuration.md -----------------------------------------

  private static void compareWithDoc(
      String prefix,
      Map<String, JSONSchemaProps> properties,
      List<String> required,
      Map<String, String[]> rows,
      List<String> problems) {
    Map<String, String[]> children = new LinkedHashMap<>();
    rows.forEach(
        (path, row) -> {
          if (path.startsWith(prefix) && !path.substring(prefix.length()).contains(".")) {
            children.put(path.substring(prefix.length()), row);
          }
        });
    for (String key : union(children.keySet(), properties.keySet())) {
      String path = prefix + key;
      if (!children.containsKey(key)) {
        problems.add("spec." + path + ": in the schema, not a config file key");
        continue;
      }
      if (!properties.containsKey(key)) {
        problems.add("spec." + path + ": a config file key, not in the schema");
        continue;
      }
      String docType = children.get(key)[0];
      JSONSchemaProps s = properties.get(key);
      boolean docRequired = children.get(key)[1].equals("required");
      if (docRequired != (required != null && required.contains(key))) {
        problems.add("spec." + path + ": required is " + docRequired + " in the config file");
      }
      switch (docType) {
        case "mapping" -> {
          expectType("spec." + path, s, "object", problems);
          compareWithDoc(path + ".", s.getProperties(), s.getRequired(), rows, problems);
        }
        case "list" -> {
          expectType("spec." + path, s, "array", problems);
          JSONSchemaProps items = s.getItems().getSchema();
          expectType("spec." + path + "[]", items, "object", problems);
          compareWithDoc(path + "[].", items.getProperties(), items.getRequired(), rows, problems);
        }
        case "mapping of scalars" -> {
          expectType("spec." + path, s, "object", problems);
          if (!Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields())) {
            problems.add("spec." + path + ": must preserve unknown fields");
          }
        }
        case "mapping of strings" -> {
          expectType("spec." + path, s, "object", problems);
          expectType("spec." + path + ".*", s.getAdditionalProperties().getSchema(), "string", problems);
        }
        case "boolean or mapping" -> {
          // No structural type for either: untyped and preserved, its keys named in the text.
          if (s.getType() != null || !Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields())) {
            problems.add("spec." + path + ": must be untyped and preserve unknown fields");
          }
          rows.keySet().stream()
              .filter(r -> r.startsWith(path + "."))
              .map(r -> r.substring(path.length() + 1))
              .filter(leaf -> !s.getDescription().contains(leaf))
              .forEach(leaf -> problems.add("spec." + path + ": description does not name " + leaf));
        }
        case "list of strings" -> {
          expectType("spec." + path, s, "array", problems);
          expectType("spec." + path + "[]", s.getItems().getSchema(), "string", problems);
        }
        case "list of numbers" -> {
          expectType("spec." + path, s, "array", problems);
          expectType("spec." + path + "[]", s.getItems().getSchema(), "number", problems);
        }
        case "boolean" -> expectType("spec." + path, s, "boolean", problems);
        case "size" -> {
          if (!Boolean.TRUE.equals(s.getXKubernetesIntOrString())) {
            problems.add("spec." + path + ": a size is a number or a string (int-or-string)");
          }
        }
        default -> expectType("spec." + path, s, "string", problems); // durations, templates, names...
      }
    }
  }

  // ---- schema helpers --------------------------------------------------------------------------

  /** What the API server requires of a CRD schema: a type everywhere, unless explicitly open. */
  private static void structural(String path, JSONSchemaProps s, List<String> problems) {
    boolean open =
        Boolean.TRUE.equals(s.getXKubernetesIntOrString())
            || Boolean.TRUE.equals(s.getXKubernetesPreserveUnknownFields());
    if (s.getType() == null && !open) {
      problems.add(path + ": no type");
    }
    if (s.getDescription() != null && s.getDescription().isBlank()) {
      problems.add(path + ": blank description");
    }
    properties(s).forEach((k, v) -> structural(path + "." + k, v, problems));
    if (s.getRequired() != null && !properties(s).keySet().containsAll(s.getRequired())) {
      problems.add(path + ": requires a property it does not have");
    }
    if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
      if (!properties(s).isEmpty()) {
        problems.add(path + ": properties and additionalProperties are exclusive");
      }
      structural(path + ".*", s.getAdditionalProperties().getSchema(), problems);
    }
    if (s.getItems() != null) {
      structural(path + "[]", s.getItems().getSchema(), problems);
    }
  }

  /** A value against a schema, as the API server would check it, known keys only. */
  private static void validate(String path, JsonNode v, JSONSchemaProps s, List<String> problems) {
    if (Boolean.TRUE.equals(s.getXKubernetesIntOrString())) {
      if (!v.isIntegralNumber() && !v.isString()) {
        problems.add(path + ": not an integer or string");
      }
      return;
    }
    if (s.getType() == null) {
      return;
    }
    switch (s.getType()) {
      case "object" -> {
        if (!v.isObject()) {
          problems.add(path + ": not an object");
          return;
        }
        for (Map.Entry<String, JsonNode> e : v.properties()) {
          String p = path.isEmpty() ? e.getKey() : path + "." + e.getKey();
          if (properties(s).containsKey(e.getKey())) {
            validate(p, e.getValue(), properties(s).get(e.getKey()), problems);
          } else if (s.getAdditionalProperties() != null && s.getAdditionalProperties().getSchema() != null) {
            validate(p, e.getValue(), s.getAdditionalProperties().getSchema(), problems);
          } else if (!properties(s).isEmpty()) {
            problems.add(p + ": not in the schema");
          }
        }
        if (s.getRequired() != null) {
          s.getRequired().stream().filter(r -> !v.has(r)).forEach(r -> problems.add(path + "." + r + ": missing"));
        }
      }
      case "array" -> {
        if (!v.isArray()) {
          problems.add(path + ": not an array");
          return;
        }
        for (int i = 0; i < v.size(); i++) {
          validate(path + "[" + i + "]", v.get(i), s.getItems().getSchema(), problems);
        }
      }
      case "string" -> {
        if (!v.isString()) {
          problems.add(path + ": not a string");
        } else if ("date-time".equals(s.getFormat())) {
          Instant.parse(v.asString());
        }
      }
      case "integer" -> {
        if (!v.isIntegralNumber()) {
          problems.add(path + ": not an integer");
        }
      }
      case "number" -> {
        if (!v.isNumber()) {
          problems.add(path + ": not a number");
        }
      }
      case "boolean" -> {
        if (!v.isBoolean()) {
          problems.add(path + ": not a boolean");
        }
      }
      default -> problems.add(path + ": unexpected type " + s.getType());
    }
  }

  private static void expectType(String path, JSONSchemaProps s, String type, List<String> problems) {
    if (s == null || !type.equals(s.getType())) {
      problems.add(path + ": " + type + " expected, the schema has " + (s == null ? "nothing" : s.getType()));
    }
  }

  /** fabric8 gives an empty map for a schema without properties. */
  private static Map<String, JSONSchemaProps> properties(JSONSchemaProps s) {
    return s.getProperties() == null ? Map.of() : s.getProperties();
  }

  private static Class<?> rawClass(Type type) {
    return type instanceof ParameterizedType p ? (Class<?>) p.getRawType() : (Class<?>) type;
  }

  private static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> all = new TreeSet<>(a);
    all.addAll(b);
    return all;
  }

  /** The YAML code blocks of docs/traces.md. */
  private static List<String> yamlBlocks() throws IOException {
    List<String> blocks = new ArrayList<>();
    Matcher m = Pattern.compile("(?ms)^```yaml\\n(.*?)^```").matcher(Files.readString(TRACES_DOC));
    while (m.find()) {
      blocks.add(m.group(1));
    }
    return blocks;
  }
}
