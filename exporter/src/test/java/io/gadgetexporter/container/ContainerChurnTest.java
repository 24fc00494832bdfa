package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.testing.Runc;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * 200 containers started and stopped in a loop leave nothing behind: no file descriptors, no
 * filter map entries, no records in the collection once their grace period is over.
 */
class ContainerChurnTest {
  static final int CONTAINERS = 200;

  @TempDir Path tmp;

  @Test
  void twoHundredContainersComeAndGoWithoutGrowth() throws Exception {
    try (Runc runc = Runc.open()) {
      ContainerDiscovery discovery =
          ContainerDiscovery.create(
              RuncContainersTest.config(
                  "reconcile_interval: 10m\nexited_grace_period: 0s", runc.root()));
      discovery.start();
      ContainerEventSink sink = new ContainerEventSink();
      GadgetInstance instance =
          GadgetTesting.instance(
              "trace_exec",
              "    selector:\n      containers: ['gx-churn-*']\n",
              sink,
              "",
              discovery.collection());
      try {
        instance.start();
        // One round first: whatever is created once (threads, buffers) exists before measuring.
        runc.runShortLived("gx-churn-warmup", tmp.resolve("warmup"), Runc.SHORT_LIVED_ARGS);
        discovery.reconcile();
        long fdsBefore = openFileDescriptors();
        int containersBefore = discovery.collection().size();

        int maxEntries = 0;
        for (int i = 0; i < CONTAINERS; i++) {
          runc.runShortLived("gx-churn-" + i, tmp.resolve("b" + i), Runc.SHORT_LIVED_ARGS);
          maxEntries = Math.max(maxEntries, instance.filterEntries());
        }
        discovery.reconcile(); // expires the exited (grace period 0)

        assertThat(discovery.problems().counts()).isEmpty();
        assertThat(discovery.discoveredBySource().get("runtime_hook"))
            .as("every container was seen by the hook")
            .isEqualTo(CONTAINERS + 1L);
        assertThat(maxEntries).as("filter entries while running").isLessThanOrEqualTo(1);
        assertThat(instance.filterEntries()).as("filter entries after").isZero();
        assertThat(discovery.collection().size()).isEqualTo(containersBefore);
        assertThat(discovery.collection().exited()).isEmpty();
        assertThat(openFileDescriptors()).as("open fds").isLessThanOrEqualTo(fdsBefore + 2);
        // Each container's execs were traced (the selector let them through) and enriched.
        assertThat(sink.events(e -> e.container() == null)).isEmpty();
        assertThat(sink.events(e -> e.args().equals("sleep 0.05")))
            .hasSizeGreaterThanOrEqualTo(CONTAINERS);
      } finally {
        instance.close();
        discovery.close();
      }
    }
  }

  static long openFileDescriptors() throws IOException {
    try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
      return fds.count();
    }
  }
}
