package io.gadgetexporter.config;

import static java.util.Objects.requireNonNull;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/**
 * Where the HTTP server ({@code /metrics}, {@code /healthz}, {@code /readyz}) listens.
 *
 * @param host an IPv4 address, an IPv6 address without brackets ({@code ::}), or a host name
 * @param port 0 to 65535; 0 lets the kernel pick a free port (useful in tests)
 */
public record HttpConfig(String host, int port) {

  /** Every IPv4 interface, on the port OpenTelemetry's Prometheus exporter uses by default. */
  public static final HttpConfig DEFAULT = new HttpConfig("0.0.0.0", 9464);

  private static final String HOST_LABEL = "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?";
  private static final Pattern HOST_NAME = Pattern.compile(HOST_LABEL + "(\\." + HOST_LABEL + ")*");
  private static final String OCTET = "(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
  private static final Pattern IPV4_LIKE = Pattern.compile("[0-9.]+");
  private static final Pattern IPV4 = Pattern.compile("(" + OCTET + "\\.){3}" + OCTET);
  private static final Pattern PORT = Pattern.compile("[0-9]{1,5}");

  public HttpConfig {
    requireNonNull(host, "host");
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port must be 0..65535: " + port);
    }
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
