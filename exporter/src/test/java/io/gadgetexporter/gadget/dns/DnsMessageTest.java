package io.gadgetexporter.gadget.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.gadget.L4Endpoint;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The DNS parser on hand-made messages: what it reads, and everything it must refuse. */
class DnsMessageTest {
  private static final byte[] V4_A = {10, 1, 2, 3};
  private static final byte[] V4_B = {10, 1, 2, 4};
  private static final byte[] V6 = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

  private final DnsMessage message = new DnsMessage();

  @Test
  void aQuery() {
    assertThat(parse(DnsWire.query(0x1234, "example.test", DnsWire.A))).isTrue();
    assertThat(message.id()).isEqualTo(0x1234);
    assertThat(message.isResponse()).isFalse();
    assertThat(message.name()).isEqualTo("example.test");
    assertThat(message.questionType()).isEqualTo(DnsWire.A);
    assertThat(message.questionCount()).isEqualTo(1);
    assertThat(message.answerCount()).isZero();
    assertThat(message.addressCount()).isZero();
  }

  @Test
  void aResponseWithAddressesFoundThroughCompressedNames() {
    byte[] query = DnsWire.query(7, "www.example.test", DnsWire.A);
    byte[] response = DnsWire.response(query, 0, List.of(V4_A, V6, V4_B));
    ByteBuffer buffer = at(5, response);
    assertThat(message.parse(buffer, 5, response.length, response.length)).isTrue();
    assertThat(message.isResponse()).isTrue();
    assertThat(message.rcode()).isZero();
    assertThat(message.id()).isEqualTo(7);
    assertThat(message.name()).isEqualTo("www.example.test");
    assertThat(message.answerCount()).isEqualTo(3);
    assertThat(addresses(buffer)).containsExactly("10.1.2.3", "fd00::1", "10.1.2.4");
    assertThat(message.answersCut()).isFalse();
  }

  @Test
  void nxdomainHasItsCodeAndNoAnswers() {
    byte[] response =
        DnsWire.response(DnsWire.query(9, "nx.test", DnsWire.AAAA), DnsWire.NXDOMAIN, List.of());
    assertThat(parse(response)).isTrue();
    assertThat(message.rcode()).isEqualTo(DnsWire.NXDOMAIN);
    assertThat(DnsCodes.rcodeName(message.rcode())).isEqualTo("NXDOMAIN");
    assertThat(DnsCodes.typeName(message.questionType())).isEqualTo("AAAA");
    assertThat(message.addressCount()).isZero();
  }

  @Test
  void namesAreEscapedAndTheRootIsADot() {
    assertThat(parse(DnsWire.query(1, ".", 2))).isTrue();
    assertThat(message.name()).isEqualTo(".");
    byte[] odd = header(1, 0);
    odd = concat(odd, new byte[] {3, 'a', '.', 'b', 3, 7, ' ', 'x', 2, '\\', 'y', 0, 0, 1, 0, 1});
    assertThat(parse(odd)).isTrue();
    assertThat(message.name()).isEqualTo("a\\.b.\\007\\032x.\\\\y");
  }

  @Test
  void aPointerToAPointerEarlierStillResolves() {
    // Question 1 at 12: "example.test"; question 2: "www" + pointer to 12; question 3: "x" +
    // pointer to question 2.
    byte[] q1 = concat(DnsWire.name("example.test"), new byte[] {0, 1, 0, 1});
    int q2At = 12 + q1.length;
    byte[] q2 = {3, 'w', 'w', 'w', (byte) 0xc0, 12, 0, 1, 0, 1};
    byte[] q3 = {1, 'x', (byte) 0xc0, (byte) q2At, 0, 1, 0, 1};
    byte[] m = concat(header(3, 0), q1, q2, q3);
    assertThat(parse(m)).isTrue();
    assertThat(message.questionCount()).isEqualTo(3);
  }

  @Test
  void malformedMessagesAreRefused() {
    byte[] good = DnsWire.query(1, "example.test", DnsWire.A);
    assertThat(parse(Arrays.copyOf(good, 5))).as("shorter than a header").isFalse();
    assertThat(parse(Arrays.copyOf(good, good.length - 2))).as("question cut").isFalse();
    assertThat(parse(concat(header(1, 0), new byte[] {(byte) 0xc0, 12, 0, 1, 0, 1})))
        .as("a pointer to itself: a loop")
        .isFalse();
    assertThat(
            parse(
                concat(
                    header(1, 0),
                    new byte[] {1, 'a', (byte) 0xc0, 12, 0, 1, 0, 1}))) // back to its own start
        .as("a loop through a label")
        .isFalse();
    assertThat(parse(concat(header(1, 0), new byte[] {(byte) 0xc0, 20, 0, 1, 0, 1, 0, 0, 0, 0})))
        .as("a pointer forwards")
        .isFalse();
    assertThat(parse(concat(header(1, 0), new byte[] {(byte) 0xc0, 2, 0, 1, 0, 1})))
        .as("a pointer into the header")
        .isFalse();
    assertThat(parse(concat(header(1, 0), new byte[] {40, 'a', 'b', 'c', 'd', 'e'})))
        .as("a label running past the end")
        .isFalse();
    assertThat(parse(concat(header(1, 0), new byte[] {0x41, 'a', 0, 0, 1, 0, 1})))
        .as("an extended label type")
        .isFalse();
    assertThat(parse(concat(header(3, 0), Arrays.copyOfRange(good, 12, good.length))))
        .as("more questions than there are")
        .isFalse();
    assertThat(parse("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII)))
        .as("garbage")
        .isFalse();
    ByteBuffer b = at(0, good);
    assertThat(message.parse(b, 0, good.length, good.length - 1)).as("longer than sent").isFalse();
  }

  @Test
  void aNameLongerThan255BytesIsRefused() {
    ByteArrayOutputStream name = new ByteArrayOutputStream();
    for (int i = 0; i < 4; i++) { // 4 * 64 + 1 = 257 bytes
      name.write(63);
      name.writeBytes("a".repeat(63).getBytes(StandardCharsets.US_ASCII));
    }
    name.write(0);
    assertThat(parse(concat(header(1, 0), name.toByteArray(), new byte[] {0, 1, 0, 1}))).isFalse();
    // 3 * 64 + 62 + 1 = 255: the longest name there may be.
    ByteArrayOutputStream longest = new ByteArrayOutputStream();
    for (int i = 0; i < 3; i++) {
      longest.write(63);
      longest.writeBytes("a".repeat(63).getBytes(StandardCharsets.US_ASCII));
    }
    longest.write(61);
    longest.writeBytes("b".repeat(61).getBytes(StandardCharsets.US_ASCII));
    longest.write(0);
    assertThat(parse(concat(header(1, 0), longest.toByteArray(), new byte[] {0, 1, 0, 1})))
        .isTrue();
    assertThat(message.name()).hasSize(253);
  }

  @Test
  void aCaptureCutInTheAnswersKeepsWhatFitsButAWholeMessageCutIsMalformed() {
    byte[] response =
        DnsWire.response(DnsWire.query(3, "example.test", DnsWire.A), 0, List.of(V4_A, V4_B, V6));
    int cut = response.length - 10; // inside the AAAA record
    ByteBuffer buffer = at(0, response);
    assertThat(message.parse(buffer, 0, cut, response.length)).isTrue();
    assertThat(message.answersCut()).isTrue();
    assertThat(message.answerCount()).isEqualTo(3);
    assertThat(addresses(buffer)).containsExactly("10.1.2.3", "10.1.2.4");
    // The same bytes as a whole message: an answer runs past its end.
    assertThat(message.parse(buffer, 0, cut, cut)).isFalse();
  }

  @Test
  void recordsThatAreNotAddressesAreSkipped() {
    byte[] response = DnsWire.response(DnsWire.query(3, "t.test", DnsWire.A), 0, List.of(V4_A));
    response[response.length - 5] = 5; // rdlength 4 -> 5: no longer an A address
    response = concat(response, new byte[] {0});
    assertThat(parse(response)).isTrue();
    assertThat(message.answerCount()).isEqualTo(1);
    assertThat(message.addressCount()).isZero();
  }

  @Test
  void addressesBeyondTheLimitStillCount() {
    List<byte[]> many = new ArrayList<>(Collections.nCopies(40, V4_A));
    assertThat(parse(DnsWire.response(DnsWire.query(3, "m.test", DnsWire.A), 0, many))).isTrue();
    assertThat(message.answerCount()).isEqualTo(40);
    assertThat(message.addressCount()).isEqualTo(DnsMessage.MAX_ADDRESSES);
  }

  @Test
  void aParseAfterARefusalKnowsNothingOfIt() {
    assertThat(parse(concat(header(1, 0), new byte[] {(byte) 0xc0, 12}))).isFalse();
    assertThat(parse(DnsWire.response(DnsWire.query(5, "ok.test", 1), 0, List.of(V4_A)))).isTrue();
    assertThat(message.name()).isEqualTo("ok.test");
    assertThat(message.addressCount()).isEqualTo(1);
    // And a response without a question.
    assertThat(parse(header(0, 0))).isTrue();
    assertThat(message.hasQuestion()).isFalse();
    assertThat(message.name()).isEmpty();
    assertThat(message.addressCount()).isZero();
  }

  @Test
  void typeAndRcodeNames() {
    assertThat(DnsCodes.typeName(28)).isEqualTo("AAAA");
    assertThat(DnsCodes.typeName(65)).isEqualTo("HTTPS");
    assertThat(DnsCodes.typeName(4242)).isEqualTo("TYPE4242");
    assertThat(DnsCodes.rcodeName(2)).isEqualTo("SERVFAIL");
    assertThat(DnsCodes.rcodeName(15)).isEqualTo("RCODE15");
  }

  private boolean parse(byte[] m) {
    return message.parse(at(0, m), 0, m.length, m.length);
  }

  /** {@code m} at {@code offset} of a buffer with other bytes around it. */
  private static ByteBuffer at(int offset, byte[] m) {
    byte[] all = new byte[offset + m.length + 16];
    Arrays.fill(all, (byte) 0x5a);
    System.arraycopy(m, 0, all, offset, m.length);
    return ByteBuffer.wrap(all);
  }

  private List<String> addresses(ByteBuffer buffer) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < message.addressCount(); i++) {
      out.add(L4Endpoint.address(buffer, message.addressAt(i), message.addressLength(i)));
    }
    return out;
  }

  private static byte[] header(int questions, int answers) {
    return new byte[] {0, 1, 0, 0, 0, (byte) questions, 0, (byte) answers, 0, 0, 0, 0};
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
