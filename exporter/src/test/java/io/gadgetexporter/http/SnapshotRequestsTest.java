package io.gadgetexporter.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import io.gadgetexporter.gadget.SnapshotSource;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Snapshots on demand with a real snapshot_process: requests that come during a run share it, an
 * answer carries at most its limit of rows, and nothing reaches the instance's outputs.
 */
class SnapshotRequestsTest {
  private static final String NAME = "test-snapshot-process";

  private final ExecutorService runs = Executors.newCachedThreadPool();
  private final SnapshotRequests requests = new SnapshotRequests(runs);
  private GadgetInstance snap;
  private SnapshotSource source;

  @BeforeEach
  void start() {
    snap = GadgetTesting.instance("snapshot_process", "", EventSink.NONE);
    snap.start();
    source = snap.snapshots().orElseThrow();
  }

  @AfterEach
  void stop() {
    snap.close();
    runs.shutdownNow();
  }

  @Test
  void requestsDuringARunShareItAndALaterOneRunsAgain() throws Exception {
    // A snapshot of our own holds the instance's one-at-a-time lock until released, so the
    // first request's run waits and the second request comes while it is under way.
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread holder =
        new Thread(
            () ->
                source.take(
                    new EventSink() {
                      @Override
                      public void accept(GadgetInstance instance, EventView event) {
                        inside.countDown();
                        awaitQuietly(release);
                      }
                    }));
    holder.start();
    assertThat(inside.await(10, TimeUnit.SECONDS)).isTrue();

    CompletableFuture<SnapshotRequests.Answer> first = requests.answer(NAME, null, List.of(snap));
    CompletableFuture<SnapshotRequests.Answer> second = requests.answer(NAME, "5", List.of(snap));
    assertThat(first).isNotDone();
    assertThat(second).isNotDone();
    release.countDown();
    holder.join(10_000);

    JsonObject all = body(first);
    JsonObject five = body(second);
    assertThat(source.stats().taken()).as("ours and one shared run").isEqualTo(2);
    assertThat(five.getString("time")).isEqualTo(all.getString("time"));
    assertThat(five.getLong("rows_total")).isEqualTo(all.getLong("rows_total")).isGreaterThan(10);
    assertThat(all.getJsonArray("rows"))
        .hasSize((int) Math.min(all.getLong("rows_total"), SnapshotRequests.DEFAULT_LIMIT));
    assertThat(five.getJsonArray("rows")).hasSize(5);
    assertThat(five.getJsonArray("rows").getList())
        .isEqualTo(all.getJsonArray("rows").getList().subList(0, 5));
    assertThat(five.getBoolean("truncated")).isTrue();
    assertThat(five.getInteger("limit")).isEqualTo(5);

    // Once the run is over, a request takes a snapshot of its own.
    JsonObject later = body(requests.answer(NAME, "0", List.of(snap)));
    assertThat(source.stats().taken()).isEqualTo(3);
    assertThat(Instant.parse(later.getString("time"))).isAfter(Instant.parse(all.getString("time")));
    assertThat(later.getJsonArray("rows")).isEmpty();
    assertThat(later.getLong("rows_total")).isGreaterThan(10);
    assertThat(later.getBoolean("truncated")).isTrue();

    // Only the requests got rows: the instance counted no event.
    assertThat(snap.eventsTotal()).isZero();
  }

  @Test
  void aLimitOutsideTheRangeIsRefusedWithoutASnapshot() throws Exception {
    for (String bad : List.of("-1", "10001", "ten", "1e3")) {
      SnapshotRequests.Answer a = requests.answer(NAME, bad, List.of(snap)).get();
      assertThat(a.status()).as(bad).isEqualTo(400);
      assertThat(new JsonObject(a.body()).getString("error"))
          .isEqualTo("limit must be a number of rows from 0 to 10000, got '" + bad + "'");
    }
    assertThat(body(requests.answer(NAME, "10000", List.of(snap))).getInteger("limit"))
        .isEqualTo(SnapshotRequests.MAX_LIMIT);
    assertThat(source.stats().taken()).isEqualTo(1);
  }

  private static JsonObject body(CompletableFuture<SnapshotRequests.Answer> answer)
      throws Exception {
    SnapshotRequests.Answer a = answer.get(10, TimeUnit.SECONDS);
    assertThat(a.status()).as(a.body()).isEqualTo(200);
    return new JsonObject(a.body());
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
