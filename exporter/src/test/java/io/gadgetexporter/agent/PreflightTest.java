package io.gadgetexporter.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the agent says before it loads anything, on hosts made of files: each problem names its
 * cause and what to do. The files have the kernel's formats (/proc/self/status, mountinfo,
 * securityfs' lockdown).
 */
class PreflightTest {
  /** CAP_BPF, CAP_PERFMON, CAP_SYS_RESOURCE, CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH: the chart's. */
  private static final String CHART_CAPS =
      Long.toHexString((1L << 39) | (1L << 38) | (1L << 24) | (1L << 19) | (1L << 2));

  @TempDir Path root;

  private Path status;
  private Path btf;
  private Path tracing;
  private Path debugTracing;
  private Path mountinfo;
  private Path lockdown;

  @BeforeEach
  void host() throws IOException {
    status = write("proc/self/status", "Name:\tjava\nCapEff:\t" + pad(CHART_CAPS) + "\n");
    btf = write("sys/kernel/btf/vmlinux", "BTF");
    tracing = Files.createDirectories(root.resolve("sys/kernel/tracing"));
    debugTracing = root.resolve("sys/kernel/debug/tracing");
    Files.createDirectories(tracing.resolve("events"));
    mountinfo = write("proc/self/mountinfo", "");
    lockdown = root.resolve("sys/kernel/security/lockdown"); // absent, as in a container
  }

  @Test
  void theChartsCapabilitiesWithBtfAndTracefsAreEnough() {
    assertThat(preflight().problems()).isEmpty();
  }

  @Test
  void withoutCapBpfOrPerfmonTheMessageSaysWhichToGrant() throws IOException {
    write("proc/self/status", "CapEff:\t" + pad(Long.toHexString(1L << 19)) + "\n");

    assertThat(preflight().problems())
        .singleElement()
        .asString()
        .startsWith("missing privileges to load BPF programs (effective capabilities 0x80000)")
        .contains("grant CAP_BPF, CAP_PERFMON and CAP_SYS_RESOURCE");
  }

  @Test
  void withoutKernelBtfTheMessageNamesTheFileAndTheKernelOption() throws IOException {
    Files.delete(btf);

    assertThat(preflight().problems())
        .singleElement()
        .asString()
        .isEqualTo(
            "this kernel exposes no BTF at "
                + btf
                + ": the gadgets are CO-RE programs and need a kernel built with"
                + " CONFIG_DEBUG_INFO_BTF=y (most distributions since 2020; 5.4 or newer)");
  }

  @Test
  void anUnmountedTracefsIsCalledUnmounted() throws IOException {
    Files.delete(tracing.resolve("events"));

    assertThat(preflight().problems())
        .singleElement()
        .asString()
        .startsWith("tracefs is not mounted, so tracepoints cannot be attached");
  }

  @Test
  void anEmptyMountedTracefsPointsAtLockdownWhenSecurityfsCannotTell() throws IOException {
    Files.delete(tracing.resolve("events"));
    write(
        "proc/self/mountinfo",
        "22 1 0:21 / /sys rw,nosuid - sysfs sysfs rw\n"
            + "1017 22 0:13 / "
            + tracing
            + " ro,nosuid,nodev,noexec,relatime - tracefs tracefs rw\n");

    assertThat(preflight().problems())
        .singleElement()
        .asString()
        .isEqualTo(
            "tracefs is mounted at "
                + tracing
                + " but has no events directory: the kernel creates none under lockdown in"
                + " confidentiality mode ("
                + lockdown
                + " cannot be read here: check it on the node), or the kernel is built without"
                + " tracepoints (CONFIG_TRACEPOINTS)");
  }

  @Test
  void confidentialityLockdownIsNamedAsTheCauseOfAnEmptyTracefs() throws IOException {
    Files.delete(tracing.resolve("events"));
    write("sys/kernel/security/lockdown", "none integrity [confidentiality]\n");

    assertThat(preflight().problems())
        .singleElement()
        .asString()
        .startsWith("kernel lockdown is in confidentiality mode (" + lockdown + ")")
        .contains("shows no tracepoints in tracefs")
        .contains("boot the node without lockdown=confidentiality");
  }

  @Test
  void anEmptyMountedTracefsWithLockdownRuledOutBlamesTheKernelBuild() throws IOException {
    Files.delete(tracing.resolve("events"));
    write("sys/kernel/security/lockdown", "none [integrity] confidentiality\n");
    write(
        "proc/self/mountinfo",
        "1017 22 0:13 / " + tracing + " rw,nosuid - tracefs tracefs rw\n");

    assertThat(preflight().problems())
        .singleElement()
        .asString()
        .isEqualTo(
            "tracefs is mounted at "
                + tracing
                + " but has no events directory: the kernel is built without tracepoints"
                + " (CONFIG_TRACEPOINTS), not locked down ("
                + lockdown
                + " says integrity)");
  }

  @Test
  void integrityLockdownIsNoProblem() throws IOException {
    write("sys/kernel/security/lockdown", "none [integrity] confidentiality\n");

    assertThat(preflight().problems()).isEmpty();
  }

  private Preflight preflight() {
    return new Preflight(
        status,
        btf,
        List.of(tracing.resolve("events"), debugTracing.resolve("events")),
        mountinfo,
        lockdown);
  }

  private Path write(String relative, String text) throws IOException {
    Path f = root.resolve(relative);
    Files.createDirectories(f.getParent());
    Files.writeString(f, text);
    return f;
  }

  private static String pad(String hex) {
    return "0".repeat(16 - hex.length()) + hex;
  }
}
