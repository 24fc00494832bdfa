package io.gadgetexporter.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509KeyManager;

/**
 * Self-signed certificates made by the JDK's keytool, written as the PEM files the agent reads, and
 * HTTPS clients that trust them.
 */
final class TestCertificates {
  private static final char[] PASSWORD = "changeit".toCharArray();

  /** One key pair: its PKCS12 keystore and its PEM certificate and private key. */
  record Identity(Path keystore, Path certPem, Path keyPem) {
    /** A client that trusts {@code server} and shows this identity's certificate. */
    HttpClient clientTrusting(Identity server) throws Exception {
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(load(keystore), PASSWORD);
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(keys.getKeyManagers(), server.trustManagers(), null);
      return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
    }

    /**
     * As {@link #clientTrusting}, but it shows its certificate even when the server's list of
     * accepted CAs does not name its issuer (a JSSE client would then show none; curl would).
     */
    HttpClient clientInsistingOn(Identity server) throws Exception {
      KeyManagerFactory keys =
          KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keys.init(load(keystore), PASSWORD);
      X509KeyManager chosen = (X509KeyManager) keys.getKeyManagers()[0];
      X509KeyManager insisting =
          new X509ExtendedKeyManager() {
            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
              return new String[] {"key"};
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
              return "key";
            }

            @Override
            public String chooseEngineClientAlias(
                String[] keyType, Principal[] issuers, SSLEngine engine) {
              return "key";
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
              return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
              return null;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
              return chosen.getCertificateChain(alias);
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
              return chosen.getPrivateKey(alias);
            }
          };
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(new KeyManager[] {insisting}, server.trustManagers(), null);
      return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
    }

    /** A client that trusts this identity as a server, and shows no certificate. */
    HttpClient trustingClient() throws Exception {
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, trustManagers(), null);
      return HttpClient.newBuilder().sslContext(tls).version(HttpClient.Version.HTTP_1_1).build();
    }

    private javax.net.ssl.TrustManager[] trustManagers() throws Exception {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      trusted.setCertificateEntry("server", load(keystore).getCertificate("key"));
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trusted);
      return tmf.getTrustManagers();
    }
  }

  private TestCertificates() {}

  /**
   * A self-signed certificate for {@code CN=name}, valid for 127.0.0.1 and localhost, in {@code
   * dir/name.p12}, {@code dir/name.crt} and {@code dir/name.key}.
   */
  static Identity create(Path dir, String name) throws Exception {
    Path keystore = dir.resolve(name + ".p12");
    Process keytool =
        new ProcessBuilder(
                "keytool",
                "-genkeypair",
                "-alias",
                "key",
                "-keyalg",
                "EC",
                "-groupname",
                "secp256r1",
                "-dname",
                "CN=" + name,
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-validity",
                "2",
                "-keystore",
                keystore.toString(),
                "-storetype",
                "PKCS12",
                "-storepass",
                new String(PASSWORD),
                "-keypass",
                new String(PASSWORD))
            .redirectErrorStream(true)
            .start();
    String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (keytool.waitFor() != 0) {
      throw new IOException("keytool failed: " + output);
    }
    KeyStore ks = load(keystore);
    Certificate cert = ks.getCertificate("key");
    Path certPem = dir.resolve(name + ".crt");
    Path keyPem = dir.resolve(name + ".key");
    Files.writeString(certPem, pem("CERTIFICATE", cert.getEncoded()));
    // getEncoded() of a private key is PKCS#8: the "PRIVATE KEY" block.
    Files.writeString(keyPem, pem("PRIVATE KEY", ks.getKey("key", PASSWORD).getEncoded()));
    return new Identity(keystore, certPem, keyPem);
  }

  private static KeyStore load(Path keystore) throws IOException, GeneralSecurityException {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(keystore)) {
      ks.load(in, PASSWORD);
    }
    return ks;
  }

  private static String pem(String type, byte[] der) {
    String base64 =
        Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
    return String.join(
        "\n", List.of("-----BEGIN " + type + "-----", base64, "-----END " + type + "-----", ""));
  }
}
