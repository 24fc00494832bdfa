package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfMap;
import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfStruct;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code aggregate:} section of an aggregating gadget's {@code gadget.yaml}: the program keeps
 * its numbers in a BPF hash map instead of sending events, and the agent takes the map's elements
 * out every {@code interval} ({@link AggregateReader}). Each element is one <em>row</em>: the key
 * struct's fields followed by the value struct's, described together by {@code fields:} and decoded
 * like an event.
 *
 * @param map the hash map's name in the object
 * @param keyStruct the map's key struct (BTF name)
 * @param valueStruct the map's value struct (BTF name)
 * @param sortBy the order in which rows are kept when an interval has more than {@code max_rows}
 */
public record AggregateSpec(
    String map, String keyStruct, String valueStruct, List<SortKey> sortBy) {
  /** The agent-read parameter every aggregating gadget declares: how often the map is read. */
  public static final String INTERVAL = "interval";

  /** The agent-read parameter every aggregating gadget declares: rows kept per interval. */
  public static final String MAX_ROWS = "max_rows";

  /** Where the value struct starts in a row: after the key, aligned for any scalar. */
  private static final int VALUE_ALIGN = 8;

  /** Field formats a row can be sorted by: plain integers. */
  private static final Set<FieldFormat> SORTABLE =
      EnumSet.of(FieldFormat.NUMBER, FieldFormat.BOOL, FieldFormat.SYSCALL_RET);

  private static final int TYPE_HASH = 1;

  public AggregateSpec {
    Objects.requireNonNull(map, "map");
    Objects.requireNonNull(keyStruct, "keyStruct");
    Objects.requireNonNull(valueStruct, "valueStruct");
    sortBy = List.copyOf(sortBy);
  }

  /** One {@code sortBy} entry: {@code -reads} sorts by {@code reads}, largest first. */
  public record SortKey(String field, boolean descending) {
    static SortKey parse(String text) {
      return text.startsWith("-")
          ? new SortKey(text.substring(1), true)
          : new SortKey(text.startsWith("+") ? text.substring(1) : text, false);
    }

    @Override
    public String toString() {
      return (descending ? "-" : "") + field;
    }
  }

  /** Offset of the value struct in a row whose key struct has {@code keySize} bytes. */
  static int valueOffset(int keySize) {
    return (keySize + VALUE_ALIGN - 1) & -VALUE_ALIGN;
  }

  /**
   * The row as one struct: the key struct's fields at their offsets, then the value struct's
   * shifted by {@link #valueOffset}. Checks that the map exists, is a plain hash map and that its
   * key and value sizes are those of the two structs.
   *
   * @throws GadgetException when the object and this description disagree
   */
  BtfStruct rowStruct(BpfObject object, String gadgetName) {
    String where = "gadget " + gadgetName + ": aggregate";
    BtfStruct key = struct(object, keyStruct, where + ".key");
    BtfStruct value = struct(object, valueStruct, where + ".value");
    BpfMap m =
        object
            .findMap(map)
            .orElseThrow(
                () -> new GadgetException(where + ".map: the object has no map '" + map + "'"));
    // An LRU map would evict rows silently when full, a per-CPU map needs its values summed:
    // a plain hash map with atomic adds refuses updates when full, and the program counts that.
    if (m.typeId() != TYPE_HASH) {
      throw new GadgetException(
          where
              + ".map: '"
              + map
              + "' is a "
              + m.type()
              + " map; an aggregate map must be a"
              + " hash map (BPF_MAP_TYPE_HASH)");
    }
    if (m.keySize() != key.size() || m.valueSize() != value.size()) {
      throw new GadgetException(
          where
              + ": map '"
              + map
              + "' has "
              + m.keySize()
              + "-byte keys and "
              + m.valueSize()
              + "-byte values, but struct "
              + keyStruct
              + " has "
              + key.size()
              + " bytes and struct "
              + valueStruct
              + " "
              + value.size());
    }
    int shift = valueOffset(key.size());
    List<BtfField> fields = new ArrayList<>(key.fields());
    Set<String> names = new HashSet<>();
    key.fields().forEach(f -> names.add(f.name()));
    for (BtfField f : value.fields()) {
      if (!names.add(f.name())) {
        throw new GadgetException(
            where
                + ": structs "
                + keyStruct
                + " and "
                + valueStruct
                + " both have a field '"
                + f.name()
                + "'; a row needs distinct names");
      }
      fields.add(
          new BtfField(
              f.name(),
              f.offset() + shift,
              f.size(),
              f.kind(),
              f.typedefName(),
              f.signed(),
              f.elementKind(),
              f.elementSize(),
              f.elementCount(),
              f.typeName(),
              f.bitOffset() + shift * 8,
              f.bitSize(),
              f.elementTypedefName()));
    }
    return new BtfStruct(keyStruct + "+" + valueStruct, shift + value.size(), fields);
  }

  /**
   * The {@code sortBy} fields of a row schema, in order.
   *
   * @throws GadgetException when one is not a field, or not an integer
   */
  List<EventField> sortFields(EventSchema schema, String gadgetName) {
    List<EventField> fields = new ArrayList<>();
    for (SortKey k : sortBy) {
      EventField f =
          schema
              .field(k.field())
              .orElseThrow(
                  () ->
                      new GadgetException(
                          "gadget "
                              + gadgetName
                              + ": aggregate.sortBy: '"
                              + k.field()
                              + "' is not a field; fields: "
                              + schema.fieldNames()));
      if (!SORTABLE.contains(f.format())) {
        throw new GadgetException(
            "gadget "
                + gadgetName
                + ": aggregate.sortBy: '"
                + k.field()
                + "' is not an integer field");
      }
      fields.add(f);
    }
    return fields;
  }

  private static BtfStruct struct(BpfObject object, String name, String where) {
    return object
        .btf()
        .struct(name)
        .orElseThrow(
            () ->
                new GadgetException(
                    where
                        + ": the object has no BTF for struct '"
                        + name
                        + "' (compile with -g and keep .BTF)"));
  }
}
