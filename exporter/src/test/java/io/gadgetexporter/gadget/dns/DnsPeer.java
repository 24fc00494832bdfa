package io.gadgetexporter.gadget.dns;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.util.HexFormat;
import java.util.List;

/**
 * Both ends of DNS exchanges, run as a process of its own inside a test's network namespace: a
 * responder on 127.0.0.1 and ::1, port 53 (or the port given as the only argument; 0: a free one
 * of 127.0.0.1's, for a peer in a namespace others use too), and a client driven by commands on
 * stdin, one a line, each answered on stdout:
 *
 * <ul>
 *   <li>{@code query <server> <id> <name> <type>}: sends the query from a new socket and waits for
 *       the response; {@code ok <client port>} or {@code timeout};
 *   <li>{@code raw <server> <hex>}: sends these bytes to the server's port; {@code sent <client
 *       port>};
 *   <li>{@code flood <server> <count>}: sends {@code count} queries (ids 0 to count - 1) from one
 *       socket without waiting for answers; {@code sent <client port>}.
 * </ul>
 *
 * The responder answers A with 10.1.2.3 and 10.1.2.4, AAAA with fd00::1, and any name starting
 * with {@code nx.} with NXDOMAIN; what it cannot read (a response among them) it ignores. Prints
 * {@code ready <port>} once listening. Needs only the JDK and {@link DnsWire}.
 */
public final class DnsPeer {
  private static final byte[][] A = {{10, 1, 2, 3}, {10, 1, 2, 4}};
  private static final byte[] AAAA = {(byte) 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

  private DnsPeer() {}

  public static void main(String[] args) throws Exception {
    int port = args.length > 0 ? Integer.parseInt(args[0]) : 53;
    for (String address : List.of("127.0.0.1", "::1")) {
      DatagramSocket server = new DatagramSocket(new InetSocketAddress(address, port));
      port = server.getLocalPort(); // ::1 takes the port 127.0.0.1 was given
      Thread t = new Thread(() -> serve(server), "dns-server " + address);
      t.setDaemon(true);
      t.start();
    }
    System.out.println("ready " + port);
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      String[] w = line.trim().split(" ");
      InetAddress server = InetAddress.getByName(w[1]);
      try (DatagramSocket client = new DatagramSocket()) {
        client.setSoTimeout(5000);
        if (w[0].equals("query")) {
          byte[] q = DnsWire.query(Integer.parseInt(w[2]), w[3], Integer.parseInt(w[4]));
          client.send(new DatagramPacket(q, q.length, server, port));
          try {
            client.receive(new DatagramPacket(new byte[512], 512));
            System.out.println("ok " + client.getLocalPort());
          } catch (SocketTimeoutException e) {
            System.out.println("timeout");
          }
        } else if (w[0].equals("flood")) {
          for (int id = 0; id < Integer.parseInt(w[2]); id++) {
            byte[] q = DnsWire.query(id, "flood.test", DnsWire.A);
            client.send(new DatagramPacket(q, q.length, server, port));
          }
          System.out.println("sent " + client.getLocalPort());
        } else {
          byte[] raw = HexFormat.of().parseHex(w[2]);
          client.send(new DatagramPacket(raw, raw.length, server, port));
          System.out.println("sent " + client.getLocalPort());
        }
      }
      System.out.flush();
    }
  }

  /**
   * Answers what {@code server} receives, as the class comment says, until it is closed (also
   * used in-process by tests that need a resolver and no namespace of its own).
   */
  public static void serve(DatagramSocket server) {
    byte[] buf = new byte[512];
    while (!server.isClosed()) {
      try {
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        server.receive(p);
        // One question and nothing else, as DnsWire writes queries; anything else gets no answer
        // (so a malformed packet the test sends is not echoed into a second one).
        boolean readable =
            p.getLength() >= 12
                && (buf[2] & 0x80) == 0
                && buf[4] == 0 && buf[5] == 1 && buf[6] == 0 && buf[7] == 0;
        String name = readable ? DnsWire.questionName(buf, p.getLength()) : null;
        if (name == null) {
          continue;
        }
        byte[] query = java.util.Arrays.copyOf(buf, p.getLength());
        int type = DnsWire.questionType(query);
        List<byte[]> answers =
            type == DnsWire.A ? List.of(A) : type == DnsWire.AAAA ? List.of(AAAA) : List.of();
        byte[] response =
            name.startsWith("nx.")
                ? DnsWire.response(query, DnsWire.NXDOMAIN, List.of())
                : DnsWire.response(query, 0, answers);
        server.send(new DatagramPacket(response, response.length, p.getSocketAddress()));
      } catch (Exception e) {
        // A malformed query must not stop the responder.
      }
    }
  }
}
