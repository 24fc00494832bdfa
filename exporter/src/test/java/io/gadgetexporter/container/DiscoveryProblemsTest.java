package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.testing.Runc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken input met during discovery is counted, logged once, and never stops anything. */
class DiscoveryProblemsTest {
  @TempDir Path tmp;
  private Runc runc;
  private ContainerDiscovery discovery;
  private final List<LogRecord> warnings = new ArrayList<>();
  private final Logger problemsLogger = Logger.getLogger(DiscoveryProblems.class.getName());
  private final Handler capture =
      new Handler() {
        @Override
        public synchronized void publish(LogRecord r) {
          if (r.getLevel().intValue() >= Level.WARNING.intValue()) {
            warnings.add(r);
          }
        }

        @Override
        public void flush() {}

        @Override
        public void close() {}
      };

  @BeforeEach
  void setUp() {
    runc = Runc.open();
    problemsLogger.addHandler(capture);
    discovery =
        ContainerDiscovery.create(RuncContainersTest.config("reconcile_interval: 10m", runc.root()));
    discovery.start();
  }

  @AfterEach
  void tearDown() {
    problemsLogger.removeHandler(capture);
    discovery.close();
    runc.close();
  }

  private synchronized List<String> warningsAbout(String reason) {
    return warnings.stream().map(LogRecord::getMessage).filter(m -> m.contains(reason)).toList();
  }

  @Test
  void aMalformedConfigJsonIsCountedLoggedOnceAndTheContainerStillKnown() {
    for (String id : List.of("gx-bad-1", "gx-bad-2")) {
      Runc.Bundle b = runc.bundle(tmp.resolve(id), List.of("sleep", "30"), Map.of());
      runc.create(id, b);
      writeQuietly(b.config(), "{\"annotations\": [\"not a map\"");
      runc.start(id);
      Container c = discovery.collection().get(id).orElseThrow();
      assertThat(c.pod()).isEmpty();
      assertThat(c.mntnsId()).isPositive();
    }
    assertThat(discovery.problems().count("malformed_config_json")).isEqualTo(2);
    assertThat(warningsAbout("malformed_config_json")).hasSize(1);
  }

  @Test
  void aMissingPidFileIsCountedAndThePidTakenFromTheRuntimeState() throws Exception {
    Runc.Bundle b = runc.bundle(tmp.resolve("nopid"), List.of("sleep", "30"), Map.of());
    long pid = runc.create("gx-nopid", b);
    Files.delete(b.pidFile());
    runc.start("gx-nopid");

    assertThat(discovery.collection().get("gx-nopid").orElseThrow().pid()).isEqualTo(pid);
    assertThat(discovery.problems().count("missing_pid_file")).isEqualTo(1);
    assertThat(warningsAbout("missing_pid_file")).hasSize(1);
  }

  @Test
  void anOddCgroupPathIsCountedOnceAndItsProcessesAreTheHosts() throws Exception {
    Path cgroup2 = Cgroup2View.of(Path.of("/proc")).mount().orElseThrow();
    Path odd = cgroup2.resolve("kubepods-gx-odd-" + ProcessHandle.current().pid());
    Files.createDirectories(odd);
    Process p = new ProcessBuilder("unshare", "--mount", "sleep", "30").start();
    try {
      long mntns = 0;
      for (int i = 0; i < 100 && mntns == 0; i++) {
        mntns =
            new Procfs(Path.of("/proc")).namespaceId((int) p.pid(), "mnt").orElse(0);
        if (mntns == RuncContainersTest.mntns(ProcessHandle.current().pid())) {
          mntns = 0; // unshare has not entered its namespace yet
        }
        Thread.sleep(20);
      }
      Files.writeString(odd.resolve("cgroup.procs"), Long.toString(p.pid()));

      discovery.reconcile();
      discovery.reconcile();

      assertThat(discovery.problems().count("unrecognized_cgroup_path")).isEqualTo(1);
      assertThat(warningsAbout("unrecognized_cgroup_path")).hasSize(1);
      assertThat(discovery.collection().resolve(mntns, 0, 0)).isSameAs(Container.HOST);
    } finally {
      p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
      Files.delete(odd);
    }
  }

  private static void writeQuietly(Path p, String text) {
    try {
      Files.writeString(p, text);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
