package io.gadgetexporter.container;

import io.gadgetexporter.config.SelectorConfig;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * An instance's {@code selector:} compiled: which containers it traces, and how that becomes the
 * instance's mount-namespace filter in the kernel.
 *
 * <p>Each criterion is a list of names ({@code *} matches any run of characters); names starting
 * with {@code !} exclude. A container passes a criterion when it matches one of the inclusions (or
 * there are none) and none of the exclusions; it is selected when it passes every criterion. A
 * criterion about a value the container does not have (a namespace, for a container outside
 * Kubernetes) is failed by an inclusion and passed by exclusions only.
 */
public final class ContainerSelector {

  /** How the kernel filters; see gadget.h's gadget_mntns_filter_mode. */
  public enum FilterMode {
    /** Everything is traced; the filter map is not read. */
    OFF(0),
    /** Only the listed mount namespaces: the selected containers. */
    INCLUDE(1),
    /** All but the listed mount namespaces: the containers not selected. */
    EXCLUDE(2);

    private final int kernelValue;

    FilterMode(int kernelValue) {
      this.kernelValue = kernelValue;
    }

    /** The value of {@code gadget_mntns_filter_mode}. */
    public int kernelValue() {
      return kernelValue;
    }
  }

  public static final ContainerSelector ALL = new ContainerSelector(SelectorConfig.ALL);

  private final SelectorConfig config;
  private final Criterion namespaces;
  private final Criterion pods;
  private final Criterion containers;
  private final Map<String, String> labels;

  public ContainerSelector(SelectorConfig config) {
    this.config = config;
    this.namespaces = Criterion.of(config.namespaces());
    this.pods = Criterion.of(config.pods());
    this.containers = Criterion.of(config.containers());
    this.labels = config.labels();
  }

  /** The selector as configured. */
  public SelectorConfig config() {
    return config;
  }

  public boolean includesHost() {
    return config.includesHost();
  }

  /**
   * Including the host means listing what to leave out (host processes are in namespaces no list
   * could name); leaving it out means listing what to keep.
   */
  public FilterMode filterMode() {
    if (config.selectsEverything()) {
      return FilterMode.OFF;
    }
    return config.includesHost() ? FilterMode.EXCLUDE : FilterMode.INCLUDE;
  }

  /** Whether the selector names this container. */
  public boolean matches(Container c) {
    if (c.isHost()) {
      return includesHost();
    }
    Optional<Container.Pod> pod = c.pod();
    if (!namespaces.accepts(pod.map(Container.Pod::namespace))) {
      return false;
    }
    if (!pods.accepts(pod.map(Container.Pod::name))) {
      return false;
    }
    List<String> names = new ArrayList<>(2);
    names.add(c.name());
    pod.map(Container.Pod::containerName).filter(n -> !n.isEmpty()).ifPresent(names::add);
    if (!containers.acceptsAny(names)) {
      return false;
    }
    for (Map.Entry<String, String> l : labels.entrySet()) {
      Optional<String> value = pod.map(p -> p.labels().get(l.getKey()));
      String wanted = l.getValue();
      boolean matches =
          wanted.startsWith("!")
              ? value.map(v -> !Criterion.glob(wanted.substring(1)).matcher(v).matches()).orElse(true)
              : value.map(v -> Criterion.glob(wanted).matcher(v).matches()).orElse(false);
      if (!matches) {
        return false;
      }
    }
    return true;
  }

  /** Whether this container's mount namespace belongs in the filter map. */
  public boolean listInFilter(Container c) {
    return switch (filterMode()) {
      case OFF -> false;
      case INCLUDE -> matches(c);
      case EXCLUDE -> !matches(c);
    };
  }

  /** One list: inclusions and exclusions, as globs. */
  private record Criterion(List<Pattern> include, List<Pattern> exclude) {
    static Criterion of(List<String> names) {
      List<Pattern> include = new ArrayList<>();
      List<Pattern> exclude = new ArrayList<>();
      for (String n : names) {
        if (n.startsWith("!")) {
          exclude.add(glob(n.substring(1)));
        } else {
          include.add(glob(n));
        }
      }
      return new Criterion(include, exclude);
    }

    boolean accepts(Optional<String> value) {
      if (value.isEmpty()) {
        return include.isEmpty();
      }
      String v = value.get();
      if (exclude.stream().anyMatch(p -> p.matcher(v).matches())) {
        return false;
      }
      return include.isEmpty() || include.stream().anyMatch(p -> p.matcher(v).matches());
    }

    /** Any of the names: included by one, excluded by none (a container has two names). */
    boolean acceptsAny(List<String> names) {
      for (String v : names) {
        if (exclude.stream().anyMatch(p -> p.matcher(v).matches())) {
          return false;
        }
      }
      return include.isEmpty()
          || names.stream().anyMatch(v -> include.stream().anyMatch(p -> p.matcher(v).matches()));
    }

    static Pattern glob(String glob) {
      return Pattern.compile(
          String.join(
              ".*", Arrays.stream(glob.split("\\*", -1)).map(Pattern::quote).toList()));
    }
  }
}
