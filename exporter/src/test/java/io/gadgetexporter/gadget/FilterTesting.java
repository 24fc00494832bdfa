package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerCollection;
import java.time.Duration;

/** The mount-namespace filter case every gadget test has: a selector that matches nothing. */
final class FilterTesting {
  private static final String NO_CONTAINER =
      "    selector:\n      containers: [no-such-container]\n";

  private FilterTesting() {}

  /** An instance whose selector names a container that does not exist: every event is dropped. */
  static GadgetInstance nothingSelected(String gadget, String extraYaml, EventSink sink) {
    return GadgetTesting.instance(
        gadget,
        NO_CONTAINER + extraYaml,
        sink,
        "",
        new ContainerCollection(0, System::nanoTime));
  }

  /** Waits until the kernel has filtered more than {@code before} events; fails at the deadline. */
  static void awaitFilteredAbove(GadgetInstance instance, long before, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (instance.filteredTotal() <= before && System.nanoTime() < deadline) {
      Thread.sleep(10); // polling the per-CPU counter: nothing wakes us when it moves
    }
    assertThat(instance.filteredTotal()).isGreaterThan(before);
  }
}
