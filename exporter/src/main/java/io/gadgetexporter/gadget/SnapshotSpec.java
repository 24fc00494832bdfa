package io.gadgetexporter.gadget;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * What a snapshot gadget's {@code snapshot:} section in {@code gadget.yaml} says. A snapshot gadget
 * has no stream of events: its BPF iterators ({@code SEC("iter/...")}) write one {@code event:}
 * struct per row with {@code bpf_seq_write}, and the agent runs them on demand and on an interval
 * ({@link SnapshotSource}). {@code snapshot: {}} is enough when every iterator writes rows.
 *
 * @param prepare iterator programs run first in every snapshot, their output ignored: they fill
 *     maps that the row iterators read (the owner of each socket, for instance)
 * @param networkNamespaces a hash map ({@code u64} network namespace inode → {@code u32} pid of a
 *     process in it) that a {@code prepare} program fills: each network-scoped row iterator ({@code
 *     iter/tcp}, {@code iter/udp}, ...) then runs once in each of those namespaces, and the map is
 *     emptied as it is read. Null: they run in the agent's own namespace only
 * @param clear maps emptied after every snapshot (what {@code prepare} programs filled)
 */
public record SnapshotSpec(List<String> prepare, String networkNamespaces, List<String> clear) {
  public SnapshotSpec {
    prepare = List.copyOf(prepare);
    clear = List.copyOf(clear);
  }

  /**
   * Reads the section ({@code null} and {@code {}} mean every default).
   *
   * @throws GadgetException naming the key in {@code source}
   */
  static SnapshotSpec parse(Object node, String source) {
    if (node == null) {
      return new SnapshotSpec(List.of(), null, List.of());
    }
    if (!(node instanceof Map<?, ?> map)) {
      throw new GadgetException(source + ": snapshot: must be a mapping (snapshot: {} for none)");
    }
    List<String> known = List.of("prepare", "networkNamespaces", "clear");
    for (Object key : map.keySet()) {
      if (!known.contains(String.valueOf(key))) {
        throw new GadgetException(
            source
                + ": snapshot."
                + key
                + ": unknown key (known: "
                + String.join(", ", known)
                + ")");
      }
    }
    Object netns = map.get("networkNamespaces");
    if (netns != null && !(netns instanceof String)) {
      throw new GadgetException(source + ": snapshot.networkNamespaces: must be a map name");
    }
    return new SnapshotSpec(
        names(map.get("prepare"), source, "prepare"),
        (String) netns,
        names(map.get("clear"), source, "clear"));
  }

  private static List<String> names(Object node, String source, String key) {
    if (node == null) {
      return List.of();
    }
    if (!(node instanceof List<?> list)) {
      throw new GadgetException(source + ": snapshot." + key + ": must be a list of names");
    }
    List<String> names = new ArrayList<>();
    list.forEach(n -> names.add(String.valueOf(n)));
    return names;
  }
}
