package io.gadgetexporter.export;

import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.metrics.Meter;
import io.opentelemetry.api.metrics.ObservableDoubleMeasurement;
import io.opentelemetry.api.metrics.ObservableLongMeasurement;
import java.io.IOException;
import java.lang.management.BufferPoolMXBean;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.OperatingSystemMXBean;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The agent's own process: JVM memory by pool, direct buffers (the drain buffers live there),
 * garbage collection, threads, CPU time and resident memory. Names and attributes follow the
 * OpenTelemetry semantic conventions for JVM and process metrics, so dashboards made for other Java
 * services work on the agent too.
 *
 * <p>One deliberate departure: semconv's {@code jvm.gc.duration} is a histogram of individual
 * collections, which needs a GC notification listener per collector. The agent reports the
 * cumulative count and time each collector's MXBean already keeps instead, as two counters named so
 * they cannot be mistaken for the semconv histogram: {@code jvm.gc.collections} and {@code
 * jvm.gc.time}. Their rates give collections per second and the fraction of time spent in GC.
 *
 * <p>All instruments are asynchronous and read the platform MXBeans when a reader collects.
 */
public final class JvmMetrics {
  static final AttributeKey<String> MEMORY_TYPE = AttributeKey.stringKey("jvm.memory.type");
  static final AttributeKey<String> MEMORY_POOL = AttributeKey.stringKey("jvm.memory.pool.name");
  static final AttributeKey<String> BUFFER_POOL = AttributeKey.stringKey("jvm.buffer.pool.name");
  static final AttributeKey<String> GC_NAME = AttributeKey.stringKey("jvm.gc.name");
  static final AttributeKey<Boolean> THREAD_DAEMON = AttributeKey.booleanKey("jvm.thread.daemon");
  private static final Path PROC_STATUS = Path.of("/proc/self/status");

  private JvmMetrics() {}

  /** Registers every metric of this class. */
  public static Registration register(Meter meter) {
    Registration r = new Registration();
    memory(meter, r);
    buffers(meter, r);
    gc(meter, r);
    threads(meter, r);
    cpu(meter, r);
    processMemory(meter, r);
    return r;
  }

  /** {@code jvm.memory.used}, {@code .committed}, {@code .limit}, {@code .used_after_last_gc}. */
  private static void memory(Meter meter, Registration r) {
    List<MemoryPoolMXBean> pools = ManagementFactory.getMemoryPoolMXBeans();
    List<Attributes> attributes =
        pools.stream()
            .map(
                p ->
                    Attributes.of(
                        MEMORY_TYPE,
                        p.getType() == MemoryType.HEAP ? "heap" : "non_heap",
                        MEMORY_POOL,
                        p.getName()))
            .toList();
    ObservableLongMeasurement used =
        bytes(meter, "jvm.memory.used", "Memory used, by JVM memory pool.");
    ObservableLongMeasurement committed =
        bytes(
            meter,
            "jvm.memory.committed",
            "Memory the JVM has committed (obtained from the OS), by memory pool.");
    ObservableLongMeasurement limit =
        bytes(
            meter,
            "jvm.memory.limit",
            "Maximum memory a JVM memory pool can obtain; absent for pools without a limit.");
    ObservableLongMeasurement afterGc =
        bytes(
            meter,
            "jvm.memory.used_after_last_gc",
            "Memory used in a JVM memory pool right after its last garbage collection: the live"
                + " data; absent for pools the collector does not manage.");
    r.add(
        meter.batchCallback(
            () -> {
              for (int i = 0; i < pools.size(); i++) {
                MemoryPoolMXBean pool = pools.get(i);
                Attributes a = attributes.get(i);
                MemoryUsage usage = pool.getUsage();
                if (usage == null) {
                  continue; // the pool is no longer valid
                }
                used.record(usage.getUsed(), a);
                committed.record(usage.getCommitted(), a);
                if (usage.getMax() >= 0) {
                  limit.record(usage.getMax(), a);
                }
                MemoryUsage collected = pool.getCollectionUsage();
                if (collected != null) {
                  afterGc.record(collected.getUsed(), a);
                }
              }
            },
            used,
            committed,
            limit,
            afterGc));
  }

  /** {@code jvm.buffer.memory.used}, {@code .limit} and {@code jvm.buffer.count}. */
  private static void buffers(Meter meter, Registration r) {
    List<BufferPoolMXBean> pools = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class);
    List<Attributes> attributes =
        pools.stream().map(p -> Attributes.of(BUFFER_POOL, p.getName())).toList();
    ObservableLongMeasurement used =
        bytes(
            meter,
            "jvm.buffer.memory.used",
            "Memory used by NIO buffers outside the heap, by pool: direct (the agent's ring"
                + " buffer drain buffers are here) and mapped.");
    ObservableLongMeasurement limit =
        bytes(meter, "jvm.buffer.memory.limit", "Total capacity of the buffers in an NIO pool.");
    ObservableLongMeasurement count =
        meter
            .upDownCounterBuilder("jvm.buffer.count")
            .setDescription("Buffers in an NIO buffer pool.")
            .setUnit("{buffer}")
            .buildObserver();
    r.add(
        meter.batchCallback(
            () -> {
              for (int i = 0; i < pools.size(); i++) {
                BufferPoolMXBean pool = pools.get(i);
                used.record(pool.getMemoryUsed(), attributes.get(i));
                limit.record(pool.getTotalCapacity(), attributes.get(i));
                count.record(pool.getCount(), attributes.get(i));
              }
            },
            used,
            limit,
            count));
  }

  /** {@code jvm.gc.collections} and {@code jvm.gc.time}: see the class comment. */
  private static void gc(Meter meter, Registration r) {
    List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
    List<Attributes> attributes =
        collectors.stream().map(c -> Attributes.of(GC_NAME, c.getName())).toList();
    ObservableLongMeasurement collections =
        meter
            .counterBuilder("jvm.gc.collections")
            .setDescription(
                "Garbage collections since the JVM started, by collector (cumulative; semconv's"
                    + " jvm.gc.duration histogram is not kept).")
            .setUnit("{collection}")
            .buildObserver();
    ObservableDoubleMeasurement time =
        meter
            .counterBuilder("jvm.gc.time")
            .ofDoubles()
            .setDescription(
                "Time spent in garbage collection since the JVM started, by collector, as its"
                    + " MXBean reports it (for concurrent collectors this includes concurrent work,"
                    + " not only pauses).")
            .setUnit("s")
            .buildObserver();
    r.add(
        meter.batchCallback(
            () -> {
              for (int i = 0; i < collectors.size(); i++) {
                GarbageCollectorMXBean c = collectors.get(i);
                long n = c.getCollectionCount();
                long ms = c.getCollectionTime();
                if (n >= 0) {
                  collections.record(n, attributes.get(i));
                }
                if (ms >= 0) {
                  time.record(ms / 1000.0, attributes.get(i));
                }
              }
            },
            collections,
            time));
  }

  /** {@code jvm.thread.count}, split by {@code jvm.thread.daemon} (not by state: see below). */
  private static void threads(Meter meter, Registration r) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Attributes daemon = Attributes.of(THREAD_DAEMON, true);
    Attributes nonDaemon = Attributes.of(THREAD_DAEMON, false);
    r.add(
        meter
            .upDownCounterBuilder("jvm.thread.count")
            // semconv also splits by jvm.thread.state, which needs a ThreadInfo of every thread
            // per collection; daemon or not comes free from two counters.
            .setDescription("Live JVM threads, daemon and not.")
            .setUnit("{thread}")
            .buildWithCallback(
                m -> {
                  int all = threads.getThreadCount();
                  int d = threads.getDaemonThreadCount();
                  m.record(d, daemon);
                  m.record(Math.max(0, all - d), nonDaemon);
                }));
  }

  /** {@code jvm.cpu.time}, when the JVM offers it (HotSpot and OpenJ9 do). */
  private static void cpu(Meter meter, Registration r) {
    OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
    if (!(os instanceof com.sun.management.OperatingSystemMXBean sun)) {
      return;
    }
    r.add(
        meter
            .counterBuilder("jvm.cpu.time")
            .ofDoubles()
            .setDescription(
                "CPU time the agent's process used, user and system, all threads (drain, decode,"
                    + " export). The kernel-side cost of the gadgets is gadget.program.run_time.")
            .setUnit("s")
            .buildWithCallback(
                m -> {
                  long ns = sun.getProcessCpuTime();
                  if (ns >= 0) {
                    m.record(ns / 1e9);
                  }
                }));
  }

  /** {@code process.memory.usage} and {@code process.memory.virtual}, from /proc/self/status. */
  private static void processMemory(Meter meter, Registration r) {
    ObservableLongMeasurement rss =
        bytes(
            meter,
            "process.memory.usage",
            "Resident memory of the agent's process (VmRSS): heap, metaspace, thread stacks,"
                + " direct buffers and native libraries together; what a container memory limit"
                + " is compared to.");
    ObservableLongMeasurement virtual =
        bytes(meter, "process.memory.virtual", "Virtual memory of the agent's process (VmSize).");
    r.add(
        meter.batchCallback(
            () -> {
              String status;
              try {
                status = Files.readString(PROC_STATUS, StandardCharsets.US_ASCII);
              } catch (IOException e) {
                return; // not Linux, or no /proc: nothing to report
              }
              long rssBytes = statusBytes(status, "VmRSS:");
              long virtualBytes = statusBytes(status, "VmSize:");
              if (rssBytes >= 0) {
                rss.record(rssBytes);
              }
              if (virtualBytes >= 0) {
                virtual.record(virtualBytes);
              }
            },
            rss,
            virtual));
  }

  /** A {@code /proc/<pid>/status} line's value in bytes ("VmRSS: 1234 kB"), or -1. */
  static long statusBytes(String status, String key) {
    int at = status.startsWith(key) ? 0 : status.indexOf("\n" + key);
    if (at < 0) {
      return -1;
    }
    int start = status.indexOf(key, at) + key.length();
    int end = status.indexOf('\n', start);
    String value = status.substring(start, end < 0 ? status.length() : end).trim();
    String[] parts = value.split("\\s+");
    try {
      long n = Long.parseLong(parts[0]);
      return parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? n * 1024 : n;
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  /** An asynchronous UpDownCounter in bytes, as semconv defines the memory metrics. */
  private static ObservableLongMeasurement bytes(Meter meter, String name, String description) {
    return meter
        .upDownCounterBuilder(name)
        .setDescription(description)
        .setUnit("By")
        .buildObserver();
  }
}
