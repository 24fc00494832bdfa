package io.gadgetexporter.gadget;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Building bring-your-own gadgets in tests, the way their authors do: with make and clang. */
public final class GadgetBuild {
  private GadgetBuild() {}

  /** The repository's root: tests run in the exporter module's directory. */
  public static Path repositoryRoot() {
    Path here = Path.of("").toAbsolutePath();
    return Files.isDirectory(here.resolve("bpf/include")) ? here : here.getParent();
  }

  /**
   * Runs {@code make OUT=out} in {@code sourceDir}: the gadget's program.bpf.o and gadget.yaml end
   * up in {@code out}.
   *
   * @throws AssertionError with make's output when the build fails
   */
  public static Path make(Path sourceDir, Path out) throws IOException, InterruptedException {
    Process p =
        new ProcessBuilder(
                List.of(
                    "make",
                    "-C",
                    sourceDir.toString(),
                    "OUT=" + out.toAbsolutePath(),
                    "GADGET_INCLUDE=" + repositoryRoot().resolve("bpf/include")))
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new AssertionError("make in " + sourceDir + " failed:\n" + output);
    }
    return out;
  }

  /**
   * Copies a gadget's sources (not its built object), its program hooking {@code
   * tracepoint/syscalls/<replacement>} where it hooked {@code <tracepoint>}: with a replacement
   * this kernel lacks, a gadget the kernel refuses.
   */
  public static Path copyWithTracepoint(Path from, Path to, String tracepoint, String replacement)
      throws IOException {
    Files.createDirectories(to);
    try (java.util.stream.Stream<Path> files = Files.list(from)) {
      for (Path f : files.filter(Files::isRegularFile).toList()) {
        if (f.getFileName().toString().endsWith(".o")) {
          continue;
        }
        String text = Files.readString(f);
        Files.writeString(
            to.resolve(f.getFileName()),
            f.getFileName().toString().equals("program.bpf.c")
                ? text.replace(
                    "tracepoint/syscalls/" + tracepoint, "tracepoint/syscalls/" + replacement)
                : text);
      }
    }
    return to;
  }
}
