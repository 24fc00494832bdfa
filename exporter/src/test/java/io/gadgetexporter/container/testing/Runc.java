package io.gadgetexporter.container.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Drives the host's runc with a state directory of its own ({@code runc --root}, in a temp dir), so
 * tests never see or disturb other containers, and {@link #close()} removes every container it
 * made. Containers run a shared busybox root filesystem ({@link BusyboxRootfs}) and get the cgroup
 * {@link #cgroupsPath(String)}.
 *
 * <pre>{@code
 * try (Runc runc = Runc.open()) {
 *   Runc.Bundle b = runc.bundle(dir, List.of("sleep", "30"), Map.of());
 *   long pid = runc.create("c1", b);
 *   runc.start("c1");
 * }
 * }</pre>
 *
 * Every call that fails throws an AssertionError with runc's argv and stderr; {@link #calls()} has
 * the argv and outputs of every call made, for a test's own failure messages.
 */
public final class Runc implements AutoCloseable {
  /** A container process that lives about 50 ms. */
  public static final List<String> SHORT_LIVED_ARGS = List.of("sh", "-c", "sleep 0.05");

  private static final Duration EXIT_TIMEOUT = Duration.ofSeconds(10);

  private final Path dir;
  private final Path root;
  private final List<CommandResult> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger callCount = new AtomicInteger();
  private Path rootfs;

  /**
   * An OCI bundle: {@code config.json}; {@code stdout} and {@code stderr} receive the container's
   * outputs (stderr starts with runc's own messages of the create or run); {@code pid.file}.
   */
  public record Bundle(Path dir) {
    public Path config() {
      return dir.resolve("config.json");
    }

    public Path stdout() {
      return dir.resolve("stdout");
    }

    public Path stderr() {
      return dir.resolve("stderr");
    }

    public Path pidFile() {
      return dir.resolve("pid.file");
    }
  }

  /**
   * A container of {@link #runShortLived}: its init pid and the time from `runc start` until that
   * process had exited.
   */
  public record ShortLived(String id, long pid, Bundle bundle, Duration lifetime) {}

  private Runc(Path dir) {
    this.dir = dir;
    this.root = dir.resolve("state");
  }

  /** A runc of its own, in a new temp dir. Fails if not root. */
  public static Runc open() {
    Host.requireRoot("Runc");
    try {
      Path dir = Files.createTempDirectory("gx-test-runc-");
      Files.createDirectories(dir.resolve("calls"));
      return new Runc(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The temp dir everything of this instance lives in (state, rootfs, call outputs). */
  public Path dir() {
    return dir;
  }

  /** The state directory given to every call as {@code runc --root}. */
  public Path root() {
    return root;
  }

  /**
   * The cgroup a container gets, {@code /<this instance's dir name>/<id>} in every hierarchy: one
   * parent per instance, so test runs at the same time cannot meet in a cgroup.
   */
  public String cgroupsPath(String id) {
    return "/" + dir.getFileName() + "/" + id;
  }

  /** The busybox root filesystem all bundles share, built on first use. */
  public synchronized Path rootfs() {
    if (rootfs == null) {
      rootfs = BusyboxRootfs.build(dir.resolve("rootfs"));
    }
    return rootfs;
  }

  /**
   * Writes a bundle in {@code dir}: `runc spec`'s config (namespaces pid, network, ipc, uts, mount)
   * with terminal off, {@code args}, {@code annotations}, hostname gx-test and the shared rootfs,
   * writable. The cgroup is set by {@link #create} and {@link #run}, from the container id.
   */
  public Bundle bundle(Path dir, List<String> args, Map<String, String> annotations) {
    Bundle bundle = new Bundle(dir);
    try {
      Files.createDirectories(dir);
      Files.deleteIfExists(bundle.config()); // runc spec refuses to overwrite it
      call(List.of("spec", "--bundle", dir.toString()));
      JsonObject config = new JsonObject(Files.readString(bundle.config()));
      config
          .getJsonObject("process")
          .put("terminal", false)
          .put("args", new JsonArray(new ArrayList<Object>(args)));
      config.put("root", new JsonObject().put("path", rootfs().toString()).put("readonly", false));
      config.put("hostname", "gx-test");
      config.put("annotations", new JsonObject(new LinkedHashMap<String, Object>(annotations)));
      Files.writeString(bundle.config(), config.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a bundle in " + dir, e);
    }
    return bundle;
  }

  /**
   * `runc --root R create --bundle B --pid-file B/pid.file id`; returns once runc has exited, with
   * the container's init pid (waiting for {@link #start}). The container's outputs go to the
   * bundle's stdout and stderr files.
   */
  public long create(String id, Bundle bundle) {
    setCgroupsPath(bundle, id);
    call(
        List.of(
            "create",
            "--bundle",
            bundle.dir().toString(),
            "--pid-file",
            bundle.pidFile().toString(),
            id),
        bundle.stdout(),
        bundle.stderr());
    try {
      return Long.parseLong(Files.readString(bundle.pidFile()).strip());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** `runc start id`: the created container runs its process. */
  public void start(String id) {
    call(List.of("start", id));
  }

  /**
   * `runc run --bundle B id` in the foreground (up to 30 s); returns the container's exit code (1
   * also when runc itself failed: the bundle's stderr file says which).
   */
  public int run(String id, Bundle bundle) {
    setCgroupsPath(bundle, id);
    return callAllowingFailure(
            List.of("run", "--bundle", bundle.dir().toString(), id),
            bundle.stdout(),
            bundle.stderr())
        .exitCode();
  }

  /** `runc kill id signal`; signal as runc takes it: KILL, SIGTERM, 9. */
  public void kill(String id, String signal) {
    call(List.of("kill", id, signal));
  }

  /** `runc delete [--force] id`: force also kills a running container. */
  public void delete(String id, boolean force) {
    call(force ? List.of("delete", "--force", id) : List.of("delete", id));
  }

  /** `runc state id`: ociVersion, id, pid, status (created, running, stopped), bundle, ... */
  public JsonObject state(String id) {
    return new JsonObject(call(List.of("state", id)).stdout());
  }

  /** The ids of the containers in this instance's state directory. */
  public List<String> list() {
    return call(List.of("list", "--quiet")).stdout().lines().filter(l -> !l.isBlank()).toList();
  }

  /**
   * The annotations containerd's CRI plugin puts in a pod container's config.json: pod {@code
   * shop/web-7f9c}, container {@code app}, image {@code registry.local/shop/web:1.2}. A bundle
   * with them is, to the agent, that pod's container.
   */
  public static final Map<String, String> CRI_POD_ANNOTATIONS =
      Map.of(
          "io.kubernetes.cri.container-type", "container",
          "io.kubernetes.cri.container-name", "app",
          "io.kubernetes.cri.sandbox-name", "web-7f9c",
          "io.kubernetes.cri.sandbox-namespace", "shop",
          "io.kubernetes.cri.sandbox-uid", "6a1f0c2e-0d3b-4c1e-9a57-1b2c3d4e5f60",
          "io.kubernetes.cri.image-name", "registry.local/shop/web:1.2");

  /**
   * Creates and starts a container running {@code args} (for one that lives about 50 ms: {@link
   * #SHORT_LIVED_ARGS}) from a bundle written in {@code bundleDir}, returns once its process has
   * exited, after deleting the container as a container manager would.
   */
  public ShortLived runShortLived(String id, Path bundleDir, List<String> args) {
    return runShortLived(id, bundleDir, args, Map.of());
  }

  /** As above, with annotations in its config.json (a pod's, say). */
  public ShortLived runShortLived(
      String id, Path bundleDir, List<String> args, Map<String, String> annotations) {
    Bundle bundle = bundle(bundleDir, args, annotations);
    long pid = create(id, bundle);
    long started = System.nanoTime();
    start(id);
    // Not our child, and its parent (the host's init) may reap it late: a zombie counts as exited.
    if (!Host.awaitExit(pid, EXIT_TIMEOUT)) {
      throw new AssertionError(
          "container " + id + " (pid " + pid + ", " + args + ") still runs after " + EXIT_TIMEOUT);
    }
    Duration lifetime = Duration.ofNanos(System.nanoTime() - started);
    delete(id, false);
    return new ShortLived(id, pid, bundle, lifetime);
  }

  /** Every call made so far: argv, exit code, outputs. */
  public List<CommandResult> calls() {
    return List.copyOf(calls);
  }

  /**
   * Force-deletes every container in the state directory, removes the cgroup parent (killing
   * anything left in it), unmounts anything left below the temp dir and deletes it. Throws if
   * anything remains.
   */
  @Override
  public void close() {
    List<String> problems = new ArrayList<>();
    try {
      for (String id : list()) {
        CommandResult r = callAllowingFailure(List.of("delete", "--force", id));
        if (r.exitCode() != 0) {
          problems.add(r.describe());
        }
      }
    } catch (AssertionError e) {
      problems.add(e.getMessage());
    }
    String cgroupParent = "/" + dir.getFileName();
    Host.removeCgroup(cgroupParent);
    Host.unmountUnder(dir);
    try {
      Host.deleteRecursively(dir);
    } catch (RuntimeException e) {
      problems.add(e.getMessage());
    }
    if (!Host.cgroupDirectories(cgroupParent).isEmpty()) {
      problems.add("cgroups left: " + Host.cgroupDirectories(cgroupParent));
    }
    if (!problems.isEmpty()) {
      throw new AssertionError("runc left things behind:\n" + String.join("\n", problems));
    }
  }

  private void setCgroupsPath(Bundle bundle, String id) {
    try {
      JsonObject config = new JsonObject(Files.readString(bundle.config()));
      config.getJsonObject("linux").put("cgroupsPath", cgroupsPath(id));
      Files.writeString(bundle.config(), config.encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private CommandResult call(List<String> args) {
    return callAllowingFailure(args).requireSuccess();
  }

  private CommandResult call(List<String> args, Path stdout, Path stderr) {
    return callAllowingFailure(args, stdout, stderr).requireSuccess();
  }

  private CommandResult callAllowingFailure(List<String> args) {
    String name = String.format("%03d-%s", callCount.incrementAndGet(), args.get(0));
    Path calls = dir.resolve("calls");
    return callAllowingFailure(args, calls.resolve(name + ".out"), calls.resolve(name + ".err"));
  }

  private CommandResult callAllowingFailure(List<String> args, Path stdout, Path stderr) {
    List<String> argv = new ArrayList<>(List.of("runc", "--root", root.toString()));
    argv.addAll(args);
    CommandResult result = HostCommand.run(argv, stdout, stderr, HostCommand.TIMEOUT);
    calls.add(result);
    return result;
  }
}
