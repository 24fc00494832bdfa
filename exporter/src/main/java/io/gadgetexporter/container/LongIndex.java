package io.gadgetexporter.container;

import java.util.Arrays;

/**
 * An immutable map from a non-zero {@code long} (a namespace or cgroup id) to a value, for the
 * event path: open addressing over two arrays, so a lookup boxes nothing and allocates nothing,
 * which a {@code Map<Long, V>} cannot promise. Built whole from a mutable builder whenever the
 * containers change (rare next to events).
 */
final class LongIndex<V> {
  private static final LongIndex<?> EMPTY = new Builder<>().build();

  private final long[] keys; // 0 = empty slot
  private final Object[] values;
  private final int mask;

  private LongIndex(long[] keys, Object[] values) {
    this.keys = keys;
    this.values = values;
    this.mask = keys.length - 1;
  }

  @SuppressWarnings("unchecked")
  static <V> LongIndex<V> empty() {
    return (LongIndex<V>) EMPTY;
  }

  /** The value for {@code key}, or null; 0 is never a key (no namespace has inode 0). */
  @SuppressWarnings("unchecked")
  V get(long key) {
    if (key == 0) {
      return null;
    }
    for (int i = slot(key, mask); ; i = (i + 1) & mask) {
      long k = keys[i];
      if (k == key) {
        return (V) values[i];
      }
      if (k == 0) {
        return null;
      }
    }
  }

  private static int slot(long key, int mask) {
    long h = key * 0x9E3779B97F4A7C15L; // Fibonacci hashing: inode numbers are sequential
    return (int) (h ^ (h >>> 32)) & mask;
  }

  /** Collects entries; the first value put for a key wins. */
  static final class Builder<V> {
    private long[] keys = new long[16];
    private Object[] values = new Object[16];
    private int size;

    /** Adds unless the key is 0 or already present; returns whether it was added. */
    boolean putIfAbsent(long key, V value) {
      if (key == 0) {
        return false;
      }
      if ((size + 1) * 2 > keys.length) {
        grow();
      }
      int mask = keys.length - 1;
      for (int i = slot(key, mask); ; i = (i + 1) & mask) {
        if (keys[i] == key) {
          return false;
        }
        if (keys[i] == 0) {
          keys[i] = key;
          values[i] = value;
          size++;
          return true;
        }
      }
    }

    private void grow() {
      long[] oldKeys = keys;
      Object[] oldValues = values;
      keys = new long[oldKeys.length * 2];
      values = new Object[oldKeys.length * 2];
      size = 0;
      for (int i = 0; i < oldKeys.length; i++) {
        if (oldKeys[i] != 0) {
          @SuppressWarnings("unchecked")
          V v = (V) oldValues[i];
          putIfAbsent(oldKeys[i], v);
        }
      }
    }

    LongIndex<V> build() {
      return new LongIndex<>(Arrays.copyOf(keys, keys.length), values.clone());
    }
  }
}
