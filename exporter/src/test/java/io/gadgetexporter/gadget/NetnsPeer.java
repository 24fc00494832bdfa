package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * A TCP connection on loopback inside a private network namespace, held by a child JVM, whose
 * server port the test can then cut off with a netfilter rule: what makes the kernel retransmit
 * and drop. A child process because a network namespace belongs to a whole process here (this
 * JVM's threads cannot enter one), and so the rule never touches the machine's own network.
 *
 * <p>The child ({@link #main}) listens, connects to itself, accepts, prints {@code ports <server>
 * <client>}, then for each line {@code send} on its standard input writes a few bytes from the
 * client to the server, and exits when its standard input closes.
 */
public final class NetnsPeer implements AutoCloseable {
  private final Process process;
  private final OutputStream commands;
  private final String address;
  public final int serverPort;
  public final int clientPort;

  private NetnsPeer(Process process, String address, int serverPort, int clientPort) {
    this.process = process;
    this.commands = process.getOutputStream();
    this.address = address;
    this.serverPort = serverPort;
    this.clientPort = clientPort;
  }

  /** Starts the child in a new network namespace (lo up), its connection on {@code address}. */
  public static NetnsPeer start(String address) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    String classpath = classesDirectory().toString();
    // unshare runs sh in the new namespace, which brings lo up and becomes the JVM (exec): the
    // child's pid is the JVM's.
    Process p =
        new ProcessBuilder(
                "unshare", "-n", "sh", "-c",
                "ip link set lo up && exec \"$0\" -cp \"$1\" "
                    + NetnsPeer.class.getName()
                    + " \"$2\"",
                java, classpath, address)
            .redirectError(ProcessBuilder.Redirect.INHERIT)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line = out.readLine();
    if (line == null || !line.startsWith("ports ")) {
      p.destroyForcibly();
      throw new IOException("the peer did not start: " + line);
    }
    String[] ports = line.split(" ");
    return new NetnsPeer(p, address, Integer.parseInt(ports[1]), Integer.parseInt(ports[2]));
  }

  /** Where this class was loaded from (the test classes): the child's class path. */
  private static Path classesDirectory() {
    try {
      return Path.of(NetnsPeer.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** How the network gadgets write an endpoint: {@code 127.0.0.1:80}, {@code [::1]:80}. */
  public static String endpoint(String address, int port) {
    return host(address) + ":" + port;
  }

  /** An endpoint's address part: IPv6 in brackets. */
  public static String host(String address) {
    return address.contains(":") ? "[" + address + "]" : address;
  }

  /**
   * The client's end of the connection, as the gadgets write it. (This class is also the child's
   * main: it must not refer to the agent's classes, which are not on the child's class path.)
   */
  public String clientEndpoint() {
    return endpoint(address, clientPort);
  }

  /** The server's end, as the gadgets write it. */
  public String serverEndpoint() {
    return endpoint(address, serverPort);
  }

  public long pid() {
    return process.pid();
  }

  /** The child's network namespace id. */
  public long netnsId() throws IOException {
    String link = Files.readSymbolicLink(Path.of("/proc/" + pid() + "/ns/net")).toString();
    return Long.parseLong(link.replaceAll("\\D", ""));
  }

  /**
   * Drops every packet to the server port in the child's namespace (nftables), at netfilter's
   * {@code hook}: {@code input} (arriving, before the socket lookup) or {@code output} (leaving
   * the client's socket).
   */
  public void dropToServerPort(String hook) throws IOException, InterruptedException {
    String rules =
        "table inet gadget_test {\n"
            + "  chain cut {\n"
            + "    type filter hook " + hook + " priority 0; policy accept;\n"
            + "    tcp dport " + serverPort + " drop\n"
            + "  }\n"
            + "}\n";
    Process nft =
        new ProcessBuilder("nsenter", "-t", Long.toString(pid()), "-n", "nft", "-f", "-")
            .redirectErrorStream(true)
            .start();
    try (OutputStream in = nft.getOutputStream()) {
      in.write(rules.getBytes(StandardCharsets.UTF_8));
    }
    String output = new String(nft.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(nft.waitFor()).as("nft: " + output).isZero();
  }

  /** Makes the client send a few bytes to the server. */
  public void send() throws IOException {
    commands.write("send\n".getBytes(StandardCharsets.UTF_8));
    commands.flush();
  }

  @Override
  public void close() throws IOException, InterruptedException {
    commands.close();
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }

  /** The child. */
  public static void main(String[] args) throws IOException {
    InetAddress address = InetAddress.getByName(args[0]);
    try (ServerSocketChannel server =
            ServerSocketChannel.open().bind(new InetSocketAddress(address, 0));
        SocketChannel client = SocketChannel.open(server.getLocalAddress());
        SocketChannel accepted = server.accept()) {
      System.out.println(
          "ports "
              + ((InetSocketAddress) server.getLocalAddress()).getPort()
              + " "
              + ((InetSocketAddress) client.getLocalAddress()).getPort());
      System.out.flush();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      for (String line; (line = in.readLine()) != null; ) {
        if (line.equals("send")) {
          client.write(ByteBuffer.wrap("hello".getBytes(StandardCharsets.UTF_8)));
        }
      }
      // Reset, not closed with FINs the rule would drop and TCP retransmit: gone with the process.
      accepted.socket().setSoLinger(true, 0);
      client.socket().setSoLinger(true, 0);
    }
  }
}
