package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfField.Kind;
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
  void networkTypesAreRecognisedByTheirTypedefs() {
    GadgetSpec spec =
        GadgetSpec.parse(
            "name: net\ndescription: d\nevent: event\nfields:\n  dst: {}\n  state: {}\n"
                + "  flags: {}\n  proto: {}\n  family: {}\n  reason: {}\n",
            "net.yaml");
    EventSchema schema =
        EventSchema.of(
            new BtfStruct(
                "event",
                32,
                List.of(
                    // A typedef'd struct: BTF kind STRUCT, the typedef names it.
                    new BtfField(
                        "dst", 0, 20, Kind.STRUCT, "gadget_l4endpoint", false, null, 0, 0,
                        "gadget_l4endpoint", 0, 0, null),
                    BtfFields.scalar("state", 20, 1, false, "gadget_tcp_state"),
                    BtfFields.scalar("flags", 22, 2, false, "gadget_tcp_flags"),
                    BtfFields.scalar("proto", 24, 2, false, "gadget_ip_protocol"),
                    BtfFields.scalar("family", 26, 2, false, "gadget_sock_family"),
                    BtfFields.scalar("reason", 28, 4, false, "gadget_skb_drop_reason"))),
            spec);
    ByteBuffer b = ByteBuffer.allocate(32).order(ByteOrder.nativeOrder());
    b.put(0, (byte) 10).put(3, (byte) 1).putShort(16, (short) 80).put(18, (byte) 4);
    b.put(20, (byte) 2).putShort(22, (short) 0x12).putShort(24, (short) 6);
    b.putShort(26, (short) 2).putInt(28, 99_999);
    EventView view = new EventView(schema, BootClock.fixed(0));
    assertThat(view.bind(b, 0, 32)).isTrue();

    EventField dst = schema.field("dst").orElseThrow();
    assertThat(dst.format()).isEqualTo(FieldFormat.L4_ENDPOINT);
    assertThat(view.text(dst)).isEqualTo("10.0.0.1:80");
    assertThat(view.value(dst)).isEqualTo("10.0.0.1:80");
    assertThat(view.text(schema.field("state").orElseThrow())).isEqualTo("SYN_SENT");
    assertThat(view.value(schema.field("state").orElseThrow())).isEqualTo(2L);
    assertThat(view.text(schema.field("flags").orElseThrow())).isEqualTo("SYN|ACK");
    assertThat(view.text(schema.field("proto").orElseThrow())).isEqualTo("TCP");
    assertThat(view.text(schema.field("family").orElseThrow())).isEqualTo("AF_INET");
    assertThat(view.text(schema.field("reason").orElseThrow())).isEqualTo("reason 99999");
    assertThat(view.value(schema.field("reason").orElseThrow())).isEqualTo(99_999L);
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
