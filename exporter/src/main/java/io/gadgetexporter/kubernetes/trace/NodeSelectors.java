package io.gadgetexporter.kubernetes.trace;

import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.LabelSelectorRequirement;
import io.gadgetexporter.config.ConfigException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Trace's {@code spec.nodeSelector} against a node's labels, with the meaning Kubernetes gives a
 * {@code LabelSelector}: every {@code matchLabels} pair and every {@code matchExpressions}
 * requirement must hold ({@code In}, {@code NotIn}, {@code Exists}, {@code DoesNotExist}); an
 * empty selector, or none, selects every node.
 *
 * <p>A malformed selector (an unknown key, an unknown operator, values where none belong) is an
 * error rather than "no match": a typo must not silently run a Trace on every node, or on none.
 */
final class NodeSelectors {

  private static final String PATH = "spec.nodeSelector";

  private NodeSelectors() {}

  /**
   * @throws ConfigException when the selector is malformed, key paths from {@code spec}
   */
  static boolean matches(TraceSpec spec, Map<String, String> labels, String traceName) {
    if (spec.getMalformedNodeSelector() != null) {
      throw new ConfigException(
          List.of(
              TraceInstances.problem(
                  traceName,
                  PATH,
                  "expected a label selector (matchLabels: a mapping of strings, matchExpressions:"
                      + " a list of key, operator and values), got "
                      + spec.getMalformedNodeSelector())));
    }
    LabelSelector selector = spec.getNodeSelector();
    if (selector == null) {
      return true;
    }
    List<ConfigException.Problem> problems = check(selector, traceName);
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    if (selector.getMatchLabels() != null) {
      for (Map.Entry<String, String> e : selector.getMatchLabels().entrySet()) {
        if (!e.getValue().equals(labels.get(e.getKey()))) {
          return false;
        }
      }
    }
    if (selector.getMatchExpressions() != null) {
      for (LabelSelectorRequirement r : selector.getMatchExpressions()) {
        if (!holds(r, labels)) {
          return false;
        }
      }
    }
    return true;
  }

  private static boolean holds(LabelSelectorRequirement r, Map<String, String> labels) {
    String value = labels.get(r.getKey());
    return switch (r.getOperator()) {
      case "In" -> value != null && r.getValues().contains(value);
      case "NotIn" -> value == null || !r.getValues().contains(value);
      case "Exists" -> value != null;
      case "DoesNotExist" -> value == null;
      default -> throw new IllegalStateException("checked: " + r.getOperator());
    };
  }

  private static List<ConfigException.Problem> check(LabelSelector selector, String traceName) {
    List<ConfigException.Problem> problems = new ArrayList<>();
    selector
        .getAdditionalProperties()
        .keySet()
        .forEach(
            k ->
                problems.add(
                    TraceInstances.problem(
                        traceName,
                        PATH + "." + k,
                        "unknown key '" + k + "'; expected matchLabels or matchExpressions")));
    if (selector.getMatchLabels() != null) {
      selector
          .getMatchLabels()
          .forEach(
              (k, v) -> {
                if (v == null) {
                  problems.add(
                      TraceInstances.problem(
                          traceName, PATH + ".matchLabels." + k, "has no value; expected a string"));
                }
              });
    }
    List<LabelSelectorRequirement> expressions = selector.getMatchExpressions();
    for (int i = 0; expressions != null && i < expressions.size(); i++) {
      String path = PATH + ".matchExpressions[" + i + "]";
      LabelSelectorRequirement r = expressions.get(i);
      if (r == null) {
        problems.add(TraceInstances.problem(traceName, path, "expected a mapping"));
        continue;
      }
      r.getAdditionalProperties()
          .keySet()
          .forEach(
              k ->
                  problems.add(
                      TraceInstances.problem(
                          traceName,
                          path + "." + k,
                          "unknown key '" + k + "'; expected key, operator and values")));
      if (r.getKey() == null || r.getKey().isEmpty()) {
        problems.add(TraceInstances.problem(traceName, path + ".key", "is required"));
      }
      List<String> values = r.getValues() == null ? List.of() : r.getValues();
      String operator = r.getOperator();
      if (operator == null) {
        problems.add(TraceInstances.problem(traceName, path + ".operator", "is required"));
      } else if (operator.equals("In") || operator.equals("NotIn")) {
        if (values.isEmpty()) {
          problems.add(
              TraceInstances.problem(
                  traceName, path + ".values", "must not be empty with operator " + operator));
        }
      } else if (operator.equals("Exists") || operator.equals("DoesNotExist")) {
        if (!values.isEmpty()) {
          problems.add(
              TraceInstances.problem(
                  traceName, path + ".values", "must be empty with operator " + operator));
        }
      } else {
        problems.add(
            TraceInstances.problem(
                traceName,
                path + ".operator",
                "'" + operator + "' is not one of In, NotIn, Exists, DoesNotExist"));
      }
    }
    return problems;
  }
}
