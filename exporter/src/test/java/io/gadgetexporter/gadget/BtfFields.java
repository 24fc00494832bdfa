package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfField.Kind;

/** Hand-made BTF field descriptions, as the binding would report them. */
final class BtfFields {
  private BtfFields() {}

  static BtfField scalar(String name, int offset, int size, boolean signed, String typedef) {
    return new BtfField(
        name, offset, size, Kind.INT, typedef, signed, null, 0, 0, "int", offset * 8, 0, null);
  }

  /** {@code <elementTypedef> name[length]}, the convention of bpf/include/gadget/types.h. */
  static BtfField charArray(String name, int offset, int length, String elementTypedef) {
    return new BtfField(
        name, offset, length, Kind.ARRAY, null, false, Kind.CHAR, 1, length, "char",
        offset * 8, 0, elementTypedef);
  }
}
