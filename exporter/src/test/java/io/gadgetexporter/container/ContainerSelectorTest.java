package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.config.ConfigLoader;
import io.gadgetexporter.config.SelectorConfig;
import io.gadgetexporter.container.ContainerSelector.FilterMode;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ContainerSelectorTest {
  private final Container web =
      Containers.inPod("w", "shop", "web-1", "app", Map.of("tier", "front", "app", "web"), 11, 21);
  private final Container canary =
      Containers.inPod("c", "shop", "web-canary", "app", Map.of("tier", "canary"), 12, 22);
  private final Container dns =
      Containers.inPod("d", "kube-system", "coredns-1", "coredns", Map.of(), 13, 23);
  private final Container plain = Containers.plain("ctr-test", 14, 24, 0);

  private static ContainerSelector selector(String yaml) {
    String config =
        "gadgets:\n  - gadget: trace_exec\n    selector:\n"
            + yaml.indent(6);
    SelectorConfig s = ConfigLoader.parse(config, "t.yaml", Map.of()).gadgets().get(0).selector();
    return new ContainerSelector(s);
  }

  @Test
  void noSelectorTracesEverythingWithoutAFilter() {
    assertThat(ContainerSelector.ALL.filterMode()).isEqualTo(FilterMode.OFF);
    assertThat(selector("host: true").filterMode()).isEqualTo(FilterMode.OFF);
    assertThat(ContainerSelector.ALL.matches(plain)).isTrue();
    assertThat(ContainerSelector.ALL.matches(Container.HOST)).isTrue();
  }

  @Test
  void namingContainersLeavesTheHostOutUnlessAsked() {
    ContainerSelector shop = selector("namespaces: [shop]");
    assertThat(shop.includesHost()).isFalse();
    assertThat(shop.filterMode()).isEqualTo(FilterMode.INCLUDE);
    assertThat(shop.matches(web)).isTrue();
    assertThat(shop.matches(dns)).isFalse();
    assertThat(shop.matches(plain)).as("no namespace at all").isFalse();
    assertThat(shop.listInFilter(web)).isTrue();
    assertThat(shop.listInFilter(dns)).isFalse();

    ContainerSelector shopAndHost = selector("namespaces: [shop]\nhost: true");
    assertThat(shopAndHost.filterMode()).isEqualTo(FilterMode.EXCLUDE);
    assertThat(shopAndHost.listInFilter(web)).as("selected: not excluded").isFalse();
    assertThat(shopAndHost.listInFilter(dns)).as("not selected: excluded").isTrue();
  }

  @Test
  void exclusionsAndWildcards() {
    ContainerSelector s = selector("namespaces: ['!kube-*']\npods: ['web-*', '!*-canary']");
    assertThat(s.matches(web)).isTrue();
    assertThat(s.matches(canary)).isFalse();
    assertThat(s.matches(dns)).isFalse();

    ContainerSelector notSystem = selector("namespaces: '!kube-system'");
    assertThat(notSystem.matches(plain)).as("only an exclusion: a container outside k8s passes")
        .isTrue();
    assertThat(notSystem.matches(dns)).isFalse();
  }

  @Test
  void containersMatchTheKubernetesOrTheRuntimeName() {
    assertThat(selector("containers: [coredns]").matches(dns)).isTrue();
    assertThat(selector("containers: [ctr-test]").matches(plain)).isTrue();
    assertThat(selector("containers: ['!ctr-test']").matches(plain)).isFalse();
    assertThat(selector("containers: ['!ctr-test']").matches(web)).isTrue();
  }

  @Test
  void labelsMatchValuesAndExclusions() {
    assertThat(selector("labels: {app: web}").matches(web)).isTrue();
    assertThat(selector("labels: {app: web}").matches(canary)).isFalse();
    assertThat(selector("labels: {tier: '!canary'}").matches(web)).isTrue();
    assertThat(selector("labels: {tier: '!canary'}").matches(canary)).isFalse();
    assertThat(selector("labels: {tier: '!canary'}").matches(plain)).isTrue();
  }
}
