package io.gadgetexporter.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.snakeyaml.engine.v2.common.ScalarStyle;
import org.snakeyaml.engine.v2.nodes.MappingNode;
import org.snakeyaml.engine.v2.nodes.Node;
import org.snakeyaml.engine.v2.nodes.NodeTuple;
import org.snakeyaml.engine.v2.nodes.ScalarNode;
import org.snakeyaml.engine.v2.nodes.SequenceNode;
import org.snakeyaml.engine.v2.nodes.Tag;

/**
 * Walks the composed YAML node tree into an {@link AgentConfig}, recording every problem it meets
 * instead of stopping at the first, and throws them all together at the end.
 *
 * <p>Working on nodes rather than on the maps snakeyaml would construct keeps each value's
 * position, lets duplicate keys be reported where they are, and lets {@code ${ENV}} interpolation
 * happen before a scalar is typed, so {@code max_args: ${MAX_ARGS:-20}} is the number 20.
 *
 * <p>One reader reads one document; it is not reusable.
 */
final class ConfigReader {

  private static final Pattern INSTANCE_NAME = Pattern.compile("[a-z0-9][a-z0-9_-]*");
  private static final int INSTANCE_NAME_MAX_LENGTH = 63;
  private static final String INSTANCE_NAME_RULE =
      "lowercase letters, digits, '_' and '-', starting with a letter or digit, at most "
          + INSTANCE_NAME_MAX_LENGTH
          + " characters";

  /** The largest file read at load (a certificate chain, a key, a token). */
  private static final long MAX_FILE_BYTES = 1 << 20;

  /** A scalar value, after interpolation. {@code plain}: unquoted, so YAML gives it a type. */
  private record Scalar(String text, boolean plain, ConfigLocation location) {}

  /** Where an instance name was taken, to point at both uses of a duplicate. */
  private record NameUse(String keyPath, ConfigLocation location, boolean defaulted) {}

  private final String file;
  private final Interpolation interpolation;
  private final Map<String, String> environment;
  private final Supplier<List<InstanceConfig>> defaultGadgets;
  private final List<ConfigException.Problem> problems = new ArrayList<>();
  private final Map<String, NameUse> instanceNames = new HashMap<>();

  /**
   * @param defaultGadgets the instances to run when the file has no {@code gadgets} key
   */
  ConfigReader(
      String file, Map<String, String> environment, Supplier<List<InstanceConfig>> defaultGadgets) {
    this.file = file;
    this.interpolation = new Interpolation(environment);
    this.environment = environment;
    this.defaultGadgets = defaultGadgets;
  }

  /**
   * @param document the composed document, or empty for a file with no content (all defaults)
   * @throws ConfigException with every problem found, in document order
   */
  AgentConfig read(Optional<Node> document) {
    Map<ConfigKey, Node> keys =
        document.isEmpty() ? Map.of() : mapping(document.get(), "", ConfigKey.ROOT);
    HttpConfig http = readHttp(keys.get(ConfigKey.HTTP));
    ContainersConfig containers = readContainers(keys.get(ConfigKey.CONTAINERS));
    Node gadgetsNode = keys.get(ConfigKey.GADGETS);
    List<InstanceConfig> gadgets =
        gadgetsNode == null ? defaultGadgets.get() : readGadgets(gadgetsNode);
    OtlpConfig otlp = readOtlp(keys.get(ConfigKey.OTLP));
    ResourceConfig resource = readResource(keys.get(ConfigKey.RESOURCE));
    MetricsConfig metrics = readMetricsSettings(keys.get(ConfigKey.METRICS));
    List<RedactionRule> redact = readRedact(keys.get(ConfigKey.REDACT), ConfigKey.REDACT.path());
    KubernetesConfig kubernetes = readKubernetes(keys.get(ConfigKey.KUBERNETES), resource);
    if (!containers.enabled()) {
      for (InstanceConfig g : gadgets) {
        if (!g.selector().selectsEverything()) {
          problem(
              g.selector().location(),
              join(g.keyPath(), ConfigKey.SELECTOR.leaf()),
              "selects containers, but container discovery is off (containers.enabled: false);"
                  + " turn it on or remove the selector");
        }
      }
    }
    throwIfProblems();
    return new AgentConfig(
        file, http, containers, gadgets, otlp, resource, metrics, redact, kubernetes);
  }

  /**
   * Reads one instance mapping written with the keys of a {@code gadgets[]} entry, named from
   * outside (a Trace resource's name) rather than by a {@code name} key.
   *
   * @param keyPath where the mapping sits in its source, for messages ({@code spec})
   * @throws ConfigException with every problem found
   */
  InstanceConfig readSingleInstance(Optional<Node> document, String keyPath, String name) {
    if (document.isEmpty()) {
      problem(ConfigLocation.wholeFile(file), keyPath, "is empty; expected at least 'gadget'");
      throwIfProblems();
    }
    Node node = document.get();
    // Keys of a config file's instance that a Trace's spec leaves out, and why.
    Map<String, String> notHere =
        Map.of(
            ConfigKey.NAME.leaf(),
            "is not set here: the instance is named '" + name + "' after its resource",
            ConfigKey.INSTANCE_OPTIONAL.leaf(),
            "is not set here: a Trace's instance never stops the agent; when the kernel refuses"
                + " its gadget, the Trace's status says why");
    if (node instanceof MappingNode mapping) {
      for (NodeTuple t : mapping.getValue()) {
        if (t.getKeyNode() instanceof ScalarNode key && notHere.containsKey(key.getValue())) {
          problem(key, join(keyPath, key.getValue()), notHere.get(key.getValue()));
        }
      }
    }
    Optional<InstanceConfig> read = readInstance(node, keyPath);
    throwIfProblems();
    InstanceConfig ic = read.orElseThrow();
    return new InstanceConfig(
        name,
        ic.gadget(),
        ic.params(),
        ic.selector(),
        ic.ringBuffer(),
        ic.logs(),
        ic.metrics(),
        ic.redact(),
        ic.optional(),
        ic.keyPath(),
        ic.location(),
        ic.gadgetLocation());
  }

  private void throwIfProblems() {
    if (!problems.isEmpty()) {
      problems.sort(
          Comparator.comparingInt((ConfigException.Problem p) -> p.location().line())
              .thenComparingInt(p -> p.location().column()));
      throw new ConfigException(problems);
    }
  }

  // ---- the sections -----------------------------------------------------------------------

  private HttpConfig readHttp(Node node) {
    if (node == null) {
      return HttpConfig.DEFAULT;
    }
    String keyPath = ConfigKey.HTTP.path();
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, ConfigKey.HTTP.path());
    HttpConfig listen =
        value(
                keys,
                ConfigKey.HTTP_LISTEN,
                keyPath,
                "host:port",
                HttpConfig::parseListen,
                l -> Optional.empty()) // parseListen has checked everything
            .orElse(HttpConfig.DEFAULT);
    Optional<HttpConfig.Tls> tls = readTls(keys.get(ConfigKey.HTTP_TLS));
    Optional<String> token = readBearerToken(keys, keyPath);
    Optional<Path> socket =
        value(
            keys,
            ConfigKey.HTTP_UNIX_SOCKET,
            keyPath,
            "a path",
            this::fromConfigDirectory,
            HttpConfig::unixSocketProblem);
    long queue =
        value(
                keys,
                ConfigKey.HTTP_STREAM_QUEUE_EVENTS,
                keyPath,
                "a whole number",
                ConfigReader::wholeNumber,
                HttpConfig::streamQueueEventsProblem)
            .orElse((long) HttpConfig.DEFAULT_STREAM_QUEUE_EVENTS);
    if (problems.size() > problemsBefore) {
      return HttpConfig.DEFAULT;
    }
    return new HttpConfig(listen.host(), listen.port(), tls, token, socket, (int) queue);
  }

  /** Empty when absent or wrong (the problem is recorded). */
  private Optional<HttpConfig.Tls> readTls(Node node) {
    if (node == null) {
      return Optional.empty();
    }
    String keyPath = ConfigKey.HTTP_TLS.path();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, keyPath);
    Optional<Path> cert = pemFile(keys, ConfigKey.HTTP_TLS_CERT_FILE, keyPath, Pem.CERTIFICATE);
    Optional<Path> key = pemFile(keys, ConfigKey.HTTP_TLS_KEY_FILE, keyPath, Pem.PRIVATE_KEY);
    Optional<Path> clientCa =
        pemFile(keys, ConfigKey.HTTP_TLS_CLIENT_CA_FILE, keyPath, Pem.CERTIFICATE);
    boolean clientCaWrong =
        keys.containsKey(ConfigKey.HTTP_TLS_CLIENT_CA_FILE) && clientCa.isEmpty();
    if (cert.isEmpty() || key.isEmpty() || clientCaWrong) {
      return Optional.empty();
    }
    return Optional.of(new HttpConfig.Tls(cert.get(), key.get(), clientCa));
  }

  /** What a PEM file must hold; checked at load so a wrong file is reported at its key. */
  private enum Pem {
    CERTIFICATE(
        Pattern.compile("-----BEGIN CERTIFICATE-----"),
        "holds no PEM certificate (a -----BEGIN CERTIFICATE----- block)"),
    PRIVATE_KEY(
        Pattern.compile("-----BEGIN (RSA |EC )?PRIVATE KEY-----"),
        "holds no PEM private key (a -----BEGIN PRIVATE KEY-----, RSA PRIVATE KEY or EC PRIVATE"
            + " KEY block)");

    final Pattern block;
    final String missing;

    Pem(Pattern block, String missing) {
      this.block = block;
      this.missing = missing;
    }
  }

  private Optional<Path> pemFile(
      Map<ConfigKey, Node> keys, ConfigKey key, String sectionKeyPath, Pem kind) {
    Node node = keys.get(key);
    if (node == null) {
      return Optional.empty();
    }
    String keyPath = join(sectionKeyPath, key.leaf());
    Optional<FileValue> file = fileValue(node, keyPath, "a path to a PEM file");
    Optional<String> content = file.flatMap(f -> fileContent(f, keyPath));
    if (content.isEmpty()) {
      return Optional.empty();
    }
    if (content.get().contains("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
      problem(
          node,
          keyPath,
          file.get().shown()
              + " holds an encrypted private key, which the agent cannot use; decrypt it and"
              + " protect the file instead (mode 0600, or a Kubernetes Secret)");
      return Optional.empty();
    }
    if (!kind.block.matcher(content.get()).find()) {
      problem(node, keyPath, file.get().shown() + " " + kind.missing);
      return Optional.empty();
    }
    return Optional.of(file.get().path());
  }

  /**
   * {@code bearer_token} or {@code bearer_token_file} (whose content, trimmed, is the token, as
   * Kubernetes mounts a Secret). Empty when neither is set or one is wrong.
   */
  private Optional<String> readBearerToken(Map<ConfigKey, Node> keys, String sectionKeyPath) {
    Node valueNode = keys.get(ConfigKey.HTTP_BEARER_TOKEN);
    Node fileNode = keys.get(ConfigKey.HTTP_BEARER_TOKEN_FILE);
    if (valueNode != null && fileNode != null) {
      // Reported at the one written second: the first looked fine until then.
      boolean fileSecond =
          Comparator.comparingInt(ConfigLocation::line)
                  .thenComparingInt(ConfigLocation::column)
                  .compare(location(fileNode), location(valueNode))
              > 0;
      ConfigKey second =
          fileSecond ? ConfigKey.HTTP_BEARER_TOKEN_FILE : ConfigKey.HTTP_BEARER_TOKEN;
      problem(
          fileSecond ? fileNode : valueNode,
          join(sectionKeyPath, second.leaf()),
          "set either bearer_token or bearer_token_file, not both");
      return Optional.empty();
    }
    if (valueNode != null) {
      String keyPath = join(sectionKeyPath, ConfigKey.HTTP_BEARER_TOKEN.leaf());
      return scalar(valueNode, keyPath, "the token, e.g. ${GX_TOKEN}")
          .map(Scalar::text)
          .filter(t -> check(valueNode, keyPath, HttpConfig.bearerTokenProblem(t)));
    }
    if (fileNode != null) {
      String keyPath = join(sectionKeyPath, ConfigKey.HTTP_BEARER_TOKEN_FILE.leaf());
      Optional<FileValue> file = fileValue(fileNode, keyPath, "a path to a file holding the token");
      return file.flatMap(f -> fileContent(f, keyPath))
          .map(String::strip)
          .filter(
              t ->
                  check(
                      fileNode,
                      keyPath,
                      HttpConfig.bearerTokenProblem(t).map(m -> file.get().shown() + " " + m)));
    }
    return Optional.empty();
  }

  /**
   * A small file the agent needs at start (a certificate, a key, a token), read now: a missing or
   * unreadable one is a configuration error at its key, not a failure after the gadgets attached.
   * Read as ISO-8859-1, which decodes any byte: the callers check the content themselves.
   */
  private Optional<String> fileContent(FileValue file, String keyPath) {
    Path path = file.path();
    String shown = file.shown();
    ConfigLocation at = file.scalar().location();
    try {
      if (Files.isDirectory(path)) {
        problem(at, keyPath, shown + " is a directory; expected a file");
        return Optional.empty();
      }
      if (Files.size(path) > MAX_FILE_BYTES) {
        problem(at, keyPath, shown + " is larger than 1MiB; expected a small text file");
        return Optional.empty();
      }
      return Optional.of(Files.readString(path, StandardCharsets.ISO_8859_1));
    } catch (NoSuchFileException e) {
      problem(at, keyPath, shown + " does not exist");
    } catch (AccessDeniedException e) {
      problem(at, keyPath, shown + " cannot be read: permission denied");
    } catch (IOException e) {
      problem(at, keyPath, shown + " cannot be read: " + e.getMessage());
    }
    return Optional.empty();
  }

  /** A path value: as written, and resolved. */
  private record FileValue(Scalar scalar, Path path) {
    /** The path as written, and where it leads when that is elsewhere (a relative path). */
    String shown() {
      return path.toString().equals(scalar.text())
          ? "'" + scalar.text() + "'"
          : "'" + scalar.text() + "' (" + path + ")";
    }
  }

  private Optional<FileValue> fileValue(Node node, String keyPath, String expected) {
    Optional<Scalar> s = scalar(node, keyPath, expected);
    try {
      return s.map(v -> new FileValue(v, fromConfigDirectory(v.text())));
    } catch (IllegalArgumentException e) {
      problem(node, keyPath, e.getMessage());
      return Optional.empty();
    }
  }

  /**
   * A relative path is taken from the directory of the config file, as a gadget directory is, so a
   * config and the files it names can move together.
   */
  private Path fromConfigDirectory(String text) {
    if (text.isBlank()) {
      throw new IllegalArgumentException("is empty; expected a path");
    }
    Path path = Path.of(text);
    return path.isAbsolute()
        ? path.normalize()
        : Path.of(file).toAbsolutePath().getParent().resolve(path).normalize();
  }

  private static long wholeNumber(String text) {
    if (!text.matches("[0-9]{1,9}")) {
      throw new IllegalArgumentException("'" + text + "' is not a whole number");
    }
    return Long.parseLong(text);
  }

  private ContainersConfig readContainers(Node node) {
    if (node == null) {
      return ContainersConfig.DEFAULT;
    }
    String keyPath = ConfigKey.CONTAINERS.path();
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, keyPath);
    ContainersConfig d = ContainersConfig.DEFAULT;
    boolean enabled = bool(keys, ConfigKey.CONTAINERS_ENABLED, keyPath).orElse(d.enabled());
    boolean hook = bool(keys, ConfigKey.CONTAINERS_RUNTIME_HOOK, keyPath).orElse(d.runtimeHook());
    List<Path> runtimePaths =
        absolutePaths(keys.get(ConfigKey.CONTAINERS_RUNTIME_PATHS), keyPath, ConfigKey.CONTAINERS_RUNTIME_PATHS);
    List<Path> stateDirs =
        absolutePaths(
            keys.get(ConfigKey.CONTAINERS_RUNTIME_STATE_DIRS),
            keyPath,
            ConfigKey.CONTAINERS_RUNTIME_STATE_DIRS);
    Path hostRoot =
        value(
                keys,
                ConfigKey.CONTAINERS_HOST_ROOT,
                keyPath,
                "an absolute path",
                Path::of,
                p -> p.isAbsolute() ? Optional.empty() : Optional.of("must be an absolute path"))
            .orElse(d.hostRoot());
    Duration reconcile =
        value(
                keys,
                ConfigKey.CONTAINERS_RECONCILE_INTERVAL,
                keyPath,
                "a duration such as 2s",
                Units::parseDuration,
                ContainersConfig::intervalProblem)
            .orElse(d.reconcileInterval());
    Duration grace =
        value(
                keys,
                ConfigKey.CONTAINERS_EXITED_GRACE_PERIOD,
                keyPath,
                "a duration such as 10s",
                Units::parseDuration,
                ContainersConfig::gracePeriodProblem)
            .orElse(d.exitedGracePeriod());
    Duration hookTimeout =
        value(
                keys,
                ConfigKey.CONTAINERS_HOOK_TIMEOUT,
                keyPath,
                "a duration such as 2s",
                Units::parseDuration,
                ContainersConfig::hookTimeoutProblem)
            .orElse(d.hookTimeout());
    if (problems.size() > problemsBefore) {
      return d;
    }
    return new ContainersConfig(
        enabled, hook, runtimePaths, stateDirs, hostRoot, reconcile, grace, hookTimeout);
  }

  // ---- export -------------------------------------------------------------------------------

  /**
   * The file's keys first, then the standard OTEL_EXPORTER_OTLP_* variables, then defaults. A bad
   * variable is reported by its name, since it has no place in the file.
   */
  private OtlpConfig readOtlp(Node node) {
    String keyPath = ConfigKey.OTLP.path();
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = node == null ? Map.of() : mapping(node, keyPath, keyPath);
    OtlpConfig d = OtlpConfig.NONE;
    Optional<String> endpoint =
        value(keys, ConfigKey.OTLP_ENDPOINT, keyPath, "a URL", String::strip, OtlpConfig::endpointProblem)
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", String::strip, OtlpConfig::endpointProblem));
    Optional<String> logsEndpoint =
        fromEnvironment("OTEL_EXPORTER_OTLP_LOGS_ENDPOINT", String::strip, OtlpConfig::endpointProblem);
    Optional<String> metricsEndpoint =
        fromEnvironment(
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", String::strip, OtlpConfig::endpointProblem);
    OtlpConfig.Protocol protocol =
        value(keys, ConfigKey.OTLP_PROTOCOL, keyPath, "http/protobuf or grpc", OtlpConfig.Protocol::parse, p -> Optional.empty())
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", OtlpConfig.Protocol::parse, p -> Optional.empty()))
            .orElse(d.protocol());
    Map<String, String> headers = new LinkedHashMap<>();
    fromEnvironment("OTEL_EXPORTER_OTLP_HEADERS", ConfigReader::parseHeaders, h -> Optional.empty())
        .ifPresent(headers::putAll);
    headers.putAll(stringMap(keys.get(ConfigKey.OTLP_HEADERS), join(keyPath, ConfigKey.OTLP_HEADERS.leaf())));
    boolean gzip =
        value(keys, ConfigKey.OTLP_COMPRESSION, keyPath, "gzip or none", ConfigReader::parseCompression, c -> Optional.empty())
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_COMPRESSION", ConfigReader::parseCompression, c -> Optional.empty()))
            .orElse(d.gzip());
    Duration timeout =
        value(keys, ConfigKey.OTLP_TIMEOUT, keyPath, "a duration such as 10s", Units::parseDuration, OtlpConfig::positiveDurationProblem)
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_TIMEOUT", ConfigReader::parseMillis, OtlpConfig::positiveDurationProblem))
            .orElse(d.timeout());
    Map<ConfigKey, Node> tls =
        keys.containsKey(ConfigKey.OTLP_TLS)
            ? mapping(keys.get(ConfigKey.OTLP_TLS), ConfigKey.OTLP_TLS.path(), ConfigKey.OTLP_TLS.path())
            : Map.of();
    String tlsPath = ConfigKey.OTLP_TLS.path();
    Optional<Path> ca =
        readableFile(tls, ConfigKey.OTLP_TLS_CA_FILE, tlsPath)
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_CERTIFICATE", Path::of, ConfigReader::unreadable));
    Optional<Path> cert =
        readableFile(tls, ConfigKey.OTLP_TLS_CERT_FILE, tlsPath)
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE", Path::of, ConfigReader::unreadable));
    Optional<Path> key =
        readableFile(tls, ConfigKey.OTLP_TLS_KEY_FILE, tlsPath)
            .or(() -> fromEnvironment("OTEL_EXPORTER_OTLP_CLIENT_KEY", Path::of, ConfigReader::unreadable));
    if (cert.isPresent() != key.isPresent() && problems.size() == problemsBefore) {
      problem(
          node == null ? ConfigLocation.wholeFile(file) : location(keys.getOrDefault(ConfigKey.OTLP_TLS, node)),
          tlsPath,
          "a client certificate needs both cert_file and key_file");
    }
    Duration metricsInterval =
        value(keys, ConfigKey.OTLP_METRICS_INTERVAL, keyPath, "a duration such as 30s", Units::parseDuration, OtlpConfig::positiveDurationProblem)
            .or(() -> fromEnvironment("OTEL_METRIC_EXPORT_INTERVAL", ConfigReader::parseMillis, OtlpConfig::positiveDurationProblem))
            .orElse(d.metricsInterval());
    int queue =
        integer(keys, ConfigKey.OTLP_LOGS_QUEUE_SIZE, keyPath, 1, 1 << 20).orElse(d.logsQueueSize());
    int batch =
        integer(keys, ConfigKey.OTLP_LOGS_BATCH_SIZE, keyPath, 1, 1 << 16).orElse(d.logsBatchSize());
    Duration logsInterval =
        value(keys, ConfigKey.OTLP_LOGS_INTERVAL, keyPath, "a duration such as 1s", Units::parseDuration, OtlpConfig::positiveDurationProblem)
            .orElse(d.logsInterval());
    if (problems.size() > problemsBefore) {
      return d;
    }
    return new OtlpConfig(
        endpoint, logsEndpoint, metricsEndpoint, protocol, headers, gzip, timeout, ca, cert, key,
        metricsInterval, queue, Math.min(batch, queue), logsInterval);
  }

  private ResourceConfig readResource(Node node) {
    String keyPath = ConfigKey.RESOURCE.path();
    Map<ConfigKey, Node> keys = node == null ? Map.of() : mapping(node, keyPath, keyPath);
    String serviceName =
        nonBlank(keys, ConfigKey.RESOURCE_SERVICE_NAME, keyPath)
            .or(() -> Optional.ofNullable(environment.get("OTEL_SERVICE_NAME")).filter(s -> !s.isBlank()))
            .orElse(ResourceConfig.DEFAULT_SERVICE_NAME);
    Optional<String> nodeName =
        nonBlank(keys, ConfigKey.RESOURCE_NODE_NAME, keyPath)
            .or(() -> Optional.ofNullable(environment.get("NODE_NAME")).filter(s -> !s.isBlank()));
    Optional<String> clusterName = nonBlank(keys, ConfigKey.RESOURCE_CLUSTER_NAME, keyPath);
    Map<String, String> attributes = new LinkedHashMap<>();
    fromEnvironment("OTEL_RESOURCE_ATTRIBUTES", ConfigReader::parseHeaders, a -> Optional.empty())
        .ifPresent(attributes::putAll);
    attributes.putAll(
        stringMap(keys.get(ConfigKey.RESOURCE_ATTRIBUTES), join(keyPath, ConfigKey.RESOURCE_ATTRIBUTES.leaf())));
    return new ResourceConfig(serviceName, nodeName, clusterName, attributes);
  }

  private MetricsConfig readMetricsSettings(Node node) {
    if (node == null) {
      return MetricsConfig.DEFAULT;
    }
    String keyPath = ConfigKey.METRICS.path();
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, keyPath);
    MetricsConfig d = MetricsConfig.DEFAULT;
    int maxSeries = integer(keys, ConfigKey.METRICS_MAX_SERIES, keyPath, 2, 1_000_000).orElse(d.maxSeries());
    List<String> containerLabels =
        keys.containsKey(ConfigKey.METRICS_CONTAINER_LABELS)
            ? checkedStrings(keys.get(ConfigKey.METRICS_CONTAINER_LABELS), join(keyPath, ConfigKey.METRICS_CONTAINER_LABELS.leaf()), MetricsConfig::containerLabelProblem)
            : d.containerLabels();
    Duration ttl =
        value(keys, ConfigKey.METRICS_DELETED_CONTAINER_TTL, keyPath, "a duration such as 5m", Units::parseDuration, MetricsConfig::ttlProblem)
            .orElse(d.deletedContainerTtl());
    boolean bpfStats = bool(keys, ConfigKey.METRICS_BPF_STATS, keyPath).orElse(d.bpfStats());
    if (problems.size() > problemsBefore) {
      return d;
    }
    return new MetricsConfig(maxSeries, containerLabels, ttl, bpfStats);
  }

  /**
   * {@code kubernetes:}. Whether the API is used is settled here, so that a missing node name is a
   * configuration error at start (and in {@code check}), not a surprise later.
   */
  private KubernetesConfig readKubernetes(Node node, ResourceConfig resource) {
    String keyPath = ConfigKey.KUBERNETES.path();
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = node == null ? Map.of() : mapping(node, keyPath, keyPath);
    KubernetesConfig d = KubernetesConfig.OFF;
    KubernetesConfig.Mode mode =
        value(keys, ConfigKey.KUBERNETES_ENABLED, keyPath, "auto, true or false", KubernetesConfig.Mode::parse, m -> Optional.empty())
            .orElse(KubernetesConfig.Mode.AUTO);
    Optional<Path> kubeconfig = readableFile(keys, ConfigKey.KUBERNETES_KUBECONFIG, keyPath);
    Optional<String> nodeName =
        nonBlank(keys, ConfigKey.KUBERNETES_NODE_NAME, keyPath).or(resource::nodeName);
    Duration syncTimeout =
        value(keys, ConfigKey.KUBERNETES_SYNC_TIMEOUT, keyPath, "a duration such as 30s", Units::parseDuration, KubernetesConfig::syncTimeoutProblem)
            .orElse(d.syncTimeout());
    List<String> podLabels =
        keys.containsKey(ConfigKey.KUBERNETES_POD_LABELS)
            ? checkedStrings(keys.get(ConfigKey.KUBERNETES_POD_LABELS), join(keyPath, ConfigKey.KUBERNETES_POD_LABELS.leaf()), KubernetesConfig::keyPatternProblem)
            : d.podLabels();
    List<String> podAnnotations =
        checkedStrings(keys.get(ConfigKey.KUBERNETES_POD_ANNOTATIONS), join(keyPath, ConfigKey.KUBERNETES_POD_ANNOTATIONS.leaf()), KubernetesConfig::keyPatternProblem);
    boolean traces = bool(keys, ConfigKey.KUBERNETES_TRACES, keyPath).orElse(d.traces());
    Duration traceStatusInterval =
        value(keys, ConfigKey.KUBERNETES_TRACE_STATUS_INTERVAL, keyPath, "a duration such as 30s", Units::parseDuration, KubernetesConfig::traceStatusIntervalProblem)
            .orElse(d.traceStatusInterval());
    if (problems.size() > problemsBefore) {
      return d;
    }
    String serviceHost = environment.getOrDefault("KUBERNETES_SERVICE_HOST", "");
    boolean enabled;
    String why;
    switch (mode) {
      case FALSE -> {
        enabled = false;
        why = "kubernetes.enabled is false";
      }
      case TRUE -> {
        enabled = true;
        why = "kubernetes.enabled is true";
      }
      default -> {
        if (kubeconfig.isPresent()) {
          enabled = true;
          why = "kubernetes.enabled is auto and kubernetes.kubeconfig is set";
        } else if (serviceHost.isBlank()) {
          enabled = false;
          why = "kubernetes.enabled is auto and this is not a cluster (KUBERNETES_SERVICE_HOST is not set)";
        } else if (!Files.isRegularFile(KubernetesConfig.SERVICE_ACCOUNT_TOKEN)) {
          enabled = false;
          why =
              "kubernetes.enabled is auto and KUBERNETES_SERVICE_HOST is set, but no service-account"
                  + " token is mounted at "
                  + KubernetesConfig.SERVICE_ACCOUNT_TOKEN;
        } else {
          enabled = true;
          why = "kubernetes.enabled is auto and this is a cluster (KUBERNETES_SERVICE_HOST is set, a service-account token is mounted)";
        }
      }
    }
    if (enabled && nodeName.isEmpty()) {
      Node at = keys.getOrDefault(ConfigKey.KUBERNETES_ENABLED, node);
      problem(
          at == null ? ConfigLocation.wholeFile(file) : location(at),
          join(keyPath, ConfigKey.KUBERNETES_NODE_NAME.leaf()),
          "is not set, nor resource.node_name, nor $NODE_NAME: the agent watches only the pods of"
              + " its node and needs its name ("
              + why
              + "). In a DaemonSet, set NODE_NAME from the downward API: env: [{name: NODE_NAME,"
              + " valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]");
      return d;
    }
    return new KubernetesConfig(
        mode, enabled, why, kubeconfig, nodeName, syncTimeout, podLabels, podAnnotations, traces,
        traceStatusInterval);
  }

  /**
   * A list of strings, each stripped and kept when {@code rule} finds no problem with it (label or
   * annotation key patterns, container label names); each problem reported at its item.
   */
  private List<String> checkedStrings(
      Node node, String keyPath, Function<String, Optional<String>> rule) {
    List<String> values = new ArrayList<>();
    for (Scalar s : stringList(node, keyPath)) {
      String text = s.text().strip();
      if (check(s.location(), keyPath, rule.apply(text))) {
        values.add(text);
      }
    }
    return values;
  }

  /** Redaction rules: a list of {field, pattern, replacement}. */
  private List<RedactionRule> readRedact(Node node, String keyPath) {
    List<RedactionRule> rules = new ArrayList<>();
    if (node == null || isNull(node)) {
      return rules;
    }
    if (!(node instanceof SequenceNode list)) {
      problem(node, keyPath, "expected a list of rules (field, pattern, replacement), got " + describe(node));
      return rules;
    }
    // The same rule shape at the top level and in an instance, each with its own keys.
    boolean inInstance = keyPath.startsWith("gadgets[");
    ConfigKey listKey = inInstance ? ConfigKey.INSTANCE_REDACT : ConfigKey.REDACT;
    String section = listKey.path() + "[]";
    ConfigKey fieldKey = inInstance ? ConfigKey.INSTANCE_REDACT_FIELD : ConfigKey.REDACT_FIELD;
    ConfigKey patternKey = inInstance ? ConfigKey.INSTANCE_REDACT_PATTERN : ConfigKey.REDACT_PATTERN;
    ConfigKey replacementKey =
        inInstance ? ConfigKey.INSTANCE_REDACT_REPLACEMENT : ConfigKey.REDACT_REPLACEMENT;
    for (int i = 0; i < list.getValue().size(); i++) {
      Node item = list.getValue().get(i);
      String itemPath = keyPath + "[" + i + "]";
      Map<ConfigKey, Node> keys = mapping(item, itemPath, section);
      Optional<String> field = nonBlank(keys, fieldKey, itemPath);
      Optional<java.util.regex.Pattern> pattern =
          value(keys, patternKey, itemPath, "a regular expression", ConfigReader::compile, p -> Optional.empty());
      String replacement =
          Optional.ofNullable(keys.get(replacementKey))
              .flatMap(r -> scalar(r, join(itemPath, replacementKey.leaf()), "a string"))
              .map(Scalar::text)
              .orElse(RedactionRule.DEFAULT_REPLACEMENT);
      if (field.isPresent() && pattern.isPresent()) {
        if (checkReplacement(pattern.get(), replacement, keys.get(replacementKey), join(itemPath, replacementKey.leaf()))) {
          rules.add(new RedactionRule(field.get(), pattern.get(), replacement, itemPath, location(item)));
        }
      }
    }
    return rules;
  }

  /** A {@code $2} with one group fails on the first match; say so now. */
  private boolean checkReplacement(java.util.regex.Pattern pattern, String replacement, Node node, String keyPath) {
    try {
      pattern.matcher("").replaceAll(replacement);
      java.util.regex.Matcher m = pattern.matcher("");
      int groups = m.groupCount();
      java.util.regex.Matcher refs = java.util.regex.Pattern.compile("\\$(\\d)").matcher(replacement);
      while (refs.find()) {
        if (Integer.parseInt(refs.group(1)) > groups) {
          problem(node, keyPath, "refers to group $" + refs.group(1) + " but the pattern has " + groups);
          return false;
        }
      }
      return true;
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      problem(node, keyPath, "is not a valid replacement: " + e.getMessage());
      return false;
    }
  }

  private static java.util.regex.Pattern compile(String regex) {
    try {
      return java.util.regex.Pattern.compile(regex);
    } catch (java.util.regex.PatternSyntaxException e) {
      throw new IllegalArgumentException(
          "is not a valid regular expression: " + e.getDescription() + " near index " + e.getIndex());
    }
  }

  /** {@code logs: true}, {@code logs: false}, or a mapping (which means on). */
  private Optional<LogsConfig> readLogs(Node node, String keyPath) {
    if (node == null) {
      return Optional.of(LogsConfig.OFF);
    }
    if (node instanceof ScalarNode) {
      Optional<Scalar> s = scalar(node, keyPath, "true, false or a mapping");
      if (s.isPresent() && s.get().plain() && YamlScalars.typed(s.get().text()) instanceof Boolean b) {
        return Optional.of(b ? LogsConfig.ON : LogsConfig.OFF);
      }
      s.ifPresent(v -> problem(node, keyPath, "expected true, false or a mapping, got '" + v.text() + "'"));
      return Optional.empty();
    }
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, ConfigKey.LOGS.path());
    List<ConfigName> fields = names(keys.get(ConfigKey.LOGS_FIELDS), join(keyPath, ConfigKey.LOGS_FIELDS.leaf()));
    List<ConfigName> exclude = names(keys.get(ConfigKey.LOGS_EXCLUDE), join(keyPath, ConfigKey.LOGS_EXCLUDE.leaf()));
    LogsConfig.Severity severity =
        value(keys, ConfigKey.LOGS_SEVERITY, keyPath, "a severity", LogsConfig.Severity::parse, x -> Optional.empty())
            .orElse(LogsConfig.Severity.INFO);
    String bodyPath = join(keyPath, ConfigKey.LOGS_BODY.leaf());
    Optional<ConfigName> body =
        Optional.ofNullable(keys.get(ConfigKey.LOGS_BODY))
            .flatMap(b -> scalar(b, bodyPath, "a template such as '{comm} ran {args}'"))
            .map(s -> new ConfigName(s.text(), bodyPath, s.location()));
    if (problems.size() > problemsBefore) {
      return Optional.empty();
    }
    return Optional.of(new LogsConfig(true, fields, exclude, severity, body));
  }

  private List<ConfigName> names(Node node, String keyPath) {
    List<ConfigName> names = new ArrayList<>();
    List<Scalar> scalars = stringList(node, keyPath);
    for (int i = 0; i < scalars.size(); i++) {
      Scalar s = scalars.get(i);
      String itemPath = node instanceof SequenceNode ? keyPath + "[" + i + "]" : keyPath;
      names.add(new ConfigName(s.text().strip(), itemPath, s.location()));
    }
    return names;
  }

  private Optional<List<MetricConfig>> readMetrics(Node node, String keyPath) {
    List<MetricConfig> metrics = new ArrayList<>();
    if (node == null || isNull(node)) {
      return Optional.of(metrics);
    }
    if (!(node instanceof SequenceNode list)) {
      problem(node, keyPath, "expected a list of metrics (name, type, labels, value, ...), got " + describe(node));
      return Optional.empty();
    }
    int problemsBefore = problems.size();
    Map<String, String> seen = new HashMap<>();
    for (int i = 0; i < list.getValue().size(); i++) {
      Node item = list.getValue().get(i);
      String itemPath = keyPath + "[" + i + "]";
      readMetric(item, itemPath).ifPresent(m -> {
        String first = seen.putIfAbsent(m.name(), m.keyPath());
        if (first != null) {
          problem(m.location(), join(itemPath, "name"), "duplicate metric name '" + m.name() + "' (first in " + first + ")");
        } else {
          metrics.add(m);
        }
      });
    }
    return problems.size() > problemsBefore ? Optional.empty() : Optional.of(metrics);
  }

  private Optional<MetricConfig> readMetric(Node node, String keyPath) {
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, ConfigKey.INSTANCE_METRICS.path() + "[]");
    Optional<String> name =
        value(keys, ConfigKey.METRIC_NAME, keyPath, "a metric name", String::strip,
            n -> MetricConfig.NAME.matcher(n).matches()
                ? reservedMetricName(n)
                : Optional.of("'" + n + "' is not a metric name: a letter, then letters, digits, '_', '.', '-' or '/', at most 255"));
    MetricConfig.Type type =
        value(keys, ConfigKey.METRIC_TYPE, keyPath, "counter, histogram or gauge", MetricConfig.Type::parse, t -> Optional.empty())
            .orElse(MetricConfig.Type.COUNTER);
    String description =
        Optional.ofNullable(keys.get(ConfigKey.METRIC_DESCRIPTION))
            .flatMap(d -> scalar(d, join(keyPath, ConfigKey.METRIC_DESCRIPTION.leaf()), "a description"))
            .map(Scalar::text).orElse("");
    String unit =
        Optional.ofNullable(keys.get(ConfigKey.METRIC_UNIT))
            .flatMap(d -> scalar(d, join(keyPath, ConfigKey.METRIC_UNIT.leaf()), "a unit such as s, By or {event}"))
            .map(s -> s.text().strip()).orElse("");
    List<ConfigName> labels = names(keys.get(ConfigKey.METRIC_LABELS), join(keyPath, ConfigKey.METRIC_LABELS.leaf()));
    Optional<List<String>> containerLabels =
        keys.containsKey(ConfigKey.METRIC_CONTAINER_LABELS)
            ? Optional.of(checkedStrings(keys.get(ConfigKey.METRIC_CONTAINER_LABELS), join(keyPath, ConfigKey.METRIC_CONTAINER_LABELS.leaf()), MetricsConfig::containerLabelProblem))
            : Optional.empty();
    Optional<ConfigName> value =
        Optional.ofNullable(keys.get(ConfigKey.METRIC_VALUE))
            .flatMap(v -> scalar(v, join(keyPath, ConfigKey.METRIC_VALUE.leaf()), "a field name"))
            .map(s -> new ConfigName(s.text().strip(), join(keyPath, ConfigKey.METRIC_VALUE.leaf()), s.location()));
    List<Double> buckets = MetricConfig.DEFAULT_BUCKETS;
    if (keys.containsKey(ConfigKey.METRIC_BUCKETS)) {
      buckets = buckets(keys.get(ConfigKey.METRIC_BUCKETS), join(keyPath, ConfigKey.METRIC_BUCKETS.leaf()));
      if (type != MetricConfig.Type.HISTOGRAM) {
        problem(keys.get(ConfigKey.METRIC_BUCKETS), join(keyPath, ConfigKey.METRIC_BUCKETS.leaf()),
            "only a histogram has buckets (this metric is a " + type.name().toLowerCase(java.util.Locale.ROOT) + ")");
      }
    }
    if (type != MetricConfig.Type.COUNTER && value.isEmpty() && keys.containsKey(ConfigKey.METRIC_NAME)) {
      problem(node, keyPath,
          "a " + type.name().toLowerCase(java.util.Locale.ROOT) + " needs 'value': the numeric field it measures");
    }
    if (problems.size() > problemsBefore || name.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new MetricConfig(name.get(), type, description, unit, labels, containerLabels, value, buckets, keyPath, location(node)));
  }

  /** The agent's own metrics are named gadget.*: a derived metric must not collide with one. */
  private static Optional<String> reservedMetricName(String name) {
    return name.startsWith("gadget.") || name.startsWith("gadget_") || name.startsWith("jvm.")
        ? Optional.of("'" + name + "': names starting with gadget. or jvm. are the agent's own; choose another")
        : Optional.empty();
  }

  private List<Double> buckets(Node node, String keyPath) {
    List<Double> bounds = new ArrayList<>();
    if (!(node instanceof SequenceNode list) || list.getValue().isEmpty()) {
      problem(node, keyPath, "expected a non-empty list of increasing numbers, got " + describe(node));
      return bounds;
    }
    for (int i = 0; i < list.getValue().size(); i++) {
      Node item = list.getValue().get(i);
      String itemPath = keyPath + "[" + i + "]";
      Optional<Double> v = parsed(item, itemPath, "a number", ConfigReader::parseNumber);
      if (v.isEmpty()) {
        continue;
      }
      if (!bounds.isEmpty() && v.get() <= bounds.get(bounds.size() - 1)) {
        problem(item, itemPath, "bucket boundaries must increase: " + v.get() + " after " + bounds.get(bounds.size() - 1));
        continue;
      }
      bounds.add(v.get());
    }
    return bounds;
  }

  private static Double parseNumber(String text) {
    try {
      double d = Double.parseDouble(text.strip());
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a number");
    }
  }

  private Optional<Integer> integer(Map<ConfigKey, Node> keys, ConfigKey key, String sectionKeyPath, int min, int max) {
    return value(keys, key, sectionKeyPath, "an integer", text -> {
          try {
            return Long.parseLong(text.strip().replace("_", ""));
          } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + text + "' is not an integer");
          }
        },
        n -> n < min || n > max ? Optional.of("must be from " + min + " to " + max) : Optional.empty())
        .map(Long::intValue);
  }

  private Optional<String> nonBlank(Map<ConfigKey, Node> keys, ConfigKey key, String sectionKeyPath) {
    return value(keys, key, sectionKeyPath, "a string", String::strip,
        s -> s.isEmpty() ? Optional.of("is empty") : Optional.empty());
  }

  private Map<String, String> stringMap(Node node, String keyPath) {
    Map<String, String> values = new LinkedHashMap<>();
    if (node == null || isNull(node)) {
      return values;
    }
    for (Map.Entry<String, NodeTuple> e : entries(node, keyPath).entrySet()) {
      scalar(e.getValue().getValueNode(), join(keyPath, e.getKey()), "a string")
          .ifPresent(v -> values.put(e.getKey(), v.text()));
    }
    return values;
  }

  /** A readable file, relative paths taken from the config file's directory. */
  private Optional<Path> readableFile(Map<ConfigKey, Node> keys, ConfigKey key, String sectionKeyPath) {
    return value(keys, key, sectionKeyPath, "a path", this::configRelative, ConfigReader::unreadable);
  }

  private Path configRelative(String text) {
    Path p = Path.of(text.strip());
    if (p.isAbsolute()) {
      return p;
    }
    Path dir = Path.of(file).toAbsolutePath().getParent();
    return dir == null ? p.toAbsolutePath() : dir.resolve(p).normalize();
  }

  private static Optional<String> unreadable(Path p) {
    if (!java.nio.file.Files.isRegularFile(p)) {
      return Optional.of("'" + p + "' is not a file");
    }
    return java.nio.file.Files.isReadable(p) ? Optional.empty() : Optional.of("'" + p + "' cannot be read");
  }

  /**
   * A standard environment variable's value; unset or empty: absent. A bad value is a problem
   * named after the variable.
   */
  private <T> Optional<T> fromEnvironment(String variable, Function<String, T> parser, Function<T, Optional<String>> rule) {
    String text = environment.get(variable);
    if (text == null || text.isBlank()) {
      return Optional.empty();
    }
    try {
      T v = parser.apply(text);
      Optional<String> p = rule.apply(v);
      if (p.isPresent()) {
        problem(ConfigLocation.wholeFile(file), variable + " (environment)", p.get());
        return Optional.empty();
      }
      return Optional.of(v);
    } catch (IllegalArgumentException e) {
      problem(ConfigLocation.wholeFile(file), variable + " (environment)", e.getMessage());
      return Optional.empty();
    }
  }

  /** The W3C-baggage-like list of OTEL_EXPORTER_OTLP_HEADERS: {@code k1=v1,k2=v2}, URL-encoded. */
  static Map<String, String> parseHeaders(String text) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String part : text.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      int eq = part.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException("'" + part.strip() + "' is not key=value");
      }
      values.put(
          java.net.URLDecoder.decode(part.substring(0, eq).strip(), java.nio.charset.StandardCharsets.UTF_8),
          java.net.URLDecoder.decode(part.substring(eq + 1).strip(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return values;
  }

  private static Boolean parseCompression(String text) {
    return switch (text.strip().toLowerCase(java.util.Locale.ROOT)) {
      case "gzip" -> true;
      case "none" -> false;
      default -> throw new IllegalArgumentException("'" + text + "' is not gzip or none");
    };
  }

  /** OTEL_* durations are milliseconds. */
  private static Duration parseMillis(String text) {
    try {
      return Duration.ofMillis(Long.parseLong(text.strip()));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("'" + text + "' is not a number of milliseconds");
    }
  }

  private boolean check(ConfigLocation location, String keyPath, Optional<String> problem) {
    problem.ifPresent(message -> problem(location, keyPath, message));
    return problem.isEmpty();
  }

  private List<Path> absolutePaths(Node node, String sectionKeyPath, ConfigKey key) {
    List<Path> paths = new ArrayList<>();
    String keyPath = join(sectionKeyPath, key.leaf());
    for (Scalar s : stringList(node, keyPath)) {
      Path p = Path.of(s.text());
      if (p.isAbsolute()) {
        paths.add(p.normalize());
      } else {
        problem(s.location(), keyPath, "'" + s.text() + "' must be an absolute path");
      }
    }
    return paths;
  }

  /** Empty when the selector is absent or wrong (the problem is recorded). */
  private Optional<SelectorConfig> readSelector(Node node, String keyPath) {
    if (node == null) {
      return Optional.of(SelectorConfig.ALL);
    }
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys = mapping(node, keyPath, ConfigKey.SELECTOR.path());
    List<String> namespaces =
        selectorNames(keys.get(ConfigKey.SELECTOR_NAMESPACES), join(keyPath, "namespaces"));
    List<String> pods = selectorNames(keys.get(ConfigKey.SELECTOR_PODS), join(keyPath, "pods"));
    List<String> containers =
        selectorNames(keys.get(ConfigKey.SELECTOR_CONTAINERS), join(keyPath, "containers"));
    Map<String, String> labels = new LinkedHashMap<>();
    Node labelsNode = keys.get(ConfigKey.SELECTOR_LABELS);
    if (labelsNode != null && !isNull(labelsNode)) {
      String labelsPath = join(keyPath, ConfigKey.SELECTOR_LABELS.leaf());
      for (Map.Entry<String, NodeTuple> e : entries(labelsNode, labelsPath).entrySet()) {
        scalar(e.getValue().getValueNode(), join(labelsPath, e.getKey()), "a label value")
            .ifPresent(v -> labels.put(e.getKey(), v.text()));
      }
    }
    Optional<Boolean> host = bool(keys, ConfigKey.SELECTOR_HOST, keyPath);
    if (problems.size() > problemsBefore) {
      return Optional.empty();
    }
    return Optional.of(
        new SelectorConfig(namespaces, pods, containers, labels, host, location(node)));
  }

  /** Names with optional {@code !} and {@code *}; a lone {@code !} selects nothing and is wrong. */
  private List<String> selectorNames(Node node, String keyPath) {
    List<String> names = new ArrayList<>();
    for (Scalar s : stringList(node, keyPath)) {
      String text = s.text().strip();
      if (text.isEmpty() || text.equals("!")) {
        problem(s.location(), keyPath, "'" + s.text() + "' names nothing; write a name, or !name to exclude it");
      } else {
        names.add(text);
      }
    }
    return names;
  }

  /**
   * A list of scalars; a single scalar is taken as a list of one ({@code pods: web} is as clear as
   * {@code pods: [web]}). Absent or null: empty.
   */
  private List<Scalar> stringList(Node node, String keyPath) {
    List<Scalar> values = new ArrayList<>();
    if (node == null || isNull(node)) {
      return values;
    }
    if (node instanceof ScalarNode) {
      scalar(node, keyPath, "a string").ifPresent(values::add);
      return values;
    }
    if (!(node instanceof SequenceNode list)) {
      problem(node, keyPath, "expected a list of strings, got " + describe(node));
      return values;
    }
    for (int i = 0; i < list.getValue().size(); i++) {
      scalar(list.getValue().get(i), keyPath + "[" + i + "]", "a string").ifPresent(values::add);
    }
    return values;
  }

  private Optional<Boolean> bool(Map<ConfigKey, Node> keys, ConfigKey key, String sectionKeyPath) {
    Node node = keys.get(key);
    if (node == null) {
      return Optional.empty();
    }
    String keyPath = join(sectionKeyPath, key.leaf());
    Optional<Scalar> s = scalar(node, keyPath, "true or false");
    if (s.isEmpty()) {
      return Optional.empty();
    }
    if (s.get().plain() && YamlScalars.typed(s.get().text()) instanceof Boolean b) {
      return Optional.of(b);
    }
    problem(node, keyPath, "expected true or false, got '" + s.get().text() + "'");
    return Optional.empty();
  }

  private List<InstanceConfig> readGadgets(Node node) {
    String keyPath = ConfigKey.GADGETS.path();
    if (isNull(node) || (node instanceof SequenceNode list && list.getValue().isEmpty())) {
      problem(
          node,
          keyPath,
          "is empty; list at least one gadget instance, or leave the key out to run the default"
              + " gadgets");
      return List.of();
    }
    if (!(node instanceof SequenceNode list)) {
      problem(node, keyPath, "expected a list of gadget instances, got " + describe(node));
      return List.of();
    }
    List<InstanceConfig> instances = new ArrayList<>();
    for (int i = 0; i < list.getValue().size(); i++) {
      readInstance(list.getValue().get(i), keyPath + "[" + i + "]").ifPresent(instances::add);
    }
    return instances;
  }

  private Optional<InstanceConfig> readInstance(Node node, String keyPath) {
    if (!(node instanceof MappingNode)) {
      problem(node, keyPath, "expected a mapping with at least 'gadget', got " + describe(node));
      return Optional.empty();
    }
    Map<ConfigKey, Node> keys = mapping(node, keyPath, ConfigKey.INSTANCE);
    ConfigLocation location = location(node);
    String gadgetKeyPath = join(keyPath, ConfigKey.GADGET.leaf());
    Optional<Scalar> gadget =
        Optional.ofNullable(keys.get(ConfigKey.GADGET))
            .flatMap(g -> scalar(g, gadgetKeyPath, "a gadget name or path"))
            .filter(g -> checkGadget(g, gadgetKeyPath));
    Optional<String> name = readInstanceName(keys.get(ConfigKey.NAME), gadget, keyPath, location);
    Map<String, ParamValue> params =
        readParams(keys.get(ConfigKey.PARAMS), join(keyPath, ConfigKey.PARAMS.leaf()));
    Optional<SelectorConfig> selector =
        readSelector(keys.get(ConfigKey.SELECTOR), join(keyPath, ConfigKey.SELECTOR.leaf()));
    Optional<RingBufferConfig> ringBuffer =
        readRingBuffer(
            keys.get(ConfigKey.RING_BUFFER), join(keyPath, ConfigKey.RING_BUFFER.leaf()));
    Optional<LogsConfig> logs = readLogs(keys.get(ConfigKey.LOGS), join(keyPath, ConfigKey.LOGS.leaf()));
    Optional<List<MetricConfig>> metrics =
        readMetrics(keys.get(ConfigKey.INSTANCE_METRICS), join(keyPath, ConfigKey.INSTANCE_METRICS.leaf()));
    int problemsBefore = problems.size();
    List<RedactionRule> redact =
        readRedact(keys.get(ConfigKey.INSTANCE_REDACT), join(keyPath, ConfigKey.INSTANCE_REDACT.leaf()));
    boolean optional = bool(keys, ConfigKey.INSTANCE_OPTIONAL, keyPath).orElse(false);
    if (gadget.isEmpty()
        || name.isEmpty()
        || selector.isEmpty()
        || ringBuffer.isEmpty()
        || logs.isEmpty()
        || metrics.isEmpty()
        || problems.size() > problemsBefore) {
      return Optional.empty();
    }
    return Optional.of(
        new InstanceConfig(
            name.get(),
            gadget.get().text(),
            params,
            selector.get(),
            ringBuffer.get(),
            logs.get(),
            metrics.get(),
            redact,
            optional,
            keyPath,
            location,
            gadget.get().location()));
  }

  /** A built-in name is checked for its form only; whether it exists is the runtime's to say. */
  private boolean checkGadget(Scalar gadget, String keyPath) {
    String text = gadget.text();
    if (text.isBlank()) {
      problem(gadget.location(), keyPath, "is empty; expected a gadget name or path");
      return false;
    }
    if (!text.contains("/") && !INSTANCE_NAME.matcher(text).matches()) {
      problem(
          gadget.location(),
          keyPath,
          "'"
              + text
              + "' is not a built-in gadget name (lowercase letters, digits, '_' and '-');"
              + " a path to a gadget directory contains '/', e.g. ./"
              + text);
      return false;
    }
    return true;
  }

  private Optional<String> readInstanceName(
      Node node, Optional<Scalar> gadget, String keyPath, ConfigLocation instanceLocation) {
    if (node != null) {
      String nameKeyPath = join(keyPath, ConfigKey.NAME.leaf());
      Optional<String> name =
          scalar(node, nameKeyPath, "an instance name")
              .map(Scalar::text)
              .filter(n -> check(node, nameKeyPath, instanceNameProblem("'" + n + "' is", n)));
      name.ifPresent(n -> claimName(n, new NameUse(nameKeyPath, location(node), false)));
      return name;
    }
    if (gadget.isEmpty()) {
      return Optional.empty();
    }
    String gadgetText = gadget.get().text();
    String defaultName = defaultInstanceName(gadgetText);
    String subject =
        "the name defaults to the gadget "
            + (gadgetText.contains("/") ? "directory's " : "")
            + "name '"
            + defaultName
            + "', which is";
    Optional<String> problem =
        instanceNameProblem(subject, defaultName).map(m -> m + "; set 'name'");
    if (problem.isPresent()) {
      problem(instanceLocation, keyPath, problem.get());
      return Optional.empty();
    }
    claimName(defaultName, new NameUse(keyPath, instanceLocation, true));
    return Optional.of(defaultName);
  }

  /** The last part of a path ({@code ./gadgets/my_gadget/} → {@code my_gadget}), or the name. */
  private static String defaultInstanceName(String gadget) {
    String trimmed = gadget.replaceAll("/+$", "");
    return trimmed.substring(trimmed.lastIndexOf('/') + 1);
  }

  /**
   * @param subject how the message names the value: "'Exec' is"
   */
  private static Optional<String> instanceNameProblem(String subject, String name) {
    if (INSTANCE_NAME.matcher(name).matches() && name.length() <= INSTANCE_NAME_MAX_LENGTH) {
      return Optional.empty();
    }
    return Optional.of(subject + " not a valid instance name: " + INSTANCE_NAME_RULE);
  }

  private void claimName(String name, NameUse use) {
    NameUse first = instanceNames.putIfAbsent(name, use);
    if (first == null) {
      return;
    }
    String how = use.defaulted() ? "the name defaults to '" + name + "', which" : "'" + name + "'";
    problem(
        use.location(),
        use.keyPath(),
        "duplicate instance name: "
            + how
            + " is already used by "
            + first.keyPath().replaceAll("\\.name$", "")
            + " (line "
            + first.location().line()
            + "); instance names must be unique"
            + (use.defaulted() ? ", set 'name'" : ""));
  }

  /** Scalars only: a gadget parameter is one value; the runtime checks it against gadget.yaml. */
  private Map<String, ParamValue> readParams(Node node, String keyPath) {
    Map<String, ParamValue> params = new LinkedHashMap<>();
    if (node == null || isNull(node)) {
      return params;
    }
    for (Map.Entry<String, NodeTuple> entry : entries(node, keyPath).entrySet()) {
      String key = entry.getKey();
      String paramKeyPath = join(keyPath, key);
      Node valueNode = entry.getValue().getValueNode();
      scalar(valueNode, paramKeyPath, "a single value (string, number or boolean)")
          .ifPresent(
              s ->
                  params.put(
                      key,
                      new ParamValue(key, typedValue(s), s.text(), paramKeyPath, s.location())));
    }
    return params;
  }

  /** Empty when something in it is wrong (the problem is recorded). */
  private Optional<RingBufferConfig> readRingBuffer(Node node, String keyPath) {
    int problemsBefore = problems.size();
    Map<ConfigKey, Node> keys =
        node == null ? Map.of() : mapping(node, keyPath, ConfigKey.RING_BUFFER.path());
    Optional<Long> size =
        value(
            keys,
            ConfigKey.RING_BUFFER_SIZE,
            keyPath,
            "a size such as 8MiB",
            Units::parseSize,
            RingBufferConfig::sizeProblem);
    boolean sizeWrong = keys.containsKey(ConfigKey.RING_BUFFER_SIZE) && size.isEmpty();
    long sizeBytes = size.orElse(RingBufferConfig.DEFAULT_SIZE_BYTES);
    Optional<Long> wakeupBytes =
        value(
            keys,
            ConfigKey.RING_BUFFER_WAKEUP_BYTES,
            keyPath,
            "a size such as 1MiB",
            Units::parseSize,
            // Against a wrong size there is nothing sensible to say; the size is reported.
            w -> sizeWrong ? Optional.empty() : RingBufferConfig.wakeupProblem(w, sizeBytes));
    Optional<Duration> drainInterval =
        value(
            keys,
            ConfigKey.RING_BUFFER_DRAIN_INTERVAL,
            keyPath,
            "a duration such as 100ms",
            Units::parseDuration,
            RingBufferConfig::drainIntervalProblem);
    if (problems.size() > problemsBefore) {
      return Optional.empty();
    }
    return Optional.of(
        new RingBufferConfig(
            sizeBytes,
            wakeupBytes.orElse(RingBufferConfig.defaultWakeupBytes(sizeBytes)),
            drainInterval.orElse(RingBufferConfig.DEFAULT_DRAIN_INTERVAL)));
  }

  // ---- mappings and scalars ---------------------------------------------------------------

  /**
   * The known keys of a mapping, by schema key; reports unknown, duplicate and missing required
   * keys. A null value ({@code http:} with nothing under it) reads as an empty mapping.
   *
   * @param section the schema path of this mapping, see {@link ConfigKey#section()}
   */
  private Map<ConfigKey, Node> mapping(Node node, String keyPath, String section) {
    Map<ConfigKey, Node> known = new EnumMap<>(ConfigKey.class);
    List<ConfigKey> allowed = ConfigKey.inSection(section);
    if (isNull(node)) {
      reportMissingRequired(node, keyPath, allowed, known);
      return known;
    }
    if (!(node instanceof MappingNode)) {
      problem(
          node,
          keyPath,
          "expected a mapping with keys " + leaves(allowed) + ", got " + describe(node));
      return known;
    }
    for (Map.Entry<String, NodeTuple> entry : entries(node, keyPath).entrySet()) {
      String key = entry.getKey();
      Optional<ConfigKey> match = allowed.stream().filter(k -> k.leaf().equals(key)).findFirst();
      if (match.isPresent()) {
        known.put(match.get(), entry.getValue().getValueNode());
      } else {
        problem(entry.getValue().getKeyNode(), join(keyPath, key), unknownKey(key, allowed));
      }
    }
    reportMissingRequired(node, keyPath, allowed, known);
    return known;
  }

  private void reportMissingRequired(
      Node node, String keyPath, List<ConfigKey> allowed, Map<ConfigKey, Node> present) {
    for (ConfigKey key : allowed) {
      if (key.required() && !present.containsKey(key)) {
        problem(node, keyPath, "missing required key '" + key.leaf() + "'");
      }
    }
  }

  private static String unknownKey(String key, List<ConfigKey> allowed) {
    String message = "unknown key '" + key + "'";
    if (key.equals("<<")) {
      return message + "; YAML merge keys are not supported, write the keys out";
    }
    Optional<String> suggestion =
        Suggestions.nearest(key, allowed.stream().map(ConfigKey::leaf).toList());
    if (suggestion.isPresent()) {
      return message + "; did you mean '" + suggestion.get() + "'?";
    }
    Optional<String> elsewhere =
        Arrays.stream(ConfigKey.values())
            .filter(k -> k.leaf().equals(key))
            .map(k -> k.section().isEmpty() ? "the top level" : k.section())
            .findFirst();
    return message
        + elsewhere.map(section -> "; '" + key + "' belongs under " + section).orElse("")
        + "; expected one of: "
        + leaves(allowed);
  }

  /** A mapping's entries by key text, in order; reports duplicate and non-scalar keys. */
  private Map<String, NodeTuple> entries(Node node, String keyPath) {
    Map<String, NodeTuple> entries = new LinkedHashMap<>();
    if (!(node instanceof MappingNode mapping)) {
      problem(node, keyPath, "expected a mapping, got " + describe(node));
      return entries;
    }
    for (NodeTuple tuple : mapping.getValue()) {
      if (!(tuple.getKeyNode() instanceof ScalarNode keyNode)) {
        problem(
            tuple.getKeyNode(),
            keyPath,
            "a key must be a plain name, not " + describe(tuple.getKeyNode()));
        continue;
      }
      String key = keyNode.getValue();
      NodeTuple first = entries.putIfAbsent(key, tuple);
      if (first != null) {
        ConfigLocation firstAt = location(first.getKeyNode());
        problem(
            keyNode,
            join(keyPath, key),
            "duplicate key (first written at line "
                + firstAt.line()
                + ", column "
                + firstAt.column()
                + ")");
      }
    }
    return entries;
  }

  /**
   * The value of an optional key, converted by {@code parser} and checked by {@code rule}; empty
   * when the key is absent or its value wrong (the problem is recorded).
   */
  private <T> Optional<T> value(
      Map<ConfigKey, Node> keys,
      ConfigKey key,
      String sectionKeyPath,
      String expected,
      Function<String, T> parser,
      Function<T, Optional<String>> rule) {
    Node node = keys.get(key);
    if (node == null) {
      return Optional.empty();
    }
    String keyPath = join(sectionKeyPath, key.leaf());
    return parsed(node, keyPath, expected, parser).filter(v -> check(node, keyPath, rule.apply(v)));
  }

  /** A scalar converted by {@code parser}, which reports bad values by IllegalArgumentException. */
  private <T> Optional<T> parsed(
      Node node, String keyPath, String expected, Function<String, T> parser) {
    Optional<Scalar> scalar = scalar(node, keyPath, expected);
    try {
      return scalar.map(s -> parser.apply(s.text()));
    } catch (IllegalArgumentException e) {
      problem(node, keyPath, e.getMessage());
      return Optional.empty();
    }
  }

  /** A scalar's text after interpolation; reports nulls, collections and interpolation errors. */
  private Optional<Scalar> scalar(Node node, String keyPath, String expected) {
    if (!(node instanceof ScalarNode scalar)) {
      problem(node, keyPath, "expected " + expected + ", got " + describe(node));
      return Optional.empty();
    }
    boolean plain = scalar.getScalarStyle() == ScalarStyle.PLAIN && !isExplicitString(scalar);
    String text;
    try {
      text = interpolation.apply(scalar.getValue());
    } catch (IllegalArgumentException e) {
      problem(node, keyPath, e.getMessage());
      return Optional.empty();
    }
    if (plain && YamlScalars.isNull(text)) {
      String after = text.equals(scalar.getValue()) ? "" : " (after interpolation)";
      problem(node, keyPath, "has no value" + after + "; expected " + expected);
      return Optional.empty();
    }
    return Optional.of(new Scalar(text, plain, location(node)));
  }

  private static Object typedValue(Scalar scalar) {
    return scalar.plain() ? YamlScalars.typed(scalar.text()) : scalar.text();
  }

  /** {@code !!str 5}: the user asked for a string, as quoting would. */
  private static boolean isExplicitString(ScalarNode node) {
    return !node.isResolved() && Tag.STR.equals(node.getTag());
  }

  private boolean check(Node node, String keyPath, Optional<String> problem) {
    problem.ifPresent(message -> problem(node, keyPath, message));
    return problem.isEmpty();
  }

  private static boolean isNull(Node node) {
    return node instanceof ScalarNode scalar
        && scalar.getScalarStyle() == ScalarStyle.PLAIN
        && !isExplicitString(scalar)
        && YamlScalars.isNull(scalar.getValue());
  }

  private static String describe(Node node) {
    if (node instanceof MappingNode) {
      return "a mapping";
    }
    if (node instanceof SequenceNode) {
      return "a list";
    }
    if (isNull(node)) {
      return "no value";
    }
    return "'" + ((ScalarNode) node).getValue() + "'";
  }

  private static String leaves(List<ConfigKey> keys) {
    return keys.stream().map(ConfigKey::leaf).collect(Collectors.joining(", "));
  }

  private static String join(String keyPath, String key) {
    return keyPath.isEmpty() ? key : keyPath + "." + key;
  }

  private void problem(Node node, String keyPath, String message) {
    problem(location(node), keyPath, message);
  }

  private void problem(ConfigLocation location, String keyPath, String message) {
    problems.add(new ConfigException.Problem(location, keyPath, message));
  }

  /** snakeyaml counts from 0; people and editors count from 1. */
  private ConfigLocation location(Node node) {
    return node.getStartMark()
        .map(mark -> new ConfigLocation(file, mark.getLine() + 1, mark.getColumn() + 1))
        .orElseGet(() -> ConfigLocation.wholeFile(file));
  }
}
