package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfStruct;
import io.gadgetexporter.gadget.dns.DnsWire;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Fields derived in userspace from a payload (here a DNS message): declared in gadget.yaml with
 * {@code from:}, decoded when the record is bound, malformed payloads refused like malformed
 * records.
 */
class PayloadFieldsTest {
  // struct event { gadget_payload_size payload_size; gadget_payload_len payload_len;
  //   gadget_l4endpoint src; gadget_dns_payload payload[96]; }
  static final int SIZE = 8 + 20 + 96;
  static final String FIELDS =
      """
      name: dnsdemo
      description: d
      event: event
      fields:
        src: {}
        qr: {from: payload}
        id: {from: payload}
        name: {from: payload, semantic: dns.question.name}
        qtype: {from: payload}
        rcode: {from: payload}
        answers: {from: payload}
        num_answers: {from: payload}
        payload: {hidden: true}
        payload_size: {}
        payload_len: {}
      """;

  static List<BtfField> btf() {
    return List.of(
        BtfFields.scalar("payload_size", 0, 4, false, "gadget_payload_size"),
        BtfFields.scalar("payload_len", 4, 4, false, "gadget_payload_len"),
        BtfFields.scalar("src", 8, 20, false, "gadget_l4endpoint"),
        BtfFields.charArray("payload", 28, 96, "gadget_dns_payload"));
  }

  static EventSchema schema() {
    return EventSchema.of(new BtfStruct("event", SIZE, btf()), GadgetSpec.parse(FIELDS, "d.yaml"));
  }

  /** A record carrying {@code message}, captured up to {@code captured} bytes. */
  static ByteBuffer record(byte[] message, int captured, int length) {
    ByteBuffer b = ByteBuffer.allocate(SIZE).order(ByteOrder.nativeOrder());
    b.putInt(0, captured).putInt(4, length);
    b.put(8, new byte[] {127, 0, 0, 1}).putShort(8 + 16, (short) 53).put(8 + 18, (byte) 4);
    b.put(28, message, 0, Math.min(captured, message.length));
    return b;
  }

  private final EventSchema schema = schema();
  private final EventView view = new EventView(schema, BootClock.fixed(0));

  @Test
  void derivedFieldsComeFromTheDecodedPayload() {
    byte[] query = DnsWire.query(0x0102, "example.test", DnsWire.A);
    byte[] response =
        DnsWire.response(query, 0, List.of(new byte[] {10, 0, 0, 1}, new byte[] {10, 0, 0, 2}));
    assertThat(view.bind(record(response, response.length, response.length), 0, SIZE)).isTrue();

    assertThat(text("qr")).isEqualTo("response");
    assertThat(view.value(field("id"))).isEqualTo(258L);
    assertThat(text("name")).isEqualTo("example.test");
    assertThat(text("qtype")).isEqualTo("A");
    assertThat(text("rcode")).isEqualTo("NOERROR");
    assertThat(view.value(field("answers"))).isEqualTo(List.of("10.0.0.1", "10.0.0.2"));
    assertThat(view.getLong(field("num_answers"))).isEqualTo(2);
    assertThat(text("src")).isEqualTo("127.0.0.1:53");
    assertThat(field("name").semantic()).isEqualTo("dns.question.name");
    assertThat(field("name").derived()).isTrue();
    assertThat(field("payload").format()).isEqualTo(FieldFormat.PAYLOAD);
    assertThat(text("payload")).hasSize(2 * response.length).startsWith("01028180");

    // The same view, the next record: a query, whose rcode means nothing.
    assertThat(view.bind(record(query, query.length, query.length), 0, SIZE)).isTrue();
    assertThat(text("qr")).isEqualTo("query");
    assertThat(text("rcode")).isEmpty();
    assertThat(view.value(field("answers"))).isEqualTo(List.of());
  }

  @Test
  void outputsReadDerivedFieldsLikeAnyOther() {
    byte[] response =
        DnsWire.response(
            DnsWire.query(7, "x.test", DnsWire.A), DnsWire.NXDOMAIN, List.of());
    assertThat(view.bind(record(response, response.length, response.length), 0, SIZE)).isTrue();
    GadgetInstance instance = GadgetTesting.instance("trace_dns", "", EventSink.NONE);
    String json =
        io.gadgetexporter.columns.EventJson.append(new StringBuilder(), instance, view).toString();
    assertThat(json)
        .contains("\"name\":\"x.test\"", "\"rcode\":\"NXDOMAIN\"", "\"answers\":[]", "\"id\":7")
        .contains("\"src\":\"127.0.0.1:53\"");
  }

  @Test
  void aMalformedPayloadMakesAMalformedRecord() {
    byte[] good = DnsWire.query(1, "example.test", DnsWire.A);
    assertThat(view.bind(record(new byte[] {1, 2, 3, 4, 5}, 5, 5), 0, SIZE)).isFalse();
    assertThat(view.bind(record(good, 97, 97), 0, SIZE)).as("more than the array").isFalse();
    assertThat(view.bind(record(good, good.length, good.length - 1), 0, SIZE))
        .as("captured more than there was")
        .isFalse();
    assertThat(view.bind(record(good, good.length, good.length), 0, SIZE)).isTrue();
  }

  @Test
  void theInstanceCountsThemAsMalformedAndSkipsThem() {
    RecordingSink sink = new RecordingSink();
    GadgetInstance instance = GadgetTesting.instance("trace_dns", "", sink);
    byte[] good = DnsWire.query(1, "example.test", DnsWire.A);
    ByteBuffer batch = ByteBuffer.allocateDirect(4096).order(ByteOrder.nativeOrder());
    int at = put(batch, 0, record(good, good.length, good.length));
    at = put(batch, at, record("garbage!garbage!".getBytes(), 16, 16));
    put(batch, at, record(good, good.length, good.length));

    instance.process(batch, 3, view);

    assertThat(instance.eventsTotal()).isEqualTo(2);
    assertThat(instance.malformedTotal()).isEqualTo(1);
    assertThat(sink.events()).extracting(e -> e.value("name")).containsOnly("example.test");
  }

  @Test
  void aDerivedFieldMustNameAPayloadAndSomethingItGives() {
    assertThatThrownBy(() -> schemaWith("  bogus: {from: payload}\n"))
        .isInstanceOf(GadgetException.class)
        .hasMessageContaining("gadget_dns_payload 'payload' gives no field 'bogus'")
        .hasMessageContaining("it gives: id, qr, name");
    assertThatThrownBy(() -> schemaWith("  qclass: {from: src}\n"))
        .isInstanceOf(GadgetException.class)
        .hasMessageContaining("'qclass' is from 'src', which is not a payload field");
    List<BtfField> withoutLen = new ArrayList<>(btf());
    withoutLen.remove(1);
    assertThatThrownBy(
            () ->
                EventSchema.of(
                    new BtfStruct("event", SIZE, withoutLen),
                    GadgetSpec.parse(FIELDS.replace("  payload_len: {}\n", ""), "d.yaml")))
        .isInstanceOf(GadgetException.class)
        .hasMessageContaining("'payload' needs a field 'payload_len' of type gadget_payload_len");
  }

  private static EventSchema schemaWith(String extraField) {
    return EventSchema.of(
        new BtfStruct("event", SIZE, btf()), GadgetSpec.parse(FIELDS + extraField, "d.yaml"));
  }

  private EventField field(String name) {
    return schema.field(name).orElseThrow();
  }

  private String text(String name) {
    return view.text(field(name));
  }

  private static int put(ByteBuffer batch, int at, ByteBuffer record) {
    batch.putInt(at, SIZE).putInt(at + 4, 0);
    for (int i = 0; i < SIZE; i++) {
      batch.put(at + 8 + i, record.get(i));
    }
    return at + 8 + ((SIZE + 7) & ~7);
  }
}
