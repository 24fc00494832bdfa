package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * What {@link FeatureProbe#probe()} found: for each {@link AttachKind}, and for the ring buffer
 * map, whether it works here and why (or why not).
 *
 * @param attach one entry per {@link AttachKind}
 * @param ringBuffer whether {@code BPF_MAP_TYPE_RINGBUF} maps can be created
 */
public record KernelFeatures(Map<AttachKind, Support> attach, Support ringBuffer) {
  /**
   * One answer.
   *
   * @param supported whether it worked
   * @param reason what was done ({@code "attached to raw tracepoint sys_enter"}), or what failed
   *     and how ({@code "load failed: Operation not permitted (EPERM)"})
   */
  public record Support(boolean supported, String reason) {
    public Support {
      requireNonNull(reason, "reason");
    }
  }

  public KernelFeatures {
    requireNonNull(ringBuffer, "ringBuffer");
    EnumMap<AttachKind, Support> copy = new EnumMap<>(AttachKind.class);
    copy.putAll(attach);
    for (AttachKind kind : AttachKind.values()) {
      if (!copy.containsKey(kind)) {
        throw new IllegalArgumentException("no answer for " + kind);
      }
    }
    attach = Collections.unmodifiableMap(copy);
  }

  public Support support(AttachKind kind) {
    return attach.get(requireNonNull(kind, "kind"));
  }

  public boolean supports(AttachKind kind) {
    return support(kind).supported();
  }

  /** One line per kind: {@code TRACEPOINT yes attached to ...}. */
  @Override
  public String toString() {
    StringBuilder b = new StringBuilder();
    attach.forEach((kind, s) -> line(b, kind.name(), s));
    line(b, "RING_BUFFER", ringBuffer);
    return b.toString();
  }

  private static void line(StringBuilder b, String what, Support s) {
    b.append(String.format("%-15s %-4s %s%n", what, s.supported() ? "yes" : "no", s.reason()));
  }
}
