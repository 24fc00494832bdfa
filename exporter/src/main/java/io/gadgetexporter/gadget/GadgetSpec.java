package io.gadgetexporter.gadget;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.snakeyaml.engine.v2.api.Load;
import org.snakeyaml.engine.v2.api.LoadSettings;
import org.snakeyaml.engine.v2.exceptions.YamlEngineException;

/**
 * What a gadget's {@code gadget.yaml} says: the things BTF cannot say about its event (descriptions,
 * semantic attribute names, units, column widths) and its parameters.
 *
 * <p>The event's layout itself comes from the object's BTF ({@link EventSchema}); a field listed here
 * that the struct lacks, or a struct field missing here, is an error of the gadget, reported when the
 * gadget is loaded.
 *
 * @param eventStruct the struct submitted to the ring buffer; empty for an aggregating gadget
 * @param optionalPrograms programs whose hook may be missing on this kernel or architecture
 *     ({@code open(2)} has no tracepoint on arm64): the instance runs without them
 * @param aggregate for an aggregating gadget (rows read from a map on an interval instead of
 *     events), what to read; null for a tracer
 * @param mapSizes map name to the {@code uint} parameter that sets its {@code max_entries} before
 *     load
 * @param snapshot for a snapshot gadget (BPF iterators writing rows, run on demand and on an
 *     interval), its {@code snapshot:} section; null for a gadget that streams events
 */
public record GadgetSpec(
    String name,
    String description,
    String eventStruct,
    String eventName,
    List<FieldSpec> fields,
    List<String> optionalPrograms,
    List<ParamSpec> params,
    AggregateSpec aggregate,
    Map<String, String> mapSizes,
    SnapshotSpec snapshot) {

  public GadgetSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(description, "description");
    Objects.requireNonNull(eventStruct, "eventStruct");
    Objects.requireNonNull(eventName, "eventName");
    fields = List.copyOf(fields);
    optionalPrograms = List.copyOf(optionalPrograms);
    params = List.copyOf(params);
    mapSizes = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(mapSizes));
  }

  /** A tracer: events from the ring buffer, no map sized by a parameter. */
  public GadgetSpec(
      String name,
      String description,
      String eventStruct,
      String eventName,
      List<FieldSpec> fields,
      List<String> optionalPrograms,
      List<ParamSpec> params) {
    this(
        name,
        description,
        eventStruct,
        eventName,
        fields,
        optionalPrograms,
        params,
        null,
        Map.of(),
        null);
  }

  /** Whether the gadget's rows are read from a map on an interval rather than sent as events. */
  public boolean isAggregate() {
    return aggregate != null;
  }

  /**
   * How the gadget's records reach the agent, in a word for listings: {@code tracer} (events from
   * its ring buffer), {@code aggregate} (rows read from a map every interval) or {@code snapshot}
   * (rows from its iterators, on demand and on an interval).
   */
  public String kind() {
    return aggregate != null ? "aggregate" : snapshot != null ? "snapshot" : "tracer";
  }

  /**
   * The parameters the agent reads rather than the program: an aggregating gadget's {@code
   * interval} and {@code max_rows}, a snapshot gadget's {@code interval}, and those that size maps.
   */
  public java.util.Set<String> agentParams() {
    java.util.Set<String> names = new java.util.LinkedHashSet<>(mapSizes.values());
    if (aggregate != null) {
      names.add(AggregateSpec.INTERVAL);
      names.add(AggregateSpec.MAX_ROWS);
    }
    if (snapshot != null) {
      names.add(SnapshotSource.INTERVAL_PARAM);
    }
    return names;
  }

  /**
   * One event field as {@code gadget.yaml} describes it.
   *
   * @param from for a field derived in userspace, the payload field it is decoded from; null for a
   *     field of the event struct
   */
  public record FieldSpec(
      String name,
      String description,
      String semantic,
      int width,
      boolean hidden,
      String unit,
      String from) {}

  public Optional<FieldSpec> field(String fieldName) {
    return fields.stream().filter(f -> f.name().equals(fieldName)).findFirst();
  }

  public Optional<ParamSpec> param(String paramName) {
    return params.stream().filter(p -> p.name().equals(paramName)).findFirst();
  }

  /**
   * Parses a {@code gadget.yaml}.
   *
   * @param source names the file in error messages
   * @throws GadgetException when the file is not a valid gadget description
   */
  public static GadgetSpec parse(String yaml, String source) {
    Object root;
    try {
      root = new Load(LoadSettings.builder().setLabel(source).build()).loadFromString(yaml);
    } catch (YamlEngineException e) {
      throw new GadgetException(source + ": " + e.getMessage(), e);
    }
    Reader r = new Reader(source);
    Map<String, Object> top = r.map(root, "");
    r.onlyKeys(
        top,
        "",
        "name",
        "description",
        "event",
        "aggregate",
        "eventName",
        "fields",
        "optionalPrograms",
        "params",
        "mapSizes",
        "snapshot");
    String name = r.string(top, "", "name", true);
    String description = r.string(top, "", "description", true);
    AggregateSpec aggregate =
        top.get("aggregate") == null ? null : r.aggregate(top.get("aggregate"));
    if (aggregate != null && top.get("event") != null) {
      throw r.error("event", "an aggregating gadget (aggregate:) sends no events; remove event:");
    }
    if (aggregate != null && top.containsKey("snapshot")) {
      throw r.error("snapshot", "a gadget is aggregating (aggregate:) or a snapshot, not both");
    }
    String event = aggregate != null ? "" : r.string(top, "", "event", true);
    String eventName = r.string(top, "", "eventName", false);

    List<FieldSpec> fields = new ArrayList<>();
    Map<String, Object> fieldMap = r.map(top.get("fields"), "fields");
    for (Map.Entry<String, Object> e : fieldMap.entrySet()) {
      String path = "fields." + e.getKey();
      Map<String, Object> f = e.getValue() == null ? Map.of() : r.map(e.getValue(), path);
      r.onlyKeys(f, path, "description", "semantic", "width", "hidden", "unit", "from");
      fields.add(
          new FieldSpec(
              e.getKey(),
              Objects.requireNonNullElse(r.string(f, path, "description", false), ""),
              Objects.requireNonNullElse(r.string(f, path, "semantic", false), e.getKey()),
              (int) r.number(f, path, "width", Math.max(8, e.getKey().length())),
              r.bool(f, path, "hidden"),
              r.string(f, path, "unit", false),
              r.string(f, path, "from", false)));
    }

    List<String> optionalPrograms = new ArrayList<>();
    if (top.get("optionalPrograms") != null) {
      if (!(top.get("optionalPrograms") instanceof List<?> names)) {
        throw r.error("optionalPrograms", "must be a list of program names");
      }
      names.forEach(n -> optionalPrograms.add(String.valueOf(n)));
    }

    List<ParamSpec> params = new ArrayList<>();
    if (top.get("params") != null) {
      for (Map.Entry<String, Object> e : r.map(top.get("params"), "params").entrySet()) {
        String path = "params." + e.getKey();
        Map<String, Object> p = r.map(e.getValue(), path);
        r.onlyKeys(p, path, "type", "default", "min", "max", "description");
        ParamSpec.Type type = ParamSpec.Type.parse(r.string(p, path, "type", true), source, path);
        params.add(
            ParamSpec.of(
                e.getKey(),
                type,
                p.get("default"),
                r.bound(p, path, "min", type),
                r.bound(p, path, "max", type),
                Objects.requireNonNullElse(r.string(p, path, "description", false), ""),
                source));
      }
    }
    Map<String, String> mapSizes = new LinkedHashMap<>();
    if (top.get("mapSizes") != null) {
      for (Map.Entry<String, Object> e : r.map(top.get("mapSizes"), "mapSizes").entrySet()) {
        String param = String.valueOf(e.getValue());
        ParamSpec p = params.stream().filter(q -> q.name().equals(param)).findFirst().orElse(null);
        if (p == null || p.type() != ParamSpec.Type.UINT) {
          throw r.error(
              "mapSizes." + e.getKey(), "'" + param + "' must be a parameter of type uint");
        }
        mapSizes.put(e.getKey(), param);
      }
    }
    if (aggregate != null) {
      r.requireParam(params, AggregateSpec.INTERVAL, ParamSpec.Type.DURATION);
      r.requireParam(params, AggregateSpec.MAX_ROWS, ParamSpec.Type.UINT);
      if (!mapSizes.containsKey(aggregate.map())) {
        throw r.error(
            "mapSizes",
            "an aggregating gadget sizes its map '" + aggregate.map() + "' with a parameter"
                + " (e.g. mapSizes: {" + aggregate.map() + ": map_entries})");
      }
    }
    return new GadgetSpec(
        name,
        description,
        event,
        eventName == null ? name : eventName,
        fields,
        optionalPrograms,
        params,
        aggregate,
        mapSizes,
        top.containsKey("snapshot") ? SnapshotSpec.parse(top.get("snapshot"), source) : null);
  }

  /** Typed access to the loaded YAML tree, with errors that name the key. */
  private record Reader(String source) {
    AggregateSpec aggregate(Object node) {
      Map<String, Object> a = map(node, "aggregate");
      onlyKeys(a, "aggregate", "map", "key", "value", "sortBy");
      List<AggregateSpec.SortKey> sortBy = new ArrayList<>();
      if (a.get("sortBy") != null) {
        if (!(a.get("sortBy") instanceof List<?> keys)) {
          throw error("aggregate.sortBy", "must be a list of field names (-name: largest first)");
        }
        keys.forEach(k -> sortBy.add(AggregateSpec.SortKey.parse(String.valueOf(k))));
      }
      return new AggregateSpec(
          string(a, "aggregate", "map", true),
          string(a, "aggregate", "key", true),
          string(a, "aggregate", "value", true),
          sortBy);
    }

    /** An aggregating gadget must declare a parameter the agent reads, so that it is documented. */
    void requireParam(List<ParamSpec> params, String name, ParamSpec.Type type) {
      if (params.stream().noneMatch(p -> p.name().equals(name) && p.type() == type)) {
        throw error(
            "params",
            "an aggregating gadget declares '" + name + "' of type " + type
                + " (the agent reads it; its default and bounds are the gadget's)");
      }
    }

    @SuppressWarnings("unchecked")
    Map<String, Object> map(Object node, String path) {
      if (node instanceof Map<?, ?> m) {
        return new LinkedHashMap<>((Map<String, Object>) m);
      }
      throw error(path, "must be a mapping");
    }

    void onlyKeys(Map<String, Object> map, String path, String... allowed) {
      for (String key : map.keySet()) {
        if (!List.of(allowed).contains(key)) {
          throw error(join(path, key), "unknown key (known: " + String.join(", ", allowed) + ")");
        }
      }
    }

    String string(Map<String, Object> map, String path, String key, boolean required) {
      Object v = map.get(key);
      if (v == null) {
        if (required) {
          throw error(join(path, key), "is required");
        }
        return null;
      }
      return v.toString();
    }

    long number(Map<String, Object> map, String path, String key, long defaultValue) {
      Object v = map.get(key);
      if (v == null) {
        return defaultValue;
      }
      if (v instanceof Number n) {
        return n.longValue();
      }
      throw error(join(path, key), "must be a number");
    }

    /** A parameter's min or max: a number, or for a duration a duration in milliseconds. */
    Long bound(Map<String, Object> map, String path, String key, ParamSpec.Type type) {
      Object v = map.get(key);
      if (v == null) {
        return null;
      }
      if (type == ParamSpec.Type.DURATION) {
        try {
          return io.gadgetexporter.config.Units.parseDuration(v.toString()).toMillis();
        } catch (IllegalArgumentException e) {
          throw error(join(path, key), e.getMessage());
        }
      }
      if (v instanceof Number n) {
        return n.longValue();
      }
      throw error(join(path, key), "must be a number");
    }

    boolean bool(Map<String, Object> map, String path, String key) {
      Object v = map.get(key);
      if (v == null) {
        return false;
      }
      if (v instanceof Boolean b) {
        return b;
      }
      throw error(join(path, key), "must be true or false");
    }

    GadgetException error(String path, String message) {
      return new GadgetException(source + ": " + path + ": " + message);
    }

    static String join(String path, String key) {
      return path.isEmpty() ? key : path + "." + key;
    }
  }
}
