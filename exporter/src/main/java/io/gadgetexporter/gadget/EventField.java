package io.gadgetexporter.gadget;

import io.gadgetexporter.gadget.GadgetSpec.FieldSpec;

/**
 * One field of a gadget's event: where it lies in the record (from BTF) and what it means (from
 * {@code gadget.yaml}).
 *
 * @param index position in {@link EventSchema#fields()}
 * @param size bytes of the field; for arrays the whole array
 * @param sizeFieldIndex for {@link FieldFormat#ARGS}, the index of the field holding the used
 *     length; -1 otherwise
 */
public record EventField(
    int index,
    String name,
    FieldFormat format,
    int offset,
    int size,
    boolean signed,
    int sizeFieldIndex,
    FieldSpec spec) {

  public boolean hidden() {
    return spec.hidden();
  }

  /** The OpenTelemetry semantic-convention attribute name, or the field name when none applies. */
  public String semantic() {
    return spec.semantic();
  }
}
