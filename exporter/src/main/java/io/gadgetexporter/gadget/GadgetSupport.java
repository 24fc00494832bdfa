package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.AttachKind;
import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfLink;
import io.gadgetexporter.bpf.BpfLoadException;
import io.gadgetexporter.bpf.BpfObject;
import io.gadgetexporter.bpf.BpfProgram;
import io.gadgetexporter.bpf.KernelFeatures;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Whether this kernel can run a gadget, found the way the agent would run it: each program's kind
 * of hook must be one the {@link io.gadgetexporter.bpf.FeatureProbe} saw work, the verifier must
 * accept the object, and every tracepoint, raw tracepoint and iterator must attach (then it is
 * detached at once). A version number or a config file would only guess: a helper the verifier does
 * not know, a tracepoint an architecture lacks, lockdown, all show only when trying.
 */
public final class GadgetSupport {
  private static final int ENOENT = 2;
  private static final int EPERM = 1;
  private static final int EACCES = 13;

  /** The answer: YES, NO (and why) or UNKNOWN (the check itself could not run, and why). */
  public enum Verdict {
    YES,
    NO,
    UNKNOWN
  }

  /**
   * @param reason why not, or why it could not be told; empty for YES
   * @param notes what the gadget does without (an optional hook this kernel lacks)
   */
  public record Support(Verdict verdict, String reason, List<String> notes) {
    public Support {
      Objects.requireNonNull(verdict, "verdict");
      Objects.requireNonNull(reason, "reason");
      notes = List.copyOf(notes);
    }

    public boolean supported() {
      return verdict == Verdict.YES;
    }
  }

  private GadgetSupport() {}

  /**
   * Loads the gadget's object into the kernel and attaches what can be attached without a target,
   * then frees everything.
   *
   * @param features this kernel's answers for the kinds of hooks that need a target to attach
   *     (perf events, socket filters, uprobes) or that may be refused outright (kprobes, fentry)
   */
  public static Support check(Gadget gadget, KernelFeatures features) {
    List<String> notes = new ArrayList<>();
    try (BpfObject object = BpfObject.open("check-" + gadget.name(), gadget.object())) {
      for (BpfProgram program : object.programs()) {
        AttachKind kind = program.attachKind().orElse(null);
        if (kind != null && !features.supports(kind)) {
          String why = kind + " programs do not work here (" + features.support(kind).reason() + ")";
          if (!gadget.spec().optionalPrograms().contains(program.name())) {
            return new Support(Verdict.NO, "program '" + program.name() + "': " + why, notes);
          }
          notes.add("runs without program '" + program.name() + "': " + why);
          program.setAutoload(false);
        }
      }
      try {
        object.load();
      } catch (BpfLoadException e) {
        if (e.verifierLog().isEmpty() && (e.errno() == EPERM || e.errno() == EACCES)) {
          return new Support(
              Verdict.UNKNOWN, "not allowed to load BPF programs here: " + e.getMessage(), notes);
        }
        return new Support(
            Verdict.NO,
            "the kernel refuses to load it: "
                + e.getMessage()
                + KernelLockdown.explainLoadFailure(e.verifierLog(), KernelLockdown.mode()),
            notes);
      }
      Tracefs.ensureMounted();
      for (BpfProgram program : object.programs()) {
        if (!program.autoload() || !attachesWithoutTarget(program)) {
          continue;
        }
        try (BpfLink link = program.attach()) {
          // Attached: the hook exists. Detached again by the try.
        } catch (BpfException e) {
          String why = program.sectionName() + " cannot be attached: " + e.getMessage();
          if (e.errno() == ENOENT && gadget.spec().optionalPrograms().contains(program.name())) {
            notes.add("runs without program '" + program.name() + "': " + why);
            continue;
          }
          return new Support(Verdict.NO, "program '" + program.name() + "': " + why, notes);
        }
      }
      return new Support(Verdict.YES, "", notes);
    } catch (BpfException e) {
      return new Support(Verdict.NO, "its object cannot be opened: " + e.getMessage(), notes);
    }
  }

  /**
   * Programs whose section names their hook completely. Perf events (a CPU and a frequency), socket
   * filters (a socket) and uprobes (a binary) attach to targets the agent picks at run time; for
   * them the feature probe's answer stands.
   */
  private static boolean attachesWithoutTarget(BpfProgram program) {
    return program
        .attachKind()
        .map(
            k ->
                k == AttachKind.TRACEPOINT
                    || k == AttachKind.RAW_TRACEPOINT
                    || k == AttachKind.TP_BTF
                    || k == AttachKind.ITERATOR)
        .orElse(false);
  }
}
