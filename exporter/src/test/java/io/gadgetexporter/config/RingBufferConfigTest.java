package io.gadgetexporter.config;

import static io.gadgetexporter.config.Units.GIB;
import static io.gadgetexporter.config.Units.KIB;
import static io.gadgetexporter.config.Units.MIB;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RingBufferConfigTest {

  @Test
  void defaults() {
    assertThat(RingBufferConfig.defaults())
        .isEqualTo(new RingBufferConfig(8 * MIB, 1 * MIB, Duration.ofMillis(100)));
  }

  @Test
  void defaultWakeupIsAtMostAQuarterOfTheRing() {
    assertThat(RingBufferConfig.defaultWakeupBytes(64 * MIB)).isEqualTo(1 * MIB);
    assertThat(RingBufferConfig.defaultWakeupBytes(4 * MIB)).isEqualTo(1 * MIB);
    assertThat(RingBufferConfig.defaultWakeupBytes(2 * MIB)).isEqualTo(512 * KIB);
    assertThat(RingBufferConfig.defaultWakeupBytes(4 * KIB)).isEqualTo(1 * KIB);
  }

  @Test
  void sizeRules() {
    assertThat(RingBufferConfig.sizeProblem(4 * KIB)).isEmpty();
    assertThat(RingBufferConfig.sizeProblem(1 * GIB)).isEmpty();
    assertThat(RingBufferConfig.sizeProblem(2 * KIB)).contains("must be at least 4KiB (one page)");
    assertThat(RingBufferConfig.sizeProblem(2 * GIB)).contains("must be at most 1GiB");
    assertThat(RingBufferConfig.sizeProblem(12 * KIB))
        .contains(
            "must be a power of two (a kernel rule for BPF ring buffers), e.g. 8KiB or 16KiB");
  }

  @Test
  void wakeupRules() {
    assertThat(RingBufferConfig.wakeupProblem(0, 4 * KIB)).as("0 = every event").isEmpty();
    assertThat(RingBufferConfig.wakeupProblem(4 * KIB - 1, 4 * KIB)).isEmpty();
    assertThat(RingBufferConfig.wakeupProblem(4 * KIB, 4 * KIB))
        .contains("must be smaller than ring_buffer.size (4KiB)");
    assertThat(RingBufferConfig.wakeupProblem(-1, 4 * KIB)).contains("must not be negative");
  }

  @Test
  void drainIntervalRules() {
    assertThat(RingBufferConfig.drainIntervalProblem(Duration.ofMillis(1))).isEmpty();
    assertThat(RingBufferConfig.drainIntervalProblem(Duration.ofSeconds(10))).isEmpty();
    assertThat(RingBufferConfig.drainIntervalProblem(Duration.ofNanos(999_999)))
        .contains("must be from 1ms to 10s");
    assertThat(RingBufferConfig.drainIntervalProblem(Duration.ofMillis(10_001)))
        .contains("must be from 1ms to 10s");
  }

  @Test
  void constructorRefusesWhatTheLoaderRejects() {
    assertThatThrownBy(() -> new RingBufferConfig(3 * MIB, 0, Duration.ofMillis(100)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("must be a power of two");
    assertThatThrownBy(() -> new RingBufferConfig(8 * MIB, 8 * MIB, Duration.ofMillis(100)))
        .hasMessage("must be smaller than ring_buffer.size (8MiB)");
    assertThatThrownBy(() -> new RingBufferConfig(8 * MIB, 0, Duration.ZERO))
        .hasMessage("must be from 1ms to 10s");
  }
}
