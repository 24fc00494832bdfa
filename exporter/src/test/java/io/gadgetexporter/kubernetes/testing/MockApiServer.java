package io.gadgetexporter.kubernetes.testing;

import io.fabric8.kubernetes.client.NamespacedKubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;

/**
 * fabric8's mock API server in CRUD mode (objects created through a client are listed and
 * watched), on 127.0.0.1 over plain HTTP, with what the agent's tests need besides: a kubeconfig
 * file that points at it, a chosen port (to start it after the agent, on the port its kubeconfig
 * names), and the paths of the requests it received.
 *
 * <p>The CRUD mode does not evaluate the {@code spec.nodeName} field selector (it indexes names,
 * namespaces and labels only, and would answer no pods). This server takes that selector off the
 * request before the CRUD store sees it, so it answers every pod, and records the request as sent:
 * a test asserts the selector went out with {@link #requests()}, and pods of other nodes test the
 * agent's own check of {@code spec.nodeName}.
 */
public final class MockApiServer implements AutoCloseable {
  private static final Pattern NODE_SELECTOR =
      Pattern.compile("fieldSelector=spec\\.nodeName%3D[^&]*&?");

  private final KubernetesMockServer server;
  private final List<String> requests = new CopyOnWriteArrayList<>();
  private NamespacedKubernetesClient client;
  private boolean closed;

  private MockApiServer() {
    KubernetesCrudDispatcher crud =
        new KubernetesCrudDispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) {
            String path = request.getPath();
            requests.add(request.getMethod() + " " + path);
            String stripped = NODE_SELECTOR.matcher(path).replaceAll("");
            if (stripped.endsWith("?") || stripped.endsWith("&")) {
              stripped = stripped.substring(0, stripped.length() - 1);
            }
            return super.dispatch(
                stripped.equals(path)
                    ? request
                    : new RecordedRequest(
                        request.getHttpVersion(),
                        request.method(),
                        stripped,
                        request.getHeaders(),
                        request.getBody()));
          }
        };
    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), crud, false);
  }

  /** Started on a free port. */
  public static MockApiServer start() {
    return start(0);
  }

  /** Started on {@code port} (0: any free one). */
  public static MockApiServer start(int port) {
    MockApiServer s = new MockApiServer();
    s.server.start(InetAddress.getLoopbackAddress(), port);
    return s;
  }

  /** A port nothing listens on now, for a server started later. */
  public static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** A client of this server, to create and change objects. */
  public synchronized NamespacedKubernetesClient client() {
    if (client == null) {
      client = server.createClient();
    }
    return client;
  }

  /** Requests received, {@code "GET /api/v1/pods?..."}, as sent (before the selector was taken off). */
  public List<String> requests() {
    return List.copyOf(requests);
  }

  /** Writes a kubeconfig naming {@code http://127.0.0.1:port} and a token. */
  public static Path writeKubeconfig(Path file, int port) {
    String yaml =
        """
        apiVersion: v1
        kind: Config
        clusters:
        - name: mock
          cluster:
            server: http://127.0.0.1:%d
        contexts:
        - name: mock
          context:
            cluster: mock
            user: mock
            namespace: default
        current-context: mock
        users:
        - name: mock
          user:
            token: secret
        """
            .formatted(port);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      Files.writeString(file, yaml);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return file;
  }

  public Path writeKubeconfig(Path file) {
    return writeKubeconfig(file, port());
  }

  /**
   * Stops the server; idempotent. Close it before the agent's client: the mock server's watch
   * handler blocks its event loop for seconds when a client ends a watch, and its shutdown then
   * times out.
   */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (client != null) {
      client.close();
    }
    server.destroy();
  }
}
