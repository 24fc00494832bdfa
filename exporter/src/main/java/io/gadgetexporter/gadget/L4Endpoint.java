package io.gadgetexporter.gadget;

import java.nio.ByteBuffer;

/**
 * The text of a {@code gadget_l4endpoint} (see {@code bpf/include/gadget/types.h}): {@code
 * 10.0.0.1:80}, {@code [::1]:80}. IPv6 addresses are written as RFC 5952 recommends (lower-case
 * hex, the longest run of two or more zero groups as {@code ::}), an IPv4-mapped one in its mixed
 * form {@code [::ffff:10.0.0.1]:80}.
 */
public final class L4Endpoint {
  /** Bytes of the struct: address (16), port (2), version (1), unused (1). */
  public static final int SIZE = 20;

  private static final int PORT = 16;
  private static final int VERSION = 18;

  private L4Endpoint() {}

  /** The endpoint at {@code at} in {@code b} (native byte order); empty when its version is 0. */
  public static String format(ByteBuffer b, int at) {
    int port = b.getShort(at + PORT) & 0xffff;
    return switch (b.get(at + VERSION)) {
      case 4 -> ipv4(b, at) + ":" + port;
      case 6 -> "[" + ipv6(b, at) + "]:" + port;
      default -> "";
    };
  }

  /**
   * An address alone, as in an endpoint: {@code length} 4 (IPv4) or 16 (IPv6) bytes at {@code at}
   * (trace_dns's A and AAAA answers).
   */
  public static String address(ByteBuffer b, int at, int length) {
    return length == 4 ? ipv4(b, at) : ipv6(b, at);
  }

  private static String ipv4(ByteBuffer b, int at) {
    return (b.get(at) & 0xff)
        + "."
        + (b.get(at + 1) & 0xff)
        + "."
        + (b.get(at + 2) & 0xff)
        + "."
        + (b.get(at + 3) & 0xff);
  }

  private static String ipv6(ByteBuffer b, int at) {
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = ((b.get(at + 2 * i) & 0xff) << 8) | (b.get(at + 2 * i + 1) & 0xff);
    }
    if (groups[0] == 0 && groups[1] == 0 && groups[2] == 0 && groups[3] == 0 && groups[4] == 0
        && groups[5] == 0xffff) {
      return "::ffff:" + ipv4(b, at + 12);
    }
    // The longest run of zero groups (the first of equals), if at least two long.
    int bestStart = -1;
    int bestLength = 1;
    for (int i = 0; i < 8; ) {
      if (groups[i] != 0) {
        i++;
        continue;
      }
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j;
    }
    StringBuilder sb = new StringBuilder(39);
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        sb.append("::");
        i += bestLength - 1;
        continue;
      }
      if (sb.length() > 0 && sb.charAt(sb.length() - 1) != ':') {
        sb.append(':');
      }
      sb.append(Integer.toHexString(groups[i]));
    }
    return sb.toString();
  }
}
