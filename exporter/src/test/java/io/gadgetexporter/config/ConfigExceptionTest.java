package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigExceptionTest {

  private static final ConfigLocation AT_7_21 = new ConfigLocation("config.yaml", 7, 21);

  @Test
  void formatsFileLineColumnKeyAndMessage() {
    ConfigException e =
        ConfigException.at(
            AT_7_21,
            "gadgets[1].ring_buffer.wakeup_bytes",
            "must be smaller than ring_buffer.size (8MiB)");

    assertThat(e)
        .hasMessage(
            "config.yaml:7:21: gadgets[1].ring_buffer.wakeup_bytes: must be smaller than"
                + " ring_buffer.size (8MiB)");
    assertThat(e.problems())
        .singleElement()
        .satisfies(
            p -> {
              assertThat(p.location()).isEqualTo(AT_7_21);
              assertThat(p.keyPath()).isEqualTo("gadgets[1].ring_buffer.wakeup_bytes");
            });
  }

  @Test
  void leavesOutWhatIsUnknown() {
    assertThat(ConfigException.at(AT_7_21, "", "invalid YAML: x"))
        .hasMessage("config.yaml:7:21: invalid YAML: x");
    assertThat(ConfigException.at(ConfigLocation.wholeFile("/etc/ge.yaml"), "", "no such file"))
        .hasMessage("/etc/ge.yaml: no such file");
  }

  @Test
  void listsEveryProblemOnItsOwnLine() {
    ConfigException e =
        new ConfigException(
            List.of(
                new ConfigException.Problem(AT_7_21, "a", "one"),
                new ConfigException.Problem(new ConfigLocation("config.yaml", 9, 1), "b", "two")));

    assertThat(e).hasMessage("config.yaml:7:21: a: one\nconfig.yaml:9:1: b: two");
    assertThat(e.problems()).hasSize(2);
  }

  @Test
  void needsAtLeastOneProblem() {
    assertThatThrownBy(() -> new ConfigException(List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /** How the gadget runtime reports a parameter problem it alone can find. */
  @Test
  void runtimeReportsAParamProblemAtItsLocation() {
    AgentConfig config =
        ConfigLoader.parse(
            "gadgets:\n  - gadget: trace_exec\n    params:\n      max_arg: 20\n",
            "config.yaml",
            Map.of());
    InstanceConfig instance = config.gadgets().get(0);
    ParamValue param = instance.params().get("max_arg");

    assertThat(param.error("unknown param 'max_arg' for gadget trace_exec (declared: max_args)"))
        .hasMessage(
            "config.yaml:4:16: gadgets[0].params.max_arg: unknown param 'max_arg' for gadget"
                + " trace_exec (declared: max_args)");
    assertThat(instance.gadgetError("no built-in gadget 'trace_exec' on this kernel"))
        .hasMessage(
            "config.yaml:2:13: gadgets[0].gadget: no built-in gadget 'trace_exec' on this kernel");
    assertThat(instance.error("missing param 'pid'"))
        .hasMessage("config.yaml:2:5: gadgets[0]: missing param 'pid'");
    assertThat(new ConfigException(List.of(param.problem("x"), instance.gadgetProblem("y"))))
        .hasMessage(
            "config.yaml:4:16: gadgets[0].params.max_arg: x\n"
                + "config.yaml:2:13: gadgets[0].gadget: y");
  }

  @Test
  void paramValuesAreScalarsOnly() {
    assertThatThrownBy(() -> new ParamValue("k", List.of(), "[]", "p", AT_7_21))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
