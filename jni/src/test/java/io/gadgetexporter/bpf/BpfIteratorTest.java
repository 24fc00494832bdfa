package io.gadgetexporter.bpf;

import static io.gadgetexporter.bpf.TestSupport.pid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class BpfIteratorTest {
  @BeforeAll
  static void root() {
    TestSupport.requireRoot();
  }

  @Test
  void eachReadRunsTheIteratorAfresh() {
    try (BpfObject obj = TestSupport.open("iter_task")) {
      obj.load();
      BpfProgram p = obj.program("dump_task");
      assertThat(p.attachKind()).contains(AttachKind.ITERATOR);
      BpfIterator it = p.attachIterator();
      String first = it.readString();
      assertThat(first.lines()).contains(pid() + " java", "2 kthreadd");
      String second = it.readString();
      assertThat(second.lines()).contains(pid() + " java");
      assertThat(it.read()).isNotEmpty();
      it.close();
      assertThat(it.isClosed()).isTrue();
      assertThatThrownBy(it::read).isInstanceOf(IllegalStateException.class);
    }
  }

  @Test
  void closingTheObjectClosesTheIterator() {
    BpfIterator it;
    try (BpfObject obj = TestSupport.open("iter_task")) {
      obj.load();
      it = obj.program("dump_task").attachIterator();
    }
    assertThat(it.isClosed()).isTrue();
  }

  @Test
  void aNetworkIteratorWalksTheNamespaceItIsRunIn() throws Exception {
    int port = 20000 + ThreadLocalRandom.current().nextInt(20000);
    // A listener in a network namespace of its own: only a run inside that namespace sees it.
    Process other =
        new ProcessBuilder("unshare", "-n", "busybox", "nc", "-l", "-p", Integer.toString(port))
            .start();
    try (BpfObject obj = TestSupport.open("iter_tcp");
        ServerSocket here = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      obj.load();
      BpfIterator it = obj.program("dump_tcp").attachIterator();
      String listen = " 10"; // TCP_LISTEN
      int self = (int) ProcessHandle.current().pid();
      String own = new String(it.readInNetworkNamespace(self, netns(self)));
      assertThat(own.lines()).contains(here.getLocalPort() + listen);
      assertThat(new String(it.read()).lines()).contains(here.getLocalPort() + listen);

      int child = (int) other.pid();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      String theirs = "";
      // unshare has to create the namespace and exec nc, which then has to listen.
      while (!theirs.lines().toList().contains(port + listen) && System.nanoTime() < deadline) {
        Thread.sleep(20);
        theirs =
            netns(child) == netns(self)
                ? ""
                : new String(it.readInNetworkNamespace(child, netns(child)));
      }
      assertThat(theirs.lines())
          .contains(port + listen)
          .doesNotContain(here.getLocalPort() + listen);
      assertThat(new String(it.read()).lines()).doesNotContain(port + listen);

      assertThatThrownBy(() -> it.readInNetworkNamespace(child, netns(self)))
          .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.errno()).isEqualTo(3));
    } finally {
      other.destroyForcibly().waitFor();
    }
  }

  @Test
  void theCallersOwnNamespaceIsRunWithoutSetnsAnotherNeedsCapSysAdmin() throws Exception {
    Process other = new ProcessBuilder("unshare", "-n", "sleep", "60").start();
    try {
      int self = (int) ProcessHandle.current().pid();
      assertThat(WithoutSysAdmin.run("iterate", Integer.toString(self), Long.toString(netns(self))))
          .isEqualTo("ok");
      int child = (int) other.pid();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (netns(child) == netns(self) && System.nanoTime() < deadline) {
        Thread.sleep(10); // unshare has not made the namespace yet
      }
      assertThat(
              WithoutSysAdmin.run("iterate", Integer.toString(child), Long.toString(netns(child))))
          .startsWith("error EPERM setns")
          .contains("CAP_SYS_ADMIN");
    } finally {
      other.destroyForcibly().waitFor();
    }
  }

  /** The inode number of a process's network namespace, as {@code /proc/PID/ns/net} names it. */
  private static long netns(long pid) throws IOException {
    String link = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/net")).toString();
    return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
  }
}
