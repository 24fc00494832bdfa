package io.gadgetexporter.container;

import static io.gadgetexporter.container.OciFixtures.POD_UID;
import static io.gadgetexporter.container.OciFixtures.SANDBOX;
import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.OciAnnotations.KubernetesNames;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OciAnnotationsTest {

  @Test
  void namesAContainerdCriAppContainer() {
    Map<String, String> annotations =
        OciConfig.parse(OciFixtures.CONTAINERD_CRI, "config.json").annotations();

    KubernetesNames names = OciAnnotations.kubernetes(annotations);

    assertThat(names.namespace()).contains("shop");
    assertThat(names.podName()).contains("web-7d4b9c8f6-x2x9k");
    assertThat(names.podUid()).contains(POD_UID);
    assertThat(names.containerName()).contains("nginx");
    assertThat(names.containerType()).contains("container");
    assertThat(names.sandboxId()).contains(SANDBOX);
    assertThat(names.imageName()).contains("docker.io/library/nginx:1.27");
    assertThat(names.podLabels()).isEmpty();
    assertThat(names.isSandbox()).isFalse();
    assertThat(names.isKubernetes()).isTrue();
    assertThat(OciAnnotations.image(annotations)).contains("docker.io/library/nginx:1.27");
  }

  @Test
  void namesAContainerdCriSandbox() {
    KubernetesNames names =
        OciAnnotations.kubernetes(
            Map.of(
                "io.kubernetes.cri.container-type", "sandbox",
                "io.kubernetes.cri.sandbox-id", SANDBOX,
                "io.kubernetes.cri.sandbox-name", "web-7d4b9c8f6-x2x9k",
                "io.kubernetes.cri.sandbox-namespace", "shop",
                "io.kubernetes.cri.sandbox-uid", POD_UID,
                "io.kubernetes.cri.sandbox-log-directory", "/var/log/pods/shop_web_" + POD_UID));

    assertThat(names.isSandbox()).isTrue();
    assertThat(names.podUid()).contains(POD_UID);
    assertThat(names.containerName()).isEmpty();
  }

  @Test
  void namesACrioSandboxWithItsPodLabels() {
    Map<String, String> annotations =
        OciConfig.parse(OciFixtures.CRIO_SANDBOX, "config.json").annotations();

    KubernetesNames names = OciAnnotations.kubernetes(annotations);

    assertThat(names.namespace()).contains("default");
    assertThat(names.podName()).contains("segfaulter");
    assertThat(names.podUid()).contains(POD_UID);
    assertThat(names.containerName()).contains("POD");
    assertThat(names.containerType()).contains("sandbox");
    assertThat(names.isSandbox()).isTrue();
    assertThat(names.sandboxId()).contains(SANDBOX);
    assertThat(names.imageName()).contains("registry.k8s.io/pause:3.9");
    assertThat(names.podLabels())
        .containsEntry("run", "segfaulter")
        .containsEntry("app.kubernetes.io/part-of", "crashers")
        .containsEntry("io.kubernetes.pod.uid", POD_UID);
    assertThat(names.malformedLabels()).isFalse();
  }

  @Test
  void takesCrioNamesFromTheLabelsWhenOnlyTheyHaveThem() {
    KubernetesNames names =
        OciAnnotations.kubernetes(
            Map.of(
                "io.kubernetes.cri-o.ContainerType", "container",
                "io.kubernetes.cri-o.ImageName", "quay.io/crio/redis:alpine",
                "io.kubernetes.cri-o.Labels",
                    "{\"io.kubernetes.container.name\":\"redis\","
                        + "\"io.kubernetes.pod.name\":\"cache-0\","
                        + "\"io.kubernetes.pod.namespace\":\"data\","
                        + "\"io.kubernetes.pod.uid\":\""
                        + POD_UID
                        + "\"}"));

    assertThat(names.containerName()).contains("redis");
    assertThat(names.podName()).contains("cache-0");
    assertThat(names.namespace()).contains("data");
    assertThat(names.podUid()).contains(POD_UID);
    assertThat(names.imageName()).contains("quay.io/crio/redis:alpine");
    assertThat(names.isSandbox()).isFalse();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "{\"run\": \"x\"",
        "[\"run=x\"]",
        "''",
        "run=x",
      })
  void malformedCrioLabelsAreFlaggedAndTheRestIsKept(String labels) {
    KubernetesNames names =
        OciAnnotations.kubernetes(
            Map.of(
                "io.kubernetes.pod.name", "cache-0",
                "io.kubernetes.cri-o.Labels", labels));

    assertThat(names.malformedLabels()).isTrue();
    assertThat(names.podLabels()).isEmpty();
    assertThat(names.podName()).contains("cache-0");
  }

  @Test
  void skipsLabelsThatAreNotStrings() {
    KubernetesNames names =
        OciAnnotations.kubernetes(
            Map.of("io.kubernetes.cri-o.Labels", "{\"a\":\"1\",\"b\":2,\"c\":{\"d\":\"e\"}}"));

    assertThat(names.podLabels()).containsExactly(Map.entry("a", "1"));
    assertThat(names.malformedLabels()).isFalse();
  }

  @Test
  void containerdKeysWinOverCrioKeys() {
    KubernetesNames names =
        OciAnnotations.kubernetes(
            Map.of(
                "io.kubernetes.cri.sandbox-name", "from-containerd",
                "io.kubernetes.pod.name", "from-crio"));

    assertThat(names.podName()).contains("from-containerd");
  }

  @Test
  void blankValuesCountAsAbsent() {
    Map<String, String> annotations = new HashMap<>();
    annotations.put("io.kubernetes.cri.sandbox-uid", "");
    annotations.put("io.kubernetes.pod.uid", " ");
    annotations.put("io.kubernetes.cri.sandbox-name", null);

    KubernetesNames names = OciAnnotations.kubernetes(annotations);

    assertThat(names.podUid()).isEmpty();
    assertThat(names.podName()).isEmpty();
    assertThat(names.isKubernetes()).isFalse();
  }

  @ParameterizedTest
  @CsvSource({"sandbox, true", "Sandbox, true", "podsandbox, true", "PodSandbox, true",
      "container, false", "'', false"})
  void recognisesSandboxTypes(String type, boolean sandbox) {
    assertThat(
            OciAnnotations.kubernetes(Map.of("io.kubernetes.cri.container-type", type))
                .isSandbox())
        .isEqualTo(sandbox);
  }

  @Test
  void aCtrRunContainerHasNoNamesAndNoImage() {
    Map<String, String> annotations =
        OciConfig.parse(OciFixtures.CTR_RUN, "config.json").annotations();

    KubernetesNames names = OciAnnotations.kubernetes(annotations);

    assertThat(names.isKubernetes()).isFalse();
    assertThat(names.containerName()).isEmpty();
    assertThat(names.isSandbox()).isFalse();
    assertThat(OciAnnotations.image(annotations)).isEmpty();
  }

  @Test
  void imageFallsBackToContainerdsImageNameKey() {
    Map<String, String> annotations =
        Map.of("io.containerd.image.name", "docker.io/library/redis:7");

    assertThat(OciAnnotations.image(annotations)).contains("docker.io/library/redis:7");
  }

  @Test
  void imageIgnoresTheOciRefNameWhichIsOftenOnlyABaseImageLabel() {
    assertThat(
            OciAnnotations.image(
                Map.of(
                    "org.opencontainers.image.ref.name", "ubuntu",
                    "org.opencontainers.image.version", "24.04")))
        .isEmpty();
  }

  @Test
  void podmanAnnotationsAreNotKubernetes() {
    KubernetesNames names =
        OciAnnotations.kubernetes(
            Map.of(
                "io.container.manager", "libpod",
                "org.opencontainers.image.stopSignal", "15",
                "io.podman.annotations.autoremove", "TRUE"));

    assertThat(names.isKubernetes()).isFalse();
    assertThat(names.sandboxId()).isEmpty();
  }
}
