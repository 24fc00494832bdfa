package io.gadgetexporter.http;

import io.gadgetexporter.columns.EventJson;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.EventView;
import io.gadgetexporter.gadget.GadgetInstance;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The live event stream of {@code /api/v1/events?instance=NAME}: Server-Sent Events, one {@code
 * data: <json>} per event in {@link EventJson}'s form.
 *
 * <p>It is an {@link EventSink} on every instance's drain thread, and the rule is that a client can
 * never slow the agent down:
 *
 * <ul>
 *   <li>With no client on an instance, {@link #accept} costs a volatile read and an empty-map check
 *       (one map lookup when other instances have clients); nothing is allocated.
 *   <li>With clients, the event is written as JSON once and offered to each client's bounded queue;
 *       a full queue drops the event for that client alone and counts it. The drain thread never
 *       waits.
 *   <li>Each client's queue is pumped into its connection on the connection's event loop, only
 *       while Vert.x's write queue is not full (a slow TCP reader fills it); its drain handler
 *       resumes the pump. So a slow client's memory is its queue plus the write queue.
 *   <li>The event loop is woken once per drained batch at most, from {@link #flush()}, not per
 *       event.
 * </ul>
 *
 * <p>A client learns of its losses in the stream itself, as {@code event: dropped} with {@code
 * data: {"dropped": N}}, and the totals per instance are here for metrics ({@link #stats}).
 */
public final class LiveEvents implements EventSink, AutoCloseable {
  /** What proxies and load balancers need to see now and then to keep an idle stream open. */
  public static final Duration DEFAULT_KEEPALIVE = Duration.ofSeconds(15);

  /** Streams open at once, over all instances: each may hold its queue full. */
  static final int MAX_STREAMS = 16;

  /** Bytes of queued events handed to a connection in one write. */
  private static final int WRITE_BATCH_BYTES = 64 * 1024;

  /** Writes in one turn of the event loop before it is given back to other connections. */
  private static final int WRITES_PER_TURN = 8;

  private static final Subscriber[] NO_SUBSCRIBERS = new Subscriber[0];

  private final int queueEvents;
  private final long keepaliveMillis;

  /** Per instance name, created on its first subscription and kept for its counters. */
  private final Map<String, Channel> channels = new ConcurrentHashMap<>();

  /**
   * The instances with at least one subscriber: what the drain threads read. Replaced whole under
   * {@link #lock} on every change, so readers need no lock.
   */
  private volatile Map<String, Channel> active = Map.of();

  private final Object lock = new Object();
  private boolean closed; // under lock

  /**
   * @param queueEvents events queued per client before its newest are dropped
   * @param keepalive how often an idle stream gets a comment line
   */
  public LiveEvents(int queueEvents, Duration keepalive) {
    if (queueEvents < 1) {
      throw new IllegalArgumentException("queueEvents must be positive: " + queueEvents);
    }
    this.queueEvents = queueEvents;
    this.keepaliveMillis = Math.max(1, keepalive.toMillis());
  }

  public LiveEvents(int queueEvents) {
    this(queueEvents, DEFAULT_KEEPALIVE);
  }

  // ---- counters, for metrics --------------------------------------------------------------

  /**
   * One instance's stream counters.
   *
   * @param subscribers clients streaming the instance now
   * @param queued events waiting in those clients' queues now (at most subscribers × queue size)
   * @param sent events handed to clients' connections since the agent started, past clients too
   * @param dropped events dropped because a client's queue was full, since the agent started
   */
  public record Stats(int subscribers, int queued, long sent, long dropped) {
    static final Stats NONE = new Stats(0, 0, 0, 0);
  }

  /** An instance's counters; all zero for an instance nobody has subscribed to. */
  public Stats stats(String instance) {
    Channel c = channels.get(instance);
    if (c == null) {
      return Stats.NONE;
    }
    Subscriber[] now = c.subscribers;
    int queued = 0;
    for (Subscriber s : now) {
      queued += s.queue.size();
    }
    return new Stats(now.length, queued, c.sent.sum(), c.dropped.sum());
  }

  /** Events dropped for clients whose queue was full, over all clients of the instance. */
  public long droppedTotal(String instance) {
    return stats(instance).dropped();
  }

  /** Events handed to clients' connections. */
  public long sentTotal(String instance) {
    return stats(instance).sent();
  }

  /** Clients streaming the instance now. */
  public int subscribers(String instance) {
    return stats(instance).subscribers();
  }

  /**
   * One client streaming an instance now.
   *
   * @param remoteAddress the client's address as the server sees it ({@code 127.0.0.1:50522})
   * @param queued events waiting in its queue
   * @param sent events handed to its connection
   * @param dropped events dropped because its queue was full
   */
  public record Client(String remoteAddress, int queued, long sent, long dropped) {}

  /** The clients streaming an instance now, in the order they came. */
  public List<Client> clients(String instance) {
    Channel c = channels.get(instance);
    if (c == null) {
      return List.of();
    }
    return Arrays.stream(c.subscribers)
        .map(s -> new Client(s.remoteAddress, s.queue.size(), s.sent.get(), s.dropped.get()))
        .toList();
  }

  /** The counters of every instance that has had a client, by instance name. */
  /**
   * Registers the stream's metrics on the agent's meter: events sent to and dropped for stream
   * clients, and the clients, per instance — the live stream's hop in the loss accounting.
   */
  public void registerMetrics(io.opentelemetry.api.metrics.Meter meter) {
    io.opentelemetry.api.common.AttributeKey<String> instance =
        io.gadgetexporter.export.AttributeNames.INSTANCE;
    meter
        .counterBuilder("gadget.stream.events.dropped")
        .setDescription(
            "Events not sent to a live stream client (/api/v1/events) because its queue was full:"
                + " a slow client loses events, never the agent.")
        .setUnit("{event}")
        .buildWithCallback(
            m ->
                allStats()
                    .forEach(
                        (name, st) ->
                            m.record(
                                st.dropped(),
                                io.opentelemetry.api.common.Attributes.of(instance, name))));
    meter
        .counterBuilder("gadget.stream.events.sent")
        .setDescription("Events sent to live stream clients (/api/v1/events).")
        .setUnit("{event}")
        .buildWithCallback(
            m ->
                allStats()
                    .forEach(
                        (name, st) ->
                            m.record(
                                st.sent(), io.opentelemetry.api.common.Attributes.of(instance, name))));
    meter
        .gaugeBuilder("gadget.stream.clients")
        .ofLongs()
        .setDescription("Live stream clients connected, per instance.")
        .setUnit("{client}")
        .buildWithCallback(
            m ->
                allStats()
                    .forEach(
                        (name, st) ->
                            m.record(
                                st.subscribers(),
                                io.opentelemetry.api.common.Attributes.of(instance, name))));
  }

  public Map<String, Stats> allStats() {
    Map<String, Stats> all = new HashMap<>();
    channels.keySet().forEach(name -> all.put(name, stats(name)));
    return all;
  }

  // ---- the drain threads' side ------------------------------------------------------------

  @Override
  public void accept(GadgetInstance instance, EventView event) {
    Map<String, Channel> now = active;
    if (now.isEmpty()) {
      return;
    }
    Channel c = now.get(instance.name());
    if (c != null) {
      c.publish(instance, event);
    }
  }

  /** End of a batch: wake the event loops of the clients that got events. */
  @Override
  public void flush() {
    Map<String, Channel> now = active;
    if (now.isEmpty()) {
      return;
    }
    // Every channel, not only this thread's: waking a pump that has nothing to do is harmless,
    // and the flush has no instance to say which is its own.
    for (Channel c : now.values()) {
      for (Subscriber s : c.subscribers) {
        s.signal();
      }
    }
  }

  // ---- the HTTP side ----------------------------------------------------------------------

  /**
   * Answers a request with the instance's stream; on the request's event loop. Answers 503 when
   * {@link #MAX_STREAMS} are open.
   */
  void stream(HttpServerRequest request, Vertx vertx, String instance) {
    HttpServerResponse response = request.response();
    Context context = vertx.getOrCreateContext();
    Subscriber s;
    synchronized (lock) {
      int open = channels.values().stream().mapToInt(c -> c.subscribers.length).sum();
      if (closed || open >= MAX_STREAMS) {
        response
            .setStatusCode(503)
            .putHeader("Content-Type", "application/json")
            .end(
                new JsonObject()
                    .put(
                        "error",
                        closed
                            ? "the agent is stopping"
                            : "too many live streams open (" + MAX_STREAMS + "); try later")
                    .encode());
        return;
      }
      Channel c = channels.computeIfAbsent(instance, name -> new Channel());
      s = new Subscriber(c, response, context, String.valueOf(request.remoteAddress()));
      c.subscribers = append(c.subscribers, s);
      publishActive();
    }
    response
        .setChunked(true)
        .putHeader("Content-Type", "text/event-stream")
        .putHeader("Cache-Control", "no-cache")
        // nginx (and ingress-nginx) buffer responses unless told not to.
        .putHeader("X-Accel-Buffering", "no");
    response.closeHandler(v -> s.close());
    response.exceptionHandler(e -> s.close());
    response.drainHandler(v -> s.pump());
    // The first bytes send the headers, so a client knows the stream is open; "retry" is how
    // long an EventSource waits before reconnecting.
    response.write("retry: 2000\n: streaming instance " + instance + "\n\n");
    s.keepaliveTimer =
        vertx.setPeriodic(
            keepaliveMillis,
            id -> {
              if (!s.closed && !response.writeQueueFull()) {
                response.write(": keepalive\n\n");
              }
            });
  }

  /**
   * Ends every stream and takes no more; the drain threads then only see an empty map. Waits (a
   * second at most) until each stream's end is written, so a server closed next does not cut it.
   */
  @Override
  public void close() {
    List<Subscriber> open = new ArrayList<>();
    synchronized (lock) {
      closed = true;
      for (Channel c : channels.values()) {
        open.addAll(Arrays.asList(c.subscribers));
      }
      publishActive();
    }
    CountDownLatch ended = new CountDownLatch(open.size());
    for (Subscriber s : open) {
      s.context.runOnContext(
          v -> {
            try {
              s.end();
            } finally {
              ended.countDown();
            }
          });
    }
    try {
      ended.await(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void unsubscribe(Subscriber s) {
    synchronized (lock) {
      Channel c = s.channel;
      c.subscribers = Arrays.stream(c.subscribers).filter(x -> x != s).toArray(Subscriber[]::new);
      publishActive();
    }
  }

  /** Under lock. */
  private void publishActive() {
    Map<String, Channel> next = new HashMap<>();
    if (!closed) {
      channels.forEach(
          (name, c) -> {
            if (c.subscribers.length > 0) {
              next.put(name, c);
            }
          });
    }
    active = Map.copyOf(next);
  }

  private static Subscriber[] append(Subscriber[] array, Subscriber s) {
    Subscriber[] grown = Arrays.copyOf(array, array.length + 1);
    grown[array.length] = s;
    return grown;
  }

  /** One instance's clients and counters. */
  private static final class Channel {
    /** Replaced whole under the lock; read by the instance's drain thread. */
    volatile Subscriber[] subscribers = NO_SUBSCRIBERS;

    final LongAdder sent = new LongAdder();
    final LongAdder dropped = new LongAdder();

    /** Only the instance's drain thread writes here: an instance has one. */
    private final StringBuilder frame = new StringBuilder(1024);

    /** On the drain thread: one JSON per event, whatever the number of clients. */
    void publish(GadgetInstance instance, EventView event) {
      Subscriber[] to = subscribers;
      if (to.length == 0) {
        return;
      }
      frame.setLength(0);
      frame.append("data: ");
      EventJson.append(frame, instance, event);
      frame.append("\n\n");
      byte[] bytes = frame.toString().getBytes(StandardCharsets.UTF_8);
      for (Subscriber s : to) {
        s.offer(bytes);
      }
    }
  }

  /** One client: its queue between the drain thread and its connection's event loop. */
  private final class Subscriber {
    final Channel channel;
    final HttpServerResponse response;
    final Context context;
    final ArrayBlockingQueue<byte[]> queue;
    final String remoteAddress;
    final AtomicLong sent = new AtomicLong();
    final AtomicLong dropped = new AtomicLong();

    /** Dropped since the client was last told. */
    final AtomicLong droppedUntold = new AtomicLong();

    /** Set by the drain thread when it queued (or dropped) something the pump has not seen. */
    final AtomicBoolean unsignalled = new AtomicBoolean();

    final AtomicBoolean pumpScheduled = new AtomicBoolean();

    /** Events offered since the pump was last woken; the drain thread's alone. */
    private int offeredSinceSignal;

    private final int wakeEvery = Math.max(1, queueEvents / 2);

    // Event loop only.
    boolean closed;
    long keepaliveTimer = -1;

    Subscriber(
        Channel channel, HttpServerResponse response, Context context, String remoteAddress) {
      this.channel = channel;
      this.response = response;
      this.context = context;
      this.remoteAddress = remoteAddress;
      this.queue = new ArrayBlockingQueue<>(queueEvents);
    }

    /**
     * Drain thread. Never blocks: a full queue drops the event. A drained batch can hold more
     * events than the queue (a busy trace_open's holds thousands), so the pump is woken every half
     * queue as well as at the batch's end: the event loop then empties the queue while the batch is
     * still being decoded, and a client that keeps up loses nothing. Still one hand-off per half
     * queue, never one per event.
     */
    void offer(byte[] frame) {
      if (!queue.offer(frame)) {
        droppedUntold.incrementAndGet();
        dropped.incrementAndGet();
        channel.dropped.increment();
      }
      // Written after the offer, every time: a flush on another thread that clears the flag
      // before this write leaves it set for this thread's own flush, so no event waits unseen.
      unsignalled.set(true);
      if (++offeredSinceSignal >= wakeEvery) {
        offeredSinceSignal = 0;
        signal();
      }
    }

    /** Drain threads: once per batch, and every {@link #wakeEvery} events. */
    void signal() {
      if (unsignalled.getAndSet(false)) {
        if (pumpScheduled.compareAndSet(false, true)) {
          context.runOnContext(v -> pump());
        }
      }
    }

    /**
     * Event loop: moves queued events into the connection while it takes them. Stops when the write
     * queue is full (the drain handler calls again) or the queue is empty (the next batch signals
     * again); after {@link #WRITES_PER_TURN} writes it yields the loop and comes back.
     */
    void pump() {
      pumpScheduled.set(false);
      for (int writes = 0; writes < WRITES_PER_TURN; writes++) {
        if (closed || response.writeQueueFull()) {
          return;
        }
        Buffer batch = Buffer.buffer(Math.min(WRITE_BATCH_BYTES, 4096));
        long untold = droppedUntold.getAndSet(0);
        if (untold > 0) {
          batch.appendString("event: dropped\ndata: {\"dropped\":" + untold + "}\n\n");
        }
        int events = 0;
        byte[] frame;
        while (batch.length() < WRITE_BATCH_BYTES && (frame = queue.poll()) != null) {
          batch.appendBytes(frame);
          events++;
        }
        if (batch.length() == 0) {
          return;
        }
        // Counted before the write: a client that reads the events and then the counters must
        // find them counted.
        sent.addAndGet(events);
        channel.sent.add(events);
        response.write(batch);
      }
      if (!queue.isEmpty() && pumpScheduled.compareAndSet(false, true)) {
        context.runOnContext(v -> pump());
      }
    }

    /** Event loop: the client went away. */
    void close() {
      if (closed) {
        return;
      }
      closed = true;
      context.owner().cancelTimer(keepaliveTimer);
      unsubscribe(this);
      queue.clear();
    }

    /** Event loop: the agent stops. */
    void end() {
      if (closed) {
        return;
      }
      close();
      try {
        response.end();
      } catch (IllegalStateException e) {
        // already closed by the client: nothing to end
      }
    }
  }
}
