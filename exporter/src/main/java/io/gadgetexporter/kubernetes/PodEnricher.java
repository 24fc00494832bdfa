package io.gadgetexporter.kubernetes;

import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import java.util.List;
import java.util.Optional;

/**
 * Adds the API server's pod metadata to a container as discovery found it: the pod's owners,
 * labels, the annotations the config lets out, its node, and the Kubernetes container name and
 * image when the runtime gave none. Reads the current {@link PodIndex} and what the {@link
 * OwnerResolver} already knows; never waits for the API.
 */
final class PodEnricher implements ContainerCollection.Enricher {
  private final OwnerResolver owners;
  private volatile PodIndex index = PodIndex.EMPTY;

  PodEnricher(OwnerResolver owners) {
    this.owners = owners;
  }

  void setIndex(PodIndex index) {
    this.index = index;
  }

  PodIndex index() {
    return index;
  }

  @Override
  public Container enrich(Container c) {
    if (c.kind() != Container.Kind.CONTAINER) {
      return c;
    }
    Optional<PodIndex.Match> found = index.match(c);
    if (found.isEmpty()) {
      return c;
    }
    PodIndex.Match m = found.get();
    PodMetadata p = m.pod();
    List<Container.Owner> chain = owners.owners(p);
    Container.Pod pod =
        new Container.Pod(
            p.namespace(),
            p.name(),
            p.uid(),
            m.containerName(),
            p.labels(),
            chain,
            p.exportedLabels(),
            p.exportedAnnotations(),
            p.nodeName(),
            true);
    // Without annotations the runtime named the container by its id; Kubernetes knows better.
    String name = c.pod().isEmpty() && !m.containerName().isEmpty() ? m.containerName() : c.name();
    return new Container(
        c.kind(),
        c.id(),
        name,
        c.runtime(),
        c.pid(),
        c.mntnsId(),
        c.netnsId(),
        c.cgroupId(),
        c.cgroupPath(),
        c.image().or(m::image),
        c.startedAt(),
        Optional.of(pod),
        c.sandbox(),
        c.source());
  }
}
