package io.gadgetexporter.gadget.dns;

import java.nio.ByteBuffer;

/**
 * One DNS message (RFC 1035) read in place: the header, the first question, and where the
 * addresses of the answer section's A and AAAA records are. {@link #parse} checks every length and
 * offset it follows against the bytes it was given, allocates nothing, and can be called again for
 * the next message; names become strings only when {@link #name()} is asked for.
 *
 * <p>What makes a message malformed: fewer bytes than a header, a question that does not fit, a
 * name longer than 255 bytes, a label type other than plain or pointer, a compression pointer
 * into the header or not strictly before the previous one (which is what stops a pointer loop),
 * and, when the message was captured whole, an answer running past its end. A message captured
 * in part (a larger response cut at the capture size) keeps the answers that fit.
 */
public final class DnsMessage {
  /** Bytes of the fixed header. */
  public static final int HEADER_BYTES = 12;
  /** Addresses remembered per message; further ones still count in {@link #answerCount()}. */
  public static final int MAX_ADDRESSES = 32;

  static final int TYPE_A = 1;
  static final int TYPE_AAAA = 28;
  static final int CLASS_IN = 1;
  /** RFC 1035 §2.3.4: a name is at most 255 bytes in wire form, its final zero included. */
  private static final int MAX_NAME_BYTES = 255;

  private static final int MALFORMED = -1;
  private static final int CUT = -2;

  private ByteBuffer buffer;
  private int base;
  private int captured;
  private int id;
  private int flags;
  private int questions;
  private int answers;
  private int nameAt;
  private int questionType;
  private final int[] addressAt = new int[MAX_ADDRESSES];
  private final int[] addressLength = new int[MAX_ADDRESSES];
  private int addressCount;
  private boolean answersCut;

  /**
   * Reads the message of {@code captured} bytes at {@code offset}.
   *
   * @param length the message's size on the wire; more than {@code captured} when the capture cut
   *     it
   * @return false when it is malformed; the getters are then meaningless
   */
  public boolean parse(ByteBuffer buffer, int offset, int captured, int length) {
    this.buffer = buffer;
    this.base = offset;
    this.captured = captured;
    this.nameAt = -1;
    this.questionType = 0;
    this.addressCount = 0;
    this.answersCut = false;
    if (captured < HEADER_BYTES || length < captured) {
      return false;
    }
    id = u16(0);
    flags = u16(2);
    questions = u16(4);
    answers = u16(6);
    int at = HEADER_BYTES;
    // Questions must be whole: the capture (512 bytes) always holds a well-formed one.
    for (int q = 0; q < questions; q++) {
      int next = skipName(at);
      if (next < 0 || next + 4 > captured) {
        return false;
      }
      if (q == 0) {
        nameAt = at;
        questionType = u16(next);
      }
      at = next + 4;
    }
    boolean whole = captured >= length;
    for (int a = 0; a < answers; a++) {
      int next = skipName(at);
      if (next == MALFORMED) {
        return false;
      }
      if (next == CUT || next + 10 > captured) {
        return cut(whole);
      }
      int type = u16(next);
      int klass = u16(next + 2);
      int rdLength = u16(next + 8);
      int rdata = next + 10;
      if (rdata + rdLength > captured) {
        return cut(whole);
      }
      boolean address =
          klass == CLASS_IN
              && ((type == TYPE_A && rdLength == 4) || (type == TYPE_AAAA && rdLength == 16));
      if (address && addressCount < MAX_ADDRESSES) {
        addressAt[addressCount] = base + rdata;
        addressLength[addressCount] = rdLength;
        addressCount++;
      }
      at = rdata + rdLength;
    }
    return true;
  }

  /** An answer ran past the bytes there are: malformed if that was the whole message. */
  private boolean cut(boolean whole) {
    answersCut = true;
    return !whole;
  }

  /**
   * Follows the name at {@code at} (relative to the message).
   *
   * @return where the name ends in the message (past its zero or its first pointer), {@link
   *     #MALFORMED}, or {@link #CUT} when it runs past the captured bytes
   */
  private int skipName(int at) {
    int pos = at;
    int end = -1; // past the first pointer: where the name ends in the message
    int limit = -1; // a pointer must point before this: strictly backwards, so no loop
    int bytes = 1; // the final zero
    while (true) {
      if (pos >= captured) {
        return CUT;
      }
      int len = u8(pos);
      if ((len & 0xc0) == 0xc0) {
        if (pos + 1 >= captured) {
          return CUT;
        }
        int target = ((len & 0x3f) << 8) | u8(pos + 1);
        if (end < 0) {
          end = pos + 2;
          limit = pos;
        }
        if (target >= limit || target < HEADER_BYTES) {
          return MALFORMED;
        }
        limit = target;
        pos = target;
        continue;
      }
      if (len > 63) {
        return MALFORMED; // 0x40 and 0x80: extended label types, obsolete (RFC 6891)
      }
      if (len == 0) {
        return end < 0 ? pos + 1 : end;
      }
      bytes += len + 1;
      if (bytes > MAX_NAME_BYTES) {
        return MALFORMED;
      }
      pos += len + 1;
    }
  }

  /** The message id. */
  public int id() {
    return id;
  }

  /** QR: a response rather than a query. */
  public boolean isResponse() {
    return (flags & 0x8000) != 0;
  }

  /** The response code of the header (RCODE, 4 bits; EDNS extends it, not read here). */
  public int rcode() {
    return flags & 0xf;
  }

  /** TC: the sender truncated the message (the client should retry over TCP). */
  public boolean truncated() {
    return (flags & 0x0200) != 0;
  }

  /** QDCOUNT. */
  public int questionCount() {
    return questions;
  }

  /** ANCOUNT: records in the answer section, of any type. */
  public int answerCount() {
    return answers;
  }

  /** Whether there is a question (a response may have none). */
  public boolean hasQuestion() {
    return nameAt >= 0;
  }

  /** The first question's type (QTYPE); 0 without a question. */
  public int questionType() {
    return questionType;
  }

  /** A and AAAA addresses found in the answer section (at most {@link #MAX_ADDRESSES}). */
  public int addressCount() {
    return addressCount;
  }

  /** Where address {@code i} is in the buffer given to {@link #parse}. */
  public int addressAt(int i) {
    return addressAt[i];
  }

  /** 4 or 16. */
  public int addressLength(int i) {
    return addressLength[i];
  }

  /** The capture ended inside the answer section: later answers are unknown. */
  public boolean answersCut() {
    return answersCut;
  }

  /**
   * The first question's name, without the final dot ({@code "."} for the root, empty without a
   * question); a dot or backslash inside a label is escaped with a backslash and other bytes
   * outside printable ASCII are written {@code \DDD} (decimal), as in zone files.
   */
  public String name() {
    if (nameAt < 0) {
      return "";
    }
    StringBuilder sb = new StringBuilder(64);
    int pos = nameAt;
    while (true) { // validated by parse(): ends
      int len = u8(pos);
      if ((len & 0xc0) == 0xc0) {
        pos = ((len & 0x3f) << 8) | u8(pos + 1);
        continue;
      }
      if (len == 0) {
        break;
      }
      if (sb.length() > 0) {
        sb.append('.');
      }
      for (int i = pos + 1; i <= pos + len; i++) {
        int c = u8(i);
        if (c == '.' || c == '\\') {
          sb.append('\\').append((char) c);
        } else if (c > 0x20 && c < 0x7f) {
          sb.append((char) c);
        } else {
          sb.append('\\').append((char) ('0' + c / 100)).append((char) ('0' + c / 10 % 10));
          sb.append((char) ('0' + c % 10));
        }
      }
      pos += len + 1;
    }
    return sb.length() == 0 ? "." : sb.toString();
  }

  private int u8(int at) {
    return buffer.get(base + at) & 0xff;
  }

  private int u16(int at) {
    return (u8(at) << 8) | u8(at + 1);
  }
}
