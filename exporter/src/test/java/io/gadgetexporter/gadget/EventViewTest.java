package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.BtfStruct;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Decoding of hand-made records: every format, and malformed records refused. */
class EventViewTest {
  static EventSchema schema() {
    return EventViewFixtures.schema();
  }

  static ByteBuffer record(long ts, long ret, int argsSize, String args) {
    return EventViewFixtures.record(ts, ret, argsSize, args);
  }

  @Test
  void decodesEveryWellKnownType() {
    EventSchema schema = schema();
    EventView view = new EventView(schema, BootClock.fixed(1_000_000_000_000L));
    ByteBuffer b = record(5_000_000_000L, -2, 11, "cat\0-n\0file\0");
    assertThat(view.bind(b, 0, 88)).isTrue();

    EventField ts = schema.field("ts").orElseThrow();
    assertThat(view.getInstant(ts)).isEqualTo(Instant.ofEpochSecond(1005));
    assertThat(view.text(schema.field("ret").orElseThrow())).isEqualTo("ENOENT");
    assertThat(view.getLong(schema.field("ret").orElseThrow())).isEqualTo(-2);
    assertThat(view.text(schema.field("flags").orElseThrow()))
        .isEqualTo("O_WRONLY|O_CREAT|O_CLOEXEC");
    assertThat(view.text(schema.field("mode").orElseThrow())).isEqualTo("0644");
    assertThat(view.value(schema.field("cut").orElseThrow())).isEqualTo(true);
    assertThat(view.text(schema.field("comm").orElseThrow())).isEqualTo("cat");
    assertThat(view.value(schema.field("args").orElseThrow()))
        .isEqualTo(List.of("cat", "-n", "file"));
    assertThat(view.text(schema.field("err").orElseThrow())).isEqualTo("EACCES");
  }

  @Test
  void lastArgumentCutWithoutItsNulIsKept() {
    EventView view = new EventView(schema(), BootClock.fixed(0));
    assertThat(view.bind(record(0, 0, 9, "cat\0-n\0fi"), 0, 88)).isTrue();
    assertThat(view.getArgs(schema().field("args").orElseThrow()))
        .isEqualTo(List.of("cat", "-n", "fi"));
  }

  @Test
  void shortRecordIsMalformed() {
    EventView view = new EventView(schema(), BootClock.fixed(0));
    assertThat(view.bind(record(0, 0, 4, "ls\0"), 0, 87)).isFalse();
  }

  @Test
  void argsSizePastItsBufferIsMalformed() {
    EventView view = new EventView(schema(), BootClock.fixed(0));
    assertThat(view.bind(record(0, 0, 33, "ls\0"), 0, 88)).isFalse();
  }

  @Test
  void eachArgsBufferIsReadWithItsOwnSizeField() {
    GadgetSpec spec =
        GadgetSpec.parse(
            "name: two\ndescription: d\nevent: event\nfields:\n  argv: {}\n  argv_size: {}\n"
                + "  envp: {}\n  envp_size: {}\n",
            "two.yaml");
    EventSchema schema =
        EventSchema.of(
            new BtfStruct(
                "event",
                48,
                List.of(
                    BtfFields.charArray("argv", 0, 16, "gadget_args"),
                    BtfFields.scalar("argv_size", 16, 4, false, "gadget_args_size"),
                    BtfFields.charArray("envp", 20, 16, "gadget_args"),
                    BtfFields.scalar("envp_size", 36, 4, false, "gadget_args_size"))),
            spec);
    ByteBuffer b = ByteBuffer.allocate(48).order(java.nio.ByteOrder.nativeOrder());
    b.put(0, "ls\0-l\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(16, 6);
    b.put(20, "A=1\0".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).putInt(36, 4);
    EventView view = new EventView(schema, BootClock.fixed(0));
    assertThat(view.bind(b, 0, 48)).isTrue();
    assertThat(view.getArgs(schema.field("argv").orElseThrow())).containsExactly("ls", "-l");
    assertThat(view.getArgs(schema.field("envp").orElseThrow())).containsExactly("A=1");
  }

  @Test
  void argsFillingTheirWholeBufferAreValid() {
    EventView view = new EventView(schema(), BootClock.fixed(0));
    assertThat(view.bind(record(0, 0, 32, "ls\0"), 0, 88)).isTrue();
  }

  @Test
  void fieldMissingFromGadgetYamlIsAGadgetError() {
    GadgetSpec partial =
        GadgetSpec.parse(
            "name: demo\ndescription: d\nevent: event\nfields:\n  ts: {}\n", "demo.yaml");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                EventSchema.of(
                    new BtfStruct(
                        "event",
                        16,
                        List.of(
                            BtfFields.scalar("ts", 0, 8, false, "gadget_timestamp"),
                            BtfFields.scalar("pid", 8, 4, false, "gadget_pid"))),
                    partial))
        .isInstanceOf(GadgetException.class)
        .hasMessageContaining("'pid' missing in gadget.yaml");
  }
}
