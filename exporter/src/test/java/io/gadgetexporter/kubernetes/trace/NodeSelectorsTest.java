package io.gadgetexporter.kubernetes.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NodeSelectorsTest {

  private static final Map<String, String> NODE =
      Map.of("kubernetes.io/os", "linux", "role", "web", "zone", "a");

  private static boolean matches(String selectorYaml) {
    TraceSpec spec = Traces.trace("t", "  gadget: trace_exec\n" + selectorYaml).getSpec();
    return NodeSelectors.matches(spec, NODE, "t");
  }

  @Test
  void noSelectorOrAnEmptyOneSelectsEveryNode() {
    assertThat(matches("")).isTrue();
    assertThat(matches("  nodeSelector: {}\n")).isTrue();
  }

  @Test
  void matchLabelsNeedsEveryPair() {
    assertThat(matches("  nodeSelector:\n    matchLabels: {role: web, zone: a}\n")).isTrue();
    assertThat(matches("  nodeSelector:\n    matchLabels: {role: web, zone: b}\n")).isFalse();
    assertThat(matches("  nodeSelector:\n    matchLabels: {gpu: 'true'}\n")).isFalse();
  }

  @Test
  void matchExpressionsHaveTheFourOperators() {
    String in = "  nodeSelector:\n    matchExpressions:\n      - {key: role, operator: %s%s}\n";
    assertThat(matches(in.formatted("In", ", values: [db, web]"))).isTrue();
    assertThat(matches(in.formatted("In", ", values: [db]"))).isFalse();
    assertThat(matches(in.formatted("NotIn", ", values: [db]"))).isTrue();
    assertThat(matches(in.formatted("NotIn", ", values: [web]"))).isFalse();
    assertThat(matches(in.formatted("Exists", ""))).isTrue();
    assertThat(matches(in.formatted("DoesNotExist", ""))).isFalse();
    String gpu = "  nodeSelector:\n    matchExpressions:\n      - {key: gpu, operator: %s%s}\n";
    assertThat(matches(gpu.formatted("NotIn", ", values: ['true']"))).isTrue();
    assertThat(matches(gpu.formatted("DoesNotExist", ""))).isTrue();
  }

  @Test
  void labelsAndExpressionsMustAllHold() {
    assertThat(
            matches(
                "  nodeSelector:\n    matchLabels: {role: web}\n    matchExpressions:\n"
                    + "      - {key: zone, operator: In, values: [b]}\n"))
        .isFalse();
  }

  @Test
  void aMalformedSelectorIsAnErrorNotAMismatch() {
    assertThatThrownBy(
            () ->
                matches(
                    "  nodeSelector:\n    matchLabel: {role: web}\n    matchExpressions:\n"
                        + "      - {key: role, operator: in, values: [web]}\n"
                        + "      - {key: zone, operator: Exists, values: [a]}\n"
                        + "      - {operator: In, values: []}\n"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(TraceInstances.message(e))
                    .isEqualTo(
                        "spec.nodeSelector.matchLabel: unknown key 'matchLabel'; expected"
                            + " matchLabels or matchExpressions\n"
                            + "spec.nodeSelector.matchExpressions[0].operator: 'in' is not one of"
                            + " In, NotIn, Exists, DoesNotExist\n"
                            + "spec.nodeSelector.matchExpressions[1].values: must be empty with"
                            + " operator Exists\n"
                            + "spec.nodeSelector.matchExpressions[2].key: is required\n"
                            + "spec.nodeSelector.matchExpressions[2].values: must not be empty"
                            + " with operator In"));
  }

  @Test
  void aSelectorOfTheWrongShapeIsAnError() {
    assertThatThrownBy(() -> matches("  nodeSelector: [role]\n"))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e ->
                assertThat(TraceInstances.message(e))
                    .startsWith("spec.nodeSelector: expected a label selector"));
    assertThatThrownBy(() -> matches("  nodeSelector:\n    matchLabels: {role: [web]}\n"))
        .isInstanceOf(ConfigException.class);
  }
}
