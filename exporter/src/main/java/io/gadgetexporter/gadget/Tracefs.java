package io.gadgetexporter.gadget;

import io.gadgetexporter.linux.MountInfo;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Logger;

/**
 * Tracepoints are attached by the id tracefs gives them, so tracefs must be mounted. Some hosts
 * (minimal VMs, some container images) do not mount it; a root agent mounts it at its standard
 * place rather than fail, and says so. Without the privilege to mount, attach fails and {@code
 * Preflight} explains what to do.
 */
public final class Tracefs {
  private static final Logger logger = Logger.getLogger(Tracefs.class.getName());
  static final Path MOUNT_POINT = Path.of("/sys/kernel/tracing");
  private static final Path DEBUGFS_EVENTS = Path.of("/sys/kernel/debug/tracing/events");

  private Tracefs() {}

  /** Mounts tracefs at its standard place when neither it nor debugfs tracing is there. */
  public static synchronized void ensureMounted() {
    if (Files.isDirectory(MOUNT_POINT.resolve("events")) || Files.isDirectory(DEBUGFS_EVENTS)) {
      return;
    }
    if (!Files.isDirectory(MOUNT_POINT)) {
      return; // a kernel without tracefs: the attach error will say so
    }
    if (MountInfo.read(Path.of("/proc/self/mountinfo")).stream()
        .anyMatch(m -> m.is("tracefs", MOUNT_POINT))) {
      // Mounted but empty (lockdown in confidentiality mode, no CONFIG_TRACEPOINTS): a second
      // mount would be as empty; Preflight says why.
      return;
    }
    try {
      Process p =
          new ProcessBuilder("mount", "-t", "tracefs", "tracefs", MOUNT_POINT.toString())
              .redirectErrorStream(true)
              .start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      if (p.waitFor() == 0) {
        logger.info("tracefs was not mounted: mounted it at " + MOUNT_POINT);
      } else {
        logger.warning("tracefs is not mounted and mounting it failed: " + out);
      }
    } catch (IOException e) {
      logger.warning("tracefs is not mounted and `mount` could not run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
