package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.Btf;
import java.util.HashMap;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Names of {@code enum skb_drop_reason} values ({@code NETFILTER_DROP}, {@code NO_SOCKET}, ...).
 * The values change between kernel versions (reasons are inserted in the middle of the enum), so
 * the names come from the running kernel's BTF, read once on first use, never from a table here.
 */
public final class SkbDropReason {
  private static final Logger logger = Logger.getLogger(SkbDropReason.class.getName());
  private static final String PREFIX = "SKB_DROP_REASON_";

  private SkbDropReason() {}

  /** Read on first use (one parse of the kernel's BTF, ~100 ms), then kept. */
  private static final class Kernel {
    static final Map<Long, String> NAMES = load();

    private static Map<Long, String> load() {
      try (Btf kernel = Btf.vmlinux()) {
        return names(kernel.enumValues("skb_drop_reason").orElse(Map.of()));
      } catch (RuntimeException e) {
        logger.log(Level.WARNING, "drop reasons will show as numbers: " + e.getMessage());
        return Map.of();
      }
    }
  }

  /** The running kernel's name for a reason, e.g. {@code NETFILTER_DROP}; else {@code reason N}. */
  public static String name(long reason) {
    return name(reason, Kernel.NAMES);
  }

  /** The name in a table made by {@link #names}; {@code reason N} when it has none. */
  static String name(long reason, Map<Long, String> names) {
    String n = names.get(reason);
    return n != null ? n : "reason " + reason;
  }

  /** The enum's enumerators as shown: without the common {@code SKB_DROP_REASON_} prefix. */
  static Map<Long, String> names(Map<Long, String> enumerators) {
    Map<Long, String> out = new HashMap<>();
    enumerators.forEach(
        (v, n) -> out.put(v, n.startsWith(PREFIX) ? n.substring(PREFIX.length()) : n));
    return Map.copyOf(out);
  }
}
