package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import io.gadgetexporter.container.CgroupContainerId.Match;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class CgroupContainerIdTest {

  static final String APP = "a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333";
  static final String SANDBOX = "b7ad567477c83756aab9a542b2be04f77dbae25115d85f22070d74d8cc4779dc";
  static final String KIND_NODE =
      "23e60658111a240b11962ea4c36d8545c06271103792d48d4fe82c2f9c3bc3ba";
  static final String POD_UID = "c25ffa8a-d1bd-43a9-ad5a-8428353924aa";
  static final String POD_UID_SYSTEMD = POD_UID.replace('-', '_');
  /** A static pod's uid: kubelet's hash of the manifest, 32 hex characters. */
  static final String STATIC_POD_UID = "3f1c0d9e2b7a4c5d8e6f0a1b2c3d4e5f";

  static Stream<Arguments> containers() {
    return Stream.of(
        // --- Docker ---
        row("docker cgroupfs (v1 and v2)", "/docker/" + APP, "docker", APP, null),
        row("docker systemd", "/system.slice/docker-" + APP + ".scope", "docker", APP, null),
        row(
            "rootless docker, systemd",
            "/user.slice/user-1000.slice/user@1000.service/user.slice/docker-" + APP + ".scope",
            "docker",
            APP,
            null),
        row(
            "cri-dockerd, systemd",
            "/kubepods.slice/kubepods-pod" + POD_UID_SYSTEMD + ".slice/docker-" + APP + ".scope",
            "docker",
            APP,
            POD_UID),
        // --- containerd, Kubernetes CRI ---
        row(
            "containerd CRI cgroupfs, burstable",
            "/kubepods/burstable/pod" + POD_UID + "/" + APP,
            "unknown",
            APP,
            POD_UID),
        row(
            "containerd CRI cgroupfs, guaranteed (no QoS level)",
            "/kubepods/pod" + POD_UID + "/" + APP,
            "unknown",
            APP,
            POD_UID),
        row(
            "containerd CRI cgroupfs, besteffort",
            "/kubepods/besteffort/pod" + POD_UID + "/" + SANDBOX,
            "unknown",
            SANDBOX,
            POD_UID),
        row(
            "containerd CRI systemd, burstable",
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + POD_UID_SYSTEMD
                + ".slice/cri-containerd-"
                + APP
                + ".scope",
            "containerd",
            APP,
            POD_UID),
        row(
            "containerd CRI systemd, guaranteed",
            "/kubepods.slice/kubepods-pod" + POD_UID_SYSTEMD + ".slice/cri-containerd-" + APP
                + ".scope",
            "containerd",
            APP,
            POD_UID),
        row(
            "containerd CRI systemd, a process in a sub-cgroup",
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                + POD_UID_SYSTEMD
                + ".slice/cri-containerd-"
                + APP
                + ".scope/init.scope",
            "containerd",
            APP,
            POD_UID),
        row(
            "k3s / rke2 (cgroupfs, kubepods at the root)",
            "/kubepods/burstable/pod" + POD_UID + "/" + APP,
            "unknown",
            APP,
            POD_UID),
        row(
            "static pod (32-hex uid), systemd",
            "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod"
                + STATIC_POD_UID
                + ".slice/cri-containerd-"
                + APP
                + ".scope",
            "containerd",
            APP,
            STATIC_POD_UID),
        row("nerdctl, systemd", "/system.slice/nerdctl-" + APP + ".scope", "containerd", APP, null),
        // --- CRI-O ---
        row(
            "cri-o systemd",
            "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod"
                + POD_UID_SYSTEMD
                + ".slice/crio-"
                + APP
                + ".scope",
            "cri-o",
            APP,
            POD_UID),
        row(
            "cri-o cgroupfs",
            "/kubepods/besteffort/pod" + POD_UID + "/crio-" + APP,
            "cri-o",
            APP,
            POD_UID),
        row(
            "cri-o systemd, sub-cgroup",
            "/kubepods.slice/kubepods-pod" + POD_UID_SYSTEMD + ".slice/crio-" + APP
                + ".scope/container",
            "cri-o",
            APP,
            POD_UID),
        // --- podman ---
        row("podman systemd", "/machine.slice/libpod-" + APP + ".scope", "podman", APP, null),
        row(
            "podman systemd, nested container cgroup",
            "/machine.slice/libpod-" + APP + ".scope/container",
            "podman",
            APP,
            null),
        row(
            "rootless podman",
            "/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + APP + ".scope",
            "podman",
            APP,
            null),
        row("podman cgroupfs", "/libpod_parent/libpod-" + APP, "podman", APP, null),
        // --- nesting: the innermost container wins ---
        row(
            "kind node, cgroup v1 cgroupfs inside",
            "/docker/" + KIND_NODE + "/kubepods/besteffort/pod" + POD_UID + "/" + APP,
            "unknown",
            APP,
            POD_UID),
        row(
            "kind node on a cgroup v2 host, systemd inside",
            "/system.slice/docker-"
                + KIND_NODE
                + ".scope/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-burstable.slice/"
                + "kubelet-kubepods-burstable-pod"
                + POD_UID_SYSTEMD
                + ".slice/cri-containerd-"
                + APP
                + ".scope",
            "containerd",
            APP,
            POD_UID),
        row(
            "kind node's own processes (kubelet)",
            "/system.slice/docker-" + KIND_NODE + ".scope/kubelet.slice",
            "docker",
            KIND_NODE,
            null),
        row(
            "docker in docker",
            "/docker/" + KIND_NODE + "/docker/" + APP,
            "docker",
            APP,
            null),
        row(
            "conmon inside a kind node belongs to the node",
            "/docker/"
                + KIND_NODE
                + "/kubepods.slice/kubepods-pod"
                + POD_UID_SYSTEMD
                + ".slice/crio-conmon-"
                + APP
                + ".scope",
            "docker",
            KIND_NODE,
            null),
        // --- a bare id with no context ---
        row("ctr run with a 64-hex id", "/default/" + APP, "unknown", APP, null));
  }

  private static Arguments row(
      String layout, String path, String runtime, String id, String podUid) {
    return Arguments.of(layout, path, runtime, id, Optional.ofNullable(podUid));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("containers")
  void findsTheContainer(
      String layout, String path, String runtime, String id, Optional<String> podUid) {
    Optional<Match> match = CgroupContainerId.find(path);

    assertThat(match).as(layout).isPresent();
    assertThat(match.get().id()).as("id").isEqualTo(id);
    assertThat(match.get().runtime()).as("runtime").isEqualTo(runtime);
    assertThat(match.get().podUid()).as("pod uid").isEqualTo(podUid);
    assertThat(match.get().cgroupPath()).isEqualTo(path);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "/",
        "",
        "/system.slice/containerd.service",
        "/user.slice/user-1000.slice/session-3.scope",
        "/init.scope",
        // a pod's own slice: its processes are in the containers below
        "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-podc25ffa8a_d1bd_43a9_ad5a"
            + "_8428353924aa.slice",
        "/kubepods/burstable/podc25ffa8a-d1bd-43a9-ad5a-8428353924aa",
        // CRI-O's and podman's monitor processes, beside the container
        "/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-podc25ffa8a_d1bd_43a9_ad5a"
            + "_8428353924aa.slice/crio-conmon-"
            + APP
            + ".scope",
        "/kubepods/besteffort/podc25ffa8a-d1bd-43a9-ad5a-8428353924aa/crio-conmon-" + APP,
        "/machine.slice/libpod-conmon-" + APP + ".scope",
        // plain containerd with a chosen id: matched against the state directories instead
        "/default/redis",
        "/k8s.io/my-container",
        // near misses: not 64 hex characters, upper case, another prefix
        "/docker/a172cedcae47",
        "/docker/" + "A172CEDCAE47474B615C54D510A5D84A8DEA3032E958587430B413538BE3F333",
        "/system.slice/docker-" + APP + "0.scope",
        "/system.slice/snap-" + APP + ".scope",
        "/system.slice/docker-" + APP + ".service",
      })
  void findsNothingWhereThereIsNoContainer(String path) {
    assertThat(CgroupContainerId.find(path)).isEmpty();
  }

  @Test
  void looksThroughAProcessCgroupFileV2First() {
    ProcCgroup cgroup =
        ProcCgroup.parse(
            "11:memory:/kubepods/besteffort/pod"
                + POD_UID
                + "/"
                + APP
                + "\n1:name=systemd:/kubepods/besteffort/pod"
                + POD_UID
                + "/"
                + APP
                + "\n0::/kubepods.slice/kubepods-pod"
                + POD_UID_SYSTEMD
                + ".slice/cri-containerd-"
                + SANDBOX
                + ".scope\n");

    Optional<Match> match = CgroupContainerId.find(cgroup);

    assertThat(match).map(Match::id).contains(SANDBOX);
    assertThat(match).map(Match::runtime).contains("containerd");
  }

  @Test
  void aProcessOutsideContainersHasNoMatch() {
    ProcCgroup cgroup =
        ProcCgroup.parse("1:name=systemd:/init.scope\n0::/system.slice/sshd.service\n");

    assertThat(CgroupContainerId.find(cgroup)).isEmpty();
  }
}
