package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfProgram;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Attaching {@code SEC("perf_event")} programs: one software cpu-clock event per online CPU at the
 * instance's {@code frequency} (the section name says nothing about where to attach).
 *
 * <p>CPUs brought online after the instance started are not sampled until it is restarted.
 */
final class PerfSampling {
  /** The parameter a gadget with perf_event programs declares: samples per second per CPU. */
  static final String FREQUENCY_PARAM = "frequency";

  private static final Path ONLINE = Path.of("/sys/devices/system/cpu/online");

  private PerfSampling() {}

  /** Attaches {@code program} on every online CPU; the links belong to the program's object. */
  static void attach(BpfProgram program, long frequencyHz) {
    for (int cpu : onlineCpus()) {
      program.attachPerfEvent(cpu, frequencyHz);
    }
  }

  /** The online CPUs, from sysfs ({@code 0-3,6}); all available processors if unreadable. */
  static List<Integer> onlineCpus() {
    try {
      return parseCpuList(Files.readString(ONLINE));
    } catch (IOException e) {
      List<Integer> all = new ArrayList<>();
      for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
        all.add(i);
      }
      return all;
    }
  }

  /** A kernel CPU list: {@code 0-3,6,8-9}. */
  static List<Integer> parseCpuList(String list) {
    List<Integer> cpus = new ArrayList<>();
    for (String part : list.strip().split(",")) {
      if (part.isEmpty()) {
        continue;
      }
      int dash = part.indexOf('-');
      int from = Integer.parseInt(dash < 0 ? part : part.substring(0, dash));
      int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1));
      for (int cpu = from; cpu <= to; cpu++) {
        cpus.add(cpu);
      }
    }
    return cpus;
  }
}
