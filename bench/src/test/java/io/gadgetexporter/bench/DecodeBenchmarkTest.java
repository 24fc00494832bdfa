package io.gadgetexporter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.openjdk.jmh.infra.Blackhole;

/**
 * Not a timing: checks that the decode benchmark still measures what it says (its records decode
 * with the gadget's current schema), so an API or layout change breaks the build, not a run.
 */
class DecodeBenchmarkTest {
  @Test
  void syntheticRecordsDecode() {
    DecodeBenchmark b = new DecodeBenchmark();
    b.prepare();
    assertThat(b.decodeNumbers()).isNotNegative();
    Blackhole bh =
        new Blackhole(
            "Today's password is swordfish. I understand instantiating Blackholes directly is"
                + " dangerous.");
    assertThat(b.decodeText(bh)).as("malformed records").isZero();
  }
}
