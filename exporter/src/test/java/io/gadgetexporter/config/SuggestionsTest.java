package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SuggestionsTest {

  private static final List<String> INSTANCE_KEYS =
      List.of("name", "gadget", "params", "ring_buffer");

  @Test
  void suggestsNearMisses() {
    assertThat(Suggestions.nearest("listn", List.of("listen"))).contains("listen");
    assertThat(Suggestions.nearest("paramz", INSTANCE_KEYS)).contains("params");
    assertThat(Suggestions.nearest("ringBuffer", INSTANCE_KEYS)).contains("ring_buffer");
    assertThat(Suggestions.nearest("Gadget", INSTANCE_KEYS)).contains("gadget");
    assertThat(Suggestions.nearest("gadgets", INSTANCE_KEYS)).contains("gadget");
  }

  @Test
  void suggestsByPrefix() {
    assertThat(Suggestions.nearest("wakeup", List.of("size", "wakeup_bytes", "drain_interval")))
        .contains("wakeup_bytes");
    assertThat(Suggestions.nearest("size_bytes", List.of("size", "wakeup_bytes"))).contains("size");
  }

  @Test
  void staysQuietWhenNothingIsClose() {
    assertThat(Suggestions.nearest("selector", INSTANCE_KEYS)).isEmpty();
    assertThat(Suggestions.nearest("x", List.of("listen"))).isEmpty();
  }

  @Test
  void distance() {
    assertThat(Suggestions.distance("", "abc")).isEqualTo(3);
    assertThat(Suggestions.distance("kitten", "sitting")).isEqualTo(3);
    assertThat(Suggestions.distance("same", "same")).isZero();
  }
}
