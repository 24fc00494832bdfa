package io.gadgetexporter.container;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProcCgroupTest {

  private static final String ID =
      "a172cedcae47474b615c54d510a5d84a8dea3032e958587430b413538be3f333";

  @Test
  void cgroupV2HasOnlyTheUnifiedLine() {
    String content =
        "0::/kubepods.slice/kubepods-burstable.slice/"
            + "kubepods-burstable-podc25ffa8a_d1bd_43a9_ad5a_8428353924aa.slice/"
            + "cri-containerd-"
            + ID
            + ".scope\n";

    ProcCgroup cgroup = ProcCgroup.parse(content);

    assertThat(cgroup.unifiedPath()).contains(content.substring(3, content.length() - 1));
    assertThat(cgroup.v1Paths()).isEmpty();
    assertThat(cgroup.candidatePaths()).containsExactly(cgroup.unifiedPath().orElseThrow());
    assertThat(cgroup.malformedLines()).isZero();
  }

  @Test
  void cgroupV1SplitsCoMountedControllersAndKeepsNamedHierarchies() {
    String content =
        """
        12:hugetlb:/docker/%1$s
        11:pids:/docker/%1$s
        10:cpu,cpuacct:/docker/%1$s
        9:net_cls,net_prio:/docker/%1$s
        8:memory:/docker/%1$s
        4:devices:/docker/%1$s
        1:name=systemd:/docker/%1$s
        """
            .formatted(ID);

    ProcCgroup cgroup = ProcCgroup.parse(content);

    assertThat(cgroup.unifiedPath()).isEmpty();
    assertThat(cgroup.v1Paths())
        .containsEntry("cpu", "/docker/" + ID)
        .containsEntry("cpuacct", "/docker/" + ID)
        .containsEntry("net_prio", "/docker/" + ID)
        .containsEntry("name=systemd", "/docker/" + ID)
        .hasSize(9);
    assertThat(cgroup.candidatePaths()).containsExactly("/docker/" + ID);
  }

  @Test
  void hybridPutsTheUnifiedPathFirstThenSystemdThenMemory() {
    // Docker with the cgroupfs driver on a hybrid host: the unified path is systemd's view of the
    // shim, the id is only in the v1 paths.
    String content =
        """
        12:memory:/docker/%1$s
        11:cpu,cpuacct:/docker/%1$s
        1:name=systemd:/system.slice/containerd.service
        0::/system.slice/containerd.service
        """
            .formatted(ID);

    ProcCgroup cgroup = ProcCgroup.parse(content);

    assertThat(cgroup.unifiedPath()).contains("/system.slice/containerd.service");
    assertThat(cgroup.candidatePaths())
        .containsExactly("/system.slice/containerd.service", "/docker/" + ID);
    assertThat(CgroupContainerId.find(cgroup)).map(CgroupContainerId.Match::id).contains(ID);
  }

  @Test
  void leavesOutTheRootCgroup() {
    ProcCgroup cgroup = ProcCgroup.parse("0::/\n1:name=systemd:/\n");

    assertThat(cgroup.unifiedPath()).contains("/");
    assertThat(cgroup.candidatePaths()).isEmpty();
  }

  @Test
  void keepsColonsInThePath() {
    ProcCgroup cgroup = ProcCgroup.parse("0::/user.slice/a:b\n");

    assertThat(cgroup.unifiedPath()).contains("/user.slice/a:b");
  }

  @Test
  void skipsAndCountsMalformedLines() {
    String content =
        """
        garbage
        x:memory:/docker/abc
        3:memory
        4:cpu:relative/path
        5::/empty-controllers-on-a-v1-line
        0::/first
        0::/second-unified-line
        8:pids:/ok
        \r
        """;

    ProcCgroup cgroup = ProcCgroup.parse(content);

    assertThat(cgroup.malformedLines()).isEqualTo(6);
    assertThat(cgroup.unifiedPath()).contains("/first");
    assertThat(cgroup.v1Paths()).containsOnlyKeys("pids");
  }

  @Test
  void emptyAndBinaryContentGiveNoPaths() {
    assertThat(ProcCgroup.parse("").candidatePaths()).isEmpty();
    assertThat(ProcCgroup.parse("").malformedLines()).isZero();

    ProcCgroup binary = ProcCgroup.parse("\u0000\u0001\u00ff:\u0007:/\u0000x\n0::/a\u0000b");
    assertThat(binary.candidatePaths()).isEmpty();
    assertThat(binary.malformedLines()).isEqualTo(2);
  }

  @Test
  void acceptsCarriageReturnLineEnds() {
    ProcCgroup cgroup = ProcCgroup.parse("0::/system.slice/docker-" + ID + ".scope\r\n");

    assertThat(cgroup.unifiedPath()).contains("/system.slice/docker-" + ID + ".scope");
  }
}
