package io.gadgetexporter.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
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

  // ---- tls, bearer token, unix socket, stream queue ---------------------------------------

  private static final String CERT =
      "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n";
  private static final String KEY =
      "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n";

  @TempDir Path dir;

  /** The config file {@code dir/etc/agent.yaml}, loaded; relative paths start from dir/etc. */
  private AgentConfig load(String yaml) throws Exception {
    return load(yaml, Map.of());
  }

  private AgentConfig load(String yaml, Map<String, String> env) throws Exception {
    Path file = dir.resolve("etc/agent.yaml");
    Files.createDirectories(file.getParent());
    Files.writeString(file, yaml);
    return ConfigLoader.load(file, env);
  }

  /** The problems of a config that must not load, as {@code line:column: key: message}. */
  private List<String> errors(String yaml) throws Exception {
    ConfigException e = catchThrowableOfType(ConfigException.class, () -> load(yaml));
    assertThat(e).as("expected a ConfigException for:%n%s", yaml).isNotNull();
    String prefix = dir.resolve("etc/agent.yaml") + ":";
    return e.getMessage().lines().map(l -> l.substring(prefix.length())).toList();
  }

  private Path write(String relative, String content) throws Exception {
    Path p = dir.resolve(relative);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
    return p;
  }

  @Test
  void readsTlsTokenFileSocketAndQueueWithPathsFromTheConfigDirectory() throws Exception {
    write("etc/tls/tls.crt", CERT);
    write("etc/tls/tls.key", KEY.replace("PRIVATE KEY", "EC PRIVATE KEY"));
    Path ca = write("ca.pem", CERT + CERT);
    write("etc/token", "  s3cr3t.token-value_~+/=\n\n");

    AgentConfig config =
        load(
            """
            http:
              listen: 127.0.0.1:0
              tls:
                cert_file: tls/tls.crt
                key_file: ./tls/tls.key
                client_ca_file: %s
              bearer_token_file: token
              unix_socket: ../run/gx.sock
              stream_queue_events: 64
            """
                .formatted(ca));

    HttpConfig http = config.http();
    assertThat(http.host()).isEqualTo("127.0.0.1");
    assertThat(http.tls())
        .contains(
            new HttpConfig.Tls(
                dir.resolve("etc/tls/tls.crt"), dir.resolve("etc/tls/tls.key"), Optional.of(ca)));
    assertThat(http.bearerToken())
        .as("the file's content, trimmed")
        .contains("s3cr3t.token-value_~+/=");
    assertThat(http.unixSocket()).contains(dir.resolve("run/gx.sock"));
    assertThat(http.streamQueueEvents()).isEqualTo(64);
    assertThat(http.toString()).contains("<redacted>").doesNotContain("s3cr3t");
  }

  @Test
  void tokenValueIsInterpolated() throws Exception {
    AgentConfig config =
        load("http:\n  bearer_token: ${GX_TOKEN}\n", Map.of("GX_TOKEN", "from-the-env"));

    assertThat(config.http().bearerToken()).contains("from-the-env");
    assertThat(config.http().tls()).isEmpty();
    assertThat(config.http().unixSocket()).isEmpty();
    assertThat(config.http().streamQueueEvents()).isEqualTo(HttpConfig.DEFAULT_STREAM_QUEUE_EVENTS);
  }

  @Test
  void tlsNeedsBothCertificateAndKey() throws Exception {
    write("etc/tls.crt", CERT);

    assertThat(errors("http:\n  tls:\n    cert_file: tls.crt\n"))
        .containsExactly("3:5: http.tls: missing required key 'key_file'");
    assertThat(errors("http:\n  tls:\n"))
        .containsExactly(
            "2:7: http.tls: missing required key 'cert_file'",
            "2:7: http.tls: missing required key 'key_file'");
  }

  @Test
  void tlsFilesMustExistAndHoldPem() throws Exception {
    write("etc/key-as-cert.pem", KEY);
    write("etc/encrypted.key", "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF\n");
    Files.createDirectories(dir.resolve("etc/a-dir"));
    Path etc = dir.resolve("etc");

    assertThat(
            errors(
                """
                http:
                  tls:
                    cert_file: key-as-cert.pem
                    key_file: encrypted.key
                    client_ca_file: a-dir
                """))
        .containsExactly(
            "3:16: http.tls.cert_file: 'key-as-cert.pem' ("
                + etc.resolve("key-as-cert.pem")
                + ") holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)",
            "4:15: http.tls.key_file: 'encrypted.key' ("
                + etc.resolve("encrypted.key")
                + ") holds an encrypted private key, which the agent cannot use; decrypt it and"
                + " protect the file instead (mode 0600, or a Kubernetes Secret)",
            "5:21: http.tls.client_ca_file: 'a-dir' ("
                + etc.resolve("a-dir")
                + ") is a directory; expected a file");
    assertThat(
            errors(
                "http:\n  tls:\n    cert_file: /nonexistent/tls.crt\n    key_file: "
                    + CERT.length()
                    + "\n"))
        .containsExactly(
            "3:16: http.tls.cert_file: '/nonexistent/tls.crt' does not exist",
            "4:15: http.tls.key_file: '"
                + CERT.length()
                + "' ("
                + etc.resolve(Integer.toString(CERT.length()))
                + ") does not exist");
  }

  @Test
  void tokenRulesNeverQuoteTheToken() throws Exception {
    write("etc/empty-token", " \n");
    write("etc/two-words", "two words\n");

    assertThat(errors("http:\n  bearer_token_file: empty-token\n"))
        .containsExactly(
            "2:22: http.bearer_token_file: 'empty-token' ("
                + dir.resolve("etc/empty-token")
                + ") is empty; expected the token clients send as 'Authorization: Bearer …'");
    List<String> twoWords = errors("http:\n  bearer_token_file: two-words\n");
    assertThat(twoWords)
        .containsExactly(
            "2:22: http.bearer_token_file: 'two-words' ("
                + dir.resolve("etc/two-words")
                + ") holds a character a bearer token cannot have (at position 4): only visible"
                + " ASCII, no spaces or line breaks inside it");
    assertThat(errors("http:\n  bearer_token: \"p\\u00e4ss\"\n"))
        .singleElement()
        .asString()
        .startsWith("2:17: http.bearer_token: holds a character a bearer token cannot have")
        .doesNotContain("p\u00e4ss");
    assertThat(errors("http:\n  bearer_token: abc\n  bearer_token_file: /nonexistent/token\n"))
        .containsExactly(
            "3:22: http.bearer_token_file: set either bearer_token or bearer_token_file, not both");
  }

  @Test
  void unixSocketPathMustFitSunPath() throws Exception {
    String longName = "s".repeat(120);

    assertThat(errors("http:\n  unix_socket: /run/" + longName + "\n"))
        .containsExactly(
            "2:16: http.unix_socket: '/run/"
                + longName
                + "' is 125 bytes long; a Unix socket path has at most 107");
    assertThat(errors("http:\n  unix_socket: ''\n"))
        .containsExactly("2:16: http.unix_socket: is empty; expected a path");
  }

  @Test
  void streamQueueIsBounded() throws Exception {
    assertThat(errors("http:\n  stream_queue_events: 8\n"))
        .containsExactly("2:24: http.stream_queue_events: must be from 16 to 65536");
    assertThat(errors("http:\n  stream_queue_events: 100000\n"))
        .containsExactly("2:24: http.stream_queue_events: must be from 16 to 65536");
    assertThat(errors("http:\n  stream_queue_events: lots\n"))
        .containsExactly("2:24: http.stream_queue_events: 'lots' is not a whole number");
  }
}
