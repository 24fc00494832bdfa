package io.gadgetexporter.export.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.gadgetexporter.export.testing.PrometheusServer.Sample;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Proves {@link PrometheusServer}: a real Prometheus scrapes a static text exposition served by
 * Vert.x (over http, and over https with a bearer token) and answers PromQL about it.
 */
class PrometheusServerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String EXPOSITION =
      """
      # HELP demo_events_total Events seen.
      # TYPE demo_events_total counter
      demo_events_total{container_name="a"} 3
      demo_events_total{container_name="b"} 4
      """;

  private final Vertx vertx = Vertx.vertx();
  private final List<String> authorizations = new CopyOnWriteArrayList<>();

  @AfterEach
  void closeVertx() {
    vertx.close().await();
  }

  @Test
  void scrapesATargetAndAnswersPromQL() {
    HttpServer target = serveMetrics(new HttpServerOptions(), null);
    try (PrometheusServer prometheus =
        PrometheusServer.scraping("127.0.0.1:" + target.actualPort()).start()) {
      List<Sample> sum =
          prometheus.awaitQuery(
              "sum(demo_events_total{container_name=\"a\"})", r -> !r.isEmpty(), WAIT);
      assertThat(sum).containsExactly(new Sample(Map.of(), 3));

      assertThat(prometheus.query("demo_events_total"))
          .extracting(Sample::labels)
          .containsExactlyInAnyOrder(
              series("a", target.actualPort()), series("b", target.actualPort()));
      assertThat(prometheus.query("scalar(sum(demo_events_total))"))
          .containsExactly(new Sample(Map.of(), 7));
      assertThat(prometheus.targets())
          .singleElement()
          .satisfies(t -> assertThat(t.health()).isEqualTo("up"));
      assertThatThrownBy(() -> prometheus.query("sum(demo_events_total"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("bad_data");
      assertThat(authorizations).containsOnly("(none)");
    }
  }

  @Test
  void scrapesOverHttpsWithABearerToken() {
    TestCertificates certificates = TestCertificates.shared();
    HttpServerOptions tls =
        new HttpServerOptions()
            .setSsl(true)
            .setKeyCertOptions(
                new PemKeyCertOptions()
                    .setCertPath(certificates.serverCertificate().toString())
                    .setKeyPath(certificates.serverKey().toString()));
    HttpServer target = serveMetrics(tls, "Bearer s3cret");
    try (PrometheusServer prometheus =
        PrometheusServer.scraping("127.0.0.1:" + target.actualPort())
            .https()
            .bearerToken("s3cret")
            .start()) {
      prometheus.awaitTargetUp(WAIT);
      assertThat(prometheus.query("sum(demo_events_total{container_name=\"a\"})"))
          .containsExactly(new Sample(Map.of(), 3));
      assertThat(prometheus.targets().get(0).scrapeUrl()).startsWith("https://");
      assertThat(authorizations).contains("Bearer s3cret");
    }
  }

  @Test
  void aTimeoutSaysWhyTheTargetIsDown() {
    HttpServer target = serveMetrics(new HttpServerOptions(), "Bearer s3cret");
    try (PrometheusServer prometheus =
        PrometheusServer.scraping("127.0.0.1:" + target.actualPort()).start()) {
      prometheus.awaitQuery("up", r -> !r.isEmpty(), WAIT); // a first scrape, refused
      assertThatThrownBy(
              () ->
                  prometheus.awaitQuery(
                      "demo_events_total", r -> !r.isEmpty(), Duration.ofMillis(500)))
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("`demo_events_total` did not give the expected result")
          .hasMessageContaining("last result: []")
          .hasMessageContaining("down (server returned HTTP status 401 Unauthorized)")
          .hasMessageContaining("prometheus log, last lines:");
    }
  }

  @Test
  void withoutTheBinaryItFailsSayingHowToInstallIt() {
    assertThatThrownBy(
            () ->
                PrometheusServer.scraping("127.0.0.1:1")
                    .binary(Path.of("/nonexistent/prometheus"))
                    .start())
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("scripts/install-packages.sh test");
  }

  /**
   * Serves {@link #EXPOSITION} on /metrics, 401 without the expected Authorization (if any), and
   * notes the Authorization of each scrape.
   */
  private HttpServer serveMetrics(HttpServerOptions options, String expectedAuthorization) {
    return vertx
        .createHttpServer(options.setHost("127.0.0.1").setPort(0))
        .requestHandler(
            request -> {
              String authorization = request.getHeader("Authorization");
              authorizations.add(authorization == null ? "(none)" : authorization);
              if (expectedAuthorization != null && !expectedAuthorization.equals(authorization)) {
                request.response().setStatusCode(401).end();
              } else if (!request.path().equals("/metrics")) {
                request.response().setStatusCode(404).end();
              } else {
                request
                    .response()
                    .putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                    .end(EXPOSITION);
              }
            })
        .listen()
        .await();
  }

  private static Map<String, String> series(String container, int port) {
    return Map.of(
        "__name__",
        "demo_events_total",
        "container_name",
        container,
        "instance",
        "127.0.0.1:" + port,
        "job",
        "agent");
  }
}
