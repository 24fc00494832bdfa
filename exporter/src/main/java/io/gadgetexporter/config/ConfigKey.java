package io.gadgetexporter.config;

import java.util.Arrays;
import java.util.List;

/**
 * Every key the config file accepts, with its type and default as the reference documents them.
 *
 * <p>This is the one list: {@link ConfigReader} takes each mapping's known keys from here and
 * rejects the rest, and {@code ConfigDocumentationTest} checks that the key table of {@code
 * docs/configuration.md} has exactly these rows — so the code and its reference cannot drift apart.
 *
 * <p>A path names the keys of list items with {@code []}: {@code gadgets[].name}.
 */
enum ConfigKey {
  HTTP("http", "mapping", "—"),
  HTTP_LISTEN("http.listen", "host:port", HttpConfig.DEFAULT.listenAddress()),
  HTTP_TLS("http.tls", "mapping", "none (plain HTTP)"),
  HTTP_TLS_CERT_FILE("http.tls.cert_file", "path", "required"),
  HTTP_TLS_KEY_FILE("http.tls.key_file", "path", "required"),
  HTTP_TLS_CLIENT_CA_FILE("http.tls.client_ca_file", "path", "none (no client certificate asked)"),
  HTTP_BEARER_TOKEN("http.bearer_token", "string", "none (no token asked)"),
  HTTP_BEARER_TOKEN_FILE("http.bearer_token_file", "path", "none"),
  HTTP_UNIX_SOCKET("http.unix_socket", "path", "none (TCP only)"),
  HTTP_STREAM_QUEUE_EVENTS(
      "http.stream_queue_events",
      "integer",
      Integer.toString(HttpConfig.DEFAULT_STREAM_QUEUE_EVENTS)),
  CONTAINERS("containers", "mapping", "—"),
  CONTAINERS_ENABLED("containers.enabled", "boolean", "true"),
  CONTAINERS_RUNTIME_HOOK("containers.runtime_hook", "boolean", "true"),
  CONTAINERS_RUNTIME_PATHS(
      "containers.runtime_paths", "list of paths", "none (the well-known paths are always watched)"),
  CONTAINERS_RUNTIME_STATE_DIRS(
      "containers.runtime_state_dirs",
      "list of paths",
      "none (the well-known state dirs are always read)"),
  CONTAINERS_HOST_ROOT("containers.host_root", "path", "/"),
  CONTAINERS_RECONCILE_INTERVAL(
      "containers.reconcile_interval",
      "duration",
      Units.formatDuration(ContainersConfig.DEFAULT_RECONCILE_INTERVAL)),
  CONTAINERS_EXITED_GRACE_PERIOD(
      "containers.exited_grace_period",
      "duration",
      Units.formatDuration(ContainersConfig.DEFAULT_EXITED_GRACE_PERIOD)),
  CONTAINERS_HOOK_TIMEOUT(
      "containers.hook_timeout",
      "duration",
      Units.formatDuration(ContainersConfig.DEFAULT_HOOK_TIMEOUT)),
  GADGETS("gadgets", "list", "the default gadgets"),
  NAME("gadgets[].name", "string", "the gadget name"),
  GADGET("gadgets[].gadget", "string", "required"),
  PARAMS("gadgets[].params", "mapping of scalars", "the gadget's defaults"),
  SELECTOR("gadgets[].selector", "mapping", "everything, host processes included"),
  SELECTOR_NAMESPACES("gadgets[].selector.namespaces", "list of strings", "all"),
  SELECTOR_PODS("gadgets[].selector.pods", "list of strings", "all"),
  SELECTOR_CONTAINERS("gadgets[].selector.containers", "list of strings", "all"),
  SELECTOR_LABELS("gadgets[].selector.labels", "mapping of strings", "all"),
  SELECTOR_HOST(
      "gadgets[].selector.host", "boolean", "true when nothing else is selected, else false"),
  RING_BUFFER("gadgets[].ring_buffer", "mapping", "—"),
  RING_BUFFER_SIZE(
      "gadgets[].ring_buffer.size", "size", Units.formatSize(RingBufferConfig.DEFAULT_SIZE_BYTES)),
  RING_BUFFER_WAKEUP_BYTES(
      "gadgets[].ring_buffer.wakeup_bytes",
      "size",
      Units.formatSize(RingBufferConfig.DEFAULT_WAKEUP_BYTES) + " (at most size/4)"),
  RING_BUFFER_DRAIN_INTERVAL(
      "gadgets[].ring_buffer.drain_interval",
      "duration",
      Units.formatDuration(RingBufferConfig.DEFAULT_DRAIN_INTERVAL));

  /** The sections whose keys are listed here: the document itself, and one per mapping key. */
  static final String ROOT = "";

  static final String INSTANCE = "gadgets[]";

  private final String path;
  private final String type;
  private final String defaultText;

  ConfigKey(String path, String type, String defaultText) {
    this.path = path;
    this.type = type;
    this.defaultText = defaultText;
  }

  String path() {
    return path;
  }

  String type() {
    return type;
  }

  /** The default as the reference states it; "required" for a key that has none. */
  String defaultText() {
    return defaultText;
  }

  boolean required() {
    return defaultText.equals("required");
  }

  /** The key as written in the file: {@code wakeup_bytes}. */
  String leaf() {
    return path.substring(path.lastIndexOf('.') + 1);
  }

  /**
   * The path of the mapping this key belongs to: {@code gadgets[].ring_buffer}, or {@link #ROOT}.
   */
  String section() {
    int dot = path.lastIndexOf('.');
    return dot < 0 ? ROOT : path.substring(0, dot);
  }

  static List<ConfigKey> inSection(String section) {
    return Arrays.stream(values()).filter(key -> key.section().equals(section)).toList();
  }
}
