package io.gadgetexporter.export;

import io.opentelemetry.context.Context;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.logs.LogRecordProcessor;
import io.opentelemetry.sdk.logs.ReadWriteLogRecord;
import io.opentelemetry.sdk.logs.data.LogRecordData;
import io.opentelemetry.sdk.logs.export.LogRecordExporter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Queues log records for export and sends them in batches from one thread. Like the SDK's batch
 * processor it never blocks the emitting (drain) thread — a full queue drops the record — but it
 * counts every record's fate in {@link ExportStats}, so a slow or absent collector shows as drops
 * in the agent's own metrics instead of silently.
 */
final class BoundedLogProcessor implements LogRecordProcessor {
  private static final Logger logger = Logger.getLogger(BoundedLogProcessor.class.getName());

  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final LogRecordExporter exporter;
  private final ExportStats stats;
  private final ArrayBlockingQueue<LogRecordData> queue;
  private final int batchSize;
  private final long intervalNanos;
  private final long exportTimeoutNanos;
  private final Thread worker;
  private final Object flushLock = new Object();
  private volatile boolean stopping;
  private volatile long flushRequested;
  private long flushDone;
  private volatile boolean warnedFailure;

  /**
   * @param exportTimeout the exporter's own timeout: a request is given up after it (retries
   *     included, with a margin)
   */
  BoundedLogProcessor(
      LogRecordExporter exporter,
      ExportStats stats,
      int queueSize,
      int batchSize,
      Duration interval,
      Duration exportTimeout) {
    this.exporter = exporter;
    this.stats = stats;
    this.queue = new ArrayBlockingQueue<>(queueSize);
    this.batchSize = batchSize;
    this.intervalNanos = interval.toNanos();
    // The OTLP exporter retries up to 5 times with backoff: allow for it before giving up.
    this.exportTimeoutNanos = exportTimeout.toNanos() * 6 + TimeUnit.SECONDS.toNanos(10);
    this.worker = new Thread(this::run, "otlp-logs");
    worker.setDaemon(true);
    worker.start();
  }

  @Override
  public void onEmit(Context context, ReadWriteLogRecord logRecord) {
    if (!queue.offer(logRecord.toLogRecordData())) {
      stats.droppedQueueFull();
    }
  }

  private void run() {
    List<LogRecordData> batch = new ArrayList<>(batchSize);
    long deadline = System.nanoTime() + intervalNanos;
    while (!stopping || !queue.isEmpty()) {
      try {
        // Short waits, so a flush or shutdown is seen soon without interrupting an export.
        long wait = Math.min(deadline - System.nanoTime(), POLL_NANOS);
        LogRecordData first = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : queue.poll();
        if (first != null) {
          batch.add(first);
          queue.drainTo(batch, batchSize - batch.size());
        }
      } catch (InterruptedException e) {
        stopping = true;
      }
      long requested = flushRequested;
      boolean due = System.nanoTime() - deadline >= 0 || requested != flushDone || stopping;
      if (batch.size() >= batchSize || (due && !batch.isEmpty())) {
        export(batch);
        batch.clear();
      }
      if (due) {
        if (queue.isEmpty() && requested != flushDone) {
          synchronized (flushLock) {
            flushDone = requested;
            flushLock.notifyAll();
          }
        }
        deadline = System.nanoTime() + intervalNanos;
      }
    }
    synchronized (flushLock) {
      flushDone = flushRequested;
      flushLock.notifyAll();
    }
  }

  private void export(List<LogRecordData> batch) {
    long start = System.nanoTime();
    boolean ok;
    try {
      CompletableResultCode result = exporter.export(List.copyOf(batch));
      result.join(exportTimeoutNanos, TimeUnit.NANOSECONDS);
      ok = result.isSuccess();
    } catch (RuntimeException e) {
      ok = false;
    }
    long took = System.nanoTime() - start;
    if (ok) {
      stats.succeeded(batch.size(), took);
      if (warnedFailure) {
        logger.info("OTLP log export works again");
        warnedFailure = false;
      }
    } else {
      stats.failed(batch.size(), took);
      if (!warnedFailure) {
        // Once per outage: a collector that is down must not flood the agent's log.
        logger.log(
            Level.WARNING,
            "OTLP log export failed; {0} records lost (counted in gadget_export_records_total"
                + "{{outcome=\"failure\"}}); retrying with the next batch",
            batch.size());
        warnedFailure = true;
      }
    }
  }

  /** Records waiting for export. */
  int queued() {
    return queue.size();
  }

  @Override
  public CompletableResultCode forceFlush() {
    long ticket;
    synchronized (flushLock) {
      ticket = ++flushRequested;
    }
    long deadline = System.nanoTime() + exportTimeoutNanos;
    synchronized (flushLock) {
      while (flushDone < ticket && worker.isAlive()) {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return CompletableResultCode.ofFailure();
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(flushLock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return CompletableResultCode.ofFailure();
        }
      }
    }
    return exporter.flush();
  }

  @Override
  public CompletableResultCode shutdown() {
    stopping = true;
    try {
      worker.join(TimeUnit.NANOSECONDS.toMillis(exportTimeoutNanos));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return exporter.shutdown();
  }
}
