package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import org.junit.jupiter.api.Test;

class ContainerMetadataExceptionTest {

  @Test
  void reasonsAreLowerCaseLabels() {
    assertThat(Reason.MALFORMED_CONFIG_JSON.label()).isEqualTo("malformed_config_json");
    assertThat(Reason.CONFIG_JSON_TOO_LARGE).hasToString("config_json_too_large");
    assertThat(Reason.values())
        .extracting(Reason::label)
        .allSatisfy(label -> assertThat(label).matches("[a-z_]+"));
  }

  @Test
  void theMessageNamesTheFile() {
    ContainerMetadataException e =
        new ContainerMetadataException(
            Reason.MALFORMED_PID_FILE, "/run/x/init.pid", "'abc' is not a process id");

    assertThat(e).hasMessage("/run/x/init.pid: 'abc' is not a process id");
    assertThat(e.source()).isEqualTo("/run/x/init.pid");
    assertThat(e.reason()).isEqualTo(Reason.MALFORMED_PID_FILE);
  }
}
