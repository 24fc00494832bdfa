package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.bpf.BpfLoadException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A load refused under kernel lockdown names lockdown. The verifier logs below end as the kernel's
 * check_helper_call() writes them when the lockdown LSM hides bpf_probe_read_kernel from a program
 * (newer kernels: "program of this type cannot use helper", older: "unknown func"); the lockdown
 * files are securityfs' format.
 */
class KernelLockdownTest {
  private static final String LOG_NEW =
      "0: R1=ctx() R10=fp0\n"
          + "; return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);\n"
          + "12: (85) call bpf_probe_read_kernel#113\n"
          + "program of this type cannot use helper bpf_probe_read_kernel#113\n"
          + "processed 12 insns (limit 1000000) max_states_per_insn 0 total_states 1\n";
  private static final String LOG_OLD =
      "12: (85) call bpf_probe_read#4\nunknown func bpf_probe_read#4\n"
          + "processed 12 insns (limit 1000000)\n";
  /** A rejection for another reason: lockdown must not be blamed for it. */
  private static final String LOG_OTHER =
      "12: (61) r2 = *(u32 *)(r1 +8)\ninvalid bpf_context access off=8 size=4\n";

  @TempDir Path dir;

  @Test
  void modeIsTheBracketedWordOfSecurityfsFile() throws IOException {
    assertThat(KernelLockdown.mode(file("none [integrity] confidentiality\n")))
        .contains("integrity");
    assertThat(KernelLockdown.mode(file("none integrity [confidentiality]\n")))
        .contains("confidentiality");
    assertThat(KernelLockdown.mode(file("[none] integrity confidentiality\n"))).contains("none");
    assertThat(KernelLockdown.mode(dir.resolve("absent"))).isEmpty();
  }

  @Test
  void aRefusedKernelReadUnderConfidentialityNamesLockdownAndTheFix() {
    String hint = KernelLockdown.explainLoadFailure(LOG_NEW, Optional.of("confidentiality"));
    assertThat(hint)
        .startsWith(" — the kernel refuses bpf_probe_read_kernel to BPF programs")
        .contains("kernel lockdown in confidentiality mode")
        .contains("/sys/kernel/security/lockdown says confidentiality")
        .contains("boot the node without lockdown=confidentiality");
    assertThat(KernelLockdown.explainLoadFailure(LOG_OLD, Optional.of("confidentiality")))
        .contains("refuses bpf_probe_read to BPF programs");
  }

  @Test
  void withoutSecurityfsTheHintSaysWhereToLook() {
    assertThat(KernelLockdown.explainLoadFailure(LOG_NEW, Optional.empty()))
        .contains("kernel lockdown in confidentiality mode")
        .contains("/sys/kernel/security/lockdown cannot be read here: check it on the node");
  }

  @Test
  void lockdownIsNotBlamedWhenTheModeAllowsTheHelperOrTheLogSaysOtherwise() {
    assertThat(KernelLockdown.explainLoadFailure(LOG_NEW, Optional.of("integrity"))).isEmpty();
    assertThat(KernelLockdown.explainLoadFailure(LOG_NEW, Optional.of("none"))).isEmpty();
    assertThat(KernelLockdown.explainLoadFailure(LOG_OTHER, Optional.of("confidentiality")))
        .isEmpty();
    assertThat(KernelLockdown.explainLoadFailure("", Optional.empty())).isEmpty();
  }

  @Test
  void theInstanceLoadErrorCarriesTheLockdownHint() {
    BpfLoadException refused =
        new BpfLoadException(
            "load of program 'exec_enter' failed: Invalid argument (EINVAL)\n" + LOG_NEW,
            22,
            "exec_enter",
            LOG_NEW);
    assertThat(GadgetInstance.loadHint(refused, Optional.of("confidentiality")))
        .contains("kernel lockdown in confidentiality mode");

    // Without a verifier log, a privilege refusal keeps its own hint.
    BpfLoadException denied =
        new BpfLoadException(
            "load of BPF object 'exec' failed: Operation not permitted (EPERM)", 1, null, "");
    assertThat(GadgetInstance.loadHint(denied, Optional.of("confidentiality")))
        .contains("the agent lacks privileges");
  }

  private Path file(String text) throws IOException {
    Path f = Files.createTempFile(dir, "lockdown", "");
    Files.writeString(f, text);
    return f;
  }
}
