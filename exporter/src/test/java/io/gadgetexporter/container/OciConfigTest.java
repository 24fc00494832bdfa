package io.gadgetexporter.container;

import static io.gadgetexporter.container.MetadataProblems.assertProblem;
import static io.gadgetexporter.container.OciFixtures.APP;
import static io.gadgetexporter.container.OciFixtures.POD_UID;
import static io.gadgetexporter.container.OciFixtures.SANDBOX;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import io.gadgetexporter.container.ContainerMetadataException.Reason;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.assertj.core.api.AbstractThrowableAssert;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class OciConfigTest {

  @TempDir Path dir;

  @Test
  void readsAContainerdCriConfig() {
    OciConfig config = OciConfig.parse(OciFixtures.CONTAINERD_CRI, "config.json");

    assertThat(config.annotations())
        .containsEntry("io.kubernetes.cri.sandbox-namespace", "shop")
        .containsEntry("io.kubernetes.cri.sandbox-uid", POD_UID)
        .containsEntry("io.kubernetes.cri.sandbox-id", SANDBOX)
        .hasSize(7);
    assertThat(config.processArgs()).containsExactly("nginx", "-g", "daemon off;");
    assertThat(config.hostname()).isEmpty();
    assertThat(config.rootPath()).contains(Path.of("rootfs"));
    assertThat(config.cgroupsPath())
        .contains(
            "kubepods-burstable-pod"
                + POD_UID.replace('-', '_')
                + ".slice:cri-containerd:"
                + APP);
    assertThat(config.namespacePaths())
        .containsExactly(
            entry("ipc", "/proc/48213/ns/ipc"),
            entry("uts", "/proc/48213/ns/uts"),
            entry("network", "/proc/48213/ns/net"));
  }

  @Test
  void readsACrioSandboxConfig() {
    OciConfig config = OciConfig.parse(OciFixtures.CRIO_SANDBOX, "config.json");

    assertThat(config.hostname()).contains("segfaulter");
    assertThat(config.processArgs()).containsExactly("/pause");
    assertThat(config.rootPath())
        .contains(Path.of("/var/lib/containers/storage/overlay/9d1e/merged"));
    assertThat(config.cgroupsPath())
        .contains("/kubepods/besteffort/pod" + POD_UID + "/crio-" + SANDBOX);
    assertThat(config.namespacePaths())
        .containsEntry("network", "/var/run/netns/4c1c5a4e-8d3f-4d9e-9c1b-0b5e6a7d8f90");
    assertThat(config.annotations()).containsEntry("io.kubernetes.pod.uid", POD_UID);
  }

  @Test
  void readsACtrRunConfigWithNoAnnotations() {
    OciConfig config = OciConfig.parse(OciFixtures.CTR_RUN, "config.json");

    assertThat(config.annotations()).isEmpty();
    assertThat(config.hostname()).isEmpty();
    assertThat(config.cgroupsPath()).contains("/default/redis");
    assertThat(config.namespacePaths()).isEmpty();
  }

  @Test
  void readResolvesARelativeRootAgainstTheBundle() throws IOException {
    Path bundle = Files.createDirectories(dir.resolve("k8s.io").resolve(APP));
    Path file = bundle.resolve("config.json");
    Files.writeString(file, OciFixtures.CONTAINERD_CRI);

    OciConfig config = OciConfig.read(file);

    assertThat(config.rootPath()).contains(bundle.toAbsolutePath().resolve("rootfs"));
    assertThat(config.annotations()).containsEntry("io.kubernetes.cri.container-name", "nginx");
  }

  @Test
  void readKeepsAnAbsoluteRoot() throws IOException {
    Path file = dir.resolve("config.json");
    Files.writeString(file, OciFixtures.CRIO_SANDBOX);

    assertThat(OciConfig.read(file).rootPath())
        .contains(Path.of("/var/lib/containers/storage/overlay/9d1e/merged"));
  }

  @Test
  void skipsAnnotationsThatAreNotStrings() {
    OciConfig config =
        OciConfig.parse(
            "{\"annotations\": {\"a\": \"1\", \"b\": 2, \"c\": null, \"d\": {\"x\": \"y\"},"
                + " \"e\": [\"z\"], \"f\": true}}",
            "config.json");

    assertThat(config.annotations()).containsExactly(entry("a", "1"));
  }

  @Test
  void nullAndMissingSectionsAreEmpty() {
    OciConfig config =
        OciConfig.parse(
            "{\"annotations\": null, \"process\": null, \"root\": {}, \"linux\":"
                + " {\"namespaces\": null}}",
            "config.json");

    assertThat(config.annotations()).isEmpty();
    assertThat(config.processArgs()).isEmpty();
    assertThat(config.rootPath()).isEmpty();
    assertThat(config.cgroupsPath()).isEmpty();
    assertThat(OciConfig.parse("{}", "config.json").namespacePaths()).isEmpty();
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      textBlock =
          """
          {"ociVersion": "1.0.2", "process": {"args": ["sh" | not valid JSON: Unexpected end
          '' | empty, not a JSON object
          '   \n  ' | empty, not a JSON object
          [1, 2] | the top level is a list
          "config" | the top level is a string ("config")
          null | the top level is null, not a JSON object
          {"annotations": ["a=b"]} | annotations is a list, not an object
          {"annotations": "a=b"} | annotations is a string ("a=b")
          {"process": {"args": "sh -c true"}} | process.args is a string ("sh -c true")
          {"process": {"args": ["sh", 1]}} | process.args[1] is a number (1)
          {"process": []} | process is a list, not an object
          {"hostname": 7} | hostname is a number (7), not a string
          {"root": {"path": true}} | root.path is a boolean (true)
          {"root": "rootfs"} | root is a string ("rootfs")
          {"linux": {"cgroupsPath": ["/a"]}} | linux.cgroupsPath is a list
          {"linux": {"namespaces": {"type": "pid"}}} | linux.namespaces is an object
          {"linux": {"namespaces": ["pid"]}} | linux.namespaces[0] is a string ("pid")
          {"linux": {"namespaces": [{"path": "/proc/1/ns/net"}]}} | linux.namespaces[0] has no type
          {"a": 1} trailing | not valid JSON
          """)
  void rejectsMalformedConfigs(String json, String problem) {
    assertMalformed(() -> OciConfig.parse(json.replace("\\n", "\n"), "bundle/config.json"))
        .hasMessageStartingWith("bundle/config.json: " + problem);
  }

  @Test
  void saysWhereTruncatedJsonEnds() {
    assertMalformed(() -> OciConfig.parse("{\"process\": {\"args\": [\"sh\"", "b/config.json"))
        .hasMessage(
            "b/config.json: not valid JSON: Unexpected end-of-input: expected close marker for"
                + " Array (line 1, column 27)");
  }

  @Test
  void rejectsAPathWithANulCharacter() {
    assertMalformed(() -> OciConfig.parse("{\"root\": {\"path\": \"a\\u0000b\"}}", "c.json"))
        .hasMessageContaining("root.path is not a usable path");
  }

  @Test
  void rejectsDeeplyNestedJson() {
    String deep = "{\"a\":" + "[".repeat(5000) + "]".repeat(5000) + "}";

    assertMalformed(() -> OciConfig.parse(deep, "config.json"))
        .hasMessageContaining("nesting depth");
  }

  @Test
  void readRejectsAFileLargerThanOneMebibyte() throws IOException {
    Path file = dir.resolve("config.json");
    // Valid JSON, but 2 MiB: the size alone rejects it, before any parsing.
    byte[] big = new byte[2 << 20];
    Arrays.fill(big, (byte) ' ');
    big[0] = '{';
    big[big.length - 1] = '}';
    Files.write(file, big);

    assertProblem(Reason.CONFIG_JSON_TOO_LARGE, () -> OciConfig.read(file))
        .hasMessage(file + ": 2097152 bytes, over the limit of 1048576 bytes");
  }

  @Test
  void readAcceptsAFileOfExactlyOneMebibyte() throws IOException {
    Path file = dir.resolve("config.json");
    byte[] exact = new byte[OciConfig.MAX_BYTES];
    Arrays.fill(exact, (byte) ' ');
    byte[] json = "{\"hostname\": \"h\"}".getBytes(StandardCharsets.UTF_8);
    System.arraycopy(json, 0, exact, 0, json.length);
    Files.write(file, exact);

    assertThat(OciConfig.read(file).hostname()).contains("h");
  }

  @Test
  void readRejectsBinaryGarbage() throws IOException {
    Path file = dir.resolve("config.json");
    byte[] garbage = new byte[4096];
    new Random(42).nextBytes(garbage);
    Files.write(file, garbage);

    assertMalformed(() -> OciConfig.read(file)).hasMessageStartingWith(file + ": ");
  }

  @Test
  void readRejectsInvalidUtf8InsideStrings() throws IOException {
    Path file = dir.resolve("config.json");
    byte[] json = "{\"hostname\": \"h?\"}".getBytes(StandardCharsets.UTF_8);
    json[15] = (byte) 0xC3; // starts a two-byte sequence, but the next byte is the quote
    Files.write(file, json);

    assertMalformed(() -> OciConfig.read(file)).hasMessage(file + ": not UTF-8 text");
  }

  @Test
  void readRejectsAnEmptyFile() throws IOException {
    Path file = Files.createFile(dir.resolve("config.json"));

    assertMalformed(() -> OciConfig.read(file))
        .hasMessage(file + ": empty, not a JSON object");
  }

  @Test
  void readSaysWhenTheFileIsMissing() {
    Path file = dir.resolve("gone").resolve("config.json");

    assertProblem(Reason.MISSING_CONFIG_JSON, () -> OciConfig.read(file))
        .hasMessage(file + ": no such file");
  }

  @Test
  void readRefusesADirectory() throws IOException {
    Path file = Files.createDirectory(dir.resolve("config.json"));

    assertProblem(Reason.READ_FAILED, () -> OciConfig.read(file))
        .hasMessage(file + ": not a file");
  }

  private static AbstractThrowableAssert<?, ? extends Throwable> assertMalformed(
      ThrowingCallable call) {
    return assertProblem(Reason.MALFORMED_CONFIG_JSON, call);
  }

}
