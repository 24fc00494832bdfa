package io.gadgetexporter.agent;

import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.gadget.GadgetInstance;
import java.util.List;
import java.util.Optional;

/**
 * Starts, replaces and stops gadget instances while the agent runs. Instances come from sources
 * (the config file, each Trace resource); applying one source never touches another source's
 * instances, so their programs, counters and series carry on.
 */
public interface InstanceLifecycle {

  /** The config file's instances. */
  String CONFIG_SOURCE = "config";

  /** What an {@link #apply} did to one instance. */
  enum Change {
    ADDED,
    /** Its definition changed: the old one was stopped and the new one started. */
    RESTARTED,
    /** Only its selector changed: rewritten in the running program's filter map. */
    UPDATED,
    REMOVED,
    UNCHANGED
  }

  /**
   * @param failure why the instance is not running (the kernel refused its program), empty when
   *     it runs or was removed
   */
  record Outcome(String name, Change change, Optional<String> failure) {
    public boolean running() {
      return change != Change.REMOVED && failure.isEmpty();
    }
  }

  /**
   * Makes {@code source}'s running instances exactly {@code instances}: starts the new ones, stops
   * those no longer listed, restarts those whose definition changed and leaves the rest alone.
   *
   * <p>Every new or changed definition is checked against its gadget first; if any is invalid
   * nothing changes. An instance the kernel then refuses is reported in its outcome (and in
   * {@code /api/v1/gadgets}); the others still start.
   *
   * @throws ConfigException when a definition is invalid against its gadget, or names an instance
   *     another source runs; nothing was changed
   */
  List<Outcome> apply(String source, List<InstanceConfig> instances);

  /** The instance of that name, whatever its source, while it runs or failed to start. */
  Optional<GadgetInstance> instance(String name);
}
