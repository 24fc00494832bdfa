package io.gadgetexporter.container.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The fixtures start real containers, and leave nothing behind. */
class RealContainersTest {

  @BeforeAll
  static void runsAsRoot() {
    assertThat(Host.uid())
        .as("these tests start real containers with runc and containerd: run them as root")
        .isZero();
  }

  @Test
  void runcContainerRunsInItsOwnMountNamespace(@TempDir Path tmp) {
    long pid;
    Path dir;
    String cgroup;
    try (Runc runc = Runc.open()) {
      dir = runc.dir();
      cgroup = runc.cgroupsPath("sleeper");
      Runc.Bundle bundle =
          runc.bundle(
              tmp.resolve("sleeper"), List.of("sleep", "30"), Map.of("gx.test/name", "sleeper"));
      long created = runc.create("sleeper", bundle);
      runc.start("sleeper");

      JsonObject state = runc.state("sleeper");
      assertThat(state.getString("status")).as("%s", state).isEqualTo("running");
      pid = state.getLong("pid");
      assertThat(pid).isEqualTo(created);
      assertThat(Host.mountNamespace(pid))
          .as("mount namespace of container pid %d vs this JVM's", pid)
          .isNotEqualTo(Host.mountNamespace(ProcessHandle.current().pid()));
      assertThat(Host.cgroup(pid)).contains(cgroup);
      assertThat(runc.root())
          .isDirectoryContaining(p -> p.getFileName().toString().equals("sleeper"));
    }
    assertNothingLeft(dir, List.of(pid), parent(cgroup));
  }

  @Test
  void shortLivedContainerIsGoneWithinASecond(@TempDir Path tmp) {
    Runc.ShortLived blink;
    Duration took;
    Path dir;
    String cgroup;
    try (Runc runc = Runc.open()) {
      dir = runc.dir();
      cgroup = runc.cgroupsPath("blink");
      long start = System.nanoTime();
      blink = runc.runShortLived("blink", tmp.resolve("blink"), Runc.SHORT_LIVED_ARGS);
      took = Duration.ofNanos(System.nanoTime() - start);

      assertThat(took)
          .as("runShortLived, calls: %s", runc.calls())
          .isLessThan(Duration.ofSeconds(1));
      assertThat(blink.lifetime()).isBetween(Duration.ofMillis(50), took);
      assertThat(Host.isAlive(blink.pid())).isFalse();
      assertThat(runc.list()).isEmpty();
      assertThat(Host.cgroupDirectories(cgroup)).as("deleted with the container").isEmpty();
    }
    assertNothingLeft(dir, List.of(blink.pid()), parent(cgroup));
  }

  @Test
  void containerdContainerRunsWithTheImageBuiltHere() {
    long pid;
    Path dir;
    String cgroup;
    List<Long> daemonAndShims;
    try (Containerd containerd = Containerd.start()) {
      dir = containerd.dir();
      cgroup = containerd.cgroupsPath("hello");
      containerd.runDetached("hello", List.of("sh", "-c", "echo hi; sleep 5"));
      pid = containerd.taskPid("hello");

      String procCgroup = Host.cgroup(pid);
      assertThat(procCgroup)
          .as("/proc/%d/cgroup (snapshotter %s):\n%s", pid, containerd.snapshotter(), procCgroup)
          .contains(cgroup);
      assertThat(Host.mountNamespace(pid))
          .isNotEqualTo(Host.mountNamespace(ProcessHandle.current().pid()));
      awaitContent(containerd.output("hello"), "hi\n");
      CommandResult hostname = containerd.exec("hello", List.of("hostname"));
      assertThat(hostname.exitCode()).as(hostname.describe()).isZero();
      assertThat(Host.mountsUnder(containerd.state())).as("the container's rootfs").isNotEmpty();
      daemonAndShims = containerd.processes();
      assertThat(daemonAndShims).as("containerd and the shim").hasSizeGreaterThanOrEqualTo(2);
    }
    List<Long> pids = new ArrayList<>(daemonAndShims);
    pids.add(pid);
    assertNothingLeft(dir, pids, parent(cgroup));
  }

  private static void assertNothingLeft(Path dir, List<Long> pids, String cgroupParent) {
    assertThat(pids).as("processes still running").noneMatch(Host::isAlive);
    assertThat(Host.processesMentioning(dir.toString())).as("processes naming %s", dir).isEmpty();
    assertThat(Host.mountsUnder(dir)).as("mounts under %s", dir).isEmpty();
    assertThat(dir).doesNotExist();
    assertThat(Host.cgroupDirectories(cgroupParent)).as("cgroups").isEmpty();
  }

  private static String parent(String cgroup) {
    return cgroup.substring(0, cgroup.lastIndexOf('/'));
  }

  private static void awaitContent(Path file, String expected) {
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    String content = "";
    while (System.nanoTime() < deadline) {
      try {
        content = Files.exists(file) ? Files.readString(file) : "";
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      if (content.equals(expected)) {
        return;
      }
      Host.sleep(Duration.ofMillis(10));
    }
    assertThat(content).as("%s", file).isEqualTo(expected);
  }
}
