package io.gadgetexporter.gadget;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Where an instance's socket-filter programs run and where they could not: the packet sockets the
 * agent keeps, one per traced network namespace, as {@code /api/v1/gadgets} and the self-metrics
 * show them.
 *
 * @param namespaces the network namespaces with a socket, by inode, in order
 * @param unopened selected containers whose namespace has no socket: opening it failed, and is
 *     retried with backoff
 * @param openFailures attempts to open a socket that failed since the instance started (first
 *     tries and retries alike)
 */
public record SocketFilters(
    List<Namespace> namespaces, List<Unopened> unopened, long openFailures) {
  public SocketFilters {
    namespaces = List.copyOf(namespaces);
    unopened = List.copyOf(unopened);
  }

  /**
   * A namespace with a socket.
   *
   * @param allSelected every process the agent knows in it is selected, so a message whose process
   *     the program cannot know is kept; otherwise such a message is dropped (and counted as
   *     filtered)
   */
  public record Namespace(long netnsId, boolean allSelected) {}

  /**
   * A selected container whose namespace has no socket.
   *
   * @param netnsId its namespace as the container record says (0: unknown)
   * @param attempts how many opens failed in a row
   * @param error why the last one failed
   * @param retryIn when the next attempt is due, from when this was read
   */
  public record Unopened(
      String containerId, long netnsId, int attempts, String error, Duration retryIn) {}

  /** Namespaces that should have a socket and have none: the unopened containers' (distinct). */
  public int failedNamespaces() {
    Set<Long> known = new HashSet<>();
    int unknown = 0;
    for (Unopened u : unopened) {
      if (u.netnsId() == 0) {
        unknown++; // each counts: nothing says two of them share a namespace
      } else {
        known.add(u.netnsId());
      }
    }
    return known.size() + unknown;
  }
}
