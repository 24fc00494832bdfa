package io.gadgetexporter.kubernetes.trace;

import io.fabric8.kubernetes.client.CustomResource;
import io.fabric8.kubernetes.model.annotation.Group;
import io.fabric8.kubernetes.model.annotation.Kind;
import io.fabric8.kubernetes.model.annotation.Plural;
import io.fabric8.kubernetes.model.annotation.ShortNames;
import io.fabric8.kubernetes.model.annotation.Singular;
import io.fabric8.kubernetes.model.annotation.Version;

/**
 * A gadget instance that users start on chosen nodes through the Kubernetes API: {@code kubectl
 * apply} a Trace and the agent of every node its {@code nodeSelector} matches runs it, each agent
 * reporting under its node's name in {@code status.nodes}.
 *
 * <p>Cluster-scoped on purpose: a gadget sees every process of a node, whatever its namespace, so
 * the right to create a Trace is a node-level privilege and is granted as one (a ClusterRole). The
 * manifest is {@code charts/gadget-exporter/crds/traces.gadgetexporter.io.yaml}; {@code
 * TraceCrdTest} checks it against this model. Users' reference: {@code docs/traces.md}.
 */
@Group(Trace.GROUP)
@Version(Trace.VERSION)
@Kind("Trace")
@Plural("traces")
@Singular("trace")
@ShortNames("gxtrace")
public final class Trace extends CustomResource<TraceSpec, TraceStatus> {

  private static final long serialVersionUID = 1L;

  public static final String GROUP = "gadgetexporter.io";
  public static final String VERSION = "v1alpha1";

  /** The name of the instance a Trace runs: {@code trace/<metadata.name>}. */
  public static String instanceName(String traceName) {
    return TraceController.SOURCE_PREFIX + traceName;
  }
}
