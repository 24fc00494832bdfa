package io.gadgetexporter.gadget;

/** Human forms of block-layer values: devices and request operations. */
public final class BlockIo {
  // gadget_block_op numbering (bpf/include/gadget/types.h), not the kernel's enum req_op.
  private static final String[] OPS = {
    "read", "write", "flush", "discard", "secure_erase", "write_zeroes", "zone_append",
    "zone_open", "zone_close", "zone_finish", "zone_reset", "zone_reset_all", "drv_in", "drv_out"
  };

  private BlockIo() {}

  /** The name of a {@code gadget_block_op}: {@code read}, {@code write}, ...; {@code other}. */
  public static String op(long op) {
    return op >= 0 && op < OPS.length ? OPS[(int) op] : "other";
  }

  /** A kernel-internal device number ({@code major << 20 | minor}) as {@code major:minor}. */
  public static String device(long dev) {
    return (dev >>> 20) + ":" + (dev & 0xfffff);
  }
}
