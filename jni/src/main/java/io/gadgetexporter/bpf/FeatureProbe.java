package io.gadgetexporter.bpf;

import io.gadgetexporter.bpf.internal.Native;
import java.util.EnumMap;
import java.util.Map;

/**
 * Finds out which kinds of BPF programs this kernel lets this process load and attach, by doing it:
 * for each {@link AttachKind} a two-instruction program ({@code r0 = 0; exit}) is loaded with the
 * matching program type and attached to a harmless hook (the {@code sys_enter_getpid} tracepoint,
 * raw tracepoint {@code sys_enter}, fentry on {@code do_sys_openat2}, the task iterator, a uprobe
 * on libc's {@code getpid} in this process only, a cpu-clock perf event, a UDP socket), then
 * everything is closed. Kernel version numbers and config files would only guess: lockdown, missing
 * options, seccomp and capabilities show only when trying.
 *
 * <p>Takes a few milliseconds; the agent runs it once at start and shows the result in its status.
 */
public final class FeatureProbe {
  private FeatureProbe() {}

  public static KernelFeatures probe() {
    NativeLibrary.load();
    Map<AttachKind, KernelFeatures.Support> attach = new EnumMap<>(AttachKind.class);
    String[] reason = new String[1];
    for (AttachKind kind : AttachKind.values()) {
      reason[0] = null;
      boolean ok = Native.probeAttach(kind.ordinal(), reason);
      attach.put(kind, new KernelFeatures.Support(ok, String.valueOf(reason[0])));
    }
    reason[0] = null;
    boolean ring = Native.probeRingBuffer(reason);
    return new KernelFeatures(attach, new KernelFeatures.Support(ring, String.valueOf(reason[0])));
  }
}
