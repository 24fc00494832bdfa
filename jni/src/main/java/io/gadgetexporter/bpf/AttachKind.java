package io.gadgetexporter.bpf;

import static java.util.Objects.requireNonNull;

import java.util.List;
import java.util.Optional;

/**
 * Families of hooks a program can attach to, as far as deciding "does this kernel allow it" goes.
 * {@link FeatureProbe} answers that per kind; gadgets that have variants (a tracepoint one and a
 * kprobe one) pick by it.
 *
 * <p>The native probe (probe.c) receives these as ordinals and mirrors their order: add new kinds
 * at the end only.
 */
public enum AttachKind {
  /** {@code SEC("tracepoint/cat/name")}: stable kernel tracepoints. */
  TRACEPOINT("tracepoint", "tp"),
  /** {@code SEC("raw_tp/name")}: tracepoints without the argument copy. */
  RAW_TRACEPOINT("raw_tp", "raw_tracepoint", "raw_tp.w", "raw_tracepoint.w"),
  /** {@code SEC("tp_btf/name")}: BTF-typed raw tracepoints (typed arguments, CO-RE reads). */
  TP_BTF("tp_btf"),
  /** {@code SEC("kprobe/func")} and returns: any kernel function; needs CONFIG_KPROBES. */
  KPROBE("kprobe", "kretprobe", "kprobe.multi", "kretprobe.multi", "ksyscall", "kretsyscall"),
  /** {@code SEC("fentry/func")} and {@code fexit}: BPF trampolines; needs BTF and permission. */
  FENTRY("fentry", "fexit", "fmod_ret", "fentry.s", "fexit.s", "fmod_ret.s"),
  /** {@code SEC("iter/task")} and others: snapshots of kernel objects on demand. */
  ITERATOR("iter", "iter.s"),
  /** {@code SEC("uprobe")}, {@code uretprobe}, {@code usdt}: user-space functions. */
  UPROBE("uprobe", "uretprobe", "uprobe.s", "uretprobe.s", "usdt"),
  /** {@code SEC("perf_event")}: sampling (CPU profiles). */
  PERF_EVENT("perf_event"),
  /** {@code SEC("socket")}: packet filters on a socket. */
  SOCKET_FILTER("socket");

  private final List<String> sectionPrefixes;

  AttachKind(String... sectionPrefixes) {
    this.sectionPrefixes = List.of(sectionPrefixes);
  }

  /** The kind a program's section name asks for: {@code "tracepoint/syscalls/x"} → TRACEPOINT. */
  public static Optional<AttachKind> forSection(String section) {
    requireNonNull(section, "section");
    int slash = section.indexOf('/');
    String head = slash < 0 ? section : section.substring(0, slash);
    int plus = head.indexOf('+'); // libbpf's "sec+" spelling
    if (plus >= 0) {
      head = head.substring(0, plus);
    }
    for (AttachKind kind : values()) {
      if (kind.sectionPrefixes.contains(head)) {
        return Optional.of(kind);
      }
    }
    return Optional.empty();
  }
}
