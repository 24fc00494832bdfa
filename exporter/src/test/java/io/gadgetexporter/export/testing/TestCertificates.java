package io.gadgetexporter.export.testing;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Base64;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A throw-away PKI for TLS tests, made in pure Java in a few milliseconds: a self-signed CA, a
 * server certificate for {@code 127.0.0.1} and {@code localhost} and a client certificate (for
 * mutual TLS), both signed by the CA, all written as PEM files a client or a server can be given.
 *
 * <p>The JDK has no public API to make certificates and keytool would cost a JVM start per step, so
 * the X.509 structures are DER-encoded here (RFC 5280: only what TLS needs, a subject alternative
 * name on the server certificate and the CA flag on the CA) and signed with ECDSA P-256. Every
 * certificate is parsed back by {@link CertificateFactory} and verified against its issuer, so an
 * encoding mistake fails here rather than as a confusing handshake error.
 *
 * <p>Clients trust {@link #caCertificatePem()} (e.g. {@code setTrustedCertificates}); private keys
 * are PKCS#8 ({@code BEGIN PRIVATE KEY}), which both Vert.x and the OpenTelemetry exporters read.
 */
public final class TestCertificates {
  private static final Duration VALIDITY = Duration.ofDays(7);
  private static final byte[] ECDSA_WITH_SHA256 = oid(1, 2, 840, 10045, 4, 3, 2);
  private static final byte[] COMMON_NAME = oid(2, 5, 4, 3);
  private static final byte[] BASIC_CONSTRAINTS = oid(2, 5, 29, 19);
  private static final byte[] SUBJECT_ALT_NAME = oid(2, 5, 29, 17);
  private static final SecureRandom RANDOM = new SecureRandom();

  private static TestCertificates shared;

  private final Path dir;

  private TestCertificates(Path dir) {
    this.dir = dir;
  }

  /**
   * One set per JVM, in a temporary directory deleted when the JVM exits: tests share it, there is
   * nothing in it a test could spoil.
   */
  public static synchronized TestCertificates shared() {
    if (shared == null) {
      try {
        Path dir = Files.createTempDirectory("test-certificates");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> deleteTree(dir)));
        shared = generate(dir);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return shared;
  }

  /** Makes a CA, a server and a client certificate with their keys as PEM files in {@code dir}. */
  public static TestCertificates generate(Path dir) {
    try {
      Files.createDirectories(dir);
      KeyPair ca = newKeyPair();
      String caName = "gadget-exporter test CA";
      X509Certificate caCert = sign(caName, ca, caName, ca, true, false);
      KeyPair server = newKeyPair();
      X509Certificate serverCert = sign("127.0.0.1", server, caName, ca, false, true);
      KeyPair client = newKeyPair();
      X509Certificate clientCert =
          sign("gadget-exporter test client", client, caName, ca, false, false);
      TestCertificates certificates = new TestCertificates(dir);
      write(certificates.caCertificate(), pem("CERTIFICATE", caCert.getEncoded()));
      write(certificates.serverCertificate(), pem("CERTIFICATE", serverCert.getEncoded()));
      write(certificates.serverKey(), pem("PRIVATE KEY", server.getPrivate().getEncoded()));
      write(certificates.clientCertificate(), pem("CERTIFICATE", clientCert.getEncoded()));
      write(certificates.clientKey(), pem("PRIVATE KEY", client.getPrivate().getEncoded()));
      return certificates;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot make test certificates", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write test certificates in " + dir, e);
    }
  }

  /** The directory holding the PEM files. */
  public Path dir() {
    return dir;
  }

  /** The CA certificate, the one thing a client must trust. */
  public Path caCertificate() {
    return dir.resolve("ca.pem");
  }

  /** The server certificate: subject alternative names IP 127.0.0.1 and DNS localhost. */
  public Path serverCertificate() {
    return dir.resolve("server.pem");
  }

  public Path serverKey() {
    return dir.resolve("server-key.pem");
  }

  /** A client certificate signed by the CA, for servers that require one (mutual TLS). */
  public Path clientCertificate() {
    return dir.resolve("client.pem");
  }

  public Path clientKey() {
    return dir.resolve("client-key.pem");
  }

  public byte[] caCertificatePem() {
    return read(caCertificate());
  }

  public byte[] serverCertificatePem() {
    return read(serverCertificate());
  }

  public byte[] serverKeyPem() {
    return read(serverKey());
  }

  public byte[] clientCertificatePem() {
    return read(clientCertificate());
  }

  public byte[] clientKeyPem() {
    return read(clientKey());
  }

  /** PEM: the base64 of the DER bytes, 64 columns, between BEGIN and END lines of that type. */
  public static String pem(String type, byte[] der) {
    String base64 =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return "-----BEGIN " + type + "-----\n" + base64 + "\n-----END " + type + "-----\n";
  }

  private static KeyPair newKeyPair() throws GeneralSecurityException {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    return generator.generateKeyPair();
  }

  /** An X.509 v3 certificate for {@code subject}'s public key, signed by the issuer's key. */
  private static X509Certificate sign(
      String subject,
      KeyPair subjectKeys,
      String issuer,
      KeyPair issuerKeys,
      boolean ca,
      boolean server)
      throws GeneralSecurityException {
    Instant now = Instant.now();
    byte[] algorithm = sequence(ECDSA_WITH_SHA256);
    ByteArrayOutputStream extensions = new ByteArrayOutputStream();
    if (ca) {
      // critical, cA TRUE: without it a strict validator refuses to chain to this certificate.
      extensions.writeBytes(
          sequence(
              BASIC_CONSTRAINTS,
              tlv(0x01, new byte[] {-1}),
              octets(sequence(tlv(0x01, new byte[] {-1})))));
    }
    if (server) {
      // Clients check the name they dialled against these (OkHttp: the IP for https://127.0.0.1).
      byte[] names =
          sequence(
              tlv(0x87, new byte[] {127, 0, 0, 1}),
              tlv(0x82, "localhost".getBytes(StandardCharsets.US_ASCII)));
      extensions.writeBytes(sequence(SUBJECT_ALT_NAME, octets(names)));
    }
    byte[] tbs =
        sequence(
            tlv(0xa0, tlv(0x02, new byte[] {2})), // [0] version: v3
            tlv(0x02, new BigInteger(63, RANDOM).add(BigInteger.ONE).toByteArray()),
            algorithm,
            name(issuer),
            sequence(time(now.minus(Duration.ofHours(1))), time(now.plus(VALIDITY))),
            name(subject),
            subjectKeys.getPublic().getEncoded(), // SubjectPublicKeyInfo, already DER
            tlv(0xa3, sequence(extensions.toByteArray()))); // [3] extensions
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(issuerKeys.getPrivate());
    signer.update(tbs);
    byte[] signature = signer.sign(); // DER Ecdsa-Sig-Value, as X.509 wants it
    byte[] der = sequence(tbs, algorithm, bitString(signature));
    X509Certificate certificate =
        (X509Certificate)
            CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
    certificate.verify(issuerKeys.getPublic());
    certificate.checkValidity();
    return certificate;
  }

  private static byte[] name(String commonName) {
    byte[] attribute =
        sequence(COMMON_NAME, tlv(0x0c, commonName.getBytes(StandardCharsets.UTF_8)));
    return sequence(tlv(0x31, attribute)); // RDNSequence of one SET of one attribute
  }

  private static byte[] time(Instant instant) {
    // UTCTime (two-digit year) is what RFC 5280 requires for dates before 2050.
    String text =
        DateTimeFormatter.ofPattern("yyMMddHHmmss'Z'").withZone(ZoneOffset.UTC).format(instant);
    return tlv(0x17, text.getBytes(StandardCharsets.US_ASCII));
  }

  private static byte[] oid(int... arcs) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(arcs[0] * 40 + arcs[1]);
    for (int i = 2; i < arcs.length; i++) {
      int arc = arcs[i];
      int shift = 28;
      while (shift > 0 && (arc >>> shift) == 0) {
        shift -= 7;
      }
      for (; shift > 0; shift -= 7) {
        out.write(0x80 | ((arc >>> shift) & 0x7f));
      }
      out.write(arc & 0x7f);
    }
    return tlv(0x06, out.toByteArray());
  }

  private static byte[] sequence(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return tlv(0x30, out.toByteArray());
  }

  private static byte[] octets(byte[] content) {
    return tlv(0x04, content);
  }

  private static byte[] bitString(byte[] content) {
    byte[] bits = new byte[content.length + 1]; // leading byte: no unused bits
    System.arraycopy(content, 0, bits, 1, content.length);
    return tlv(0x03, bits);
  }

  /** One DER tag-length-value, with the definite length in short or long form. */
  private static byte[] tlv(int tag, byte[] content) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(tag);
    int length = content.length;
    if (length < 0x80) {
      out.write(length);
    } else {
      int bytes = length > 0xffff ? 3 : length > 0xff ? 2 : 1;
      out.write(0x80 | bytes);
      for (int i = bytes - 1; i >= 0; i--) {
        out.write(length >>> (8 * i));
      }
    }
    out.writeBytes(content);
    return out.toByteArray();
  }

  private static void write(Path file, String content) throws IOException {
    Files.writeString(file, content, StandardCharsets.US_ASCII);
  }

  private static byte[] read(Path file) {
    try {
      return Files.readAllBytes(file);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // Best effort: a temporary directory left behind is harmless.
    }
  }
}
