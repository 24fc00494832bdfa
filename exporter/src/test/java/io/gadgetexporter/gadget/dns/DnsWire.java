package io.gadgetexporter.gadget.dns;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * DNS messages written by hand for tests: a query, and a response to it with A/AAAA answers that
 * point back at the question's name (compression). No dependency beyond the JDK: the DNS peer
 * process of the gadget test runs with only the test classes.
 */
public final class DnsWire {
  public static final int A = 1;
  public static final int AAAA = 28;
  public static final int NXDOMAIN = 3;

  private DnsWire() {}

  /** A standard query (RD set) for one name and type. */
  public static byte[] query(int id, String name, int type) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    u16(out, id);
    u16(out, 0x0100); // RD
    u16(out, 1);
    u16(out, 0);
    u16(out, 0);
    u16(out, 0);
    out.writeBytes(name(name));
    u16(out, type);
    u16(out, 1); // IN
    return out.toByteArray();
  }

  /**
   * The response to {@code query} (whose question ends the message): its header with QR, RA and
   * {@code rcode}, the question, and one answer per address (4 bytes: A, 16: AAAA), each naming
   * the question by a pointer to offset 12.
   */
  public static byte[] response(byte[] query, int rcode, List<byte[]> addresses) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(query[0]);
    out.write(query[1]);
    u16(out, 0x8180 | rcode); // QR, RD, RA
    u16(out, 1);
    u16(out, addresses.size());
    u16(out, 0);
    u16(out, 0);
    out.write(query, 12, query.length - 12);
    for (byte[] a : addresses) {
      u16(out, 0xc00c);
      u16(out, a.length == 4 ? A : AAAA);
      u16(out, 1);
      u16(out, 0);
      u16(out, 60); // TTL
      u16(out, a.length);
      out.writeBytes(a);
    }
    return out.toByteArray();
  }

  /** A name in wire form: length-prefixed labels, then a zero. */
  public static byte[] name(String name) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    if (!name.isEmpty() && !name.equals(".")) {
      for (String label : name.split("\\.")) {
        byte[] b = label.getBytes(StandardCharsets.US_ASCII);
        out.write(b.length);
        out.writeBytes(b);
      }
    }
    out.write(0);
    return out.toByteArray();
  }

  /** The first question's name of a well-formed query without compression; null if too short. */
  public static String questionName(byte[] message, int length) {
    StringBuilder sb = new StringBuilder();
    int at = 12;
    while (at < length && message[at] != 0) {
      int len = message[at] & 0xff;
      if (len > 63 || at + 1 + len > length) {
        return null;
      }
      if (sb.length() > 0) {
        sb.append('.');
      }
      sb.append(new String(message, at + 1, len, StandardCharsets.US_ASCII));
      at += len + 1;
    }
    return at + 5 <= length ? sb.toString() : null;
  }

  /** The first question's type of a query {@link #questionName} could read. */
  public static int questionType(byte[] message) {
    int at = 12;
    while (message[at] != 0) {
      at += (message[at] & 0xff) + 1;
    }
    return ((message[at + 1] & 0xff) << 8) | (message[at + 2] & 0xff);
  }

  private static void u16(ByteArrayOutputStream out, int v) {
    out.write(v >> 8);
    out.write(v);
  }
}
