package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfMap;

/**
 * How full one of a gadget's maps is: entries against capacity. A hash map at capacity makes its
 * program's updates fail (the gadget then misses what it meant to remember); an LRU map at capacity
 * is normal but evicts. The agent reports this so that such a map is seen filling before it is
 * full.
 *
 * @param name the map's name in the object, e.g. {@code gadget_mntns_filter}
 * @param type libbpf's name of the map type, e.g. {@code hash}, {@code lru_hash}
 * @param capacity the map's {@code max_entries}
 * @param entries elements in it now, or {@link #NOT_COUNTED} when the map is too large to count on
 *     every collection (capacity above {@link #COUNT_LIMIT})
 */
public record MapUsage(String name, String type, long capacity, long entries) {
  /** {@link #entries()} of a map that was not counted. */
  public static final long NOT_COUNTED = -1;

  /**
   * Largest capacity whose entries are counted. Counting walks the keys with one {@code
   * BPF_MAP_GET_NEXT_KEY} call each, holding the object's lock (other reads and filter updates of
   * the same object wait; the drain does not). Measured at 1.4-2 µs a key on the reference machine,
   * a full map at this limit costs about 60 ms per collection, and every reader (Prometheus scrape,
   * OTLP push) collects. The built-in maps (filter 16,384, trace_exec's starts 10,240) are under
   * it.
   */
  public static final int COUNT_LIMIT = 1 << 15;

  // enum bpf_map_type values whose elements can be walked with BPF_MAP_GET_NEXT_KEY and whose
  // entry count is not fixed: the maps that can fill up.
  private static final int HASH = 1;
  private static final int PERCPU_HASH = 5;
  private static final int STACK_TRACE = 7;
  private static final int LRU_HASH = 9;
  private static final int LRU_PERCPU_HASH = 10;
  private static final int LPM_TRIE = 11;
  private static final int HASH_OF_MAPS = 13;
  private static final int SOCKHASH = 18;
  private static final int DEVMAP_HASH = 25;

  /** Whether {@link #entries()} was counted. */
  public boolean counted() {
    return entries != NOT_COUNTED;
  }

  /**
   * Whether a map's fill is worth reporting. Left out: libbpf's maps for global variables ({@code
   * .rodata}, {@code .bss}, {@code .data}), the ring buffer (its fill is {@code
   * gadget.ring_buffer.pending} against its size), and arrays and the other fixed-size types: every
   * element of an array exists from creation, so it is always "full" and says nothing; the per-CPU
   * counters {@code gadget_lost}, {@code gadget_incomplete} and {@code gadget_filtered} and per-CPU
   * scratch space are such arrays.
   */
  static boolean reported(BpfMap map) {
    if (map.isInternal() || map.isRingBuffer()) {
      return false;
    }
    return switch (map.typeId()) {
      case HASH,
              PERCPU_HASH,
              STACK_TRACE,
              LRU_HASH,
              LRU_PERCPU_HASH,
              LPM_TRIE,
              HASH_OF_MAPS,
              SOCKHASH,
              DEVMAP_HASH ->
          true;
      default -> false;
    };
  }

  /**
   * Reads a loaded map's capacity and, up to {@link #COUNT_LIMIT}, its entries.
   *
   * @throws IllegalStateException when the map's object is closed
   */
  static MapUsage read(BpfMap map) {
    int capacity = map.maxEntries();
    long entries = capacity <= COUNT_LIMIT ? map.keys().size() : NOT_COUNTED;
    return new MapUsage(map.name(), map.type(), capacity, entries);
  }
}
