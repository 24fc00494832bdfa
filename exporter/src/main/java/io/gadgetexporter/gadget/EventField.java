package io.gadgetexporter.gadget;

import io.gadgetexporter.gadget.GadgetSpec.FieldSpec;

/**
 * One field of a gadget's event: where it lies in the record (from BTF) and what it means (from
 * {@code gadget.yaml}).
 *
 * @param index position in {@link EventSchema#fields()}
 * @param size bytes of the field; for arrays the whole array
 * @param sizeFieldIndex for {@link FieldFormat#ARGS} and {@link FieldFormat#PAYLOAD}, the index
 *     of the field holding the used length; -1 otherwise
 * @param decoder for a payload field and the fields derived from it, the payload's position in
 *     {@link EventSchema#payloadFields()}; -1 otherwise
 * @param slot for a field derived from a payload (not in the record; {@code offset} and {@code
 *     size} 0), its slot in the payload's {@link PayloadFormat}; -1 otherwise
 */
public record EventField(
    int index,
    String name,
    FieldFormat format,
    int offset,
    int size,
    boolean signed,
    int sizeFieldIndex,
    int decoder,
    int slot,
    FieldSpec spec) {

  /** Whether a payload decoder computes the field in userspace (it is not in the record). */
  public boolean derived() {
    return slot >= 0;
  }

  public boolean hidden() {
    return spec.hidden();
  }

  /** The OpenTelemetry semantic-convention attribute name, or the field name when none applies. */
  public String semantic() {
    return spec.semantic();
  }
}
