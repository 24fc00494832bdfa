package io.gadgetexporter.gadget;

import io.gadgetexporter.bpf.BpfException;
import io.gadgetexporter.bpf.BpfMap;
import io.gadgetexporter.container.Container;
import io.gadgetexporter.container.ContainerCollection;
import io.gadgetexporter.container.ContainerSelector;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.logging.Logger;

/**
 * Keeps one instance's mount-namespace filter map equal to what its selector says of the running
 * containers: written when a container starts or stops, and rewritten when the selector changes.
 * The kernel then drops unselected events before they cost userspace anything.
 *
 * <p>Lock order: the collection's lock, then this one (notifications arrive under the
 * collection's lock; {@link #reselect} takes it first).
 */
final class SelectorFilter implements ContainerCollection.Listener {
  private static final Logger logger = Logger.getLogger(SelectorFilter.class.getName());
  private static final byte[] PRESENT = {1};
  private static final int E2BIG = 7;

  private final String instanceName;
  private final BpfMap map;
  private final ContainerCollection collection;
  private volatile ContainerSelector selector;
  private final Set<Long> listed = new HashSet<>(); // guarded by this
  private long mapFull; // guarded by this

  SelectorFilter(
      String instanceName, BpfMap map, ContainerCollection collection, ContainerSelector selector) {
    this.instanceName = instanceName;
    this.map = map;
    this.collection = collection;
    this.selector = selector;
  }

  /** Lists the running containers the selector asks for, then follows the collection. */
  void start() {
    // Under the collection's lock, so no change can be heard before the first list is written
    // and then be overwritten by it (the pod informer's first sync re-enriches at any moment).
    collection.withContainers(
        running -> {
          collection.subscribe(this);
          synchronized (this) {
            apply(running);
          }
        });
  }

  void close() {
    collection.unsubscribe(this);
  }

  /**
   * Applies a new selector with the same filter mode (the mode is fixed when the program loads).
   */
  void reselect(ContainerSelector next) {
    if (next.filterMode() != selector.filterMode()) {
      throw new IllegalArgumentException(
          "the new selector needs filter mode "
              + next.filterMode()
              + " but the instance was loaded with "
              + selector.filterMode()
              + " (whether host processes are traced changed): restart the instance");
    }
    collection.withContainers(
        running -> {
          synchronized (this) {
            selector = next;
            apply(running);
          }
        });
  }

  ContainerSelector selector() {
    return selector;
  }

  synchronized int entries() {
    return listed.size();
  }

  /** Containers the map had no room for: they are traced wrongly (counted, logged). */
  synchronized long mapFull() {
    return mapFull;
  }

  @Override
  public synchronized void added(Container container) {
    if (selector.listInFilter(container)) {
      put(container.mntnsId());
    }
  }

  @Override
  public synchronized void removed(Container container) {
    if (listed.remove(container.mntnsId())) {
      map.delete(key(container.mntnsId()));
    }
  }

  /**
   * The container's metadata changed (its pod's labels arrived from the API server): listed or
   * unlisted in one step, so a selected container's events are never dropped in between.
   */
  @Override
  public synchronized void changed(Container before, Container after) {
    if (before.mntnsId() != after.mntnsId()) {
      removed(before);
      added(after);
      return;
    }
    if (selector.listInFilter(after)) {
      put(after.mntnsId());
    } else if (listed.remove(after.mntnsId())) {
      map.delete(key(after.mntnsId()));
    }
  }

  private void apply(List<Container> running) {
    Set<Long> wanted = new HashSet<>();
    for (Container c : running) {
      if (selector.listInFilter(c) && c.mntnsId() != 0) {
        wanted.add(c.mntnsId());
      }
    }
    for (Long id : Set.copyOf(listed)) {
      if (!wanted.contains(id)) {
        listed.remove(id);
        map.delete(key(id));
      }
    }
    for (Long id : wanted) {
      if (!listed.contains(id)) {
        put(id);
      }
    }
  }

  private void put(long mntnsId) {
    if (mntnsId == 0 || listed.contains(mntnsId)) {
      return;
    }
    try {
      map.update(key(mntnsId), PRESENT, BpfMap.ANY);
      listed.add(mntnsId);
    } catch (BpfException e) {
      if (e.errno() != E2BIG) {
        throw e;
      }
      if (mapFull++ == 0) {
        logger.warning(
            "instance '"
                + instanceName
                + "': its mount-namespace filter map is full ("
                + map.maxEntries()
                + " entries); containers beyond it are filtered wrongly");
      }
    }
  }

  private static byte[] key(long mntnsId) {
    return ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(mntnsId).array();
  }
}
