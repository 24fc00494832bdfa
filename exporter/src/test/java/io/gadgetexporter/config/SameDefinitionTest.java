package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A reload restarts an instance only when what it says changed, not where it is written. */
class SameDefinitionTest {
  private static final String EXEC =
      """
        - name: exec
          gadget: trace_exec
          params: {max_args: 8}
          selector: {namespaces: [shop]}
          metrics:
            - name: execs
              labels: [comm]
          redact:
            - field: args
              pattern: 'token=\\S+'
              replacement: token=***
      """;

  private static InstanceConfig exec(String yaml) {
    return ConfigLoader.parse(yaml, "agent.yaml", Map.of()).gadgets().stream()
        .filter(g -> g.name().equals("exec"))
        .findFirst()
        .orElseThrow();
  }

  @Test
  void theSameInstanceElsewhereInTheFileIsTheSame() {
    InstanceConfig first = exec("gadgets:\n" + EXEC);
    InstanceConfig moved =
        exec("# a comment\nhttp:\n  listen: 127.0.0.1:0\ngadgets:\n  - gadget: trace_open\n" + EXEC);
    assertThat(first.location()).isNotEqualTo(moved.location());
    assertThat(first).isNotEqualTo(moved); // records compare places too
    assertThat(SameDefinition.of(first, moved)).isTrue();
  }

  @Test
  void anyChangeOfWhatItSaysIsAChange() {
    InstanceConfig base = exec("gadgets:\n" + EXEC);
    for (String[] change :
        List.of(
            new String[] {"max_args: 8", "max_args: 9"},
            new String[] {"[shop]", "[shop, web]"},
            new String[] {"labels: [comm]", "labels: [comm, uid]"},
            new String[] {"token=\\S+", "secret=\\S+"},
            new String[] {"token=***", "token=xxx"})) {
      String edited = EXEC.replace(change[0], change[1]);
      assertThat(edited).as(change[0]).isNotEqualTo(EXEC);
      assertThat(SameDefinition.of(base, exec("gadgets:\n" + edited))).as(change[1]).isFalse();
    }
  }
}
