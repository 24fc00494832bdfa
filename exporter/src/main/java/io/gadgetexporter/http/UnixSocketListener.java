package io.gadgetexporter.http;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * The API on a Unix domain socket, created with mode 0600 so that only the agent's user can
 * connect: the file's permissions are the socket's access control.
 *
 * <p><b>No moment with looser permissions.</b> {@code bind(2)} creates the socket file with the
 * process's umask applied (0755 under the usual 022), and Java cannot change the umask. Binding at
 * the final path and then calling chmod would leave a window in which any local user could connect.
 * So the socket is bound inside a fresh directory of mode 0700 beside the final path, where nobody
 * else can reach it, set to 0600 there, and only then renamed onto the final path. {@code
 * rename(2)} keeps the inode, so the listening socket is the same, and it is atomic: a client sees
 * either no socket (or the stale one) or the finished one. Should the staging path be longer than a
 * socket path may be (107 bytes), the socket is bound in place and chmod-ed at once, and the parent
 * directory (created 0700 when missing) is what protects that instant.
 *
 * <p>A socket file left by an agent that died is replaced; one that another process still answers
 * on is an error, so two agents never share a socket unknowingly.
 */
final class UnixSocketListener implements AutoCloseable {
  private static final Logger logger = Logger.getLogger(UnixSocketListener.class.getName());

  private static final int SUN_PATH_MAX_BYTES = 107;
  private static final SecureRandom random = new SecureRandom();

  private final HttpServer server;
  private final Path path;
  private final Object fileKey; // the inode we created, so close never removes someone else's

  private UnixSocketListener(HttpServer server, Path path, Object fileKey) {
    this.server = server;
    this.path = path;
    this.fileKey = fileKey;
  }

  /**
   * Serves {@code handler} on a socket at {@code path}; blocks until listening.
   *
   * @throws IllegalStateException naming the path and what is wrong with it
   */
  static UnixSocketListener listen(Vertx vertx, Handler<HttpServerRequest> handler, Path path) {
    Path parent = path.toAbsolutePath().getParent();
    Path staging = null;
    HttpServer server = null;
    try {
      if (!Files.isDirectory(parent)) {
        Files.createDirectories(
            parent,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      }
      refuseLiveOrForeignFile(path);
      Path bindAt = path;
      staging = stagingDirectory(parent);
      if (staging != null) {
        bindAt = staging.resolve("s");
      }
      server =
          vertx
              .createHttpServer()
              .requestHandler(handler)
              .listen(SocketAddress.domainSocketAddress(bindAt.toString()))
              .await();
      Files.setPosixFilePermissions(bindAt, PosixFilePermissions.fromString("rw-------"));
      if (staging != null) {
        // Replaces a stale socket file in the same step.
        Files.move(bindAt, path, StandardCopyOption.ATOMIC_MOVE);
        Files.delete(staging);
        staging = null;
      }
      Object fileKey =
          Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
              .fileKey();
      return new UnixSocketListener(server, path, fileKey);
    } catch (IOException | RuntimeException e) {
      if (server != null) {
        server.close().await();
      }
      deleteQuietly(staging == null ? null : staging.resolve("s"));
      deleteQuietly(staging);
      if (e instanceof Refused refused) {
        throw refused;
      }
      throw new IllegalStateException("unix socket " + path + ": cannot serve HTTP on it: " + e, e);
    }
  }

  /**
   * A fresh directory of mode 0700 beside the socket path, or null when a socket inside it would
   * have too long a path. Created with its final mode: the umask can only remove bits.
   */
  private static Path stagingDirectory(Path parent) throws IOException {
    for (int attempt = 0; attempt < 10; attempt++) {
      Path dir = parent.resolve(".gx-" + Integer.toString(random.nextInt(1 << 30), 36));
      if (dir.resolve("s").toString().getBytes(StandardCharsets.UTF_8).length
          > SUN_PATH_MAX_BYTES) {
        return null;
      }
      try {
        return Files.createDirectory(
            dir,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } catch (FileAlreadyExistsException e) {
        // another name
      }
    }
    throw new IOException("cannot create a staging directory in " + parent);
  }

  /** Whatever is at the path must be a socket nobody answers on: it is then replaced. */
  private static void refuseLiveOrForeignFile(Path path) throws IOException {
    if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    int mode = (Integer) Files.getAttribute(path, "unix:mode", LinkOption.NOFOLLOW_LINKS);
    boolean isSocket = (mode & 0170000) == 0140000;
    if (!isSocket) {
      throw new Refused(
          path, "the path exists and is not a socket; remove it or choose another path");
    }
    try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      probe.connect(UnixDomainSocketAddress.of(path));
      throw new Refused(
          path, "another process serves on it (another agent?); stop it or choose another path");
    } catch (IOException e) {
      // Connection refused: a socket file left behind by a process that is gone.
      logger.info("replacing the stale socket file " + path);
    }
  }

  /** What is at the path forbids using it; the message says what to do. */
  private static final class Refused extends IllegalStateException {
    Refused(Path path, String why) {
      super("unix socket " + path + ": " + why);
    }
  }

  private static void deleteQuietly(Path p) {
    if (p == null) {
      return;
    }
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      logger.log(Level.FINE, "cannot delete " + p, e);
    }
  }

  Path path() {
    return path;
  }

  /** Stops listening and removes the socket file, unless another process has replaced it. */
  @Override
  public void close() {
    server.close().await();
    try {
      Object now =
          Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
              .fileKey();
      if (Objects.equals(now, fileKey)) {
        Files.delete(path);
      }
    } catch (IOException e) {
      // gone already
    }
  }
}
