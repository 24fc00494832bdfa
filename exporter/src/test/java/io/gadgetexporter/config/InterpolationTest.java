package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class InterpolationTest {

  private final Interpolation interpolation =
      new Interpolation(Map.of("HOST", "node-1", "EMPTY", "", "PORT", "9464"));

  @Test
  void textWithoutDollarIsUntouched() {
    assertThat(interpolation.apply("plain text {}")).isEqualTo("plain text {}");
  }

  @Test
  void setVariable() {
    assertThat(interpolation.apply("${HOST}:${PORT}")).isEqualTo("node-1:9464");
  }

  @Test
  void setButEmptyVariableIsUsedAsIs() {
    assertThat(interpolation.apply("a${EMPTY}b")).isEqualTo("ab");
  }

  @Test
  void defaultWhenUnsetOrEmpty() {
    assertThat(interpolation.apply("${UNSET:-0.0.0.0}")).isEqualTo("0.0.0.0");
    assertThat(interpolation.apply("${EMPTY:-fallback}")).isEqualTo("fallback");
    assertThat(interpolation.apply("${HOST:-fallback}")).isEqualTo("node-1");
    assertThat(interpolation.apply("${UNSET:-}")).isEmpty();
    assertThat(interpolation.apply("${UNSET:-a:-b}")).isEqualTo("a:-b");
  }

  @Test
  void unsetWithoutDefaultIsAnErrorNamingEachVariable() {
    assertThatThrownBy(() -> interpolation.apply("${A}-${HOST}-${B}"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "environment variable 'A' is not set (give a default with ${A:-value}); environment"
                + " variable 'B' is not set (give a default with ${B:-value})");
  }

  @Test
  void doubleDollarIsALiteralDollar() {
    assertThat(interpolation.apply("$$")).isEqualTo("$");
    assertThat(interpolation.apply("$${HOST}")).isEqualTo("${HOST}");
    assertThat(interpolation.apply("$$$${HOST}")).isEqualTo("$${HOST}");
  }

  @Test
  void loneDollarIsLiteral() {
    assertThat(interpolation.apply("cost: 5$ or $HOST")).isEqualTo("cost: 5$ or $HOST");
    assertThat(interpolation.apply("$")).isEqualTo("$");
  }

  @Test
  void resultIsNotInterpolatedAgain() {
    Interpolation sneaky = new Interpolation(Map.of("A", "${B}", "B", "no"));

    assertThat(sneaky.apply("${A}")).isEqualTo("${B}");
  }

  @Test
  void malformedReferences() {
    assertThatThrownBy(() -> interpolation.apply("x${HOST"))
        .hasMessage(
            "'${HOST' is missing its closing '}'; use ${NAME} or ${NAME:-default}, or $$ for a"
                + " literal $");
    assertThatThrownBy(() -> interpolation.apply("${}"))
        .hasMessageStartingWith("'${}' is not a variable reference;");
    assertThatThrownBy(() -> interpolation.apply("${1X}"))
        .hasMessageStartingWith("'${1X}' is not a variable reference;");
    assertThatThrownBy(() -> interpolation.apply("${HOST:default}"))
        .hasMessageStartingWith("'${HOST:default}' is not a variable reference;");
    assertThatThrownBy(() -> interpolation.apply("${A:-${B}}"))
        .hasMessageContaining("a default cannot contain another ${…}");
  }
}
