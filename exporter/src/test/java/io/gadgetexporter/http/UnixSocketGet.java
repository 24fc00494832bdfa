package io.gadgetexporter.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * GET over the agent's Unix socket as {@code curl --unix-socket} does: one HTTP/1.0 request on a
 * fresh connection, read until the server closes it. A plain socket, so what a test sees is the
 * server's answer with no client pool in between (a Vert.x client nobody holds is closed when the
 * garbage collector finds it, sometimes mid-request: "Pool closed", or a body cut short).
 */
public final class UnixSocketGet {
  private UnixSocketGet() {}

  /** {@code "<status> <body>"}, e.g. {@code "200 ok\n"}. */
  public static String get(Path socket, String path) throws IOException {
    try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
      channel.write(
          ByteBuffer.wrap(
              ("GET " + path + " HTTP/1.0\r\nHost: localhost\r\n\r\n")
                  .getBytes(StandardCharsets.US_ASCII)));
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      ByteBuffer buffer = ByteBuffer.allocate(8192);
      while (channel.read(buffer) >= 0) {
        all.write(buffer.array(), 0, buffer.position());
        buffer.clear();
      }
      String response = all.toString(StandardCharsets.UTF_8);
      int headersEnd = response.indexOf("\r\n\r\n");
      assertThat(headersEnd).as("a complete HTTP response: " + response).isPositive();
      String status = response.substring(response.indexOf(' ') + 1, response.indexOf(' ') + 4);
      return status + " " + response.substring(headersEnd + 4);
    }
  }
}
