package io.gadgetexporter.kubernetes.trace;

import io.gadgetexporter.agent.InstanceLifecycle;
import io.gadgetexporter.config.ConfigException;
import io.gadgetexporter.config.InstanceConfig;
import io.gadgetexporter.gadget.BootClock;
import io.gadgetexporter.gadget.Gadget;
import io.gadgetexporter.gadget.GadgetCatalog;
import io.gadgetexporter.gadget.GadgetException;
import io.gadgetexporter.gadget.GadgetInstance;
import io.gadgetexporter.gadget.EventSink;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * An {@link InstanceLifecycle} that really runs built-in gadgets, following the contract the
 * agent implements: the definitions checked against their gadgets first (nothing changes if one is
 * invalid), then unlisted instances stopped, changed ones restarted, new ones started, unchanged
 * ones left alone; one source never touches another's. It records every call.
 */
final class TestLifecycle implements InstanceLifecycle, AutoCloseable {

  private final GadgetCatalog catalog = GadgetCatalog.builtIn();
  private final Map<String, Map<String, GadgetInstance>> sources = new LinkedHashMap<>();
  private final List<String> calls = new ArrayList<>();

  @Override
  public synchronized List<Outcome> apply(String source, List<InstanceConfig> instances) {
    calls.add(source + " " + instances.stream().map(InstanceConfig::name).toList());
    Map<String, GadgetInstance> current = sources.getOrDefault(source, Map.of());
    // Check first: an invalid definition changes nothing.
    Map<String, GadgetInstance> prepared = new LinkedHashMap<>();
    List<ConfigException.Problem> problems = new ArrayList<>();
    for (InstanceConfig ic : instances) {
      sources.forEach(
          (other, running) -> {
            if (!other.equals(source) && running.containsKey(ic.name())) {
              problems.add(ic.problem("instance '" + ic.name() + "' is run by " + other));
            }
          });
      GadgetInstance existing = current.get(ic.name());
      if (existing != null && existing.config().equals(ic)) {
        continue;
      }
      try {
        Gadget gadget =
            catalog
                .find(ic.gadget())
                .orElseThrow(() -> ic.gadgetError("unknown gadget '" + ic.gadget() + "'"));
        prepared.put(ic.name(), new GadgetInstance(ic, gadget, EventSink.NONE, BootClock.system()));
      } catch (ConfigException e) {
        problems.addAll(e.problems());
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(problems);
    }
    List<Outcome> outcomes = new ArrayList<>();
    Map<String, GadgetInstance> next = new LinkedHashMap<>();
    for (Map.Entry<String, GadgetInstance> e : current.entrySet()) {
      boolean listed = instances.stream().anyMatch(ic -> ic.name().equals(e.getKey()));
      if (!listed) {
        e.getValue().close();
        outcomes.add(new Outcome(e.getKey(), Change.REMOVED, Optional.empty()));
      } else if (prepared.containsKey(e.getKey())) {
        e.getValue().close();
      }
    }
    for (InstanceConfig ic : instances) {
      GadgetInstance fresh = prepared.get(ic.name());
      if (fresh == null) {
        next.put(ic.name(), current.get(ic.name()));
        outcomes.add(new Outcome(ic.name(), Change.UNCHANGED, Optional.empty()));
        continue;
      }
      Change change = current.containsKey(ic.name()) ? Change.RESTARTED : Change.ADDED;
      Optional<String> failure = Optional.empty();
      try {
        fresh.start();
      } catch (GadgetException e) {
        failure = Optional.of(e.getMessage());
      }
      next.put(ic.name(), fresh);
      outcomes.add(new Outcome(ic.name(), change, failure));
    }
    if (next.isEmpty()) {
      sources.remove(source);
    } else {
      sources.put(source, next);
    }
    return outcomes;
  }

  @Override
  public synchronized Optional<GadgetInstance> instance(String name) {
    return sources.values().stream()
        .map(m -> m.get(name))
        .filter(i -> i != null)
        .findFirst();
  }

  /** Every apply, as {@code source [names]}, in order. */
  synchronized List<String> calls() {
    return List.copyOf(calls);
  }

  /** The instance names each source runs. */
  synchronized Map<String, List<String>> sources() {
    Map<String, List<String>> copy = new LinkedHashMap<>();
    sources.forEach((s, m) -> copy.put(s, List.copyOf(m.keySet())));
    return copy;
  }

  @Override
  public synchronized void close() {
    sources.values().forEach(m -> m.values().forEach(GadgetInstance::close));
    sources.clear();
  }
}
