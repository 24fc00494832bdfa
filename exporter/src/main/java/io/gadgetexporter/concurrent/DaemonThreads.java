package io.gadgetexporter.concurrent;

import java.util.concurrent.ThreadFactory;

/**
 * Threads of the agent's background work (reconcile, reloads, API watches): named, so a thread dump
 * says whose they are, and daemons, so none of them keeps the JVM alive after the agent closed.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** A factory whose every thread is a daemon called {@code name}. */
  public static ThreadFactory named(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }
}
