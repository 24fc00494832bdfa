package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BtfStruct;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/** A hand-made event layout using every well-known typedef, and records of it. */
public final class EventViewFixtures {
  private EventViewFixtures() {}

  // struct event { gadget_timestamp ts; gadget_syscall_ret ret; gadget_open_flags flags;
  //   gadget_file_mode mode; gadget_args_size args_size; gadget_bool cut; gadget_comm comm[16];
  //   gadget_args args[32]; gadget_errno err; }
  public static final GadgetSpec SPEC =
      GadgetSpec.parse(
          """
          name: demo
          description: A hand-made event.
          event: event
          fields:
            ts: {semantic: timestamp, width: 24}
            ret: {}
            flags: {width: 26}
            mode: {}
            args_size: {hidden: true}
            cut: {}
            comm: {semantic: process.executable.name}
            args: {semantic: process.command_args, width: 14}
            err: {}
          """,
          "demo.yaml");

  public static EventSchema schema() {
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

  public static ByteBuffer record(long ts, long ret, int argsSize, String args) {
    ByteBuffer b = ByteBuffer.allocate(88).order(ByteOrder.nativeOrder());
    b.putLong(0, ts).putLong(8, ret).putInt(16, 01 | 0100 | 02000000).putInt(20, 0644);
    b.putInt(24, argsSize).put(28, (byte) 1);
    b.put(29, "cat".getBytes(StandardCharsets.US_ASCII));
    b.put(45, args.getBytes(StandardCharsets.US_ASCII));
    b.putInt(80, 13);
    return b;
  }

}
