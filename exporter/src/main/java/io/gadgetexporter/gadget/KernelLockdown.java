package io.gadgetexporter.gadget;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Kernel lockdown, as far as it concerns the gadgets. In {@code confidentiality} mode the kernel
 * refuses BPF programs the helpers that read kernel memory ({@code bpf_probe_read_kernel}, which
 * every CO-RE read uses, and its variants), and creates no files in tracefs, so no tracepoint has
 * an id to attach by. Neither refusal names lockdown: the verifier says only that the program
 * "cannot use helper bpf_probe_read_kernel#113" (older kernels: "unknown func"), and tracefs is
 * simply empty. This class turns those into a message that names the cause. {@code integrity} mode
 * forbids nothing the gadgets use.
 *
 * <p>The mode is in securityfs, which a container usually does not mount: when it cannot be read,
 * the explanation says where to look on the node instead.
 */
public final class KernelLockdown {
  /** securityfs' view of the lockdown LSM: {@code none [integrity] confidentiality}. */
  public static final Path FILE = Path.of("/sys/kernel/security/lockdown");

  public static final String CONFIDENTIALITY = "confidentiality";

  /** A running kernel can raise its lockdown, never lower it: the fix is at boot. */
  public static final String BOOT_ADVICE =
      "Lockdown can only be raised while the kernel runs: boot the node without"
          + " lockdown=confidentiality on the kernel command line, with a kernel not built with"
          + " CONFIG_LOCK_DOWN_KERNEL_FORCE_CONFIDENTIALITY; integrity mode lets the gadgets run";

  /**
   * The verifier's refusal of a kernel-memory read helper: "program of this type cannot use helper
   * bpf_probe_read_kernel#113" (newer kernels), "unknown func bpf_probe_read_kernel#113" (older).
   * libbpf rewrites bpf_probe_read_kernel into the older bpf_probe_read when its own probe of the
   * helper fails, which lockdown also makes happen, so both names count.
   */
  private static final Pattern REFUSED_READ =
      Pattern.compile(
          "(?:cannot use helper|unknown func) (bpf_probe_read(?:_kernel)?(?:_str)?)#\\d+");

  /** The bracketed word of the file: the mode in force. */
  private static final Pattern MODE = Pattern.compile("\\[([a-z]+)]");

  private KernelLockdown() {}

  /** The mode in force on this host; empty when {@link #FILE} cannot be read. */
  public static Optional<String> mode() {
    return mode(FILE);
  }

  /**
   * The mode in force: the bracketed word of the file ({@code none}, {@code integrity}, {@code
   * confidentiality}); empty when the file cannot be read (no securityfs mounted, as in most
   * containers, or a kernel without the lockdown LSM).
   */
  public static Optional<String> mode(Path file) {
    String text;
    try {
      text = Files.readString(file);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
    Matcher m = MODE.matcher(text);
    return m.find() ? Optional.of(m.group(1)) : Optional.empty();
  }

  /**
   * What a program load refused by the verifier means when its log shows a kernel-memory read
   * helper refused: a sentence starting with " — " to append to the load error; {@code ""} when
   * the log shows no such refusal, or the mode is known and is not {@code confidentiality} (then
   * the cause is something else, a kernel without the helper).
   *
   * @param mode the lockdown mode read on this host, if it could be read
   */
  public static String explainLoadFailure(String verifierLog, Optional<String> mode) {
    Matcher m = REFUSED_READ.matcher(verifierLog);
    if (!m.find()) {
      return "";
    }
    if (mode.isPresent() && !mode.get().equals(CONFIDENTIALITY)) {
      return "";
    }
    return " — the kernel refuses "
        + m.group(1)
        + " to BPF programs, which kernel lockdown in confidentiality mode does ("
        + FILE
        + (mode.isPresent()
            ? " says confidentiality"
            : " cannot be read here: check it on the node")
        + "), and the gadgets read kernel memory. "
        + BOOT_ADVICE;
  }
}
