package io.gadgetexporter.gadget;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.UUID;

/**
 * A memory-limited cgroup without swap for OOM tests, on cgroup v2 or on the v1 memory controller
 * (hybrid hosts bind it to v1), made at the top of the hierarchy and removed on close.
 */
final class MemoryCgroup implements AutoCloseable {
  private static final Path ROOT = Path.of("/sys/fs/cgroup");

  private final Path dir;

  private MemoryCgroup(Path dir) {
    this.dir = dir;
  }

  static MemoryCgroup create(long limitBytes) throws IOException {
    String name = "gx-oom-test-" + UUID.randomUUID();
    Path controllers = ROOT.resolve("cgroup.controllers");
    if (Files.exists(controllers) && Files.readString(controllers).contains("memory")) {
      String enabled = Files.readString(ROOT.resolve("cgroup.subtree_control"));
      if (!enabled.contains("memory")) {
        Files.writeString(ROOT.resolve("cgroup.subtree_control"), "+memory");
      }
      MemoryCgroup cg = new MemoryCgroup(Files.createDirectory(ROOT.resolve(name)));
      cg.write("memory.max", Long.toString(limitBytes));
      if (Files.exists(cg.dir.resolve("memory.swap.max"))) {
        cg.write("memory.swap.max", "0");
      }
      return cg;
    }
    Path v1 = ROOT.resolve("memory");
    if (Files.exists(v1.resolve("memory.limit_in_bytes"))) {
      MemoryCgroup cg = new MemoryCgroup(Files.createDirectory(v1.resolve(name)));
      cg.write("memory.limit_in_bytes", Long.toString(limitBytes));
      if (Files.exists(cg.dir.resolve("memory.memsw.limit_in_bytes"))) {
        cg.write("memory.memsw.limit_in_bytes", Long.toString(limitBytes)); // memory + swap
      }
      return cg;
    }
    throw new IllegalStateException("no memory cgroup controller (v2 or v1) under " + ROOT);
  }

  /** The file a process writes its pid into to join the cgroup. */
  Path procs() {
    return dir.resolve("cgroup.procs");
  }

  private void write(String file, String value) throws IOException {
    Files.writeString(dir.resolve(file), value);
  }

  /** Kills what is left inside, then removes the cgroup (once its last process is gone). */
  @Override
  public void close() throws Exception {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (true) {
      for (String pid : Files.readAllLines(procs())) {
        ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly);
      }
      try {
        Files.delete(dir);
        return;
      } catch (IOException busy) {
        if (System.nanoTime() > deadline) {
          throw busy;
        }
        Thread.sleep(10); // a killed process leaves the cgroup once it has exited
      }
    }
  }
}
