package io.gadgetexporter.bpf;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.BtfField.Kind;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Layouts described by hand, as a decoder's unit tests do (no kernel needed). */
class BtfFieldTest {
  @Test
  void theNineArgumentConstructorDescribesAPlainMember() {
    BtfField f = new BtfField("comm", 24, 16, Kind.ARRAY, "gadget_comm", true, Kind.CHAR, 1, 16);
    assertThat(f.bitOffset()).isEqualTo(24 * 8);
    assertThat(f.bitSize()).isZero();
    assertThat(f.isBitfield()).isFalse();
    assertThat(f.isCharArray()).isTrue();
    assertThat(f.typeName()).isEmpty();
  }

  @Test
  void structsLookUpFieldsByName() {
    BtfStruct s =
        new BtfStruct(
            "event",
            16,
            List.of(
                new BtfField("ts", 0, 8, Kind.INT, "gadget_timestamp", false, null, 0, 0),
                new BtfField("pid", 8, 4, Kind.INT, "gadget_pid", false, null, 0, 0)));
    assertThat(s.field("pid").orElseThrow().offset()).isEqualTo(8);
    assertThat(s.field("nope")).isEmpty();
  }
}
