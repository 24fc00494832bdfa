package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ContainersAndSelectorConfigTest {

  private static AgentConfig parse(String yaml) {
    return ConfigLoader.parse(yaml, "c.yaml", Map.of());
  }

  private static List<String> errors(String yaml) {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> parse(yaml));
    assertThat(e).as("expected errors for:\n" + yaml).isNotNull();
    return Arrays.asList(e.getMessage().split("\n"));
  }

  @Test
  void defaultsWhenLeftOut() {
    AgentConfig c = parse("gadgets:\n  - gadget: trace_exec\n");
    assertThat(c.containers()).isEqualTo(ContainersConfig.DEFAULT);
    assertThat(c.gadgets().get(0).selector().selectsEverything()).isTrue();
  }

  @Test
  void readsEveryContainersKey() {
    ContainersConfig c =
        parse(
                """
                containers:
                  enabled: true
                  runtime_hook: false
                  runtime_paths: [/opt/bin/runc]
                  runtime_state_dirs: /var/run/my-runc
                  host_root: /host
                  reconcile_interval: 500ms
                  exited_grace_period: 1m
                  hook_timeout: 1s
                gadgets:
                  - gadget: trace_exec
                """)
            .containers();
    assertThat(c.runtimeHook()).isFalse();
    assertThat(c.runtimePaths()).containsExactly(Path.of("/opt/bin/runc"));
    assertThat(c.runtimeStateDirs()).containsExactly(Path.of("/var/run/my-runc"));
    assertThat(c.hostRoot()).isEqualTo(Path.of("/host"));
    assertThat(c.onHost(Path.of("/run/runc"))).isEqualTo(Path.of("/host/run/runc"));
    assertThat(c.reconcileInterval()).isEqualTo(Duration.ofMillis(500));
    assertThat(c.exitedGracePeriod()).isEqualTo(Duration.ofMinutes(1));
    assertThat(c.hookTimeout()).isEqualTo(Duration.ofSeconds(1));
  }

  @Test
  void readsASelector() {
    SelectorConfig s =
        parse(
                """
                gadgets:
                  - gadget: trace_exec
                    selector:
                      namespaces: [shop, "!shop-canary"]
                      pods: web-1
                      labels: {app: web}
                """)
            .gadgets()
            .get(0)
            .selector();
    assertThat(s.namespaces()).containsExactly("shop", "!shop-canary");
    assertThat(s.pods()).containsExactly("web-1");
    assertThat(s.labels()).containsEntry("app", "web");
    assertThat(s.host()).isEqualTo(Optional.empty());
    assertThat(s.includesHost()).isFalse();
    assertThat(s.location().line()).isEqualTo(4);
  }

  @Test
  void wrongValuesAreReportedWhereTheyAre() {
    assertThat(
            errors(
                """
                containers:
                  runtime_hook: maybe
                  runtime_paths: [bin/runc]
                  reconcile_interval: 5ms
                  host_root: host
                gadgets:
                  - gadget: trace_exec
                    selector:
                      pods: ["!"]
                      host: yes
                      nodes: [a]
                """))
        .containsExactly(
            "c.yaml:2:17: containers.runtime_hook: expected true or false, got 'maybe'",
            "c.yaml:3:19: containers.runtime_paths: 'bin/runc' must be an absolute path",
            "c.yaml:4:23: containers.reconcile_interval: must be from 100ms to 10m",
            "c.yaml:5:14: containers.host_root: must be an absolute path",
            "c.yaml:9:14: gadgets[0].selector.pods: '!' names nothing; write a name, or !name to"
                + " exclude it",
            "c.yaml:10:13: gadgets[0].selector.host: expected true or false, got 'yes'",
            "c.yaml:11:7: gadgets[0].selector.nodes: unknown key 'nodes'; did you mean 'pods'?");
  }

  @Test
  void aSelectorNeedsDiscovery() {
    assertThat(
            errors(
                """
                containers:
                  enabled: false
                gadgets:
                  - gadget: trace_exec
                    selector:
                      namespaces: [shop]
                """))
        .containsExactly(
            "c.yaml:6:7: gadgets[0].selector: selects containers, but container discovery is off"
                + " (containers.enabled: false); turn it on or remove the selector");
  }
}
