package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.ContainersConfig;
import io.gadgetexporter.container.testing.Containerd;
import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real runc containers (busybox root filesystem) against real discovery and a real trace_exec
 * instance: what a user checks is that each container's events carry its names.
 */
class RuncContainersTest {

  @TempDir Path tmp;
  private Runc runc;
  private ContainerDiscovery discovery;
  private GadgetInstance instance;

  @BeforeEach
  void setUp() {
    runc = Runc.open();
  }

  @AfterEach
  void tearDown() {
    if (instance != null) {
      instance.close();
    }
    if (discovery != null) {
      discovery.close();
    }
    runc.close();
  }

  static ContainersConfig config(String extraYaml, Path... stateDirs) {
    StringBuilder yaml = new StringBuilder("containers:\n  runtime_state_dirs: [");
    for (int i = 0; i < stateDirs.length; i++) {
      yaml.append(i > 0 ? ", " : "").append(stateDirs[i]);
    }
    yaml.append("]\n").append(extraYaml.indent(2)).append("gadgets:\n  - gadget: trace_exec\n");
    return ConfigLoader.parse(yaml.toString(), "test.yaml", Map.of()).containers();
  }

  private ContainerDiscovery startDiscovery(String extraYaml) {
    discovery = ContainerDiscovery.create(config(extraYaml, runc.root()));
    discovery.start();
    assertThat(discovery.hookActive()).as("the runtime hook watches runc").isTrue();
    return discovery;
  }

  private ContainerEventSink traceExec(String selectorYaml) {
    ContainerEventSink sink = new ContainerEventSink();
    instance =
        GadgetTesting.instance(
            "trace_exec", selectorYaml, sink, "", discovery.collection());
    instance.start();
    return sink;
  }

  @Test
  void aContainerIsKnownBeforeItsFirstExecAndEveryEventCarriesItsNames() throws Exception {
    // No rescan during the test: only the hook can find the container.
    startDiscovery("reconcile_interval: 10m");
    ContainerEventSink sink = traceExec("");
    Runc.Bundle bundle =
        runc.bundle(
            tmp.resolve("web"), List.of("sh", "-c", "/bin/true; /bin/ls / > /dev/null"), Runc.CRI_POD_ANNOTATIONS);

    runc.create("gx-web", bundle);
    runc.start("gx-web");

    Container c = discovery.collection().get("gx-web").orElseThrow();
    assertThat(c.source()).isEqualTo(Container.Source.RUNTIME_HOOK);
    sink.await(e -> e.in(c) && e.comm().equals("ls"), Duration.ofSeconds(5));
    List<ContainerEventSink.Seen> events = sink.events(e -> e.in(c));
    // The container's very first instruction is the exec of sh: it too must be enriched.
    assertThat(events).extracting(ContainerEventSink.Seen::comm).contains("sh", "true", "ls");
    assertThat(events)
        .allSatisfy(
            e -> {
              assertThat(e.container()).as("enrichment of %s", e).isNotNull();
              assertThat(e.container().id()).isEqualTo("gx-web");
              assertThat(e.container().name()).isEqualTo("app");
              Container.Pod pod = e.container().pod().orElseThrow();
              assertThat(pod.namespace()).isEqualTo("shop");
              assertThat(pod.name()).isEqualTo("web-7f9c");
              assertThat(pod.containerName()).isEqualTo("app");
              assertThat(pod.uid()).isEqualTo("6a1f0c2e-0d3b-4c1e-9a57-1b2c3d4e5f60");
              assertThat(e.container().image()).contains("registry.local/shop/web:1.2");
            });
  }

  @Test
  void aContainerThatLivesFiftyMillisecondsHasAllItsEventsEnriched() throws Exception {
    startDiscovery("reconcile_interval: 10m\nexited_grace_period: 30s");
    ContainerEventSink sink = traceExec("");

    Runc.ShortLived shortLived =
        runc.runShortLived("gx-short", tmp.resolve("short"), Runc.SHORT_LIVED_ARGS);

    Container c =
        discovery.collection().exited().stream()
            .filter(x -> x.id().equals("gx-short"))
            .findFirst()
            .orElseThrow(() -> new AssertionError("gx-short never reached the collection"));
    assertThat(shortLived.lifetime()).isLessThan(Duration.ofSeconds(1));
    // busybox sh runs the sleep applet through /proc/self/exe: its comm is "exe".
    sink.await(e -> e.in(c) && e.args().equals("sleep 0.05"), Duration.ofSeconds(5));
    List<ContainerEventSink.Seen> events = sink.events(e -> e.in(c));
    assertThat(events)
        .extracting(ContainerEventSink.Seen::args)
        .containsExactly("sh -c sleep 0.05", "sleep 0.05");
    assertThat(events)
        .allSatisfy(
            e -> assertThat(e.container()).as("%s", e).isNotNull().extracting(Container::id)
                .isEqualTo("gx-short"));
  }

  private static io.gadgetexporter.config.SelectorConfig selector(String yaml) {
    return ConfigLoader.parse(
            "gadgets:\n  - gadget: trace_exec\n    selector:\n" + yaml.indent(6), "s.yaml", Map.of())
        .gadgets()
        .get(0)
        .selector();
  }

  private Container startLooping(String id) {
    Runc.Bundle bundle =
        runc.bundle(
            tmp.resolve(id),
            List.of("sh", "-c", "while true; do /bin/true; sleep 0.02; done"),
            Map.of());
    runc.create(id, bundle);
    runc.start(id);
    return discovery.collection().get(id).orElseThrow();
  }

  @Test
  void anExcludedContainersEventsStayInTheKernelUntilTheSelectorIncludesIt() throws Exception {
    startDiscovery("reconcile_interval: 10m");
    Container victim = startLooping("gx-victim");
    Container other = startLooping("gx-other");
    ContainerEventSink sink = traceExec("    selector:\n      containers: [gx-other]\n");
    assertThat(instance.filterEntries()).as("the map lists gx-other only").isEqualTo(1);

    sink.await(e -> e.in(other), Duration.ofSeconds(5));
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (instance.filteredTotal() < 20 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    // Kernel side: the victim's execs (and the host's) were dropped by the filter. Userspace:
    // every event drained is gx-other's, none is the victim's.
    assertThat(instance.filteredTotal()).isGreaterThanOrEqualTo(20);
    assertThat(sink.events()).isNotEmpty().allSatisfy(e -> assertThat(e.in(other)).isTrue());
    assertThat(instance.eventsTotal()).isEqualTo(sink.events().size());

    long changed = System.nanoTime();
    instance.updateSelector(selector("containers: [gx-other, gx-victim]"));
    sink.await(e -> e.in(victim), Duration.ofSeconds(1));
    Duration took = Duration.ofNanos(System.nanoTime() - changed);
    assertThat(took).isLessThan(Duration.ofSeconds(1));
    assertThat(instance.filterEntries()).isEqualTo(2);
    assertThat(sink.events(e -> e.in(victim)))
        .allSatisfy(e -> assertThat(e.container().id()).isEqualTo("gx-victim"));
  }

  @Test
  void aSelectorFollowsContainersAsTheyStartAndStop() throws Exception {
    startDiscovery("reconcile_interval: 10m");
    ContainerEventSink sink = traceExec("    selector:\n      containers: ['gx-sel-*']\n");
    assertThat(instance.filterEntries()).isZero();

    Container c = startLooping("gx-sel-1");
    assertThat(instance.filterEntries()).isEqualTo(1);
    sink.await(e -> e.in(c), Duration.ofSeconds(5));
    runc.delete("gx-sel-1", true);
    assertThat(instance.filterEntries()).isZero();
  }

  @Test
  void containersRunningBeforeTheAgentStartsAreFoundByTheScan() throws Exception {
    Runc.Bundle bundle = runc.bundle(tmp.resolve("before"), List.of("sleep", "30"), Runc.CRI_POD_ANNOTATIONS);
    long pid = runc.create("gx-before", bundle);
    runc.start("gx-before");
    try (Containerd containerd = Containerd.start()) {
      containerd.runDetached("gx-ctr-before", List.of("sleep", "30"));
      long ctrPid = containerd.taskPid("gx-ctr-before");

      discovery = ContainerDiscovery.create(config("", runc.root(), containerd.runcRoot()));
      discovery.start();

      Container r = discovery.collection().get("gx-before").orElseThrow();
      assertThat(r.source()).isEqualTo(Container.Source.STARTUP_SCAN);
      assertThat(r.pid()).isEqualTo(pid);
      assertThat(r.mntnsId()).isEqualTo(mntns(pid));
      assertThat(r.pod().orElseThrow().name()).isEqualTo("web-7f9c");
      assertThat(r.cgroupPath()).isEqualTo(runc.cgroupsPath("gx-before"));
      assertThat(r.cgroupId()).isPositive();

      Container c = discovery.collection().get("gx-ctr-before").orElseThrow();
      assertThat(c.source()).isEqualTo(Container.Source.STARTUP_SCAN);
      assertThat(c.pid()).isEqualTo(ctrPid);
      assertThat(c.mntnsId()).isEqualTo(mntns(ctrPid));
      assertThat(c.cgroupPath()).isEqualTo(containerd.cgroupsPath("gx-ctr-before"));
      containerd.delete("gx-ctr-before");
      discovery.reconcile();
      assertThat(discovery.collection().get("gx-ctr-before")).isEmpty();
    }
  }

  @Test
  void aContainerdContainerIsSeenByTheHookThroughItsShim() throws Exception {
    try (Containerd containerd = Containerd.start()) {
      discovery = ContainerDiscovery.create(config("reconcile_interval: 10m", containerd.runcRoot()));
      discovery.start();
      ContainerEventSink sink = traceExec("");

      containerd.runDetached("gx-ctr", List.of("sh", "-c", "/bin/true; sleep 30"));

      Container c = discovery.collection().get("gx-ctr").orElseThrow();
      assertThat(c.source()).isEqualTo(Container.Source.RUNTIME_HOOK);
      assertThat(c.pid()).isEqualTo(containerd.taskPid("gx-ctr"));
      ContainerEventSink.Seen first =
          sink.await(e -> e.in(c) && e.args().startsWith("sh -c"), Duration.ofSeconds(5));
      assertThat(first.container().id()).isEqualTo("gx-ctr");
      containerd.delete("gx-ctr");
      assertThat(discovery.collection().get("gx-ctr")).isEmpty();
    }
  }

  static long mntns(long pid) {
    return new Procfs(Path.of("/proc")).namespaceId((int) pid, "mnt").orElseThrow();
  }
}
