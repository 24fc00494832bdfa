package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The HTTP server ({@code /metrics}, {@code /healthz}, {@code /readyz}, the API): where it listens
 * and how it is protected.
 *
 * @param host an IPv4 address, an IPv6 address without brackets ({@code ::}), or a host name
 * @param port 0 to 65535; 0 lets the kernel pick a free port (useful in tests)
 * @param tls serve HTTPS with this certificate and key; empty: plain HTTP
 * @param bearerToken when present, every TCP request but the probes must carry it; read from the
 *     config or its file at load, so the record holds the secret itself ({@link #toString()} does
 *     not show it)
 * @param unixSocket also serve on this Unix domain socket (absolute; mode 0600, no token asked)
 * @param streamQueueEvents events queued per live-stream client before its newest are dropped
 */
public record HttpConfig(
    String host,
    int port,
    Optional<Tls> tls,
    Optional<String> bearerToken,
    Optional<Path> unixSocket,
    int streamQueueEvents) {

  public static final int DEFAULT_STREAM_QUEUE_EVENTS = 1024;
  static final int MIN_STREAM_QUEUE_EVENTS = 16;
  static final int MAX_STREAM_QUEUE_EVENTS = 65536;

  /** Every IPv4 interface, on the port OpenTelemetry's Prometheus exporter uses by default. */
  public static final HttpConfig DEFAULT = new HttpConfig("0.0.0.0", 9464);

  /** {@code sun_path} holds 108 bytes, the terminating NUL included. */
  static final int UNIX_SOCKET_PATH_MAX_BYTES = 107;

  /**
   * PEM files for HTTPS, checked to exist and hold what they should when the config loads.
   *
   * @param clientCaFile when present, clients must show a certificate signed by one of these CAs
   */
  public record Tls(Path certFile, Path keyFile, Optional<Path> clientCaFile) {
    public Tls {
      requireNonNull(certFile, "certFile");
      requireNonNull(keyFile, "keyFile");
      requireNonNull(clientCaFile, "clientCaFile");
    }
  }

  private static final String HOST_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?";
  private static final Pattern HOST_NAME = Pattern.compile(HOST_LABEL + "(\\." + HOST_LABEL + ")*");
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern IPV4_LIKE = Pattern.compile("[0-9.]+");
  private static final Pattern IPV4 = Pattern.compile("(" + OCTET + "\\.){3}" + OCTET);
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

  public HttpConfig {
    requireNonNull(host, "host");
    requireNonNull(tls, "tls");
    requireNonNull(bearerToken, "bearerToken");
    requireNonNull(unixSocket, "unixSocket");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535: " + port);
    }
    if (streamQueueEvents < 1) {
      throw new IllegalArgumentException(
          "streamQueueEvents must be positive: " + streamQueueEvents);
    }
  }

  /** Plain HTTP on {@code host:port}, no token, no socket. */
  public HttpConfig(String host, int port) {
    this(
        host,
        port,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        DEFAULT_STREAM_QUEUE_EVENTS);
  }

  /** The token is a secret: logs and messages that print a config must not carry it. */
  @Override
  public String toString() {
    return "HttpConfig[host="
        + host
        + ", port="
        + port
        + ", tls="
        + tls
        + ", bearerToken="
        + bearerToken.map(t -> "<redacted>")
        + ", unixSocket="
        + unixSocket
        + ", streamQueueEvents="
        + streamQueueEvents
        + "]";
  }

  /**
   * What is wrong with a bearer token, if anything. The message never quotes the token: it ends up
   * in logs.
   */
  static Optional<String> bearerTokenProblem(String token) {
    if (token.isEmpty()) {
      return Optional.of("is empty; expected the token clients send as 'Authorization: Bearer …'");
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c <= ' ' || c > '~') {
        return Optional.of(
            "holds a character a bearer token cannot have (at position "
                + (i + 1)
                + "): only visible ASCII, no spaces or line breaks inside it");
      }
    }
    return Optional.empty();
  }

  /** A Unix socket path must fit {@code sun_path}; Linux does not truncate, it refuses. */
  static Optional<String> unixSocketProblem(Path path) {
    int bytes = path.toString().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > UNIX_SOCKET_PATH_MAX_BYTES) {
      return Optional.of(
          "'"
              + path
              + "' is "
              + bytes
              + " bytes long; a Unix socket path has at most "
              + UNIX_SOCKET_PATH_MAX_BYTES);
    }
    return Optional.empty();
  }

  static Optional<String> streamQueueEventsProblem(long events) {
    if (events < MIN_STREAM_QUEUE_EVENTS || events > MAX_STREAM_QUEUE_EVENTS) {
      return Optional.of(
          "must be from " + MIN_STREAM_QUEUE_EVENTS + " to " + MAX_STREAM_QUEUE_EVENTS);
    }
    return Optional.empty();
  }

  /** {@code host:port} as it is written in the config, IPv6 in brackets: for logs and messages. */
  public String listenAddress() {
    return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
  }

  /**
   * Parses {@code http.listen}. Nothing is resolved: a host name is only checked for its form, so
   * loading a config never waits on DNS.
   *
   * @throws IllegalArgumentException with a message for the user
   */
  static HttpConfig parseListen(String text) {
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf("]:");
      if (close < 0) {
        throw new IllegalArgumentException(
            "'"
                + text
                + "' is not host:port; an IPv6 address is written [address]:port, e.g."
                + " [::]:9464");
      }
      host = text.substring(1, close);
      port = text.substring(close + 2);
      checkIpv6(host);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(
            "'"
                + text
                + "' is not host:port; e.g. 0.0.0.0:9464 (every interface) or"
                + " 127.0.0.1:9464");
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
      checkHost(host);
    }
    if (!PORT.matcher(port).matches() || Integer.parseInt(port) > 65535) {
      throw new IllegalArgumentException("port '" + port + "' is not a number from 0 to 65535");
    }
    return new HttpConfig(host, Integer.parseInt(port));
  }

  private static void checkHost(String host) {
    if (host.isEmpty()) {
      throw new IllegalArgumentException(
          "the host is missing; write 0.0.0.0:PORT for every IPv4 interface or [::]:PORT for every"
              + " interface");
    }
    if (host.contains(":")) {
      throw new IllegalArgumentException("an IPv6 address goes in brackets: [" + host + "]:PORT");
    }
    boolean valid =
        IPV4_LIKE.matcher(host).matches()
            ? IPV4.matcher(host).matches()
            : HOST_NAME.matcher(host).matches() && host.length() <= 253;
    if (!valid) {
      throw new IllegalArgumentException("'" + host + "' is not an IP address or a host name");
    }
  }

  private static void checkIpv6(String host) {
    try {
      // Bracketed, so InetAddress only parses the literal: it never does a DNS lookup.
      if (!host.contains(":") || InetAddress.getByName("[" + host + "]") == null) {
        throw new UnknownHostException();
      }
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + host + "' is not an IPv6 address");
    }
  }
}
