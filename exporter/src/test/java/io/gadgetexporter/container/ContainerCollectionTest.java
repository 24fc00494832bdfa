package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerCollection.MissReason;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ContainerCollectionTest {
  private static final long HOST_MNT = 4026531841L;
  private static final long HOST_NET = 4026531840L;
  private static final long GRACE = 10_000_000_000L;

  private final AtomicLong now = new AtomicLong(1_000);
  private ContainerCollection collection;

  @BeforeEach
  void setUp() {
    collection = new ContainerCollection(GRACE, now::get);
    collection.setHost(HOST_MNT, HOST_NET);
  }

  @Test
  void resolvesByMountNamespaceFirstThenNetworkThenCgroup() {
    Container a = Containers.plain("a", 11, 21, 31);
    Container b = Containers.plain("b", 12, 22, 32);
    collection.add(a);
    collection.add(b);

    assertThat(collection.resolve(11, 22, 32)).isSameAs(a);
    assertThat(collection.resolve(99, 22, 31)).isSameAs(b);
    assertThat(collection.resolve(99, 98, 31)).isSameAs(a);
    assertThat(collection.resolve(0, 0, 32)).isSameAs(b);
  }

  @Test
  void hostProcessesAreTheHostNotAMiss() {
    assertThat(collection.resolve(HOST_MNT, HOST_NET, 0)).isSameAs(Container.HOST);
    collection.setHostNamespaces(List.of(777L)); // a systemd service's private namespace
    assertThat(collection.resolve(777, HOST_NET, 0)).isSameAs(Container.HOST);
    assertThat(collection.misses(MissReason.UNKNOWN)).isZero();
  }

  @Test
  void theHostNetworkNamespaceNeverNamesAContainer() {
    collection.add(Containers.plain("hostnet", 11, HOST_NET, 0));
    assertThat(collection.resolve(99, HOST_NET, 0)).isNull();
  }

  @Test
  void anEventKnownOnlyByTheHostsNetworkNamespaceIsTheHost() {
    collection.add(Containers.plain("hostnet", 11, HOST_NET, 0));
    // No process (mntns 0): a packet in the host's network namespace.
    assertThat(collection.resolve(0, HOST_NET, 0)).isSameAs(Container.HOST);
    assertThat(collection.resolve(0, 4026532999L, 0)).isNull();
  }

  @Test
  void aNetworkNamespaceSharedByAPodResolvesToThePodOnly() {
    collection.add(Containers.inPod("app", "shop", "web-1", "app", Map.of(), 11, 50));
    collection.add(Containers.inPod("sidecar", "shop", "web-1", "proxy", Map.of(), 12, 50));

    Container c = collection.resolve(99, 50, 0);

    assertThat(c.kind()).isEqualTo(Container.Kind.POD);
    assertThat(c.pod().orElseThrow().name()).isEqualTo("web-1");
    assertThat(c.pod().orElseThrow().namespace()).isEqualTo("shop");
    assertThat(c.pod().orElseThrow().containerName()).isEmpty();
    assertThat(c.id()).isEmpty();
  }

  @Test
  void anExitedContainerResolvesForTheGracePeriodThenCountsAsExpired() {
    Container a = Containers.plain("a", 11, 21, 31);
    collection.add(a);
    collection.remove("a");

    assertThat(collection.containers()).isEmpty();
    assertThat(collection.exited()).containsExactly(a);
    now.addAndGet(GRACE - 1);
    collection.expire();
    assertThat(collection.resolve(11, 0, 0)).isSameAs(a);

    now.addAndGet(1);
    assertThat(collection.expire()).isEqualTo(1);
    assertThat(collection.resolve(11, 0, 0)).isNull();
    assertThat(collection.resolve(12, 0, 0)).isNull();
    assertThat(collection.misses(MissReason.EXPIRED)).isEqualTo(1);
    assertThat(collection.misses(MissReason.UNKNOWN)).isEqualTo(1);
    assertThat(collection.exited()).isEmpty();
  }

  @Test
  void aRunningContainerWinsOverAnExitedOneWithTheSameNamespaceId() {
    Container old = Containers.plain("old", 11, 0, 0);
    Container reused = Containers.plain("new", 11, 0, 0);
    collection.add(old);
    collection.remove("old");
    collection.add(reused);
    assertThat(collection.resolve(11, 0, 0)).isSameAs(reused);
  }

  @Test
  void listenersHearAddsAndRemovesOnceAndSubscribeReturnsTheRunningOnes() {
    collection.add(Containers.plain("a", 11, 0, 0));
    List<String> heard = new ArrayList<>();
    List<Container> running =
        collection.subscribe(
            new ContainerCollection.Listener() {
              @Override
              public void added(Container c) {
                heard.add("+" + c.id());
              }

              @Override
              public void removed(Container c) {
                heard.add("-" + c.id());
              }
            });
    assertThat(running).extracting(Container::id).containsExactly("a");

    collection.add(Containers.plain("b", 12, 0, 0));
    collection.add(Containers.plain("b", 12, 0, 0)); // found again by a scan: nothing new
    collection.remove("a");
    collection.remove("a");
    collection.remove("never-seen");

    assertThat(heard).containsExactly("+b", "-a");
  }

  @Test
  void indexHoldsManyIdsWithoutLosingAny() {
    for (int i = 1; i <= 5000; i++) {
      collection.add(Containers.plain("c" + i, 4026532000L + i, 0, 0));
    }
    for (int i = 1; i <= 5000; i++) {
      assertThat(collection.resolve(4026532000L + i, 0, 0).id()).isEqualTo("c" + i);
    }
    assertThat(collection.size()).isEqualTo(5000);
    assertThat(Set.copyOf(collection.containers())).hasSize(5000);
  }

  @Test
  void anEnricherShapesWhatIsShownAndReenrichReplacesOnlyWhatChanged() {
    Map<String, String> labels = new java.util.HashMap<>();
    collection.setEnricher(
        c ->
            labels.isEmpty()
                ? c
                : new Container(
                    c.kind(), c.id(), c.name(), c.runtime(), c.pid(), c.mntnsId(), c.netnsId(),
                    c.cgroupId(), c.cgroupPath(), c.image(), c.startedAt(),
                    Optional.of(new Container.Pod("shop", "web", "uid-" + c.id(), "app", labels)),
                    c.sandbox(), c.source()));
    Container a = Containers.plain("a", 11, 0, 0);
    Container b = Containers.plain("b", 12, 0, 0);
    collection.add(a);
    collection.add(b);
    List<String> heard = new ArrayList<>();
    collection.subscribe(
        new ContainerCollection.Listener() {
          @Override
          public void added(Container c) {
            heard.add("+" + c.id());
          }

          @Override
          public void removed(Container c) {
            heard.add("-" + c.id());
          }

          @Override
          public void changed(Container before, Container after) {
            heard.add(
                "~" + after.id() + " " + after.pod().map(p -> p.labels().toString()).orElse("-"));
          }
        });
    assertThat(collection.resolve(11, 0, 0)).isSameAs(a);

    assertThat(collection.reenrich()).isZero(); // nothing new: no record replaced
    assertThat(collection.resolve(11, 0, 0)).isSameAs(a);

    labels.put("team", "x");
    assertThat(collection.reenrich()).isEqualTo(2);
    Container shown = collection.resolve(11, 0, 0);
    assertThat(shown.pod()).map(p -> p.labels().get("team")).contains("x");
    assertThat(collection.get("a")).containsSame(shown);
    assertThat(collection.containers()).contains(shown);
    assertThat(collection.reenrich()).isZero();
    assertThat(collection.resolve(11, 0, 0)).as("unchanged: the same record").isSameAs(shown);
    assertThat(heard).containsExactly("~a {team=x}", "~b {team=x}");

    // An exited container keeps what it had when it went, for its late events.
    collection.remove("a");
    labels.clear();
    collection.reenrich();
    assertThat(collection.resolve(11, 0, 0)).isSameAs(shown);
    assertThat(collection.resolve(12, 0, 0)).as("b is back to what the runtime said").isSameAs(b);
  }

  @Test
  void aFailingEnricherShowsWhatTheRuntimeSaid() {
    collection.setEnricher(
        c -> {
          throw new IllegalStateException("boom");
        });
    Container a = Containers.plain("a", 11, 0, 0);
    collection.add(a);
    assertThat(collection.resolve(11, 0, 0)).isSameAs(a);
  }

  @Test
  void anEnricherCannotChangeAContainersNamespaces() {
    collection.setEnricher(c -> Containers.plain(c.id(), c.mntnsId() + 1, 0, 0));
    Container a = Containers.plain("a", 11, 0, 0);
    collection.add(a);
    assertThat(collection.resolve(11, 0, 0)).isSameAs(a);
  }
}
