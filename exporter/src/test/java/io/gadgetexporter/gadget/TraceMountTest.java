package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * trace_mount in the real kernel: tmpfs mounts in private mount namespaces, with mount(8), busybox
 * and the new mount API.
 */
class TraceMountTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void mountAndUmountOfATmpfs() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance mounts = GadgetTesting.instance("trace_mount", "", sink)) {
      mounts.start();
      Path target = Files.createDirectory(dir.resolve("tmpfs"));
      // mount(8) 2.39+ would use the new API: forced to mount(2) here (older ones ignore this).
      long mntns =
          inPrivateMountNamespace(
              List.of("LIBMOUNT_FORCE_MOUNT2=always"),
              "mount -t tmpfs -o size=1m,mode=700,nosuid none " + target + " && umount " + target);

      RecordingSink.Recorded m = sink.await(r -> is(r, "mount", target), WAIT);
      assertThat(m.text("source")).isEqualTo("none");
      assertThat(m.text("fstype")).isEqualTo("tmpfs");
      assertThat(m.value("flags")).isEqualTo(2L);
      assertThat(m.text("flags")).isEqualTo("MS_NOSUID");
      assertThat(m.text("data")).isEqualTo("size=1m,mode=700");
      assertThat(m.value("ret")).isEqualTo(0L);
      assertThat(m.text("comm")).isEqualTo("mount");
      assertThat(m.value("uid")).isEqualTo(0L);
      // In the namespace unshare made, not this JVM's.
      assertThat(m.value("mntns_id")).isEqualTo(mntns);
      assertThat(mntns).isNotEqualTo(mntnsOfThisJvm());

      RecordingSink.Recorded u = sink.await(r -> is(r, "umount", target), WAIT);
      assertThat(u.value("ret")).isEqualTo(0L);
      assertThat(u.text("comm")).isEqualTo("umount");
      assertThat(u.value("umount_flags")).isEqualTo(0L);
      assertThat(u.text("flags")).isEmpty();
      assertThat(u.text("source")).isEmpty();

      // unshare made its namespace's mounts private first: a propagation change, through mount(2).
      RecordingSink.Recorded p =
          sink.await(r -> r.value("mntns_id").equals(mntns) && r.text("target").equals("/"), WAIT);
      assertThat(p.text("flags")).isEqualTo("MS_REC|MS_PRIVATE");
      assertThat(p.text("fstype")).isEmpty();
    }
  }

  @Test
  void failedMountGivesTheErrnoByName() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance mounts = GadgetTesting.instance("trace_mount", "", sink)) {
      mounts.start();
      Path target = Files.createDirectory(dir.resolve("nothing"));
      String type = "nosuchfs" + (System.nanoTime() % 1000);
      // busybox passes the type to mount(2) as given (mount(8) would try others).
      inPrivateMountNamespace(
          List.of(), "busybox mount -t " + type + " none " + target + " || true");

      RecordingSink.Recorded e = sink.await(r -> r.text("fstype").equals(type), WAIT);
      assertThat(e.value("ret")).isEqualTo(-19L);
      assertThat(e.text("ret")).isEqualTo("ENODEV");
      assertThat(e.text("target")).isEqualTo(target.toString());
      assertThat(e.text("op")).isEqualTo("mount");
    }
  }

  @Test
  void newMountApiIsSeenAtMoveMount() throws Exception {
    Path helper = compileHelper();
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance mounts = GadgetTesting.instance("trace_mount", "", sink)) {
      mounts.start();
      Path target = Files.createDirectory(dir.resolve("new-api"));
      Path missing = dir.resolve("missing-" + UUID.randomUUID());
      String source = "gx-" + UUID.randomUUID().toString().substring(0, 8);
      inPrivateMountNamespace(List.of(), helper + " " + source + " " + target + " " + missing);

      RecordingSink.Recorded ok =
          sink.await(r -> target.toString().equals(r.text("target")), WAIT);
      assertThat(ok.text("op")).isEqualTo("move_mount");
      assertThat(ok.value("ret")).isEqualTo(0L);
      // Read from the mount being attached: fsconfig's source, fsopen's type, fsmount's flags.
      assertThat(ok.text("source")).isEqualTo(source);
      assertThat(ok.text("fstype")).isEqualTo("tmpfs");
      assertThat(ok.text("flags")).isEqualTo("MS_RDONLY|MS_NOSUID|MS_NODEV|MS_RELATIME");
      assertThat(ok.text("data")).isEmpty();

      RecordingSink.Recorded failed =
          sink.await(r -> missing.toString().equals(r.text("target")), WAIT);
      assertThat(failed.text("ret")).isEqualTo("ENOENT");
      assertThat(failed.text("source")).isEqualTo(source);
      assertThat(failed.text("fstype")).isEqualTo("tmpfs");
    }
  }

  @Test
  void selectorThatMatchesNothingFiltersInTheKernel() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance mounts = FilterTesting.nothingSelected("trace_mount", "", sink)) {
      mounts.start();
      long before = mounts.filteredTotal();
      Path target = Files.createDirectory(dir.resolve("filtered"));
      // Returns once the shell exited: unshare's propagation change and the tmpfs mount are done.
      inPrivateMountNamespace(List.of(), "mount -t tmpfs none " + target);
      FilterTesting.closeDrained(mounts, WAIT);
      assertThat(sink.events()).as("nothing selected, the tmpfs mount included").isEmpty();
      assertThat(mounts.filteredTotal() - before).isGreaterThanOrEqualTo(2);
    }
  }

  private static boolean is(RecordingSink.Recorded r, String op, Path target) {
    return r.text("op").equals(op) && target.toString().equals(r.text("target"));
  }

  /**
   * Runs a shell command in a new mount namespace whose mounts do not propagate to the host's
   * (unshare's default), and returns that namespace's id.
   */
  private static long inPrivateMountNamespace(List<String> env, String command) throws Exception {
    List<String> argv = new ArrayList<>(List.of("env"));
    argv.addAll(env);
    argv.addAll(
        List.of("unshare", "-m", "sh", "-c", "readlink /proc/self/ns/mnt && " + command));
    Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(out).isZero();
    return Long.parseLong(out.lines().findFirst().orElseThrow().replaceAll("\\D", ""));
  }

  /** Builds the new-mount-API helper (test resource) with the C compiler the build needs anyway. */
  private Path compileHelper() throws Exception {
    Path source = dir.resolve("new-mount-api.c");
    try (InputStream in = getClass().getResourceAsStream("new-mount-api.c")) {
      Files.copy(in, source);
    }
    Path binary = dir.resolve("new-mount-api");
    Process cc =
        new ProcessBuilder("gcc", "-O2", "-o", binary.toString(), source.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(cc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(cc.waitFor()).as(out).isZero();
    return binary;
  }

  private static long mntnsOfThisJvm() throws Exception {
    String link = Files.readSymbolicLink(Path.of("/proc/self/ns/mnt")).toString();
    return Long.parseLong(link.replaceAll("\\D", ""));
  }
}
