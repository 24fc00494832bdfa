package io.gadgetexporter.http;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.gadget.EventSink;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.GadgetTesting;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What {@code /api/v1/gadgets} says of an instance, from real instances. */
class GadgetsJsonTest {
  @Test
  void aGadgetWithSocketFiltersShowsItsNamespacesAndTheContainersWhoseSocketFailed()
      throws Exception {
    ContainerCollection containers = new ContainerCollection(0, System::nanoTime);
    // Selected, but its record names a network namespace (1) its process, this JVM, is not in.
    containers.add(
        new Container(
            Container.Kind.CONTAINER, "gx-elsewhere-id", "gx-elsewhere", "runc",
            (int) ProcessHandle.current().pid(), 0x7fff_2000_0000L, 1, 0, "/gx-elsewhere",
            Optional.empty(), Optional.empty(), Optional.empty(), false,
            Container.Source.RUNTIME_HOOK));
    LiveEvents live = new LiveEvents(16);
    try (GadgetInstance dns =
        GadgetTesting.instance(
            "trace_dns",
            "    selector:\n      host: true\n      containers: [gx-elsewhere]\n",
            EventSink.NONE,
            "",
            containers)) {
      dns.start();
      JsonObject sockets = GadgetsJson.of(dns, live).getJsonObject("socket_filter");

      // The host's namespace (the agent's here), wholly selected: the host is, and no container
      // in it is left out.
      long host = dns.tracedNetworkNamespaces().iterator().next();
      assertThat(host).isIn(inode("/proc/1/ns/net"), inode("/proc/self/ns/net"));
      assertThat(sockets.getJsonArray("namespaces").getList())
          .containsExactly(new JsonObject().put("netns_id", host).put("all_selected", true));
      assertThat(sockets.getJsonArray("unopened")).hasSize(1);
      JsonObject unopened = sockets.getJsonArray("unopened").getJsonObject(0);
      assertThat(unopened.getString("container_id")).isEqualTo("gx-elsewhere-id");
      assertThat(unopened.getLong("netns_id")).isEqualTo(1L);
      assertThat(unopened.getInteger("attempts")).isPositive();
      assertThat(unopened.getString("error")).contains("not 1");
      assertThat(unopened.getLong("retry_in_ms")).isBetween(0L, 300_000L);
      assertThat(sockets.getLong("open_failures")).isEqualTo(unopened.getLong("attempts"));
    }
    // A gadget without socket filters has no such key.
    GadgetInstance open = GadgetTesting.instance("trace_open", "", EventSink.NONE);
    assertThat(GadgetsJson.of(open, live).containsKey("socket_filter")).isFalse();
  }

  private static long inode(String nsLink) {
    try {
      return Long.parseLong(
          Files.readSymbolicLink(Path.of(nsLink)).toString().replaceAll("\\D", ""));
    } catch (Exception e) {
      return -1; // unreadable (pid 1 hidden): the agent uses its own
    }
  }
}
