package io.gadgetexporter.bpf;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Loads {@code libgadgetexporter.so}, which ships inside the jar.
 *
 * <p>The library is extracted from the class-path resource {@code
 * META-INF/native/linux-<arch>/libgadgetexporter.so} ({@code linux-x86_64}, {@code linux-aarch64})
 * to a uniquely named temporary file, loaded with {@link System#load}, and deleted at once (the
 * mapping stays valid). The directory is, in order: the system property {@value
 * #DIRECTORY_PROPERTY}, the environment variable {@value #DIRECTORY_ENV}, {@code java.io.tmpdir}.
 *
 * <p>A directory on a filesystem mounted {@code noexec} (a hardened {@code /tmp}, a read-only pod
 * with a tmpfs) cannot hold a loadable library; the error then says so and names the property and
 * variable to point elsewhere, instead of the loader's "failed to map segment from shared object".
 *
 * <p>{@link #load()} is idempotent and thread-safe; every entry point of the binding calls it.
 */
public final class NativeLibrary {
  /** System property naming the directory the library is extracted to. */
  public static final String DIRECTORY_PROPERTY = "gadgetexporter.native.dir";

  /** Environment variable naming that directory, when the property is not set. */
  public static final String DIRECTORY_ENV = "GADGET_EXPORTER_NATIVE_DIR";

  static final String LIBRARY_FILE = "libgadgetexporter.so";

  private static final Object LOCK = new Object();
  private static volatile boolean loaded;
  private static Throwable failure; // guarded by LOCK: a failed load is not retried

  private NativeLibrary() {}

  /**
   * Loads the library once per class loader.
   *
   * @throws UnsatisfiedLinkError when it cannot be extracted or loaded (also on every later call)
   */
  public static void load() {
    if (loaded) {
      return;
    }
    synchronized (LOCK) {
      if (loaded) {
        return;
      }
      if (failure != null) {
        UnsatisfiedLinkError again = new UnsatisfiedLinkError(failure.getMessage());
        again.initCause(failure);
        throw again;
      }
      try {
        extractAndLoad(extractionDirectory());
        loaded = true;
      } catch (UnsatisfiedLinkError | RuntimeException e) {
        failure = e;
        throw e;
      }
    }
  }

  /** Whether {@link #load()} has succeeded in this class loader. */
  public static boolean isLoaded() {
    return loaded;
  }

  /** The directory the library is (or would be) extracted to; see the class comment. */
  public static Path extractionDirectory() {
    String dir = System.getProperty(DIRECTORY_PROPERTY);
    if (dir == null || dir.isBlank()) {
      dir = System.getenv(DIRECTORY_ENV);
    }
    if (dir == null || dir.isBlank()) {
      dir = System.getProperty("java.io.tmpdir");
    }
    return Path.of(dir);
  }

  /** The class-path resource holding the library for this machine. */
  static String resourcePath() {
    String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
    if (!os.contains("linux")) {
      throw new UnsatisfiedLinkError("gadget-exporter's native library exists for Linux only");
    }
    String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
    String dir;
    switch (arch) {
      case "amd64":
      case "x86_64":
        dir = "linux-x86_64";
        break;
      case "aarch64":
      case "arm64":
        dir = "linux-aarch64";
        break;
      default:
        throw new UnsatisfiedLinkError("no native library for architecture " + arch);
    }
    return "META-INF/native/" + dir + "/" + LIBRARY_FILE;
  }

  /**
   * Extracts the library into {@code dir} and loads it. Not guarded: tests call it to see a
   * directory's failure without touching the process-wide state of {@link #load()}.
   */
  static void extractAndLoad(Path dir) {
    String resource = resourcePath();
    Path file;
    try {
      Files.createDirectories(dir);
      file = Files.createTempFile(dir, "libgadgetexporter-", ".so");
    } catch (IOException e) {
      throw linkError(
          "cannot create a file for the native library in "
              + dir
              + " ("
              + e
              + "); set -D"
              + DIRECTORY_PROPERTY
              + " or "
              + DIRECTORY_ENV
              + " to a writable directory",
          e);
    }
    try {
      try (InputStream in = NativeLibrary.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new UnsatisfiedLinkError(
              "resource " + resource + " not found: the jar was built without its native library");
        }
        Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
      } catch (IOException e) {
        throw linkError("cannot extract " + resource + " to " + file + ": " + e, e);
      }
      try {
        System.load(file.toAbsolutePath().toString());
      } catch (UnsatisfiedLinkError e) {
        Optional<String> noexecMount = noexecMountOf(dir);
        String message = String.valueOf(e.getMessage());
        if (noexecMount.isPresent() || message.contains("failed to map segment")) {
          throw linkError(
              "cannot load the native library from "
                  + dir
                  + ": the directory is on a filesystem mounted noexec"
                  + noexecMount.map(m -> " (" + m + ")").orElse("")
                  + ", where no library can be loaded. Set -D"
                  + DIRECTORY_PROPERTY
                  + "=<dir> or the environment variable "
                  + DIRECTORY_ENV
                  + "=<dir> to a writable directory that allows execution",
              e);
        }
        throw e;
      }
    } finally {
      try {
        Files.deleteIfExists(file); // the loaded mapping outlives the name
      } catch (IOException ignored) {
        // a leftover temporary file is harmless and has a unique name
      }
    }
  }

  private static UnsatisfiedLinkError linkError(String message, Throwable cause) {
    UnsatisfiedLinkError e = new UnsatisfiedLinkError(message);
    e.initCause(cause);
    return e;
  }

  /**
   * The mount point holding {@code dir} when that mount has the {@code noexec} option, from {@code
   * /proc/self/mountinfo}: the longest mount point that is a prefix of the directory's real path;
   * of several mounts on one point, the last (the visible one).
   */
  static Optional<String> noexecMountOf(Path dir) {
    Path real;
    List<String> lines;
    try {
      real = dir.toRealPath();
      lines = Files.readAllLines(Path.of("/proc/self/mountinfo"));
    } catch (IOException e) {
      return Optional.empty();
    }
    String best = null;
    boolean bestNoexec = false;
    for (String line : lines) {
      // id parent major:minor root mount-point mount-options ... - fstype source super-options
      String[] f = line.split(" ");
      if (f.length < 6) {
        continue;
      }
      String mountPoint = unescape(f[4]);
      if (!real.startsWith(Path.of(mountPoint))) {
        continue;
      }
      if (best == null || mountPoint.length() >= best.length()) {
        best = mountPoint;
        bestNoexec = List.of(f[5].split(",")).contains("noexec");
      }
    }
    return bestNoexec ? Optional.of(best) : Optional.empty();
  }

  /** mountinfo escapes space, tab, newline and backslash as \ooo octal. */
  private static String unescape(String s) {
    if (s.indexOf('\\') < 0) {
      return s;
    }
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\\' && i + 3 < s.length()) {
        try {
          b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
          i += 3;
          continue;
        } catch (NumberFormatException ignored) {
          // not an escape: keep the backslash
        }
      }
      b.append(c);
    }
    return b.toString();
  }
}
