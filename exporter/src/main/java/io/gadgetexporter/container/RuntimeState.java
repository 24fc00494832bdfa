package io.gadgetexporter.container;

import static java.util.Objects.requireNonNull;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.NotDirectoryException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What an OCI runtime keeps about one container in its state directory ({@code <root>/<id>/}).
 *
 * <ul>
 *   <li>runc: {@code state.json}, libcontainer's state: {@code id}, {@code init_process_pid},
 *       {@code init_process_start}, {@code created}, and the bundle as the label {@code
 *       bundle=/path} in {@code config.labels}.
 *   <li>crun: {@code status}: {@code pid}, {@code process-start-time}, {@code bundle}, {@code
 *       created}; the id is the directory's name.
 * </ul>
 *
 * Runtimes that keep another format under a name above (youki's {@code state.json} has {@code pid}
 * where runc has {@code init_process_pid}) are reported as {@link Reason#MALFORMED_STATE_JSON}.
 *
 * @param id the container id
 * @param pid the container's first process, as the host sees it
 * @param startTicks when that process started, in clock ticks after boot (field 22 of {@code
 *     /proc/<pid>/stat}): with {@code pid} it tells a live container from a reused pid
 * @param bundle the bundle directory (holding {@code config.json})
 * @param created when the runtime created the container
 * @param runtime {@value #RUNC} or {@value #CRUN}: whose state file this was
 */
public record RuntimeState(
    String id,
    int pid,
    OptionalLong startTicks,
    Optional<Path> bundle,
    Optional<Instant> created,
    String runtime) {

  public static final String RUNC = "runc";
  public static final String CRUN = "crun";

  /**
   * The largest state file read: 4 MiB. runc's {@code state.json} embeds the container's whole
   * configuration (mounts, seccomp rules), so it is larger than {@code config.json}; tens of KiB
   * is usual.
   */
  public static final int MAX_BYTES = 4 << 20;

  /** The largest pid Linux hands out ({@code PID_MAX_LIMIT}, 2^22). */
  private static final long PID_MAX_LIMIT = 1 << 22;

  /**
   * A directory where runtimes keep their per-container state, on hosts where the agent runs as
   * root.
   *
   * @param perNamespace the directory holds one subdirectory per containerd namespace, and those
   *     hold the containers
   * @param description who puts containers there
   */
  public record KnownRoot(Path path, boolean perNamespace, String description) {
    public KnownRoot {
      requireNonNull(path, "path");
      requireNonNull(description, "description");
    }
  }

  /**
   * The state roots of the common setups. Rootless runtimes keep theirs under {@code
   * $XDG_RUNTIME_DIR} ({@code /run/user/<uid>/runc}, {@code /run/user/<uid>/crun}), which is per
   * user and not listed. A root given on the runtime's command line ({@link RuntimeCommand#root()})
   * tells any other.
   */
  public static final List<KnownRoot> KNOWN_ROOTS =
      List.of(
          new KnownRoot(
              Path.of("/run/runc"),
              false,
              "runc's default root: plain runc, and podman and CRI-O when they use runc"),
          new KnownRoot(
              Path.of("/run/crun"),
              false,
              "crun's default root: plain crun, and podman and CRI-O when they use crun"),
          new KnownRoot(
              Path.of("/run/containerd/runc"),
              true,
              "containerd's runc shim runs the runtime with"
                  + " --root /run/containerd/runc/<namespace>: k8s.io for Kubernetes (also k3s,"
                  + " rke2, kind nodes), default for ctr; the same with crun as the shim's binary"),
          new KnownRoot(
              Path.of("/run/docker/runtime-runc"),
              true,
              "Docker gives containerd this root for runc, and the shim adds the namespace: moby"),
          new KnownRoot(
              Path.of("/run/runc-ctrs"),
              false,
              "the default root compiled into some distributions' older runc packages"));

  public RuntimeState {
    requireNonNull(id, "id");
    requireNonNull(startTicks, "startTicks");
    requireNonNull(bundle, "bundle");
    requireNonNull(created, "created");
    requireNonNull(runtime, "runtime");
  }

  /**
   * Reads the state a runtime keeps in one container's directory ({@code <root>/<id>}).
   *
   * @return empty when the directory, or the state file in it, does not exist (the container is
   *     being created or was just deleted)
   * @throws ContainerMetadataException {@link Reason#MALFORMED_STATE_JSON}, {@link
   *     Reason#STATE_JSON_TOO_LARGE} above {@link #MAX_BYTES}, or {@link Reason#READ_FAILED}
   */
  public static Optional<RuntimeState> read(Path containerStateDir) {
    requireNonNull(containerStateDir, "containerStateDir");
    if (!Files.isDirectory(containerStateDir)) {
      return Optional.empty();
    }
    Path name = containerStateDir.getFileName();
    String dirName = name == null ? "" : name.toString();

    Path stateJson = containerStateDir.resolve("state.json");
    Optional<String> runc = readState(stateJson);
    if (runc.isPresent()) {
      return Optional.of(parseRunc(runc.get(), dirName, stateJson.toString()));
    }
    Path status = containerStateDir.resolve("status");
    Optional<String> crun = readState(status);
    if (crun.isPresent()) {
      return Optional.of(parseCrun(crun.get(), dirName, status.toString()));
    }
    return Optional.empty();
  }

  /**
   * The subdirectories of a state root, by name: one per container (or, for a {@link
   * KnownRoot#perNamespace()} root, per namespace). Files beside them and symbolic links are left
   * out.
   *
   * @return empty when the root does not exist or is not a directory
   * @throws ContainerMetadataException {@link Reason#READ_FAILED} when it cannot be listed
   */
  public static List<Path> containerDirs(Path root) {
    requireNonNull(root, "root");
    List<Path> dirs = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
      for (Path entry : entries) {
        if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
          dirs.add(entry);
        }
      }
    } catch (NoSuchFileException | NotDirectoryException e) {
      return List.of();
    } catch (IOException e) {
      throw new ContainerMetadataException(
          Reason.READ_FAILED, root.toString(), "cannot list: " + MetadataFiles.ioProblem(e), e);
    }
    dirs.sort(null);
    return List.copyOf(dirs);
  }

  private static Optional<String> readState(Path file) {
    return MetadataFiles.readUtf8(
        file, MAX_BYTES, Reason.STATE_JSON_TOO_LARGE, Reason.MALFORMED_STATE_JSON);
  }

  /**
   * Parses runc's {@code state.json}.
   *
   * @param dirName the id when the file has none
   */
  static RuntimeState parseRunc(String json, String dirName, String source) {
    JsonFields f = new JsonFields(source, Reason.MALFORMED_STATE_JSON);
    JsonObject state = f.document(json);
    String id = f.string(state, "id", "id").filter(s -> !s.isEmpty()).orElse(dirName);
    int pid = pid(f, state, "init_process_pid");
    OptionalLong start = f.nonNegativeLong(state, "init_process_start", "init_process_start");
    Optional<Instant> created = created(f, state);
    Optional<Path> bundle = Optional.empty();
    Optional<JsonObject> config = f.object(state, "config", "config");
    if (config.isPresent()) {
      for (String label : f.strings(config.get(), "labels", "config.labels")) {
        if (label.startsWith("bundle=") && label.length() > "bundle=".length()) {
          String path = label.substring("bundle=".length());
          bundle = Optional.of(f.path(path, "the bundle label"));
          break;
        }
      }
    }
    return new RuntimeState(id, pid, start, bundle, created, RUNC);
  }

  /** Parses crun's {@code status}, which has no id: the directory's name is the id. */
  static RuntimeState parseCrun(String json, String dirName, String source) {
    JsonFields f = new JsonFields(source, Reason.MALFORMED_STATE_JSON);
    JsonObject status = f.document(json);
    int pid = pid(f, status, "pid");
    OptionalLong start = f.nonNegativeLong(status, "process-start-time", "process-start-time");
    Optional<Instant> created = created(f, status);
    Optional<Path> bundle =
        f.string(status, "bundle", "bundle")
            .filter(s -> !s.isEmpty())
            .map(s -> f.path(s, "bundle"));
    return new RuntimeState(dirName, pid, start, bundle, created, CRUN);
  }

  private static int pid(JsonFields f, JsonObject state, String key) {
    long pid =
        f.nonNegativeLong(state, key, key).orElseThrow(() -> f.problem(key + " is missing"));
    if (pid == 0 || pid > PID_MAX_LIMIT) {
      throw f.problem(key + " is " + pid + ", not a process id");
    }
    return (int) pid;
  }

  /** RFC 3339, as Go writes a time; Go's zero time (year 1) means "not set". */
  private static Optional<Instant> created(JsonFields f, JsonObject state) {
    Optional<String> text = f.string(state, "created", "created");
    if (text.isEmpty() || text.get().isEmpty()) {
      return Optional.empty();
    }
    try {
      OffsetDateTime time = OffsetDateTime.parse(text.get());
      return time.getYear() <= 1 ? Optional.empty() : Optional.of(time.toInstant());
    } catch (DateTimeParseException e) {
      throw f.problem(
          "created is '" + MetadataFiles.printable(text.get(), 40) + "', not an RFC 3339 time");
    }
  }
}
