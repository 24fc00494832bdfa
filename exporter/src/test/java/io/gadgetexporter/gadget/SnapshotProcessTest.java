package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.container.ContainerCollection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** snapshot_process in the real kernel: a child with a name of its own, found by a snapshot. */
class SnapshotProcessTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long SELF = ProcessHandle.current().pid();

  @TempDir Path tmp;
  private Process child;

  @AfterEach
  void stopChild() throws InterruptedException {
    if (child != null) {
      child.destroyForcibly().waitFor();
    }
  }

  @Test
  void aSnapshotOnDemandHasTheChildWithItsIdsNameAndStartTime() throws Exception {
    RecordingSink outputs = new RecordingSink();
    try (GadgetInstance snap = GadgetTesting.instance("snapshot_process", "", outputs)) {
      snap.start();
      Instant before = Instant.now();
      String name = startUniquelyNamedSleep();
      Instant after = Instant.now();

      RecordingSink requested = new RecordingSink();
      SnapshotSource.Result result = snap.snapshots().orElseThrow().take(requested);

      RecordingSink.Recorded row = only(requested.events(), child.pid());
      assertThat(row.value("tid")).isEqualTo(child.pid());
      assertThat(row.value("ppid")).isEqualTo(SELF);
      assertThat(row.text("comm")).isEqualTo(name);
      assertThat(row.value("uid")).isEqualTo(0L);
      assertThat(row.value("gid")).isEqualTo(0L);
      assertThat(row.value("threads")).isEqualTo(1L);
      assertThat(row.text("state")).isEqualTo("S"); // asleep in nanosleep (awaited)
      assertThat(row.value("exepath")).isEqualTo(tmp.resolve(name).toString());
      assertThat(row.value("mntns_id")).isEqualTo(namespace(child.pid(), "mnt"));
      assertThat(row.value("netns_id")).isEqualTo(namespace(child.pid(), "net"));
      assertThat((Long) row.value("cgroup_id")).isPositive();
      // Boot-clock start time shown as wall-clock time: within the start() call, give or take
      // the conversion's rounding.
      Instant started = (Instant) row.value("start_time");
      assertThat(started).isBetween(before.minusMillis(20), after.plusMillis(20));
      assertThat(row.text("start_time")).isEqualTo(started.toString());
      Instant taken = (Instant) row.value("timestamp");
      assertThat(taken).isBetween(result.time().minusMillis(20), Instant.now().plusMillis(20));

      // Only who asked got the rows: not the instance's outputs, nor its event count.
      assertThat(result.rows()).isEqualTo(requested.events().size()).isGreaterThan(10);
      assertThat(result.malformed()).isZero();
      assertThat(outputs.events()).isEmpty();
      assertThat(snap.eventsTotal()).isZero();
      assertThat(snap.malformedTotal()).isZero();
      assertThat(snap.snapshots().orElseThrow().stats().taken()).isEqualTo(1);
      assertThat(snap.snapshots().orElseThrow().interval()).isZero();
    }
  }

  @Test
  void aProcessIsOneRowUnlessThreadsAreAsked() throws Exception {
    try (GadgetInstance processes = GadgetTesting.instance("snapshot_process", "", EventSink.NONE);
        GadgetInstance threads =
            GadgetTesting.instance(
                "snapshot_process", "    params:\n      threads: true\n", EventSink.NONE)) {
      processes.start();
      threads.start();

      RecordingSink byProcess = new RecordingSink();
      processes.snapshots().orElseThrow().take(byProcess);
      RecordingSink.Recorded jvm = only(byProcess.events(), SELF);
      assertThat(jvm.value("tid")).isEqualTo(SELF);
      assertThat((Long) jvm.value("threads")).isGreaterThan(5); // a JVM is never single-threaded

      Set<Long> before = threadIds();
      RecordingSink byThread = new RecordingSink();
      threads.snapshots().orElseThrow().take(byThread);
      Set<Long> throughout = threadIds();
      throughout.retainAll(before);
      Set<Object> listed =
          byThread.events().stream()
              .filter(r -> r.value("pid").equals(SELF))
              .map(r -> r.value("tid"))
              .collect(Collectors.toSet());
      assertThat(listed).containsAll(throughout).contains(SELF);
    }
  }

  @Test
  void anIntervalTakesSnapshotsFromTheStartOn() throws Exception {
    startUniquelyNamedSleep();
    RecordingSink outputs = new RecordingSink();
    try (GadgetInstance snap =
        GadgetTesting.instance(
            "snapshot_process", "    params:\n      interval: 100ms\n", outputs)) {
      snap.start();
      SnapshotSource source = snap.snapshots().orElseThrow();
      assertThat(source.interval()).isEqualTo(Duration.ofMillis(100));
      awaitTrue(() -> source.stats().taken() >= 3, "three snapshots");
      // Each snapshot lists the child once.
      assertThat(rowsOf(outputs.events(), child.pid())).isGreaterThanOrEqualTo(3);
      assertThat(source.stats().failed()).isZero();
      assertThat(source.stats().lastRows()).isGreaterThan(10);
      assertThat(snap.eventsTotal()).isGreaterThanOrEqualTo(3 * source.stats().lastRows() / 2);
      assertThat(Thread.getAllStackTraces().keySet().stream().map(Thread::getName))
          .contains("snapshot-test-snapshot-process")
          .doesNotContain("drain-test-snapshot-process");
      snap.close();
      long taken = source.stats().taken();
      // The timer's thread ends just after its executor says it terminated.
      awaitTrue(
          () ->
              Thread.getAllStackTraces().keySet().stream()
                  .noneMatch(t -> t.getName().equals("snapshot-test-snapshot-process")),
          "the timer thread to end");
      assertThat(source.stats().taken()).isEqualTo(taken);
    }
  }

  @Test
  void theSelectorDiscardsRowsInTheKernel() throws Exception {
    startUniquelyNamedSleep();
    RecordingSink outputs = new RecordingSink();
    try (GadgetInstance snap =
        GadgetTesting.instance(
            "snapshot_process",
            "    selector:\n      containers: [no-such-container]\n",
            outputs,
            "",
            new ContainerCollection(0, System::nanoTime))) {
      snap.start();
      RecordingSink requested = new RecordingSink();
      SnapshotSource.Result result = snap.snapshots().orElseThrow().take(requested);
      assertThat(result.rows()).isZero();
      assertThat(requested.events()).isEmpty();
      // Every task was looked at and discarded: the child, this JVM and the rest.
      assertThat(snap.filteredTotal()).isGreaterThan(10);
    }
  }

  @Test
  void aPieceShorterThanARowIsCountedMalformed() throws Exception {
    try (GadgetInstance snap = GadgetTesting.instance("snapshot_process", "", EventSink.NONE)) {
      snap.start();
      int size = snap.schema().size();
      long[] counts = new long[2];
      RecordingSink rows = new RecordingSink();
      snap.snapshots().orElseThrow().split(new byte[2 * size + size / 2], rows, counts);
      assertThat(counts).containsExactly(2, 1);
      assertThat(rows.events()).hasSize(2);
    }
  }

  @Test
  void theRingBufferIsOnePageAndClosingLeavesNothing() throws Exception {
    // Counted by this gadget's program name only: other programs come and go on the machine.
    long before = loadedNamed("snapshot_process");
    GadgetInstance snap = GadgetTesting.instance("snapshot_process", "", EventSink.NONE);
    snap.start();
    long page = io.gadgetexporter.bpf.Bpf.pageSize();
    assertThat(snap.ringBufferBytes()).isEqualTo(page);
    assertThat(eventsMapSizes("snapshot_process")).containsExactly(page);
    assertThat(snap.pendingBytes()).as("no reader was made").isZero();
    assertThat(loadedNamed("snapshot_process")).isEqualTo(before + 1);
    snap.close();
    assertThat(loadedNamed("snapshot_process")).isEqualTo(before);
  }

  private static long loadedNamed(String name) throws Exception {
    return GadgetTesting.loadedProgramNames().stream().filter(name::equals).count();
  }

  @Test
  void aSnapshotSectionThatDoesNotFitTheObjectIsTheGadgetsError() {
    Gadget builtIn = GadgetCatalog.builtIn().find("snapshot_process").orElseThrow();
    String yaml = readResource("gadgets/snapshot_process/gadget.yaml");
    for (String[] broken :
        new String[][] {
          {
            "snapshot: {prepare: [nope]}",
            "gadget snapshot_process: snapshot.prepare: no program 'nope'"
          },
          {
            "snapshot: {prepare: [snapshot_process]}",
            "gadget snapshot_process: a snapshot gadget needs an iterator program"
          },
          {"snapshot: {clear: [nope]}", "gadget snapshot_process: snapshot.clear: no map 'nope'"},
          {
            "snapshot: {networkNamespaces: scratch}",
            "gadget snapshot_process: snapshot.networkNamespaces: map 'scratch' must map a u64"
          },
        }) {
      Gadget g =
          new Gadget(
              GadgetSpec.parse(yaml.replace("snapshot: {}", broken[0]), "gadget.yaml"),
              builtIn.object(),
              "test");
      GadgetInstance instance = GadgetTesting.instance(g, "", EventSink.NONE);
      assertThatThrownBy(instance::start)
          .as(broken[0])
          .isInstanceOf(GadgetException.class)
          .hasMessageContaining(broken[1]);
      assertThat(instance.state()).isEqualTo(GadgetInstance.State.FAILED);
      instance.close();
    }
  }

  private static String readResource(String name) {
    try (var in = SnapshotProcessTest.class.getClassLoader().getResourceAsStream(name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * max_entries of the maps named events of the objects whose program is named {@code program}. The
   * ring buffer is not in the program's map_ids (it never uses it), so it is found by the BTF
   * object it shares with the program: one per loaded object.
   */
  private static List<Long> eventsMapSizes(String program)
      throws IOException, InterruptedException {
    Set<Long> btfIds = new HashSet<>();
    for (Object p : new JsonArray(bpftool("prog", "show"))) {
      JsonObject prog = (JsonObject) p;
      if (program.equals(prog.getString("name")) && prog.getLong("btf_id") != null) {
        btfIds.add(prog.getLong("btf_id"));
      }
    }
    List<Long> sizes = new java.util.ArrayList<>();
    for (Object m : new JsonArray(bpftool("map", "show"))) {
      JsonObject map = (JsonObject) m;
      if ("events".equals(map.getString("name")) && btfIds.contains(map.getLong("btf_id"))) {
        sizes.add(map.getLong("max_entries"));
      }
    }
    return sizes;
  }

  private static String bpftool(String... args) throws IOException, InterruptedException {
    List<String> command = new java.util.ArrayList<>(List.of("bpftool", "-j"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor()).as(String.join(" ", command) + ": " + out).isZero();
    return out;
  }

  /**
   * Runs a copy of sleep under a name no other process has (its comm), and waits until it runs that
   * program (the pid exists from fork on, the name from exec on).
   */
  private String startUniquelyNamedSleep() throws Exception {
    String name = "snp-" + UUID.randomUUID().toString().substring(0, 8);
    Path exe = tmp.resolve(name);
    Files.copy(Path.of("/bin/sleep"), exe);
    Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
    child = new ProcessBuilder(exe.toString(), "123").start();
    Path comm = Path.of("/proc/" + child.pid() + "/comm");
    awaitTrue(() -> readQuietly(comm).strip().equals(name), "the child runs " + name);
    // The third field of /proc/PID/stat after "PID (comm)": S once it sleeps.
    Path stat = Path.of("/proc/" + child.pid() + "/stat");
    awaitTrue(() -> readQuietly(stat).contains(") S "), "the child sleeps");
    return name;
  }

  private static String readQuietly(Path p) {
    try {
      return Files.readString(p);
    } catch (IOException e) {
      return "";
    }
  }

  private static void awaitTrue(BooleanSupplier condition, String what)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime() - deadline).as("waiting for " + what).isNegative();
      Thread.sleep(10);
    }
  }

  private static RecordingSink.Recorded only(List<RecordingSink.Recorded> rows, long pid) {
    List<RecordingSink.Recorded> of =
        rows.stream().filter(r -> r.value("pid").equals(pid)).toList();
    assertThat(of).as("rows of pid " + pid).hasSize(1);
    return of.get(0);
  }

  private static long rowsOf(List<RecordingSink.Recorded> rows, long pid) {
    return rows.stream().filter(r -> r.value("pid").equals(pid)).count();
  }

  /** The inode number of a namespace of a process, as {@code /proc/PID/ns/KIND} names it. */
  private static long namespace(long pid, String kind) throws IOException {
    String link = Files.readSymbolicLink(Path.of("/proc/" + pid + "/ns/" + kind)).toString();
    return Long.parseLong(link.substring(link.indexOf('[') + 1, link.indexOf(']')));
  }

  private static Set<Long> threadIds() throws IOException {
    try (Stream<Path> tasks = Files.list(Path.of("/proc/self/task"))) {
      return tasks
          .map(p -> Long.parseLong(p.getFileName().toString()))
          .collect(Collectors.toCollection(HashSet::new));
    }
  }
}
