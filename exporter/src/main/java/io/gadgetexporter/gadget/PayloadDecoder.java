package io.gadgetexporter.gadget;

import java.nio.ByteBuffer;
import java.util.List;

/**
 * Fields computed in userspace from a payload field of an event: the program copies raw bytes (a
 * DNS message, ...) into the record, declared with a payload typedef ({@code gadget_dns_payload
 * payload[512]}), and a decoder chosen by that typedef ({@link PayloadFormat}) turns them into the
 * derived fields gadget.yaml lists with {@code from: payload}. Outputs read derived fields like any
 * other.
 *
 * <p>An {@link EventView} owns one decoder per payload field and calls {@link #decode} when it
 * binds a record, before any output sees it: a payload the decoder rejects makes the record
 * malformed (counted and skipped, like a record too short). {@code decode} runs for every event
 * and must not allocate; the getters may (an output asked for a string). Values are valid until
 * the next decode.
 */
public interface PayloadDecoder {
  /**
   * @param captured bytes of the payload in the record
   * @param length bytes the payload had where it was captured from; more than {@code captured}
   *     when the capture cut it
   * @return false when the payload is malformed
   */
  boolean decode(ByteBuffer buffer, int offset, int captured, int length);

  /** A {@link FieldFormat#NUMBER} or {@link FieldFormat#BOOL} slot. */
  long getLong(int slot);

  /** A {@link FieldFormat#STRING} slot. */
  String getString(int slot);

  /** A {@link FieldFormat#ARGS} slot: a list of strings. */
  List<String> getList(int slot);
}
