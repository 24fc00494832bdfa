package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cgroup path read by an agent in a cgroup namespace of its own (a pod on a cgroup v2 node)
 * still leads to the container's cgroup directory, hence its id: through the host's cgroup fs,
 * placed by where the agent's own process is.
 */
class Cgroup2ViewTest {
  @TempDir Path tmp;

  @Test
  void aPathAboveTheNamespaceRootIsPlacedUnderTheHostsMount() throws IOException {
    // A node's hierarchy, the agent in kubepods/burstable/podA/cidA (pid 4242), its namespace
    // rooted there, the host's cgroup fs mounted as the chart does.
    Path host = tmp.resolve("host-cgroup");
    Path agent = Files.createDirectories(host.resolve("kubepods/burstable/podA/cidA"));
    Files.writeString(agent.resolve("cgroup.procs"), "4200\n4242\n");
    Path other = Files.createDirectories(host.resolve("kubepods/besteffort/podB/cidB"));
    Files.createDirectories(host.resolve("kubepods/burstable/podC/cidC"));
    Files.createDirectories(host.resolve("system.slice/containerd.service"));
    Path ownMount = tmp.resolve("own-cgroup");
    Files.createDirectories(ownMount);
    Path proc =
        fakeProc(
            4242,
            "30 25 0:26 / " + ownMount + " ro,nosuid - cgroup2 cgroup rw\n"
                + "41 25 0:26 /../../../.. "
                + host
                + " ro,relatime - cgroup2 cgroup2 rw\n",
            "0::/\n");

    Cgroup2View view = Cgroup2View.of(proc);

    assertThat(view.mount()).contains(host);
    assertThat(view.levelsAbove()).isEqualTo(4);
    assertThat(view.nsRoot()).containsExactly("kubepods", "burstable", "podA", "cidA");
    assertThat(view.directory("/../../../besteffort/podB/cidB")).contains(other);
    assertThat(view.directory("/../../podC/cidC")).contains(host.resolve("kubepods/burstable/podC/cidC"));
    assertThat(view.directory("/../../../../system.slice/containerd.service"))
        .contains(host.resolve("system.slice/containerd.service"));
    assertThat(view.directory("/")).contains(agent);
    assertThat(view.directory("/../../../../..")).as("above the host's root").isEmpty();
    assertThat(view.directory("relative")).isEmpty();
  }

  @Test
  void withoutANamespaceOfItsOwnPathsAreUsedAsTheyAre() throws IOException {
    Path mount = Files.createDirectories(tmp.resolve("cgroup"));
    Path proc = fakeProc(7, "29 23 0:25 / " + mount + " rw - cgroup2 cgroup2 rw\n", "0::/init.scope\n");
    Cgroup2View view = Cgroup2View.of(proc);
    assertThat(view.levelsAbove()).isZero();
    assertThat(view.directory("/kubepods/x/y")).contains(mount.resolve("kubepods/x/y"));
    assertThat(view.directory("/../x")).isEmpty();
  }

  @Test
  void aSubtreeMountIsNotTakenForTheHierarchy() throws IOException {
    Path whole = Files.createDirectories(tmp.resolve("whole"));
    Path proc =
        fakeProc(
            7,
            "29 23 0:25 /../../kubepods " + tmp.resolve("sub") + " rw - cgroup2 cgroup2 rw\n"
                + "30 23 0:25 / " + whole + " rw - cgroup2 cgroup2 rw\n",
            "0::/\n");
    assertThat(Cgroup2View.of(proc).mount()).contains(whole);
    assertThat(Cgroup2View.levelsUp("/../..")).isEqualTo(2);
    assertThat(Cgroup2View.levelsUp("/")).isZero();
    assertThat(Cgroup2View.levelsUp("/../a")).isEqualTo(-1);
  }

  @Test
  void noCgroup2MountNoDirectory() throws IOException {
    Path proc = fakeProc(7, "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n", "0::/\n");
    assertThat(Cgroup2View.of(proc).directory("/a")).isEmpty();
  }

  /**
   * The real thing: a shell in a child cgroup unshares its cgroup namespace and writes down what
   * it reads (its mountinfo, its own cgroup, a sibling cgroup's process' cgroup); the view made
   * from those, over the real cgroup fs, finds the sibling's real directory.
   */
  @Test
  void aProcessInAPrivateCgroupNamespaceFindsASiblingsCgroup() throws Exception {
    Path mount = Cgroup2View.of(Path.of("/proc")).mount().orElseThrow();
    Path top = mount.resolve("gx-cgroupns-" + ProcessHandle.current().pid());
    Path inner = Files.createDirectories(top.resolve("agent/inner"));
    Path sibling = Files.createDirectories(top.resolve("workload"));
    Path out = Files.createDirectories(tmp.resolve("out"));
    Process sleeper = new ProcessBuilder("sleep", "60").start();
    Process shell = null;
    try {
      Files.writeString(sibling.resolve("cgroup.procs"), Long.toString(sleeper.pid()));
      String script =
          "echo $$ > "
              + inner.resolve("cgroup.procs")
              + " && exec unshare -C sh -c '"
              + "echo $$ > "
              + out.resolve("pid")
              + "; cat /proc/self/mountinfo > "
              + out.resolve("mountinfo")
              + "; cat /proc/self/cgroup > "
              + out.resolve("cgroup")
              + "; cat /proc/"
              + sleeper.pid()
              + "/cgroup > "
              + out.resolve("sibling")
              + "; touch "
              + out.resolve("done")
              + "; sleep 60'";
      shell = new ProcessBuilder("sh", "-c", script).redirectErrorStream(true).start();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (!Files.exists(out.resolve("done")) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(out.resolve("done")).as("the shell in its own cgroup namespace wrote").exists();
      String siblingPath =
          ProcCgroup.parse(Files.readString(out.resolve("sibling"))).unifiedPath().orElseThrow();
      assertThat(siblingPath).as("seen from the namespace").isEqualTo("/../../workload");

      int pid = Integer.parseInt(Files.readString(out.resolve("pid")).strip());
      Path proc =
          fakeProc(
              pid, Files.readString(out.resolve("mountinfo")), Files.readString(out.resolve("cgroup")));
      Cgroup2View view = Cgroup2View.of(proc);
      assertThat(view.levelsAbove()).isEqualTo(mount.relativize(inner).getNameCount());
      assertThat(view.directory(siblingPath)).contains(sibling);
      assertThat(Files.getAttribute(view.directory(siblingPath).orElseThrow(), "unix:ino"))
          .isEqualTo(Files.getAttribute(sibling, "unix:ino"));
    } finally {
      sleeper.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      if (shell != null) {
        shell.descendants().forEach(ProcessHandle::destroyForcibly);
        shell.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      }
      for (Path dir : List.of(inner, inner.getParent(), sibling, top)) {
        for (int i = 0; i < 50 && Files.exists(dir); i++) {
          try {
            Files.delete(dir); // busy until the killed processes have left it
          } catch (IOException e) {
            Thread.sleep(20);
          }
        }
      }
    }
  }

  /** A /proc with {@code self} → {@code pid}, holding the given mountinfo and cgroup files. */
  private Path fakeProc(int pid, String mountinfo, String cgroup) throws IOException {
    Path proc = Files.createDirectories(tmp.resolve("proc-" + pid));
    Path dir = Files.createDirectories(proc.resolve(Integer.toString(pid)));
    Files.writeString(dir.resolve("mountinfo"), mountinfo);
    Files.writeString(dir.resolve("cgroup"), cgroup);
    Files.createSymbolicLink(proc.resolve("self"), Path.of(Integer.toString(pid)));
    return proc;
  }
}
