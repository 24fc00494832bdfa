package io.gadgetexporter.container;

import io.gadgetexporter.container.OciAnnotations.KubernetesNames;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Builds a {@link Container} record from a container's first process and, where known, its OCI
 * bundle: namespaces and cgroup from /proc, names, image and pod from the bundle's {@code
 * config.json} annotations (containerd and CRI-O write the pod's namespace, name, uid and the
 * container's name there, so pods are named even without the API server).
 */
final class ContainerInspector {
  private final Procfs procfs;
  private final DiscoveryProblems problems;
  private final long hostMntnsId;

  ContainerInspector(Procfs procfs, DiscoveryProblems problems, long hostMntnsId) {
    this.procfs = procfs;
    this.problems = problems;
    this.hostMntnsId = hostMntnsId;
  }

  /**
   * @param bundle the OCI bundle directory as the agent sees it, if known
   * @return empty when the process is gone, or is not in a mount namespace of its own (it is not
   *     a container's process, or has not entered the container yet)
   */
  Optional<Container> inspect(
      String id, String runtime, int pid, Optional<Path> bundle, Container.Source source) {
    OptionalLong mntns = procfs.namespaceId(pid, "mnt");
    if (mntns.isEmpty()) {
      problems.report(
          "process_gone", "container " + id + ": its process " + pid + " exited before inspection");
      return Optional.empty();
    }
    if (mntns.getAsLong() == hostMntnsId) {
      problems.report(
          "host_mount_namespace",
          "container " + id + ": process " + pid + " shares the host's mount namespace; skipped");
      return Optional.empty();
    }
    long netns = procfs.namespaceId(pid, "net").orElse(0);
    String cgroupPath = "";
    long cgroupId = 0;
    Optional<String> cgroupFile = procfs.cgroupFile(pid);
    if (cgroupFile.isPresent()) {
      ProcCgroup cg = ProcCgroup.parse(cgroupFile.get());
      Optional<String> unified = cg.unifiedPath();
      cgroupPath = unified.orElse(cg.candidatePaths().stream().findFirst().orElse(""));
      cgroupId = unified.map(procfs::cgroupId).orElse(0L);
    }
    Map<String, String> annotations = Map.of();
    if (bundle.isPresent()) {
      Path configJson = bundle.get().resolve("config.json");
      try {
        annotations = OciConfig.read(configJson).annotations();
      } catch (ContainerMetadataException e) {
        problems.report(e.reason().label(), e.getMessage());
      }
    }
    KubernetesNames k8s = OciAnnotations.kubernetes(annotations);
    Optional<Container.Pod> pod = Optional.empty();
    if (k8s.podName().isPresent() && k8s.namespace().isPresent()) {
      pod =
          Optional.of(
              new Container.Pod(
                  k8s.namespace().get(),
                  k8s.podName().get(),
                  k8s.podUid().orElse(""),
                  k8s.containerName().orElse(""),
                  k8s.podLabels()));
    }
    String name = k8s.containerName().orElse(annotations.getOrDefault("nerdctl/name", id));
    Optional<String> image = OciAnnotations.image(annotations);
    return Optional.of(
        new Container(
            Container.Kind.CONTAINER,
            id,
            name,
            runtime,
            pid,
            mntns.getAsLong(),
            netns,
            cgroupId,
            cgroupPath,
            image,
            procfs.startTime(pid),
            pod,
            k8s.isSandbox(),
            source));
  }

  /** Whether a bundle directory holds a config.json the agent can read. */
  static boolean hasConfig(Path bundle) {
    return Files.isRegularFile(bundle.resolve("config.json"));
  }
}
