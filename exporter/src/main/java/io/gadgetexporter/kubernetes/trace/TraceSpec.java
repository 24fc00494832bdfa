package io.gadgetexporter.kubernetes.trace;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import io.fabric8.kubernetes.api.model.LabelSelector;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.JsonParser;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ValueDeserializer;
import tools.jackson.databind.annotation.JsonDeserialize;

/**
 * What a Trace runs: the keys of one {@code gadgets[]} entry of the config file, {@code name}
 * excepted (the instance is named after the Trace), plus {@link #getNodeSelector nodeSelector}.
 *
 * <p>This class only carries the keys: everything below the first level is kept as the API server
 * stores it (maps, lists and scalars, keys as written), and the agent checks the whole instance with
 * the config file's own reader ({@link TraceInstances}). Keys it does not know are kept in {@link
 * #getOtherKeys} so that they are reported rather than silently dropped; the manifest preserves
 * them for the same reason.
 *
 * <p>The types here are those the CRD schema admits. Deserializing never fails even so (a CRD of
 * another version may admit more): a value of another type is kept as written, under its key in
 * {@link #getOtherKeys}, for the config reader to report. One Trace that could not be read would
 * otherwise stop the informer, and with it every Trace.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonDeserialize(using = TraceSpec.Lenient.class)
@JsonPropertyOrder({
  "gadget",
  "params",
  "selector",
  "ring_buffer",
  "logs",
  "metrics",
  "redact",
  "nodeSelector"
})
public final class TraceSpec {

  private String gadget;
  private Map<String, Object> params;
  private Map<String, Object> selector;

  @JsonProperty("ring_buffer")
  private Map<String, Object> ringBuffer;

  /** {@code true}/{@code false} or a mapping, as in the config file. */
  private Object logs;

  private List<Map<String, Object>> metrics;
  private List<Map<String, Object>> redact;
  private LabelSelector nodeSelector;
  private final Map<String, Object> otherKeys = new LinkedHashMap<>();
  private Object malformedNodeSelector;

  public String getGadget() {
    return gadget;
  }

  public void setGadget(String gadget) {
    this.gadget = gadget;
  }

  public Map<String, Object> getParams() {
    return params;
  }

  public void setParams(Map<String, Object> params) {
    this.params = params;
  }

  public Map<String, Object> getSelector() {
    return selector;
  }

  public void setSelector(Map<String, Object> selector) {
    this.selector = selector;
  }

  public Map<String, Object> getRingBuffer() {
    return ringBuffer;
  }

  public void setRingBuffer(Map<String, Object> ringBuffer) {
    this.ringBuffer = ringBuffer;
  }

  public Object getLogs() {
    return logs;
  }

  public void setLogs(Object logs) {
    this.logs = logs;
  }

  public List<Map<String, Object>> getMetrics() {
    return metrics;
  }

  public void setMetrics(List<Map<String, Object>> metrics) {
    this.metrics = metrics;
  }

  public List<Map<String, Object>> getRedact() {
    return redact;
  }

  public void setRedact(List<Map<String, Object>> redact) {
    this.redact = redact;
  }

  /** Which nodes run the Trace, matched against each node's labels; null: every node. */
  public LabelSelector getNodeSelector() {
    return nodeSelector;
  }

  public void setNodeSelector(LabelSelector nodeSelector) {
    this.nodeSelector = nodeSelector;
  }

  /** A {@code nodeSelector} that is not a label selector, as written; null when there is none. */
  @JsonIgnore
  public Object getMalformedNodeSelector() {
    return malformedNodeSelector;
  }

  /** Keys this model does not know (a typo, or {@code name}); reported as the config file would. */
  @JsonAnyGetter
  public Map<String, Object> getOtherKeys() {
    return otherKeys;
  }

  @JsonAnySetter
  public void setOtherKey(String key, Object value) {
    otherKeys.put(key, value);
  }

  /**
   * The instance part, as a {@code gadgets[]} entry: every key but {@code nodeSelector}, in the
   * order of a config file, unknown ones last.
   */
  @JsonIgnore
  public Map<String, Object> instanceKeys() {
    Map<String, Object> keys = new LinkedHashMap<>();
    putIfSet(keys, "gadget", gadget);
    putIfSet(keys, "params", params);
    putIfSet(keys, "selector", selector);
    putIfSet(keys, "ring_buffer", ringBuffer);
    putIfSet(keys, "logs", logs);
    putIfSet(keys, "metrics", metrics);
    putIfSet(keys, "redact", redact);
    keys.putAll(otherKeys);
    return keys;
  }

  private static void putIfSet(Map<String, Object> keys, String key, Object value) {
    if (value != null) {
      keys.put(key, value);
    }
  }

  /** Reads each key on its own, keeping a value of an unexpected type as written. */
  static final class Lenient extends ValueDeserializer<TraceSpec> {

    @Override
    public TraceSpec deserialize(JsonParser p, DeserializationContext ctxt) {
      JsonNode tree = ctxt.readTree(p);
      TraceSpec spec = new TraceSpec();
      if (!tree.isObject()) {
        spec.setOtherKey("spec", ctxt.readTreeAsValue(tree, Object.class));
        return spec;
      }
      for (Map.Entry<String, JsonNode> e : tree.properties()) {
        String key = e.getKey();
        JsonNode v = e.getValue();
        if (v.isNull()) {
          continue; // as a key written without a value: the defaults
        }
        boolean typed =
            switch (key) {
              case "gadget" -> v.isString() && (spec.gadget = v.asString()) != null;
              case "params" -> v.isObject() && (spec.params = map(v, ctxt)) != null;
              case "selector" -> v.isObject() && (spec.selector = map(v, ctxt)) != null;
              case "ring_buffer" -> v.isObject() && (spec.ringBuffer = map(v, ctxt)) != null;
              case "logs" -> (spec.logs = ctxt.readTreeAsValue(v, Object.class)) != null;
              case "metrics" -> isListOfMappings(v) && (spec.metrics = maps(v, ctxt)) != null;
              case "redact" -> isListOfMappings(v) && (spec.redact = maps(v, ctxt)) != null;
              case "nodeSelector" -> (spec.nodeSelector = labelSelector(v, ctxt)) != null;
              default -> false;
            };
        if (!typed) {
          Object raw = ctxt.readTreeAsValue(v, Object.class);
          if (key.equals("nodeSelector")) {
            spec.malformedNodeSelector = raw;
          } else {
            spec.otherKeys.put(key, raw);
          }
        }
      }
      return spec;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(JsonNode v, DeserializationContext ctxt) {
      return ctxt.readTreeAsValue(v, LinkedHashMap.class);
    }

    private static boolean isListOfMappings(JsonNode v) {
      if (!v.isArray()) {
        return false;
      }
      for (JsonNode item : v) {
        if (!item.isObject()) {
          return false;
        }
      }
      return true;
    }

    private static List<Map<String, Object>> maps(JsonNode v, DeserializationContext ctxt) {
      List<Map<String, Object>> list = new ArrayList<>();
      for (JsonNode item : v) {
        list.add(map(item, ctxt));
      }
      return list;
    }

    private static LabelSelector labelSelector(JsonNode v, DeserializationContext ctxt) {
      if (!v.isObject()) {
        return null;
      }
      try {
        return ctxt.readTreeAsValue(v, LabelSelector.class);
      } catch (JacksonException e) {
        return null;
      }
    }
  }
}
