package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class YamlScalarsTest {

  @Test
  void coreSchemaTypes() {
    assertThat(YamlScalars.typed("true")).isEqualTo(true);
    assertThat(YamlScalars.typed("FALSE")).isEqualTo(false);
    assertThat(YamlScalars.typed("42")).isEqualTo(42L);
    assertThat(YamlScalars.typed("-7")).isEqualTo(-7L);
    assertThat(YamlScalars.typed("+7")).isEqualTo(7L);
    assertThat(YamlScalars.typed("0o17")).isEqualTo(15L);
    assertThat(YamlScalars.typed("0xff")).isEqualTo(255L);
    assertThat(YamlScalars.typed("1.5")).isEqualTo(1.5);
    assertThat(YamlScalars.typed("1e3")).isEqualTo(1000.0);
    assertThat(YamlScalars.typed(".inf")).isEqualTo(Double.POSITIVE_INFINITY);
    assertThat(YamlScalars.typed("-.inf")).isEqualTo(Double.NEGATIVE_INFINITY);
    assertThat((Double) YamlScalars.typed(".nan")).isNaN();
  }

  @Test
  void yaml11SurprisesAreStrings() {
    assertThat(YamlScalars.typed("yes")).isEqualTo("yes");
    assertThat(YamlScalars.typed("on")).isEqualTo("on");
    assertThat(YamlScalars.typed("1_000")).isEqualTo("1_000");
    assertThat(YamlScalars.typed("12:30")).isEqualTo("12:30");
  }

  @Test
  void leadingZeroIsDecimal() {
    assertThat(YamlScalars.typed("010")).isEqualTo(10L);
  }

  @Test
  void integersTooLargeForALongStayText() {
    assertThat(YamlScalars.typed("9223372036854775808")).isEqualTo("9223372036854775808");
    assertThat(YamlScalars.typed("0xffffffffffffffff")).isEqualTo("0xffffffffffffffff");
  }

  @Test
  void nulls() {
    assertThat(YamlScalars.isNull("")).isTrue();
    assertThat(YamlScalars.isNull("~")).isTrue();
    assertThat(YamlScalars.isNull("null")).isTrue();
    assertThat(YamlScalars.isNull("nil")).isFalse();
  }
}
