package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProtocolFamily;
import java.net.StandardProtocolFamily;
import java.nio.channels.DatagramChannel;
import java.nio.channels.NetworkChannel;
import java.nio.channels.ServerSocketChannel;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** trace_bind in the real kernel: TCP and UDP binds of this JVM on loopback, IPv4 and IPv6. */
class TraceBindTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long PID = ProcessHandle.current().pid();

  /**
   * {@code family}: INET, INET6, or DUAL (Java's default AF_INET6 socket, which binds an IPv4
   * address in its IPv4-mapped form); {@code asked}: how the gadget shows the address and port 0.
   */
  @ParameterizedTest
  @CsvSource({
    "INET, TCP, 127.0.0.1, 127.0.0.1:0",
    "INET, UDP, 127.0.0.1, 127.0.0.1:0",
    "INET6, TCP, ::1, [::1]:0",
    "INET6, UDP, ::1, [::1]:0",
    "DUAL, TCP, 127.0.0.1, [::ffff:127.0.0.1]:0",
    "DUAL, UDP, 127.0.0.1, [::ffff:127.0.0.1]:0",
  })
  void bindToPortZeroGivesTheAskedAddressAndTheBoundPort(
      String family, String protocol, String address, String asked) throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance bind = GadgetTesting.instance("trace_bind", "", sink);
        NetworkChannel socket = open(family, protocol)) {
      bind.start();
      socket.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
      long port = ((InetSocketAddress) socket.getLocalAddress()).getPort();

      RecordingSink.Recorded e =
          sink.await(r -> r.value("pid").equals(PID) && r.value("bound_port").equals(port), WAIT);
      assertThat(e.text("addr")).isEqualTo(asked);
      assertThat(e.text("protocol")).isEqualTo(protocol);
      assertThat(e.value("protocol")).isEqualTo(protocol.equals("TCP") ? 6L : 17L);
      assertThat(e.value("ret")).isEqualTo(0L);
      assertThat(e.text("ret")).isEqualTo("0");
      assertThat((Long) e.value("fd")).isNotNegative();
      assertThat(e.value("mntns_id")).isEqualTo(TraceTcpTest.namespace("mnt"));
      assertThat(e.value("netns_id")).isEqualTo(TraceTcpTest.namespace("net"));
      assertThat(e.text("comm")).isNotEmpty();
    }
  }

  @ParameterizedTest
  @CsvSource({
    "INET, TCP, 127.0.0.1, 127.0.0.1",
    "INET, UDP, 127.0.0.1, 127.0.0.1",
    "INET6, TCP, ::1, [::1]",
    "INET6, UDP, ::1, [::1]",
  })
  void bindToAPortInUseGivesEaddrinuse(String family, String protocol, String address, String host)
      throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance bind = GadgetTesting.instance("trace_bind", "", sink);
        NetworkChannel first = open(family, protocol);
        NetworkChannel second = open(family, protocol)) {
      bind.start();
      first.bind(new InetSocketAddress(InetAddress.getByName(address), 0));
      int port = ((InetSocketAddress) first.getLocalAddress()).getPort();
      InetSocketAddress taken = new InetSocketAddress(InetAddress.getByName(address), port);
      assertThatThrownBy(() -> second.bind(taken)).isInstanceOf(BindException.class);

      String asked = host + ":" + port;
      RecordingSink.Recorded e =
          sink.await(r -> asked.equals(r.text("addr")) && (Long) r.value("ret") < 0, WAIT);
      assertThat(e.value("ret")).isEqualTo(-98L);
      assertThat(e.text("ret")).isEqualTo("EADDRINUSE");
      assertThat(e.value("bound_port")).isEqualTo(0L);
      assertThat(e.text("protocol")).isEqualTo(protocol);
      assertThat(e.value("pid")).isEqualTo(PID);
    }
  }

  @Test
  void mountNamespaceFilterDropsUnselectedBindsInTheKernel() throws Exception {
    RecordingSink sink = new RecordingSink();
    try (GadgetInstance bind = FilterTesting.nothingSelected("trace_bind", "", sink);
        NetworkChannel socket = open("INET", "UDP")) {
      bind.start();
      long filteredBefore = bind.filteredTotal();
      // The bind's exit passed the hook before the call returned.
      socket.bind(new InetSocketAddress("127.0.0.1", 0));

      FilterTesting.closeDrained(bind, WAIT);
      assertThat(sink.events()).as("nothing selected, this bind included").isEmpty();
      assertThat(bind.filteredTotal() - filteredBefore).as("this bind").isPositive();
    }
  }

  private static NetworkChannel open(String family, String protocol) throws IOException {
    ProtocolFamily f = family.equals("DUAL") ? null : StandardProtocolFamily.valueOf(family);
    if (protocol.equals("TCP")) {
      return f == null ? ServerSocketChannel.open() : ServerSocketChannel.open(f);
    }
    return f == null ? DatagramChannel.open() : DatagramChannel.open(f);
  }
}
