package io.gadgetexporter.gadget;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.ContainerCollection;
import java.time.Duration;

/**
 * The mount-namespace filter case every gadget test has: a selector that matches nothing, a
 * trigger, and then proof that the trigger's events were dropped in the kernel and not merely
 * still on their way.
 */
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

  /**
   * Closes a tracer once its ring buffer is empty. When it returns, every event the kernel put in
   * the ring before the call is in the sink: close() joins the drain thread, which delivers the
   * batch it has taken before it stops. Call it once the trigger's events have passed the hooks;
   * a sink found empty afterwards means the filter dropped them (checked any earlier, it would
   * also be empty while they still wait in the ring).
   */
  static void closeDrained(GadgetInstance instance, Duration timeout)
      throws InterruptedException {
    // Not running, pendingBytes() says 0 and nothing drains: the sink would prove nothing.
    assertThat(instance.state()).isEqualTo(GadgetInstance.State.RUNNING);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (instance.pendingBytes() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(5); // the drain thread empties it every drain_interval (10 ms in tests)
    }
    assertThat(instance.pendingBytes()).as("bytes left in the ring buffer").isZero();
    instance.close();
  }

  /**
   * Waits until the kernel has filtered at least {@code total} events; fails at the deadline. The
   * counter is the instance's, over the whole machine: a test asks for {@code before} plus its
   * trigger's events, which must all be among them.
   */
  static void awaitFiltered(GadgetInstance instance, long total, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (instance.filteredTotal() < total && System.nanoTime() < deadline) {
      Thread.sleep(5); // polling the per-CPU counter: nothing wakes us when it moves
    }
    assertThat(instance.filteredTotal()).isGreaterThanOrEqualTo(total);
  }
}
