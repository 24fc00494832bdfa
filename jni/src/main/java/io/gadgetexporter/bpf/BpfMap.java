package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.bpf.internal.Errno;
import io.gadgetexporter.bpf.internal.Native;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;

/**
 * One map of a {@link BpfObject}.
 *
 * <p>Before load, its size can be chosen ({@link #resize}). After load, elements are read and
 * written through the kernel with Java {@code byte[]} keys and values in the map's own layout
 * (native byte order). These calls copy and are meant for setup and periodic reads (an aggregating
 * gadget's counters, a filter map), not for events: events travel through a ring buffer and a
 * {@link RingBufferReader}.
 *
 * <p>Per-CPU maps ({@link #isPerCpu()}) hold one value per possible CPU: {@link #lookup} returns,
 * and {@link #update} takes, {@link Bpf#possibleCpus()} slots of {@link #valueSlotSize()} bytes
 * (the value size rounded up to 8), slot {@code i} being CPU {@code i}'s value.
 */
public final class BpfMap {
  /** {@link #update} flag: create or replace. */
  public static final long ANY = 0;

  /** {@link #update} flag: create only; fails with EEXIST when present. */
  public static final long NOEXIST = 1;

  /** {@link #update} flag: replace only; fails with ENOENT when absent. */
  public static final long EXIST = 2;

  // enum bpf_map_type values this class treats specially
  static final int TYPE_HASH = 1;
  static final int TYPE_ARRAY = 2;
  static final int TYPE_PERCPU_HASH = 5;
  static final int TYPE_PERCPU_ARRAY = 6;
  static final int TYPE_LRU_PERCPU_HASH = 10;
  static final int TYPE_PERCPU_CGROUP_STORAGE = 21;
  static final int TYPE_RINGBUF = 27;

  /**
   * The elements {@link #lookupAndDeleteBatch} took: {@code keys.get(i)} had {@code values.get(i)}.
   *
   * @param reachedEnd the walk reached the map's end: what is left was added after it passed. When
   *     false it stopped for want of room (the {@code max} asked, or a hash bucket larger than what
   *     was left to ask, which the kernel copies whole), and a next call finds more.
   */
  public record Batch(List<byte[]> keys, List<byte[]> values, boolean reachedEnd) {
    public Batch {
      keys = List.copyOf(keys);
      values = List.copyOf(values);
    }

    public int size() {
      return keys.size();
    }

    public boolean isEmpty() {
      return keys.isEmpty();
    }
  }

  private final BpfObject owner;
  private final long handle;
  private final String name;
  private final int typeId;
  private final int keySize;
  private final int valueSize;

  BpfMap(BpfObject owner, long handle) {
    this.owner = owner;
    this.handle = handle;
    this.name = Native.mapName(handle);
    this.typeId = Native.mapType(handle);
    this.keySize = Native.mapKeySize(handle);
    this.valueSize = Native.mapValueSize(handle);
  }

  public BpfObject object() {
    return owner;
  }

  /** The map's name as libbpf knows it ({@code events}; internal ones like {@code obj.rodata}). */
  public String name() {
    return name;
  }

  /**
   * libbpf's name of the map type, e.g. {@code "ringbuf"}, {@code "percpu_array"}, {@code "hash"}.
   */
  public String type() {
    return Native.mapTypeName(typeId);
  }

  /** The kernel's {@code enum bpf_map_type} value. */
  public int typeId() {
    return typeId;
  }

  public int keySize() {
    return keySize;
  }

  public int valueSize() {
    return valueSize;
  }

  /** Capacity in elements; for a ring buffer, its data size in bytes. */
  public int maxEntries() {
    synchronized (owner) {
      owner.liveHandle();
      return Native.mapMaxEntries(handle);
    }
  }

  /** The map's fd once loaded, else -1. */
  public int fd() {
    synchronized (owner) {
      owner.liveHandle();
      return Native.mapFd(handle);
    }
  }

  public boolean isPerCpu() {
    return typeId == TYPE_PERCPU_HASH
        || typeId == TYPE_PERCPU_ARRAY
        || typeId == TYPE_LRU_PERCPU_HASH
        || typeId == TYPE_PERCPU_CGROUP_STORAGE;
  }

  public boolean isRingBuffer() {
    return typeId == TYPE_RINGBUF;
  }

  /** A map libbpf made for global variables ({@code .rodata}, {@code .data}, {@code .bss}). */
  public boolean isInternal() {
    return Native.mapIsInternal(handle);
  }

  /** Bytes per CPU in a per-CPU value: the value size rounded up to 8. */
  public int valueSlotSize() {
    return (valueSize + 7) & ~7;
  }

  /** Bytes {@link #lookup} returns and {@link #update} takes (all CPUs' slots for per-CPU maps). */
  public int lookupValueSize() {
    return isPerCpu() ? Bpf.possibleCpus() * valueSlotSize() : valueSize;
  }

  /**
   * Sets the capacity before load: elements for most maps, the data size in bytes for a ring
   * buffer, which the kernel wants a power of two and a multiple of the page size.
   *
   * @throws IllegalArgumentException for a size the kernel would refuse
   * @throws IllegalStateException after load
   */
  public void resize(int maxEntries) {
    if (maxEntries <= 0) {
      throw new IllegalArgumentException("map '" + name + "': maxEntries must be > 0");
    }
    if (isRingBuffer()) {
      int page = Bpf.pageSize();
      if (Integer.bitCount(maxEntries) != 1 || maxEntries % page != 0) {
        throw new IllegalArgumentException(
            "ring buffer '"
                + name
                + "' must be a power of two and a multiple of the page size ("
                + page
                + " bytes): "
                + maxEntries
                + " is not");
      }
    }
    synchronized (owner) {
      owner.requireOpened("resize map '" + name + "'");
      Native.mapResize(handle, maxEntries);
    }
  }

  /** The value for {@code key}, or null when absent; see the class comment for per-CPU maps. */
  public byte[] lookup(byte[] key) {
    checkKey(key);
    synchronized (owner) {
      return Native.mapLookup(loadedFd("lookup in"), key, lookupValueSize());
    }
  }

  /**
   * Creates or replaces the value for {@code key}.
   *
   * @param flags {@link #ANY}, {@link #NOEXIST} or {@link #EXIST}
   * @throws BpfException e.g. E2BIG when a hash map is full, EEXIST/ENOENT per {@code flags}
   */
  public void update(byte[] key, byte[] value, long flags) {
    checkKey(key);
    requireNonNull(value, "value");
    if (value.length != lookupValueSize()) {
      throw new IllegalArgumentException(
          "map '"
              + name
              + "' takes "
              + lookupValueSize()
              + "-byte values"
              + (isPerCpu() ? " (one slot per possible CPU)" : "")
              + ", got "
              + value.length);
    }
    synchronized (owner) {
      Native.mapUpdate(loadedFd("update"), key, value, flags);
    }
  }

  /** Deletes {@code key}; false when it was absent. Arrays cannot delete (BpfException EINVAL). */
  public boolean delete(byte[] key) {
    checkKey(key);
    synchronized (owner) {
      return Native.mapDelete(loadedFd("delete from"), key);
    }
  }

  /**
   * Every key, in the kernel's order. A snapshot taken key by key: concurrent changes by BPF
   * programs may or may not show. Bounded by {@link #maxEntries()}.
   */
  public List<byte[]> keys() {
    synchronized (owner) {
      return keys(loadedFd("list keys of"), Integer.MAX_VALUE);
    }
  }

  private List<byte[]> keys(int fd, int limit) {
    List<byte[]> keys = new ArrayList<>();
    int bound = Math.min(limit, Native.mapMaxEntries(handle));
    byte[] key = null;
    while (keys.size() < bound) {
      key = Native.mapNextKey(fd, key, keySize);
      if (key == null) {
        break;
      }
      keys.add(key);
    }
    return Collections.unmodifiableList(keys);
  }

  /**
   * Takes up to {@code max} elements out of the map: each is read and removed in one step, so a BPF
   * program's increments after the read land in a fresh element and are seen next time. This is how
   * aggregating gadgets turn kernel counters into deltas.
   *
   * <p>Uses the kernel's {@code BPF_MAP_LOOKUP_AND_DELETE_BATCH}. Map types without it (arrays,
   * where the kernel answers EINVAL or ENOTSUPP) are handled key by key: lookup, then delete, and
   * for arrays, whose elements cannot be deleted, the value is reset to zeros instead (an increment
   * between the read and the reset is lost there).
   */
  public Batch lookupAndDeleteBatch(int max) {
    if (max <= 0) {
      throw new IllegalArgumentException("max must be > 0");
    }
    synchronized (owner) {
      int fd = loadedFd("lookup-and-delete in");
      int valueLength = lookupValueSize();
      byte[] keys = new byte[Math.multiplyExact(max, keySize)];
      byte[] values = new byte[Math.multiplyExact(max, valueLength)];
      int[] end = new int[1];
      int n = Native.mapLookupAndDeleteBatch(fd, keySize, valueLength, max, keys, values, end);
      if (n >= 0) {
        List<byte[]> ks = new ArrayList<>(n);
        List<byte[]> vs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          ks.add(Arrays.copyOfRange(keys, i * keySize, (i + 1) * keySize));
          vs.add(Arrays.copyOfRange(values, i * valueLength, (i + 1) * valueLength));
        }
        return new Batch(ks, vs, end[0] == 1);
      }
      int errno = -n;
      if (errno != Errno.EINVAL
          && errno != Errno.ENOTSUPP
          && errno != Errno.EOPNOTSUPP
          && errno != Errno.ENOSPC) {
        throw BpfException.fromErrno("lookup-and-delete batch on map '" + name + "'", errno);
      }
      return lookupAndDeleteOneByOne(fd, max, valueLength);
    }
  }

  private Batch lookupAndDeleteOneByOne(int fd, int max, int valueLength) {
    boolean array = typeId == TYPE_ARRAY || typeId == TYPE_PERCPU_ARRAY;
    byte[] zeros = new byte[valueLength];
    List<byte[]> ks = new ArrayList<>();
    List<byte[]> vs = new ArrayList<>();
    List<byte[]> walked = keys(fd, max);
    for (byte[] key : walked) {
      byte[] value = Native.mapLookup(fd, key, valueLength);
      if (value == null) {
        continue; // deleted meanwhile
      }
      if (array) {
        Native.mapUpdate(fd, key, zeros, ANY);
      } else if (!Native.mapDelete(fd, key)) {
        continue; // deleted meanwhile: someone else took it
      }
      ks.add(key);
      vs.add(value);
    }
    return new Batch(ks, vs, walked.size() < max);
  }

  private int loadedFd(String action) {
    owner.requireLoaded(action + " map '" + name + "'");
    return Native.mapFd(handle);
  }

  private void checkKey(byte[] key) {
    requireNonNull(key, "key");
    if (key.length != keySize) {
      throw new IllegalArgumentException(
          "map '" + name + "' has " + keySize + "-byte keys, got " + key.length);
    }
  }

  long handle() {
    return handle;
  }

  @Override
  public String toString() {
    return "BpfMap[" + name + ", " + type() + "]";
  }
}
