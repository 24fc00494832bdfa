package io.gadgetexporter.gadget;

/** TCP header flags as {@code SYN|ACK}, in the header's bit order. */
public final class TcpFlags {
  private static final String[] NAMES = {
    "FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "AE"
  };

  private TcpFlags() {}

  /** The set flags joined by {@code |}; unknown bits in hex; empty for none. */
  public static String format(long flags) {
    StringBuilder sb = new StringBuilder();
    for (int bit = 0; bit < NAMES.length; bit++) {
      if ((flags & (1L << bit)) != 0) {
        if (sb.length() > 0) {
          sb.append('|');
        }
        sb.append(NAMES[bit]);
      }
    }
    long rest = flags & ~((1L << NAMES.length) - 1);
    if (rest != 0) {
      if (sb.length() > 0) {
        sb.append('|');
      }
      sb.append("0x").append(Long.toHexString(rest));
    }
    return sb.toString();
  }
}
