package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfStruct;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Decoding of hand-made records: every format, and malformed records refused. */
class EventViewTest {
  // struct event { gadget_timestamp ts; gadget_syscall_ret ret; gadget_open_flags flags;
  //   gadget_file_mode mode; gadget_args_size args_size; gadget_bool cut; gadget_comm comm[16];
  //   gadget_args args[32]; gadget_errno err; }
  static final GadgetSpec SPEC =
      GadgetSpec.parse(
          """
          name: demo
          description: A hand-made event.
          event: event
          fields:
            ts: {semantic: timestamp}
            ret: {}
            flags: {}
            mode: {}
            args_size: {hidden: true}
            cut: {}
            comm: {semantic: process.executable.name}
            args: {semantic: process.command_args}
            err: {}
          """,
          "demo.yaml");

  static EventSchema schema() {
    return EventSchema.of(
        new BtfStruct(
            "event",
            88,
            List.of(
                BtfFields.scalar("ts", 0, 8, false, "gadget_timestamp"),
                BtfFields.scalar("ret", 8, 8, true, "gadget_syscall_ret"),
                BtfFields.scalar("flags", 16, 4, false, "gadget_open_flags"),
                BtfFields.scalar("mode", 20, 4, false, "gadget_file_mode"),
                BtfFields.scalar("args_size", 24, 4, false, "gadget_args_size"),
                BtfFields.scalar("cut", 28, 1, false, "gadget_bool"),
                BtfFields.charArray("comm", 29, 16, "gadget_comm"),
                BtfFields.charArray("args", 45, 32, "gadget_args"),
                BtfFields.scalar("err", 80, 4, false, "gadget_errno"))),
        SPEC);
  }

  static ByteBuffer record(long ts, long ret, int argsSize, String args) {
    ByteBuffer b = ByteBuffer.allocate(88).order(ByteOrder.nativeOrder());
    b.putLong(0, ts).putLong(8, ret).putInt(16, 01 | 0100 | 02000000).putInt(20, 0644);
    b.putInt(24, argsSize).put(28, (byte) 1);
    b.put(29, "cat".getBytes(StandardCharsets.US_ASCII));
    b.put(45, args.getBytes(StandardCharsets.US_ASCII));
    b.putInt(80, 13);
    return b;
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
