package io.gadgetexporter.gadget;

import io.gadgetexporter.gadget.PayloadFormat.Slot;
import io.gadgetexporter.gadget.dns.DnsCodes;
import io.gadgetexporter.gadget.dns.DnsMessage;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/** The fields of a {@code gadget_dns_payload}: a DNS message parsed by {@link DnsMessage}. */
final class DnsPayloadDecoder implements PayloadDecoder {
  static final int ID = 0;
  static final int QR = 1;
  static final int NAME = 2;
  static final int QTYPE = 3;
  static final int RCODE = 4;
  static final int ANSWERS = 5;
  static final int NUM_ANSWERS = 6;

  static final PayloadFormat FORMAT =
      new PayloadFormat(
          "gadget_dns_payload",
          List.of(
              new Slot("id", FieldFormat.NUMBER),
              new Slot("qr", FieldFormat.STRING),
              new Slot("name", FieldFormat.STRING),
              new Slot("qtype", FieldFormat.STRING),
              new Slot("rcode", FieldFormat.STRING),
              new Slot("answers", FieldFormat.ARGS),
              new Slot("num_answers", FieldFormat.NUMBER)),
          DnsPayloadDecoder::new);

  private final DnsMessage message = new DnsMessage();
  private ByteBuffer buffer;

  @Override
  public boolean decode(ByteBuffer buffer, int offset, int captured, int length) {
    this.buffer = buffer;
    return message.parse(buffer, offset, captured, length);
  }

  @Override
  public long getLong(int slot) {
    return switch (slot) {
      case ID -> message.id();
      case NUM_ANSWERS -> message.answerCount();
      default -> throw new IllegalArgumentException("DNS field " + slot + " is not a number");
    };
  }

  @Override
  public String getString(int slot) {
    return switch (slot) {
      case QR -> message.isResponse() ? "response" : "query";
      case NAME -> message.name();
      case QTYPE -> message.hasQuestion() ? DnsCodes.typeName(message.questionType()) : "";
      // A query's RCODE field is 0 and means nothing.
      case RCODE -> message.isResponse() ? DnsCodes.rcodeName(message.rcode()) : "";
      default -> throw new IllegalArgumentException("DNS field " + slot + " is not a string");
    };
  }

  @Override
  public List<String> getList(int slot) {
    if (slot != ANSWERS) {
      throw new IllegalArgumentException("DNS field " + slot + " is not a list");
    }
    List<String> addresses = new ArrayList<>(message.addressCount());
    for (int i = 0; i < message.addressCount(); i++) {
      addresses.add(L4Endpoint.address(buffer, message.addressAt(i), message.addressLength(i)));
    }
    return addresses;
  }
}
