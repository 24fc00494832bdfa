package io.gadgetexporter.container.testing;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A containerd daemon of the test's own: root, state, socket and config in a temp dir (so it never
 * meets a system containerd), the CRI plugin disabled (no CNI needed), and one image, {@link
 * #IMAGE}, built from {@link BusyboxRootfs} and imported at start. Containers are driven with
 * `ctr`; their shims (containerd-shim-runc-v2) run the host's runc as
 *
 * <pre>
 * runc --root STATE/runc/gx-test --log STATE/io.containerd.runtime.v2.task/gx-test/ID/log.json
 *   --log-format json create --bundle STATE/io.containerd.runtime.v2.task/gx-test/ID
 *   --pid-file STATE/io.containerd.runtime.v2.task/gx-test/ID/init.pid ID
 * </pre>
 *
 * (then {@code start ID}, {@code exec --process /tmp/runc-processNNN --detach --pid-file
 * .../EXECID.pid ID}, {@code kill --all ID 9}, {@code delete ID}, {@code delete --force ID}, all
 * with the same four global flags), as seen with {@code strace -f -e execve} on containerd 1.6.20.
 * STATE/runc comes from `ctr run --runc-root`; without it the shim uses
 * /run/containerd/runc/gx-test.
 *
 * <p>Left on the host after {@link #close()}: nothing of its own. The shims create their sockets in
 * /run/containerd/s (a fixed path in containerd 1.6) and remove them when they exit; close()
 * removes those of a shim that was killed, and that directory (and /run/containerd) when it created
 * them and they are empty.
 */
public final class Containerd implements AutoCloseable {
  /** The containerd namespace every ctr call uses. */
  public static final String NAMESPACE = "gx-test";

  /** The busybox image imported at start. */
  public static final String IMAGE = "localhost/gx-test/busybox:latest";

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(10);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(5);
  private static final Path SHIM_SOCKETS = Path.of("/run/containerd/s");

  private final Path dir;
  private final String snapshotter;
  private final boolean createdShimSocketDir;
  private final List<CommandResult> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger callCount = new AtomicInteger();
  private final AtomicInteger execCount = new AtomicInteger();
  private final Set<String> ids = ConcurrentHashMap.newKeySet();
  private Process daemon;

  private Containerd(Path dir, String snapshotter) {
    this.dir = dir;
    this.snapshotter = snapshotter;
    this.createdShimSocketDir = !Files.exists(SHIM_SOCKETS);
  }

  /**
   * Starts the daemon, waits until it answers (up to 10 s, else fails with its log) and imports
   * {@link #IMAGE}. Fails if not root.
   */
  public static Containerd start() {
    Host.requireRoot("Containerd");
    Path dir;
    try {
      dir = Files.createTempDirectory("gx-test-containerd-");
      for (String d : List.of("root", "state", "opt", "calls", "logs", "fifo", "image")) {
        Files.createDirectories(dir.resolve(d));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String snapshotter;
    try {
      snapshotter = chooseSnapshotter(dir);
    } catch (RuntimeException e) {
      Host.unmountUnder(dir);
      Host.deleteRecursively(dir);
      throw e;
    }
    Containerd containerd = new Containerd(dir, snapshotter);
    try {
      containerd.startDaemon();
      containerd.importImage();
      return containerd;
    } catch (RuntimeException | Error e) {
      try {
        containerd.close();
      } catch (RuntimeException | Error cleanup) {
        e.addSuppressed(cleanup);
      }
      throw e;
    }
  }

  /**
   * overlayfs if an overlay mount works in our temp dir, else native (a full copy per container,
   * slower but works anywhere). containerd 1.6 loads its overlayfs plugin without trying a mount
   * (overlayutils.Supported is not called at plugin init), so where overlay cannot be mounted (no
   * module, an overlay or tmpfs-in-userns backing dir) the first container would fail: a real mount
   * is tried instead. Found on the development machine (kernel 6.18, /tmp on ext4, hybrid cgroups):
   * it works, so overlayfs is used.
   */
  private static String chooseSnapshotter(Path dir) {
    Path probe = dir.resolve("overlay-probe");
    try {
      for (String d : List.of("lower", "upper", "work", "merged")) {
        Files.createDirectories(probe.resolve(d));
      }
      Path out = probe.resolve("mount.out");
      int exit =
          HostCommand.run(
                  List.of(
                      "mount",
                      "-t",
                      "overlay",
                      "overlay",
                      "-o",
                      "lowerdir="
                          + probe.resolve("lower")
                          + ",upperdir="
                          + probe.resolve("upper")
                          + ",workdir="
                          + probe.resolve("work"),
                      probe.resolve("merged").toString()),
                  out,
                  out,
                  HostCommand.TIMEOUT)
              .exitCode();
      Host.unmountUnder(probe);
      Host.deleteRecursively(probe);
      return exit == 0 ? "overlayfs" : "native";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The temp dir everything of this daemon lives in. */
  public Path dir() {
    return dir;
  }

  /** The gRPC socket, the {@code -a} of every ctr call. */
  public Path socket() {
    return dir.resolve("containerd.sock");
  }

  /** containerd's root (content store, snapshots, metadata). */
  public Path root() {
    return dir.resolve("root");
  }

  /**
   * containerd's state; bundles are in {@code state/io.containerd.runtime.v2.task/gx-test/<id>}.
   */
  public Path state() {
    return dir.resolve("state");
  }

  /** What the shims pass to runc as {@code --root}: {@code state/runc/gx-test}. */
  public Path runcRoot() {
    return state().resolve("runc").resolve(NAMESPACE);
  }

  /** overlayfs or native, see {@link #chooseSnapshotter}. */
  public String snapshotter() {
    return snapshotter;
  }

  /** The daemon's standard output and error. */
  public Path daemonLog() {
    return dir.resolve("containerd.log");
  }

  /**
   * The cgroup a container gets, {@code /<this instance's dir name>/<id>} (ctr's default would be
   * {@code /gx-test/<id>}): one parent per instance, so test runs at the same time cannot meet.
   */
  public String cgroupsPath(String id) {
    return "/" + dir.getFileName() + "/" + id;
  }

  /** The file the container's standard output and error go to (ctr run --log-uri). */
  public Path output(String id) {
    return dir.resolve("logs").resolve(id + ".log");
  }

  /**
   * {@code ctr -a S -n gx-test run -d --snapshotter X --runc-root R --cgroup C --log-uri file://O
   * IMAGE id args...}: returns once the task runs.
   */
  public void runDetached(String id, List<String> args) {
    List<String> run =
        new ArrayList<>(
            List.of(
                "run",
                "-d",
                "--snapshotter",
                snapshotter,
                "--runc-root",
                state().resolve("runc").toString(),
                "--cgroup",
                cgroupsPath(id),
                "--log-uri",
                output(id).toUri().toString(),
                IMAGE,
                id));
    run.addAll(args);
    ids.add(id);
    ctr(run);
  }

  /** The task's init pid on the host, as {@code ctr task ls} reports it. */
  public long taskPid(String id) {
    CommandResult ls = ctr(List.of("task", "ls"));
    for (String line : ls.stdout().lines().skip(1).toList()) {
      String[] cols = line.strip().split("\\s+");
      if (cols.length >= 2 && cols[0].equals(id)) {
        return Long.parseLong(cols[1]);
      }
    }
    throw new AssertionError("no task " + id + " in:\n" + ls.describe());
  }

  /** {@code ctr task kill -s signal id}; signal as ctr takes it: SIGKILL, SIGTERM, 9. */
  public void kill(String id, String signal) {
    ctr(List.of("task", "kill", "-s", signal, id));
  }

  /**
   * {@code ctr task delete --force id} (kills it if it runs), then {@code ctr container delete}.
   */
  public void delete(String id) {
    ctr(List.of("task", "delete", "--force", id));
    ctr(List.of("container", "delete", id));
  }

  /**
   * {@code ctr task exec --exec-id exec-N id args...} in the foreground (up to 30 s): the result's
   * exit code is the process's, its stdout and stderr the process's outputs. Does not throw on a
   * non-zero exit.
   */
  public CommandResult exec(String id, List<String> args) {
    List<String> exec =
        new ArrayList<>(
            List.of(
                "task",
                "exec",
                "--fifo-dir",
                dir.resolve("fifo").toString(),
                "--exec-id",
                "exec-" + execCount.incrementAndGet(),
                id));
    exec.addAll(args);
    return ctrAllowingFailure(exec);
  }

  /** Every ctr call made so far: argv, exit code, outputs. */
  public List<CommandResult> calls() {
    return List.copyOf(calls);
  }

  /** The daemon and the shims: live processes whose command line names this instance's dir. */
  public List<Long> processes() {
    return Host.processesMentioning(dir.toString());
  }

  /**
   * Deletes every task and container, stops the daemon (SIGTERM, SIGKILL after 5 s), kills shims
   * left over, force-deletes what runc still has, unmounts what is left below the temp dir, removes
   * the cgroup parent and deletes the temp dir. Throws if anything remains.
   */
  @Override
  public void close() {
    List<String> problems = new ArrayList<>();
    if (daemon != null && daemon.isAlive()) {
      for (String id : containerIds()) {
        ctrAllowingFailure(List.of("task", "delete", "--force", id));
        CommandResult rm = ctrAllowingFailure(List.of("container", "delete", id));
        if (rm.exitCode() != 0) {
          problems.add(rm.describe());
        }
      }
    }
    stopDaemon();
    for (Long pid : processes()) {
      // A shim whose task could not be deleted: it would keep its container and mounts.
      if (!Host.awaitExit(pid, Duration.ofSeconds(2))) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
        Host.awaitExit(pid, Duration.ofSeconds(2));
      }
    }
    if (Files.isDirectory(runcRoot())) {
      forceDeleteWithRunc(problems);
    }
    String cgroupParent = "/" + dir.getFileName();
    Host.removeCgroup(cgroupParent);
    Host.unmountUnder(dir);
    removeShimSockets(problems);

    List<Long> left = processes();
    if (!left.isEmpty()) {
      problems.add("processes left: " + left);
    }
    if (!Host.cgroupDirectories(cgroupParent).isEmpty()) {
      problems.add("cgroups left: " + Host.cgroupDirectories(cgroupParent));
    }
    String log = readQuietly(daemonLog());
    try {
      Host.deleteRecursively(dir);
    } catch (RuntimeException e) {
      problems.add(e.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new AssertionError(
          "containerd left things behind:\n"
              + String.join("\n", problems)
              + "\n--- containerd log:\n"
              + log);
    }
  }

  private void startDaemon() {
    Path config = dir.resolve("config.toml");
    try {
      Files.writeString(
          config,
          String.format(
              """
              version = 2
              root = "%s"
              state = "%s"
              # CRI would want CNI; the others are snapshotters that cannot work on a plain
              # directory and would only log that they are skipped.
              disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.aufs",
                "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
                "io.containerd.snapshotter.v1.devmapper"]
              [grpc]
                address = "%s"
              [plugins."io.containerd.internal.v1.opt"]
                path = "%s"
              """,
              root(), state(), socket(), dir.resolve("opt")));
      daemon =
          new ProcessBuilder("containerd", "--config", config.toString())
              .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
              .redirectOutput(daemonLog().toFile())
              .redirectErrorStream(true)
              .start();
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot start containerd (scripts/install-packages.sh test installs it)", e);
    }
    long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
    while (!Files.exists(socket())) {
      if (!daemon.isAlive()) {
        throw new AssertionError(
            "containerd exited with "
                + daemon.exitValue()
                + " before serving "
                + socket()
                + ":\n"
                + readQuietly(daemonLog()));
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "containerd does not serve "
                + socket()
                + " after "
                + READY_TIMEOUT
                + ":\n"
                + readQuietly(daemonLog()));
      }
      Host.sleep(Duration.ofMillis(10));
    }
    ctr(List.of("version"));
  }

  private void importImage() {
    Path archive = dir.resolve("image/busybox.oci.tar");
    OciImageArchive.write(BusyboxRootfs.build(dir.resolve("image/rootfs")), IMAGE, archive);
    // One manifest, no index of platforms: no --all-platforms or --platform needed. Unpacks into
    // the snapshotter by default (--no-unpack is off).
    ctr(List.of("images", "import", "--snapshotter", snapshotter, archive.toString()));
  }

  private List<String> containerIds() {
    CommandResult ls = ctrAllowingFailure(List.of("container", "list", "--quiet"));
    return ls.stdout().lines().filter(l -> !l.isBlank()).toList();
  }

  private void stopDaemon() {
    if (daemon == null) {
      return;
    }
    try {
      daemon.destroy();
      if (!daemon.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
        daemon.destroyForcibly().waitFor();
      }
    } catch (InterruptedException e) {
      daemon.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void forceDeleteWithRunc(List<String> problems) {
    Path out = dir.resolve("calls/runc-list.out");
    CommandResult list =
        HostCommand.run(
            List.of("runc", "--root", runcRoot().toString(), "list", "--quiet"),
            out,
            dir.resolve("calls/runc-list.err"),
            HostCommand.TIMEOUT);
    for (String id : list.stdout().lines().filter(l -> !l.isBlank()).toList()) {
      CommandResult delete =
          HostCommand.run(
              List.of("runc", "--root", runcRoot().toString(), "delete", "--force", id),
              dir.resolve("calls/runc-delete.out"),
              dir.resolve("calls/runc-delete.err"),
              HostCommand.TIMEOUT);
      problems.add("runc still had container " + id + " (deleted: " + delete.exitCode() + ")");
    }
  }

  /**
   * Removes the sockets of shims that did not exit by themselves (a shim removes its own when it
   * exits), then /run/containerd/s and /run/containerd if they did not exist before this daemon
   * started and are empty now. (Another test JVM's shim could be creating its socket in that
   * instant; the tests of one build run in one JVM, so that does not happen within a build.)
   */
  private void removeShimSockets(List<String> problems) {
    for (String id : ids) {
      // containerd 1.6 shim.SocketAddress: sha256 of "<containerd address>/<namespace>/<id>".
      Path socket = SHIM_SOCKETS.resolve(sha256Hex(socket() + "/" + NAMESPACE + "/" + id));
      try {
        Files.deleteIfExists(socket);
      } catch (IOException e) {
        problems.add("cannot remove the shim socket " + socket + ": " + e);
      }
    }
    if (!createdShimSocketDir) {
      return;
    }
    for (Path d : List.of(SHIM_SOCKETS, SHIM_SOCKETS.getParent())) {
      try {
        Files.deleteIfExists(d);
      } catch (IOException e) {
        return; // not empty: someone else's too
      }
    }
  }

  private CommandResult ctr(List<String> args) {
    return ctrAllowingFailure(args).requireSuccess();
  }

  private CommandResult ctrAllowingFailure(List<String> args) {
    List<String> argv = new ArrayList<>(List.of("ctr", "-a", socket().toString(), "-n", NAMESPACE));
    argv.addAll(args);
    String name = String.format("%03d-%s", callCount.incrementAndGet(), args.get(0));
    Path callDir = dir.resolve("calls");
    CommandResult result =
        HostCommand.run(
            argv,
            callDir.resolve(name + ".out"),
            callDir.resolve(name + ".err"),
            HostCommand.TIMEOUT);
    calls.add(result);
    return result;
  }

  private static String sha256Hex(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String readQuietly(Path file) {
    try {
      return Files.readString(file);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
