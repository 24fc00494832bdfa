package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class HttpConfigTest {

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0:9464, 0.0.0.0, 9464",
    "127.0.0.1:1, 127.0.0.1, 1",
    "localhost:8080, localhost, 8080",
    "metrics.node-1.example:443, metrics.node-1.example, 443",
    "'[::]:9464', ::, 9464",
    "'[::1]:0', ::1, 0",
    "'[fe80::1:2]:65535', fe80::1:2, 65535",
  })
  void parsesListenAddresses(String listen, String host, int port) {
    HttpConfig config = HttpConfig.parseListen(listen);

    assertThat(config).isEqualTo(new HttpConfig(host, port));
    assertThat(config.listenAddress()).isEqualTo(listen);
  }

  @Test
  void explainsWhatIsWrong() {
    assertThatThrownBy(() -> HttpConfig.parseListen("9464"))
        .hasMessage(
            "'9464' is not host:port; e.g. 0.0.0.0:9464 (every interface) or 127.0.0.1:9464");
    assertThatThrownBy(() -> HttpConfig.parseListen(":9464"))
        .hasMessageStartingWith("the host is missing;");
    assertThatThrownBy(() -> HttpConfig.parseListen("::1:9464"))
        .hasMessage("an IPv6 address goes in brackets: [::1]:PORT");
    assertThatThrownBy(() -> HttpConfig.parseListen("[::1]9464"))
        .hasMessageStartingWith("'[::1]9464' is not host:port; an IPv6 address is written");
    assertThatThrownBy(() -> HttpConfig.parseListen("[::g]:1"))
        .hasMessage("'::g' is not an IPv6 address");
    assertThatThrownBy(() -> HttpConfig.parseListen("[1.2.3.4]:1"))
        .hasMessage("'1.2.3.4' is not an IPv6 address");
    assertThatThrownBy(() -> HttpConfig.parseListen("0.0.0.0:http"))
        .hasMessage("port 'http' is not a number from 0 to 65535");
    assertThatThrownBy(() -> HttpConfig.parseListen("0.0.0.0:65536"))
        .hasMessage("port '65536' is not a number from 0 to 65535");
    assertThatThrownBy(() -> HttpConfig.parseListen("0.0.0.0:"))
        .hasMessage("port '' is not a number from 0 to 65535");
  }

  @ParameterizedTest
  @ValueSource(strings = {"256.0.0.1", "1.2.3", "bad_host", "-lead", "a..b", "with space"})
  void rejectsBadHosts(String host) {
    assertThatThrownBy(() -> HttpConfig.parseListen(host + ":1"))
        .hasMessage("'" + host + "' is not an IP address or a host name");
  }

  @Test
  void constructorRefusesOutOfRangePorts() {
    assertThatThrownBy(() -> new HttpConfig("0.0.0.0", 65536))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new HttpConfig("0.0.0.0", -1))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
