package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.gadget.dns.DnsPeer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A network namespace of its own ({@code ip netns add}, loopback up) with a {@link DnsPeer} JVM
 * running in it, and the container record that stands for it: the peer's pid, its mount namespace
 * ({@code ip netns exec} gives it a private one) and the network namespace. Or, {@link
 * #inHostNetwork()}, a peer in a mount namespace of its own in the test's network namespace, as a
 * host-network pod's container.
 */
final class DnsPeerProcess implements AutoCloseable {
  /** The network namespace's name ({@code ip netns}), and the container's id and name. */
  final String namespace = "gx-dns-" + ThreadLocalRandom.current().nextInt(1_000_000);
  /** Where the peer's responder listens, and where its client sends. */
  final int port;
  private final boolean ownNetwork;
  private final Process process;
  private final PrintWriter commands;
  private final BufferedReader replies;

  /** A peer in a network namespace of its own, its responder on port 53. */
  DnsPeerProcess() throws Exception {
    this(true);
  }

  /**
   * A peer sharing the test's network namespace in a mount namespace of its own ({@code unshare
   * -m}), its responder on a free port.
   */
  static DnsPeerProcess inHostNetwork() throws Exception {
    return new DnsPeerProcess(false);
  }

  private DnsPeerProcess(boolean ownNetwork) throws Exception {
    this.ownNetwork = ownNetwork;
    if (ownNetwork) {
      run("ip", "netns", "add", namespace);
    }
    try {
      if (ownNetwork) {
        run("ip", "-n", namespace, "link", "set", "lo", "up");
      }
      String java =
          ProcessHandle.current()
              .info()
              .command()
              .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      String classes =
          Path.of(DnsPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI())
              .toString();
      List<String> command =
          new ArrayList<>(
              ownNetwork
                  ? List.of("ip", "netns", "exec", namespace)
                  : List.of("unshare", "-m", "--propagation", "private"));
      command.addAll(
          List.of(
              java, "-Xmx64m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-cp", classes,
              DnsPeer.class.getName(), ownNetwork ? "53" : "0"));
      process =
          new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
      commands =
          new PrintWriter(process.getOutputStream(), true, StandardCharsets.US_ASCII);
      replies =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.US_ASCII));
      String ready = replies.readLine();
      assertThat(ready).as("the DNS peer starts").startsWith("ready ");
      port = Integer.parseInt(ready.substring("ready ".length()));
    } catch (Exception | Error e) {
      close();
      throw e;
    }
  }

  /** Sends one command, returns its reply line. */
  String command(String line) throws IOException {
    commands.println(line);
    String reply = replies.readLine();
    assertThat(reply).as("reply to '%s'", line).isNotNull();
    return reply;
  }

  /** Runs a query and returns the client port it was sent from. */
  int query(String server, int id, String name, int type) throws IOException {
    String reply = command("query " + server + " " + id + " " + name + " " + type);
    assertThat(reply).as("the responder answers %s", name).startsWith("ok ");
    return Integer.parseInt(reply.substring(3));
  }

  long pid() {
    return process.pid();
  }

  long netnsId() throws IOException {
    Path file =
        ownNetwork
            ? Path.of("/run/netns", namespace)
            : Path.of("/proc", Long.toString(pid()), "ns", "net");
    return ((Number) Files.getAttribute(file, "unix:ino")).longValue();
  }

  long mntnsId() throws IOException {
    String link = Files.readSymbolicLink(Path.of("/proc", Long.toString(pid()), "ns", "mnt"))
        .toString(); // mnt:[4026532xxx]
    return Long.parseLong(link.replaceAll("\\D", ""));
  }

  /** The container record a runtime would report for the peer. */
  Container container() throws IOException {
    return new Container(
        Container.Kind.CONTAINER, namespace, namespace, "test", (int) pid(), mntnsId(),
        netnsId(), 0, "/" + namespace, Optional.empty(), Optional.empty(), Optional.empty(),
        false, Container.Source.RUNTIME_HOOK);
  }

  @Override
  public void close() throws Exception {
    if (process != null) {
      process.destroyForcibly().waitFor();
    }
    if (ownNetwork) {
      run("ip", "netns", "del", namespace);
    }
  }

  private static void run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(new ArrayList<>(List.of(command))).redirectErrorStream(true)
        .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as("%s: %s", String.join(" ", command), out).isZero();
  }
}
