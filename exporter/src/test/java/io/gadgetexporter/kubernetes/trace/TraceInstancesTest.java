package io.gadgetexporter.kubernetes.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.InstanceConfig;
import java.util.Map;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class TraceInstancesTest {

  private static String problems(String specYaml) {
    try {
      TraceInstances.instance(Traces.trace("t", specYaml));
    } catch (ConfigException e) {
      return TraceInstances.message(e);
    }
    throw new AssertionError("no problem found in\n" + specYaml);
  }

  @Test
  void theSpecIsTheConfigFilesInstanceNamedAfterTheTrace() {
    String keys =
        """
          gadget: trace_exec
          params:
            max_args: 32
          selector:
            namespaces: [shop]
            pods: ["!canary-*"]
          ring_buffer:
            size: 16MiB
            drain_interval: 250ms
          logs:
            severity: debug
          metrics:
            - name: process.execs
              labels: [comm]
          redact:
            - field: args
              pattern: 'secret=\\S+'
        """;
    Trace trace = Traces.trace("shop-exec", keys);
    trace.getSpec().setNodeSelector(null);

    InstanceConfig fromTrace = TraceInstances.instance(trace);
    InstanceConfig fromFile =
        ConfigLoader.parse("gadgets:\n  - name: x\n" + keys.indent(2), "f.yaml", Map.of())
            .gadgets()
            .get(0);

    assertThat(fromTrace.name()).isEqualTo("trace/shop-exec");
    assertThat(fromTrace.keyPath()).isEqualTo("spec");
    assertThat(fromTrace.gadget()).isEqualTo(fromFile.gadget());
    assertThat(fromTrace.params().keySet()).isEqualTo(fromFile.params().keySet());
    assertThat(fromTrace.params().get("max_args").value())
        .isEqualTo(fromFile.params().get("max_args").value());
    // Equal but for where things were written.
    assertThat(fromTrace)
        .usingRecursiveComparison()
        .ignoringFieldsMatchingRegexes(".*location", ".*Location", "name", "keyPath", ".*keyPath")
        .withEqualsForType((a, b) -> a.pattern().equals(b.pattern()), Pattern.class)
        .isEqualTo(fromFile);
    assertThat(fromTrace.metrics()).hasSize(1);
    assertThat(fromTrace.redact()).hasSize(1);
  }

  @Test
  void theNodeSelectorIsNotPartOfTheInstance() {
    Trace trace =
        Traces.trace(
            "t", "  gadget: trace_exec\n  nodeSelector:\n    matchLabels: {role: web}\n");
    assertThat(TraceInstances.instanceText(trace.getSpec())).isEqualTo("{\"gadget\":\"trace_exec\"}");
    assertThat(TraceInstances.instance(trace).gadget()).isEqualTo("trace_exec");
  }

  @Test
  void problemsAreReportedByKeyPathFromSpec() {
    assertThat(problems("  gadget: trace_exec\n  paramz: {max_args: 8}\n"))
        .isEqualTo("spec.paramz: unknown key 'paramz'; did you mean 'params'?");
    assertThat(problems("  gadget: trace_exec\n  ring_buffer: {size: 8MB}\n"))
        .startsWith("spec.ring_buffer.size: ");
    assertThat(problems("  params: {max_args: 8}\n")).contains("gadget");
  }

  @Test
  void everyProblemIsReportedOnItsOwnLine() {
    assertThat(
            problems(
                "  gadget: trace_exec\n  selectr: {}\n  ring_buffer: {drain_interval: 100}\n")
                .lines())
        .hasSize(2)
        .anySatisfy(l -> assertThat(l).startsWith("spec.selectr: unknown key 'selectr'"))
        .anySatisfy(l -> assertThat(l).startsWith("spec.ring_buffer.drain_interval: '100' has no unit"));
  }

  @Test
  void optionalIsNotAllowedATracesInstanceFailsAloneAnyway() {
    assertThat(problems("  gadget: trace_exec\n  optional: true\n"))
        .contains("spec.optional: is not set here: a Trace's instance never stops the agent");
  }

  @Test
  void nameIsNotAllowedTheTraceNamesTheInstance() {
    assertThat(problems("  name: exec\n  gadget: trace_exec\n"))
        .contains("spec.name: is not set here: the instance is named 'trace/t' after its resource");
  }

  @Test
  void aGadgetDirectoryIsRefused() {
    assertThat(problems("  gadget: /var/lib/kubelet/pods/x/volumes/gadget\n"))
        .isEqualTo(
            "spec.gadget: '/var/lib/kubelet/pods/x/volumes/gadget' is a path: a Trace runs"
                + " built-in gadgets only (a gadget directory is loaded from the node's"
                + " filesystem, so it belongs in the agent's config file)");
    assertThat(problems("  gadget: ./my_gadget\n")).startsWith("spec.gadget: './my_gadget' is a path");
  }

  @Test
  void valuesKeepTheTypeTheyHaveInTheResource() {
    // A string stays a string, as quoted in a file: the gadget then checks it as a string.
    InstanceConfig quoted =
        TraceInstances.instance(Traces.trace("t", "  gadget: trace_exec\n  params: {max_args: '8'}\n"));
    InstanceConfig plain =
        TraceInstances.instance(Traces.trace("t", "  gadget: trace_exec\n  params: {max_args: 8}\n"));
    assertThat(quoted.params().get("max_args").value()).isNotEqualTo(plain.params().get("max_args").value());
  }

  @Test
  void aValueOfTheWrongTypeIsReportedNotDropped() {
    assertThat(problems("  gadget: {name: trace_exec}\n")).startsWith("spec.gadget: ");
    assertThat(problems("  gadget: trace_exec\n  selector: [shop]\n")).startsWith("spec.selector: ");
    assertThat(problems("  gadget: trace_exec\n  metrics: [process.execs]\n"))
        .startsWith("spec.metrics[0]: ");
  }

  @Test
  void theAgentsEnvironmentIsNotReadable() {
    assertThat(System.getenv("PATH")).isNotNull();
    assertThat(problems("  gadget: trace_exec\n  params: {max_args: '${PATH}'}\n"))
        .startsWith("spec.params.max_args: ")
        .contains("PATH");
    assertThat(
            TraceInstances.instance(
                    Traces.trace("t", "  gadget: trace_exec\n  params: {max_args: '${N:-8}'}\n"))
                .params()
                .get("max_args")
                .value()
                .toString())
        .isEqualTo("8");
  }

  @Test
  void anEmptySpecAsksForAGadget() {
    Trace trace = Traces.trace("t", "  {}\n");
    assertThatThrownBy(() -> TraceInstances.instance(trace))
        .isInstanceOfSatisfying(
            ConfigException.class,
            e -> assertThat(TraceInstances.message(e)).startsWith("spec"));
  }
}
