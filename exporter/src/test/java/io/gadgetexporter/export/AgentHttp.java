package io.gadgetexporter.export;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** GETs from a running agent's HTTP server, for the export tests. */
public final class AgentHttp {
  private static final HttpClient CLIENT =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private AgentHttp() {}

  /** The body of a 200 answer; anything else fails the test with the body. */
  public static String get(int port, String path) throws Exception {
    HttpResponse<String> r =
        CLIENT.send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(10))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET " + path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }

  /** The sum of a metric's samples whose label set contains {@code labels} (text as written). */
  public static double sum(String scrape, String metric, String... labels) {
    double total = 0;
    boolean found = false;
    for (String line : scrape.split("\n")) {
      if (!line.startsWith(metric + "{") && !line.startsWith(metric + " ")) {
        continue;
      }
      String labelPart = line.contains("{") ? line.substring(line.indexOf('{'), line.lastIndexOf('}') + 1) : "";
      boolean all = true;
      for (String l : labels) {
        all &= labelPart.contains(l);
      }
      if (all) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        found = true;
      }
    }
    return found ? total : Double.NaN;
  }

  /** How many series of a metric the scrape holds. */
  public static long series(String scrape, String metric) {
    return scrape.lines().filter(l -> l.startsWith(metric + "{") || l.startsWith(metric + " ")).count();
  }
}
