package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BtfField;
import io.gadgetexporter.bpf.BtfStruct;
import io.gadgetexporter.gadget.GadgetSpec.FieldSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The layout of a gadget's event, built once per gadget from the object's BTF and its {@code
 * gadget.yaml}; every event is then decoded generically through an {@link EventView}.
 */
public final class EventSchema {
  private final String structName;
  private final int size;
  private final List<EventField> fields;
  private final List<EventField> argsFields;
  private final List<PayloadField> payloadFields;
  private final EventField mntnsField;
  private final EventField netnsField;
  private final EventField cgroupField;

  /**
   * A payload field with the fields saying how much of it there is, and its format.
   *
   * @param size {@code X_size}: bytes captured into the payload
   * @param length {@code X_len}: bytes the payload had
   */
  public record PayloadField(
      EventField field, EventField size, EventField length, PayloadFormat format) {}

  private EventSchema(
      String structName,
      int size,
      List<EventField> fields,
      List<PayloadField> payloadFields,
      EventField mntnsField,
      EventField netnsField,
      EventField cgroupField) {
    this.structName = structName;
    this.size = size;
    this.fields = List.copyOf(fields);
    this.argsFields =
        fields.stream()
            .filter(f -> f.format() == FieldFormat.ARGS && !f.derived())
            .collect(Collectors.toList());
    this.payloadFields = List.copyOf(payloadFields);
    this.mntnsField = mntnsField;
    this.netnsField = netnsField;
    this.cgroupField = cgroupField;
  }

  /**
   * A gadget's event layout, read from its object's BTF without loading anything into the kernel:
   * what the agent checks a configuration's outputs against before it starts anything.
   *
   * @throws GadgetException when the object or its description is broken
   */
  public static EventSchema of(Gadget gadget) {
    try (BpfObject object = BpfObject.open("schema-" + gadget.name(), gadget.object())) {
      return of(object, gadget);
    } catch (io.gadgetexporter.bpf.BpfException e) {
      throw new GadgetException("gadget " + gadget.name() + ": cannot open its object: " + e.getMessage(), e);
    }
  }

  /**
   * The event layout of an opened object; for an aggregating gadget, its row: the map's key and
   * value structs as one (see {@link AggregateSpec#rowStruct}).
   */
  public static EventSchema of(BpfObject object, Gadget gadget) {
    AggregateSpec aggregate = gadget.spec().aggregate();
    if (aggregate != null) {
      EventSchema rows = of(aggregate.rowStruct(object, gadget.name()), gadget.spec());
      aggregate.sortFields(rows, gadget.name()); // a wrong sortBy is the gadget's error, said now
      return rows;
    }
    BtfStruct struct =
        object
            .btf()
            .struct(gadget.spec().eventStruct())
            .orElseThrow(
                () ->
                    new GadgetException(
                        "gadget "
                            + gadget.name()
                            + ": its object has no BTF for struct '"
                            + gadget.spec().eventStruct()
                            + "' (compile with -g and keep .BTF)"));
    return of(struct, gadget.spec());
  }

  /**
   * Matches the BTF struct against the gadget's field descriptions.
   *
   * @throws GadgetException when they disagree: the gadget itself is broken
   */
  public static EventSchema of(BtfStruct struct, GadgetSpec spec) {
    String where = "gadget " + spec.name() + ": event struct '" + struct.name() + "'";
    Map<String, BtfField> btfByName =
        struct.fields().stream().collect(Collectors.toMap(BtfField::name, Function.identity()));
    for (BtfField f : struct.fields()) {
      if (spec.field(f.name()).isEmpty()) {
        throw new GadgetException(where + " has field '" + f.name() + "' missing in gadget.yaml");
      }
    }
    // Payload fields in gadget.yaml's order: each gets a decoder, whose derived fields follow.
    List<String> payloadNames = new ArrayList<>();
    for (FieldSpec fs : spec.fields()) {
      BtfField bf = btfByName.get(fs.name());
      if (fs.from() == null && bf != null && formatOf(bf) == FieldFormat.PAYLOAD) {
        payloadNames.add(fs.name());
      }
    }
    List<EventField> fields = new ArrayList<>();
    for (FieldSpec fs : spec.fields()) {
      if (fs.from() != null) {
        fields.add(derivedField(where, fields.size(), fs, payloadNames, btfByName));
        continue;
      }
      BtfField bf = btfByName.get(fs.name());
      if (bf == null) {
        throw new GadgetException(
            where + " has no field '" + fs.name() + "' that gadget.yaml describes");
      }
      fields.add(
          new EventField(
              fields.size(),
              bf.name(),
              formatOf(bf),
              bf.offset(),
              bf.size(),
              bf.signed(),
              -1,
              payloadNames.indexOf(bf.name()),
              -1,
              fs));
    }
    // An args buffer X is read together with the field X_size (typed gadget_args_size) that says
    // how much of it is used: by name, so a gadget may have several (argv, envp). A payload X
    // likewise with X_size (gadget_payload_size) and X_len (gadget_payload_len).
    List<PayloadField> payloads = new ArrayList<>();
    for (int i = 0; i < fields.size(); i++) {
      EventField f = fields.get(i);
      if (f.format() == FieldFormat.ARGS && !f.derived()) {
        EventField size = pairedField(where, f, "_size", "gadget_args_size", btfByName, fields);
        fields.set(i, withSizeField(f, size));
      } else if (f.format() == FieldFormat.PAYLOAD) {
        EventField size = pairedField(where, f, "_size", "gadget_payload_size", btfByName, fields);
        EventField length = pairedField(where, f, "_len", "gadget_payload_len", btfByName, fields);
        EventField withSize = withSizeField(f, size);
        fields.set(i, withSize);
        payloads.add(
            new PayloadField(
                withSize,
                size,
                length,
                PayloadFormat.forTypedef(payloadTypedef(btfByName.get(f.name()))).orElseThrow()));
      }
    }
    // Recognised by their typedefs, like every well-known field, not by their names.
    Function<String, EventField> byTypedef =
        typedef ->
            fields.stream()
                .filter(f -> !f.derived() && typedef.equals(btfByName.get(f.name()).typedefName()))
                .findFirst()
                .orElse(null);
    return new EventSchema(
        struct.name(),
        struct.size(),
        fields,
        payloads,
        byTypedef.apply("gadget_mntns_id"),
        byTypedef.apply("gadget_netns_id"),
        byTypedef.apply("gadget_cgroup_id"));
  }

  /** A field gadget.yaml declares {@code from:} a payload field. */
  private static EventField derivedField(
      String where,
      int index,
      FieldSpec fs,
      List<String> payloadNames,
      Map<String, BtfField> btfByName) {
    if (btfByName.containsKey(fs.name())) {
      throw new GadgetException(
          where + ": field '" + fs.name() + "' is in the struct; it cannot also be from: "
              + fs.from());
    }
    int decoder = payloadNames.indexOf(fs.from());
    if (decoder < 0) {
      throw new GadgetException(
          where + ": field '" + fs.name() + "' is from '" + fs.from()
              + "', which is not a payload field of the struct (a payload typedef such as"
              + " gadget_dns_payload)");
    }
    PayloadFormat format =
        PayloadFormat.forTypedef(payloadTypedef(btfByName.get(fs.from()))).orElseThrow();
    int slot = format.slot(fs.name());
    if (slot < 0) {
      throw new GadgetException(
          where + ": " + format.typedef() + " '" + fs.from() + "' gives no field '" + fs.name()
              + "'; it gives: " + format.slotNames());
    }
    return new EventField(
        index, fs.name(), format.slots().get(slot).format(), 0, 0, false, -1, decoder, slot, fs);
  }

  /** The payload typedef of a payload field (the array's element type, or the field's own). */
  private static String payloadTypedef(BtfField f) {
    return PayloadFormat.forTypedef(f.typedefName()).isPresent()
        ? f.typedefName()
        : f.elementTypedefName();
  }

  /** The field {@code <f><suffix>} of type {@code typedef} that goes with {@code f}. */
  private static EventField pairedField(
      String where,
      EventField f,
      String suffix,
      String typedef,
      Map<String, BtfField> btfByName,
      List<EventField> fields) {
    String name = f.name() + suffix;
    BtfField paired = btfByName.get(name);
    if (paired == null || !typedef.equals(paired.typedefName())) {
      throw new GadgetException(
          where + ": field '" + f.name() + "' needs a field '" + name + "' of type " + typedef);
    }
    return fields.stream().filter(g -> g.name().equals(name)).findFirst().orElseThrow();
  }

  private static EventField withSizeField(EventField f, EventField size) {
    return new EventField(
        f.index(), f.name(), f.format(), f.offset(), f.size(), false, size.index(), f.decoder(),
        f.slot(), f.spec());
  }

  static FieldFormat formatOf(BtfField f) {
    FieldFormat known = FieldFormat.ofTypedef(f.typedefName());
    if (known == null) {
      known = FieldFormat.ofTypedef(f.elementTypedefName());
    }
    if (known != null) {
      return known;
    }
    return switch (f.kind()) {
      case BOOL -> FieldFormat.BOOL;
      case INT, CHAR, ENUM -> f.isBool() ? FieldFormat.BOOL : FieldFormat.NUMBER;
      case ARRAY -> f.isCharArray() ? FieldFormat.STRING : FieldFormat.BYTES;
      default -> FieldFormat.BYTES;
    };
  }

  public String structName() {
    return structName;
  }

  /** Bytes of one event; a shorter record is malformed. */
  public int size() {
    return size;
  }

  public List<EventField> fields() {
    return fields;
  }

  public Optional<EventField> field(String name) {
    return fields.stream().filter(f -> f.name().equals(name)).findFirst();
  }

  /**
   * A field by its name ({@code fname}) or, failing that, by its semantic attribute name ({@code
   * file.path}): the config may use either.
   */
  public Optional<EventField> fieldNamedOrMeaning(String name) {
    return field(name).or(() -> fields.stream().filter(f -> f.semantic().equals(name)).findFirst());
  }

  /**
   * The field a config entry names (by name or semantic name), or null with a problem recorded at
   * the entry's place, listing the fields there are.
   */
  public EventField configuredField(
      io.gadgetexporter.config.ConfigName name,
      List<io.gadgetexporter.config.ConfigException.Problem> problems) {
    EventField f = fieldNamedOrMeaning(name.text()).orElse(null);
    if (f == null) {
      problems.add(
          name.problem(
              "'" + name.text() + "' is not a field of this gadget; its fields: " + fieldNames()));
    }
    return f;
  }

  /** The field names, comma-separated: for messages. */
  public String fieldNames() {
    return String.join(", ", fields.stream().map(EventField::name).toList());
  }

  /**
   * The {@code gadget_mntns_id} field, by which events are tied to containers; null when the event
   * has none.
   */
  public EventField mntnsField() {
    return mntnsField;
  }

  /** The {@code gadget_netns_id} field, or null. */
  public EventField netnsField() {
    return netnsField;
  }

  /** The {@code gadget_cgroup_id} field, or null. */
  public EventField cgroupField() {
    return cgroupField;
  }

  /** Whether an event can be tied to a container: it has a namespace or cgroup id. */
  public boolean hasContainerKeys() {
    return mntnsField != null || netnsField != null || cgroupField != null;
  }

  List<EventField> argsFields() {
    return argsFields;
  }

  /** The payload fields, each decoded by its own decoder when an event is bound. */
  public List<PayloadField> payloadFields() {
    return payloadFields;
  }
}
