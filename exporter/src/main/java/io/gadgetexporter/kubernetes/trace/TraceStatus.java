package io.gadgetexporter.kubernetes.trace;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.util.Map;
import java.util.TreeMap;

/**
 * What each node's agent reports about a Trace, keyed by node name. Each agent writes only its own
 * key, with a JSON merge patch on the status subresource, so the agents of different nodes never
 * conflict; a node that no longer runs the Trace removes its key.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public final class TraceStatus {

  private Map<String, TraceNodeStatus> nodes = new TreeMap<>();

  public Map<String, TraceNodeStatus> getNodes() {
    return nodes;
  }

  public void setNodes(Map<String, TraceNodeStatus> nodes) {
    this.nodes = nodes == null ? new TreeMap<>() : new TreeMap<>(nodes);
  }
}
