package io.gadgetexporter.gadget;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/** What a test sink keeps: items added by drain threads, awaited by the test. */
public final class AwaitableList<T> {
  private final List<T> items = new ArrayList<>();

  public synchronized void add(T item) {
    items.add(item);
    notifyAll();
  }

  public synchronized List<T> snapshot() {
    return List.copyOf(items);
  }

  /** Waits for an item matching {@code test}; fails the test with how many were seen if none. */
  public synchronized T await(Predicate<T> test, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    int checked = 0;
    while (true) {
      for (; checked < items.size(); checked++) {
        if (test.test(items.get(checked))) {
          return items.get(checked);
        }
      }
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        throw new AssertionError(
            "no matching event within " + timeout + " among " + items.size() + " events; the last: "
                + items.subList(Math.max(0, items.size() - 5), items.size()));
      }
      wait(Math.max(1, left / 1_000_000));
    }
  }
}
