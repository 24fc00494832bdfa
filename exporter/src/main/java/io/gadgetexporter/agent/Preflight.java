package io.gadgetexporter.agent;

import io.gadgetexporter.gadget.KernelLockdown;
import io.gadgetexporter.linux.MountInfo;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Checks, before anything is loaded, what every gadget needs from the host, so a user reads what is
 * missing and what to do instead of a bare errno from the kernel.
 */
public final class Preflight {
  static final int CAP_SYS_ADMIN = 21;
  static final int CAP_PERFMON = 38;
  static final int CAP_BPF = 39;

  private final Path procSelfStatus;
  private final Path vmlinuxBtf;
  private final List<Path> tracefsEvents;
  private final Path mountinfo;
  private final Path lockdown;

  /**
   * @param tracefsEvents where tracefs' {@code events} directory may be; the parent of each is
   *     where tracefs would be mounted
   * @param mountinfo {@code /proc/self/mountinfo}, to tell an empty tracefs from none
   * @param lockdown securityfs' lockdown file ({@link KernelLockdown#FILE})
   */
  Preflight(
      Path procSelfStatus,
      Path vmlinuxBtf,
      List<Path> tracefsEvents,
      Path mountinfo,
      Path lockdown) {
    this.procSelfStatus = procSelfStatus;
    this.vmlinuxBtf = vmlinuxBtf;
    this.tracefsEvents = tracefsEvents;
    this.mountinfo = mountinfo;
    this.lockdown = lockdown;
  }

  public static Preflight forThisHost() {
    return new Preflight(
        Path.of("/proc/self/status"),
        Path.of("/sys/kernel/btf/vmlinux"),
        List.of(Path.of("/sys/kernel/tracing/events"), Path.of("/sys/kernel/debug/tracing/events")),
        Path.of("/proc/self/mountinfo"),
        KernelLockdown.FILE);
  }

  /** Every problem found, each with its remedy; empty when the host can run gadgets. */
  public List<String> problems() {
    List<String> problems = new ArrayList<>();
    BigInteger caps = effectiveCapabilities();
    boolean admin = caps.testBit(CAP_SYS_ADMIN);
    if (!admin && !(caps.testBit(CAP_BPF) && caps.testBit(CAP_PERFMON))) {
      problems.add(
          "missing privileges to load BPF programs (effective capabilities 0x"
              + caps.toString(16)
              + "): run as root, or grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE"
              + " (CAP_SYS_ADMIN on kernels older than 5.8)");
    }
    if (!Files.isReadable(vmlinuxBtf)) {
      problems.add(
          "this kernel exposes no BTF at "
              + vmlinuxBtf
              + ": the gadgets are CO-RE programs and need a kernel built with"
              + " CONFIG_DEBUG_INFO_BTF=y (most distributions since 2020; 5.4 or newer)");
    }
    if (tracefsEvents.stream().noneMatch(Files::isDirectory)) {
      problems.add(tracefsProblem());
    }
    return problems;
  }

  /**
   * Why tracefs has no events. Under lockdown in confidentiality mode the kernel creates no tracefs
   * files at all: tracefs is mounted but empty, which "not mounted" would misname.
   */
  private String tracefsProblem() {
    Optional<String> mode = KernelLockdown.mode(lockdown);
    if (mode.isPresent() && mode.get().equals(KernelLockdown.CONFIDENTIALITY)) {
      return "kernel lockdown is in confidentiality mode ("
          + lockdown
          + "): the kernel shows no tracepoints in tracefs and refuses BPF programs the reading of"
          + " kernel memory, so the gadgets cannot run. "
          + KernelLockdown.BOOT_ADVICE;
    }
    Optional<Path> mounted = mountedTracefs();
    if (mounted.isPresent() && mode.isPresent()) {
      // Lockdown is ruled out (confidentiality was handled above).
      return "tracefs is mounted at "
          + mounted.get()
          + " but has no events directory: the kernel is built without tracepoints"
          + " (CONFIG_TRACEPOINTS), not locked down ("
          + lockdown
          + " says "
          + mode.get()
          + ")";
    }
    if (mounted.isPresent()) {
      return "tracefs is mounted at "
          + mounted.get()
          + " but has no events directory: the kernel creates none under lockdown in"
          + " confidentiality mode ("
          + lockdown
          + " cannot be read here: check it on the node), or the kernel is built without"
          + " tracepoints (CONFIG_TRACEPOINTS)";
    }
    return "tracefs is not mounted, so tracepoints cannot be attached: mount it with"
        + " `mount -t tracefs nodev /sys/kernel/tracing` (in a container, mount the host's"
        + " /sys/kernel/tracing or /sys/kernel/debug)";
  }

  /** The first of the places tracefs' events would be whose parent is a tracefs mount point. */
  private Optional<Path> mountedTracefs() {
    List<MountInfo.Mount> mounts = MountInfo.read(mountinfo);
    return tracefsEvents.stream()
        .map(Path::getParent)
        .filter(at -> mounts.stream().anyMatch(m -> m.is("tracefs", at)))
        .findFirst();
  }

  private BigInteger effectiveCapabilities() {
    try {
      for (String line : Files.readAllLines(procSelfStatus)) {
        if (line.startsWith("CapEff:")) {
          return new BigInteger(line.substring("CapEff:".length()).strip(), 16);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Unknown: let the kernel decide and report.
      return BigInteger.ONE.shiftLeft(CAP_SYS_ADMIN);
    }
    return BigInteger.ZERO;
  }
}
