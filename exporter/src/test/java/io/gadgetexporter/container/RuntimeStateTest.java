package io.gadgetexporter.container;

import static io.gadgetexporter.container.MetadataProblems.assertProblem;
import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import io.gadgetexporter.container.RuntimeState.KnownRoot;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class RuntimeStateTest {

  private static final String ID = CgroupContainerIdTest.APP;
  private static final String BUNDLE = "/run/containerd/io.containerd.runtime.v2.task/k8s.io/" + ID;

  /** runc's state.json for a containerd CRI container, trimmed. */
  private static final String RUNC_STATE =
      """
      {"id":"%1$s","init_process_pid":48213,"init_process_start":7745128,
       "created":"2024-05-01T10:20:30.123456789Z",
       "config":{"no_pivot_root":false,"parent_death_signal":0,
         "rootfs":"/run/containerd/io.containerd.runtime.v2.task/k8s.io/%1$s/rootfs",
         "readonlyfs":false,"rootPropagation":0,
         "mounts":[{"source":"proc","destination":"/proc","device":"proc","flags":14}],
         "namespaces":[{"type":"NEWNS","path":""},{"type":"NEWNET","path":"/proc/48100/ns/net"}],
         "cgroups":{"path":"","scope_prefix":"cri-containerd","name":"%1$s",
           "parent":"kubepods-burstable-podc25ffa8a_d1bd_43a9_ad5a_8428353924aa.slice",
           "Resources":{"memory":268435456}},
         "oom_score_adj":1000,"hostname":"",
         "labels":["io.kubernetes.cri.container-name=nginx","bundle=%2$s"],
         "no_new_keyring":false},
       "rootless":false,
       "cgroup_paths":{"":"/sys/fs/cgroup/kubepods.slice/cri-containerd-%1$s.scope"},
       "namespace_paths":{"NEWNET":"/proc/48213/ns/net","NEWPID":"/proc/48213/ns/pid"},
       "external_descriptors":["/dev/null","pipe:[1130721]","pipe:[1130722]"],
       "intel_rdt_path":""}
      """
          .formatted(ID, BUNDLE);

  /** crun's status file, as crun writes it. */
  private static final String CRUN_STATUS =
      """
      {
          "pid": 139179,
          "process-start-time": 263473330,
          "cgroup-path": "/machine.slice/libpod-%1$s.scope",
          "scope": "libpod-%1$s.scope",
          "rootfs": "/var/lib/containers/storage/overlay/4d9e/merged",
          "systemd-cgroup": true,
          "bundle": "/var/lib/containers/storage/overlay-containers/%1$s/userdata",
          "created": "2021-08-29T14:34:52.000293421Z",
          "owner": "root",
          "detached": true,
          "external_descriptors": "[\\"/dev/null\\",\\"/dev/null\\",\\"/dev/null\\"]"
      }
      """
          .formatted(ID);

  @TempDir Path root;

  private Path containerDir(String file, String content) throws IOException {
    Path dir = Files.createDirectories(root.resolve(ID));
    Files.writeString(dir.resolve(file), content);
    return dir;
  }

  @Test
  void readsRuncState() throws IOException {
    Path dir = containerDir("state.json", RUNC_STATE);

    RuntimeState state = RuntimeState.read(dir).orElseThrow();

    assertThat(state.id()).isEqualTo(ID);
    assertThat(state.pid()).isEqualTo(48213);
    assertThat(state.startTicks()).hasValue(7745128);
    assertThat(state.bundle()).contains(Path.of(BUNDLE));
    assertThat(state.created()).contains(Instant.parse("2024-05-01T10:20:30.123456789Z"));
    assertThat(state.runtime()).isEqualTo("runc");
  }

  @Test
  void runcStateWithoutTheBundleLabel() throws IOException {
    Path dir =
        containerDir(
            "state.json",
            "{\"id\":\"redis\",\"init_process_pid\":900,\"init_process_start\":5,"
                + "\"config\":{\"labels\":[\"io.containerd.x=y\"]}}");

    RuntimeState state = RuntimeState.read(dir).orElseThrow();

    assertThat(state.id()).isEqualTo("redis");
    assertThat(state.bundle()).isEmpty();
    assertThat(state.created()).isEmpty();
  }

  @Test
  void runcStateWithNoConfigOrLabels() throws IOException {
    Path dir =
        containerDir("state.json", "{\"init_process_pid\":900,\"config\":{\"labels\":null}}");

    RuntimeState state = RuntimeState.read(dir).orElseThrow();

    assertThat(state.id()).as("the directory's name").isEqualTo(ID);
    assertThat(state.bundle()).isEmpty();
    assertThat(state.startTicks()).isEmpty();
  }

  @Test
  void oldRuncWroteTheStartTimeAsAString() throws IOException {
    Path dir =
        containerDir("state.json", "{\"init_process_pid\":900,\"init_process_start\":\"7745128\"}");

    assertThat(RuntimeState.read(dir).orElseThrow().startTicks()).hasValue(7745128);
  }

  @Test
  void goZeroTimeMeansNotSet() throws IOException {
    Path dir =
        containerDir(
            "state.json", "{\"init_process_pid\":900,\"created\":\"0001-01-01T00:00:00Z\"}");

    assertThat(RuntimeState.read(dir).orElseThrow().created()).isEmpty();
  }

  @Test
  void createdWithAnOffset() throws IOException {
    Path dir =
        containerDir(
            "state.json",
            "{\"init_process_pid\":900,\"created\":\"2022-01-07T11:33:26.50092793-06:00\"}");

    assertThat(RuntimeState.read(dir).orElseThrow().created())
        .contains(Instant.parse("2022-01-07T17:33:26.50092793Z"));
  }

  @Test
  void readsCrunStatus() throws IOException {
    Path dir = containerDir("status", CRUN_STATUS);
    Files.writeString(dir.resolve("config.json"), "{}");

    RuntimeState state = RuntimeState.read(dir).orElseThrow();

    assertThat(state.id()).isEqualTo(ID);
    assertThat(state.pid()).isEqualTo(139179);
    assertThat(state.startTicks()).hasValue(263473330);
    assertThat(state.bundle())
        .contains(Path.of("/var/lib/containers/storage/overlay-containers/" + ID + "/userdata"));
    assertThat(state.created()).contains(Instant.parse("2021-08-29T14:34:52.000293421Z"));
    assertThat(state.runtime()).isEqualTo("crun");
  }

  @Test
  void aDirectoryWithoutAStateFileIsNoContainerYet() throws IOException {
    Path dir = Files.createDirectories(root.resolve(ID));
    Files.writeString(dir.resolve("config.json"), "{}");

    assertThat(RuntimeState.read(dir)).isEmpty();
    assertThat(RuntimeState.read(root.resolve("gone"))).isEmpty();
    assertThat(RuntimeState.read(dir.resolve("config.json"))).as("a file").isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"id":"x","init_process_pid":48 | not valid JSON: Unexpected end
          '' | empty, not a JSON object
          [1] | the top level is a list
          {"id":"x","pid":48213,"bundle":"/b"} | init_process_pid is missing
          {"init_process_pid":0} | init_process_pid is 0, not a process id
          {"init_process_pid":-4} | init_process_pid is a number (-4)
          {"init_process_pid":"48213x"} | init_process_pid is a string ("48213x")
          {"init_process_pid":1.5} | init_process_pid is a number (1.5)
          {"init_process_pid":99999999999} | init_process_pid is 99999999999, not a process id
          {"init_process_pid":1,"id":5} | id is a number (5), not a string
          {"init_process_pid":1,"created":"yesterday"} | created is 'yesterday', not an RFC 3339
          {"init_process_pid":1,"config":[]} | config is a list, not an object
          {"init_process_pid":1,"config":{"labels":"b=/b"}} | config.labels is a string ("b=/b")
          {"init_process_pid":1,"config":{"labels":[7]}} | config.labels[0] is a number (7)
          """)
  void rejectsMalformedRuncState(String json, String problem) throws IOException {
    Path dir = containerDir("state.json", json);

    assertProblem(Reason.MALFORMED_STATE_JSON, () -> RuntimeState.read(dir))
        .hasMessageStartingWith(dir.resolve("state.json") + ": " + problem);
  }

  @Test
  void rejectsAStartTimeBeyondALong() throws IOException {
    Path dir =
        containerDir(
            "state.json", "{\"init_process_pid\":1,\"init_process_start\":18446744073709551615}");

    assertProblem(Reason.MALFORMED_STATE_JSON, () -> RuntimeState.read(dir))
        .hasMessageEndingWith("init_process_start is 18446744073709551615, too large");
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"bundle":"/b"} | pid is missing
          {"pid":"abc"} | pid is a string ("abc"), not a whole number
          {"pid":5,"bundle":7} | bundle is a number (7), not a string
          {"pid":5,"process-start-time":-1} | process-start-time is a number (-1)
          """)
  void rejectsMalformedCrunStatus(String json, String problem) throws IOException {
    Path dir = containerDir("status", json);

    assertProblem(Reason.MALFORMED_STATE_JSON, () -> RuntimeState.read(dir))
        .hasMessageStartingWith(dir.resolve("status") + ": " + problem);
  }

  @Test
  void rejectsAHugeStateFile() throws IOException {
    byte[] big = new byte[RuntimeState.MAX_BYTES + 1];
    Arrays.fill(big, (byte) ' ');
    Path dir = Files.createDirectories(root.resolve(ID));
    Files.write(dir.resolve("state.json"), big);

    assertProblem(Reason.STATE_JSON_TOO_LARGE, () -> RuntimeState.read(dir))
        .hasMessageContaining("state.json: 4194305 bytes, over the limit of 4194304 bytes");
  }

  @Test
  void rejectsBinaryGarbage() throws IOException {
    Path dir = Files.createDirectories(root.resolve(ID));
    Files.write(dir.resolve("state.json"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0x1a});

    assertProblem(Reason.MALFORMED_STATE_JSON, () -> RuntimeState.read(dir))
        .hasMessageEndingWith("state.json: not UTF-8 text");
  }

  @Test
  @Timeout(value = 10, unit = TimeUnit.SECONDS)
  void neverOpensAFifo() throws Exception {
    // runc keeps exec.fifo beside state.json; opening a FIFO for reading blocks until a writer
    // comes. A state file that is a FIFO must be refused, not waited on.
    Path dir = Files.createDirectories(root.resolve(ID));
    Path fifo = dir.resolve("state.json");
    Process mkfifo;
    // mkfifo is coreutils: every machine the tests run on has it.
    mkfifo = new ProcessBuilder("mkfifo", fifo.toString()).start();
    assertThat(mkfifo.waitFor()).as("mkfifo " + fifo).isZero();

    assertProblem(Reason.READ_FAILED, () -> RuntimeState.read(dir))
        .hasMessage(fifo + ": not a file");
  }

  @Test
  void listsContainerDirectoriesByName() throws IOException {
    Files.createDirectories(root.resolve("zeta"));
    Files.createDirectories(root.resolve(ID));
    Files.createDirectories(root.resolve("alpha"));
    Files.writeString(root.resolve("not-a-container.lock"), "");
    Files.createSymbolicLink(root.resolve("link"), root.resolve("alpha"));

    assertThat(RuntimeState.containerDirs(root))
        .containsExactly(root.resolve(ID), root.resolve("alpha"), root.resolve("zeta"));
  }

  @Test
  void aMissingRootHasNoContainers() throws IOException {
    assertThat(RuntimeState.containerDirs(root.resolve("run/crun"))).isEmpty();
    Path file = Files.writeString(root.resolve("file"), "");
    assertThat(RuntimeState.containerDirs(file)).isEmpty();
  }

  @Test
  void walksAPerNamespaceRoot() throws IOException {
    // /run/containerd/runc/<namespace>/<id>/state.json
    Path k8s = Files.createDirectories(root.resolve("k8s.io").resolve(ID));
    Files.writeString(k8s.resolve("state.json"), RUNC_STATE);
    Files.createDirectories(root.resolve("default").resolve("redis"));

    assertThat(RuntimeState.containerDirs(root))
        .extracting(p -> p.getFileName().toString())
        .containsExactly("default", "k8s.io");
    Optional<RuntimeState> state =
        RuntimeState.read(RuntimeState.containerDirs(root.resolve("k8s.io")).get(0));
    assertThat(state).map(RuntimeState::pid).contains(48213);
  }

  @Test
  void knowsTheUsualRoots() {
    assertThat(RuntimeState.KNOWN_ROOTS)
        .extracting(KnownRoot::path, KnownRoot::perNamespace)
        .contains(
            org.assertj.core.groups.Tuple.tuple(Path.of("/run/runc"), false),
            org.assertj.core.groups.Tuple.tuple(Path.of("/run/crun"), false),
            org.assertj.core.groups.Tuple.tuple(Path.of("/run/containerd/runc"), true),
            org.assertj.core.groups.Tuple.tuple(Path.of("/run/docker/runtime-runc"), true));
    assertThat(RuntimeState.KNOWN_ROOTS).allSatisfy(r -> assertThat(r.description()).isNotBlank());
  }
}
