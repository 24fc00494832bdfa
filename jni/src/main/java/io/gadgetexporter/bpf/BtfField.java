package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

/**
 * One member of a {@link BtfStruct}, with its type resolved to what a decoder needs.
 *
 * <p>The type is peeled: typedefs and {@code const}/{@code volatile} qualifiers are skipped down to
 * the concrete type, whose {@link #kind} this is. The <em>first</em> typedef met on the way, i.e.
 * the one the member was declared with, is kept as {@link #typedefName}: {@code gadget_mntns_id
 * mntns_id;} gives kind {@code INT}, size 8, typedefName {@code "gadget_mntns_id"}, although that
 * typedef is itself declared through {@code __u64}.
 *
 * @param name the member's name ({@code ""} for an anonymous struct/union member)
 * @param offset byte offset in the struct (for a bitfield: of the byte holding its first bit)
 * @param size bytes of the member's type (for an array: of the whole array)
 * @param kind the concrete type's kind
 * @param typedefName the typedef the member was declared with, or null when declared without one
 * @param signed for INT, CHAR, ENUM, FLOAT: whether signed; for ARRAY: the element's
 * @param elementKind for ARRAY: the element's kind (a nested array gives ARRAY); else null
 * @param elementSize for ARRAY: bytes per element; else 0
 * @param elementCount for ARRAY: number of elements; else 0
 * @param typeName the concrete type's name: {@code "unsigned int"}, {@code "char"}, a struct's
 *     name; for an array its element type's; {@code ""} when anonymous
 * @param bitOffset offset in bits from the start of the struct (always set)
 * @param bitSize for a bitfield, its width in bits; 0 for every other member
 * @param elementTypedefName for ARRAY: the typedef the element type was declared with ({@code
 *     gadget_pid pids[4]} gives {@code "gadget_pid"}); else null
 */
public record BtfField(
    String name,
    int offset,
    int size,
    Kind kind,
    String typedefName,
    boolean signed,
    Kind elementKind,
    int elementSize,
    int elementCount,
    String typeName,
    int bitOffset,
    int bitSize,
    String elementTypedefName) {

  /**
   * Kinds of concrete types. The native side sends these as ordinals (btf.c mirrors the order):
   * add new kinds at the end only.
   */
  public enum Kind {
    /** An integer, {@link #signed} or not, of {@link #size} bytes. */
    INT,
    /**
     * C's plain {@code char} (1 byte). Kept apart from INT because arrays of it are text ({@code
     * char comm[16]}); {@code signed char}/{@code unsigned char} ({@code __u8}) stay INT: bytes.
     */
    CHAR,
    /** C's {@code _Bool}/{@code bool} (BTF's bool encoding). */
    BOOL,
    /** An enum of {@link #size} bytes; values are not listed. */
    ENUM,
    FLOAT,
    /** A pointer: an address, meaningless in user space, but its size matters for layout. */
    POINTER,
    /**
     * A fixed-size array; see {@link #elementKind}, {@link #elementSize}, {@link #elementCount}.
     */
    ARRAY,
    /** A nested struct; {@link #typeName} names it (look it up with {@link Btf#struct}). */
    STRUCT,
    UNION,
    /** Anything else (function pointers resolve to POINTER; this is void and the like). */
    OTHER
  }

  public BtfField {
    requireNonNull(name, "name");
    requireNonNull(kind, "kind");
    requireNonNull(typeName, "typeName");
  }

  /**
   * A non-bitfield member: {@code bitOffset = offset * 8}, {@code bitSize = 0}, no type name, no
   * element typedef. Handy
   * for describing a layout by hand, e.g. in a decoder's tests.
   */
  public BtfField(
      String name,
      int offset,
      int size,
      Kind kind,
      String typedefName,
      boolean signed,
      Kind elementKind,
      int elementSize,
      int elementCount) {
    this(
        name,
        offset,
        size,
        kind,
        typedefName,
        signed,
        elementKind,
        elementSize,
        elementCount,
        "",
        offset * 8,
        0,
        null);
  }

  /** Whether it is a C {@code bool} (kind {@link Kind#BOOL}). */
  public boolean isBool() {
    return kind == Kind.BOOL;
  }

  /** Whether the member is a bitfield ({@link #bitSize} &gt; 0). */
  public boolean isBitfield() {
    return bitSize > 0;
  }

  /** Whether it is an array of plain {@code char}: text. */
  public boolean isCharArray() {
    return kind == Kind.ARRAY && elementKind == Kind.CHAR;
  }
}
