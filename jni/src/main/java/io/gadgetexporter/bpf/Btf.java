package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Cleaners;
import io.gadgetexporter.bpf.internal.Native;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.LongFunction;

/**
 * BPF Type Format: the C types a BPF object was compiled with (or the running kernel's). The agent
 * reads event layouts from here instead of hand-written offsets, so a gadget's event struct can
 * change without Java changes, and well-known typedefs ({@code gadget_mntns_id}, {@code
 * gadget_comm}) tell the decoder what a field means.
 */
public final class Btf implements AutoCloseable {
  private static final class Handle extends Cleaners.NativeHandle {
    Handle(long value) {
      super(value);
    }

    @Override
    protected void free(long value) {
      Native.btfFree(value);
    }
  }

  private final BpfObject owner; // null for vmlinux
  private final long objectBtf; // the owner's BTF, or 0
  private final Handle own; // vmlinux only
  private final Cleaner.Cleanable cleanable; // vmlinux only

  private Btf(BpfObject owner, long objectBtf, Handle own) {
    this.owner = owner;
    this.objectBtf = objectBtf;
    this.own = own;
    this.cleanable = own == null ? null : Cleaners.CLEANER.register(this, own);
  }

  static Btf ofObject(BpfObject owner, long btf) {
    return new Btf(owner, btf, null);
  }

  /**
   * The running kernel's BTF ({@code /sys/kernel/btf/vmlinux}): tens of thousands of types, parsed
   * once per call, so keep the result while needed and close it after.
   *
   * @throws BpfException when the kernel has no BTF (built without CONFIG_DEBUG_INFO_BTF)
   */
  public static Btf vmlinux() {
    NativeLibrary.load();
    return new Btf(null, 0, new Handle(Native.btfLoadVmlinux()));
  }

  /**
   * The struct called {@code name} ({@code struct name}, or a typedef of that name for a struct),
   * with its members in declaration order; empty when there is none. Anonymous nested structs and
   * unions appear as one field with an empty name.
   */
  public Optional<BtfStruct> struct(String name) {
    requireNonNull(name, "name");
    Object[] raw = query(h -> Native.btfStruct(h, name));
    if (raw == null) {
      return Optional.empty();
    }
    BtfStruct s = decode(raw);
    // typedef struct { ... } name_t: the struct is anonymous, the typedef is its name.
    return Optional.of(s.name().isEmpty() ? new BtfStruct(name, s.size(), s.fields()) : s);
  }

  /**
   * The enumerators of {@code enum name}, value to name in declaration order; empty when there is
   * no such enum. For kernel enums whose values differ between versions ({@code enum
   * skb_drop_reason}).
   */
  public Optional<Map<Long, String>> enumValues(String name) {
    requireNonNull(name, "name");
    Object[] raw = query(h -> Native.btfEnum(h, name));
    if (raw == null) {
      return Optional.empty();
    }
    long[] values = (long[]) raw[0];
    String[] names = (String[]) raw[1];
    Map<Long, String> out = new LinkedHashMap<>();
    for (int i = 0; i < values.length; i++) {
      out.putIfAbsent(values[i], names[i]); // aliases (FOO_MAX = FOO_LAST) keep the first name
    }
    return Optional.of(Collections.unmodifiableMap(out));
  }

  /** Runs a native query on the BTF handle, which stays valid (not freed) while it runs. */
  private <T> T query(LongFunction<T> call) {
    if (owner != null) {
      synchronized (owner) {
        owner.liveHandle();
        return call.apply(objectBtf);
      }
    }
    synchronized (own) {
      long h = own.get();
      if (h == 0) {
        throw new IllegalStateException("the kernel's BTF is closed");
      }
      return call.apply(h);
    }
  }

  /** Reassembles the flat arrays btf.c returns; layouts are documented there. */
  private static BtfStruct decode(Object[] raw) {
    int[] n = (int[]) raw[0];
    String[] s = (String[]) raw[1];
    final int fieldInts = 9;
    final int fieldStrings = 4;
    BtfField.Kind[] kinds = BtfField.Kind.values();
    int count = n[1];
    List<BtfField> fields = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int b = 2 + i * fieldInts;
      int sb = 1 + i * fieldStrings;
      int elementKind = n[b + 4];
      fields.add(
          new BtfField(
              s[sb] == null ? "" : s[sb],
              n[b],
              n[b + 1],
              kinds[n[b + 2]],
              s[sb + 1],
              n[b + 3] != 0,
              elementKind < 0 ? null : kinds[elementKind],
              n[b + 5],
              n[b + 6],
              s[sb + 2] == null ? "" : s[sb + 2],
              n[b + 7],
              n[b + 8],
              s[sb + 3]));
    }
    return new BtfStruct(s[0], n[0], fields);
  }

  /** Frees the kernel's BTF; a no-op for an object's (it belongs to the object). Idempotent. */
  @Override
  public void close() {
    if (cleanable != null) {
      cleanable.clean();
    }
  }
}
