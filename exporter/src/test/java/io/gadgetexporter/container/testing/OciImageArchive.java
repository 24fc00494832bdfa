package io.gadgetexporter.container.testing;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * Writes a one-layer image as an OCI image layout in a tar archive, the input of `ctr images
 * import`: oci-layout, index.json (the manifest, named by its org.opencontainers.image.ref.name
 * annotation), blobs/sha256/ with the manifest, the image config and the gzipped layer. Java only
 * (the {@link TarWriter}), so the digests do not depend on the host's tar.
 */
final class OciImageArchive {
  private static final String MANIFEST = "application/vnd.oci.image.manifest.v1+json";
  private static final String CONFIG = "application/vnd.oci.image.config.v1+json";
  private static final String LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";

  private OciImageArchive() {}

  /** Writes {@code rootfs} as the single layer of image {@code ref} to {@code archive}. */
  static void write(Path rootfs, String ref, Path archive) {
    ByteArrayOutputStream tar = new ByteArrayOutputStream();
    try (TarWriter layerTar = new TarWriter(tar)) {
      layerTar.tree(rootfs);
    }
    byte[] layer = gzip(tar.toByteArray());
    byte[] config =
        json(
            new JsonObject()
                .put("architecture", goArch())
                .put("os", "linux")
                .put(
                    "config",
                    new JsonObject()
                        .put("Env", new JsonArray().add("PATH=/bin"))
                        .put("Cmd", new JsonArray().add("sh")))
                .put(
                    "rootfs",
                    new JsonObject()
                        .put("type", "layers")
                        .put("diff_ids", new JsonArray().add(digest(tar.toByteArray())))));
    byte[] manifest =
        json(
            new JsonObject()
                .put("schemaVersion", 2)
                .put("mediaType", MANIFEST)
                .put("config", descriptor(CONFIG, config))
                .put("layers", new JsonArray().add(descriptor(LAYER, layer))));
    JsonObject named = descriptor(MANIFEST, manifest);
    named.put("annotations", new JsonObject().put("org.opencontainers.image.ref.name", ref));
    byte[] index =
        json(
            new JsonObject()
                .put("schemaVersion", 2)
                .put("mediaType", "application/vnd.oci.image.index.v1+json")
                .put("manifests", new JsonArray().add(named)));

    Map<String, byte[]> blobs = new LinkedHashMap<>();
    for (byte[] blob : new byte[][] {layer, config, manifest}) {
      blobs.put("blobs/sha256/" + digest(blob).substring("sha256:".length()), blob);
    }
    try (OutputStream out = Files.newOutputStream(archive);
        TarWriter outer = new TarWriter(out)) {
      outer.file("oci-layout", 0644, json(new JsonObject().put("imageLayoutVersion", "1.0.0")));
      outer.file("index.json", 0644, index);
      outer.directory("blobs", 0755);
      outer.directory("blobs/sha256", 0755);
      blobs.forEach((name, blob) -> outer.file(name, 0644, blob));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + archive, e);
    }
  }

  private static JsonObject descriptor(String mediaType, byte[] blob) {
    return new JsonObject()
        .put("mediaType", mediaType)
        .put("digest", digest(blob))
        .put("size", blob.length);
  }

  /** The image config names the architecture as Go does. */
  private static String goArch() {
    String arch = System.getProperty("os.arch");
    return switch (arch) {
      case "amd64", "x86_64" -> "amd64";
      case "aarch64" -> "arm64";
      default -> arch;
    };
  }

  private static byte[] json(JsonObject o) {
    return o.encode().getBytes(StandardCharsets.UTF_8);
  }

  private static String digest(byte[] bytes) {
    try {
      return "sha256:"
          + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static byte[] gzip(byte[] bytes) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
      gz.write(bytes);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }
}
