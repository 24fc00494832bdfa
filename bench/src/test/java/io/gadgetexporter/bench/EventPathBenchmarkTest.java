package io.gadgetexporter.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import org.junit.jupiter.api.Test;

/**
 * Not a timing: the event-path benchmark's setup still builds every stage from the agent's classes
 * (config, metrics, logs, containers), its records resolve to containers, and each step runs.
 */
class EventPathBenchmarkTest {
  @Test
  void everyStepRuns() throws IOException {
    EventPathBenchmark b = new EventPathBenchmark();
    b.prepare();
    try {
      assertThat(b.decode()).isNotNegative();
      assertThat(b.enrich()).as("records tied to a container or the host").isEqualTo(1000);
      assertThat(b.metricsImplicit()).isEqualTo(1000);
      assertThat(b.metricsConfigured()).isEqualTo(1000);
      assertThat(b.metricsAndLogs()).isEqualTo(1000);
      assertThat(b.batchSize()).isEqualTo(1000);
      assertThat(b.exportMarshal()).isGreaterThan(1000L * 100);
      assertThat(b.exportMarshalGzip()).isPositive().isLessThan(b.exportMarshal());
    } finally {
      b.close();
    }
  }
}
