package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UnitsTest {

  @ParameterizedTest
  @CsvSource({
    "4096, 4096",
    "4096B, 4096",
    "0, 0",
    "4KiB, 4096",
    "8MiB, 8388608",
    "8 MiB, 8388608",
    "1GiB, 1073741824",
    "3GiB, 3221225472",
  })
  void parsesSizes(String text, long bytes) {
    assertThat(Units.parseSize(text)).isEqualTo(bytes);
  }

  @Test
  void rejectsDecimalAndUnknownSizeUnitsWithAHint() {
    assertThatThrownBy(() -> Units.parseSize("8MB"))
        .hasMessage(
            "unknown unit 'MB' in '8MB'; sizes use B, KiB, MiB or GiB (powers of 1024); did you"
                + " mean '8MiB'?");
    assertThatThrownBy(() -> Units.parseSize("512k"))
        .hasMessageEndingWith("did you mean '512KiB'?");
    assertThatThrownBy(() -> Units.parseSize("1gib")).hasMessageEndingWith("did you mean '1GiB'?");
    assertThatThrownBy(() -> Units.parseSize("2 pages"))
        .hasMessage(
            "unknown unit 'pages' in '2 pages'; sizes use B, KiB, MiB or GiB (powers of"
                + " 1024)");
  }

  @Test
  void rejectsMalformedSizes() {
    assertThatThrownBy(() -> Units.parseSize("-1"))
        .hasMessage(
            "'-1' is not a size; write a number of bytes, or a number with B, KiB, MiB or GiB"
                + " (e.g. 8MiB)");
    assertThatThrownBy(() -> Units.parseSize("")).hasMessageStartingWith("'' is not a size");
    assertThatThrownBy(() -> Units.parseSize("0x1000")).hasMessageStartingWith("'0x1000' is not");
    assertThatThrownBy(() -> Units.parseSize("1.5MiB"))
        .hasMessage("'1.5MiB' is not a whole number; use a smaller unit (e.g. 1536KiB for 1.5MiB)");
    assertThatThrownBy(() -> Units.parseSize("99999999999GiB"))
        .hasMessage("'99999999999GiB' is too large");
    assertThatThrownBy(() -> Units.parseSize("99999999999999999999"))
        .hasMessageEndingWith("is too large");
  }

  @ParameterizedTest
  @CsvSource({
    "0, 0B",
    "1000, 1000B",
    "4096, 4KiB",
    "1048576, 1MiB",
    "1572864, 1536KiB",
    "8388608, 8MiB",
    "1073741824, 1GiB"
  })
  void formatsSizesInTheLargestExactUnit(long bytes, String text) {
    assertThat(Units.formatSize(bytes)).isEqualTo(text);
    assertThat(Units.parseSize(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @CsvSource({
    "1ms, PT0.001S",
    "250ms, PT0.25S",
    "1s, PT1S",
    "10 s, PT10S",
    "2m, PT2M",
    "0ms, PT0S"
  })
  void parsesDurations(String text, Duration duration) {
    assertThat(Units.parseDuration(text)).isEqualTo(duration);
  }

  @Test
  void rejectsBadDurations() {
    assertThatThrownBy(() -> Units.parseDuration("100"))
        .hasMessage("'100' has no unit; write a whole number with ms, s or m (e.g. 100ms)");
    assertThatThrownBy(() -> Units.parseDuration("1h"))
        .hasMessage("unknown unit 'h' in '1h'; durations use ms, s or m");
    assertThatThrownBy(() -> Units.parseDuration("1.5s"))
        .hasMessage("'1.5s' is not a whole number; use a smaller unit (e.g. 1500ms for 1.5s)");
    assertThatThrownBy(() -> Units.parseDuration("fast"))
        .hasMessage("'fast' is not a duration; write a whole number with ms, s or m (e.g. 250ms)");
    assertThatThrownBy(() -> Units.parseDuration("9999999999999999999m"))
        .hasMessageEndingWith("is too large");
    assertThatThrownBy(() -> Units.parseDuration("999999999999999999m"))
        .hasMessageEndingWith("is too large");
  }

  @ParameterizedTest
  @CsvSource({"PT0.1S, 100ms", "PT1S, 1s", "PT1.5S, 1500ms", "PT2M, 2m", "PT0S, 0ms"})
  void formatsDurationsInTheLargestExactUnit(Duration duration, String text) {
    assertThat(Units.formatDuration(duration)).isEqualTo(text);
  }
}
