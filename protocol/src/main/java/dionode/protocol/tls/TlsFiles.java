package dionode.protocol.tls;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.naming.InvalidNameException;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.Rdn;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Reads PEM certificates and PKCS#8 keys and builds the SSLContext a node or a client speaks TLS
 * with. Every failure is an {@link IOException} that names the file and the problem in the user's
 * terms. Stateless; thread-safe.
 */
public final class TlsFiles {
    /** The only protocol offered or accepted. */
    public static final String PROTOCOL = "TLSv1.3";
    private static final Pattern PRIVATE_KEY = Pattern.compile("-----BEGIN PRIVATE KEY-----([A-Za-z0-9+/=\\s]+)-----END PRIVATE KEY-----");
    private static final Set<PosixFilePermission> NOT_OWNER = Set.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
            PosixFilePermission.GROUP_EXECUTE, PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE,
            PosixFilePermission.OTHERS_EXECUTE);

    private TlsFiles() {
    }

    /**
     * A TLS 1.3 context: with {@code cert} and {@code key} it presents that certificate (a server
     * always, a client when the node asks); with {@code ca} it trusts only certificates that CA
     * signed (null: nobody's, so a peer certificate is refused).
     */
    public static SSLContext context(Path ca, Path cert, Path key) throws IOException {
        if ((cert == null) != (key == null)) {
            throw new IOException("a TLS certificate needs its key and a key its certificate: give both --tls-cert and --tls-key");
        }
        try {
            KeyManagerFactory keys = null;
            if (cert != null) {
                checkKeyPrivate(key);
                KeyStore store = KeyStore.getInstance("PKCS12");
                store.load(null, null);
                store.setKeyEntry("me", privateKey(key), new char[0], certificates(cert).toArray(new Certificate[0]));
                keys = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                keys.init(store, new char[0]);
            }
            KeyStore trusted = KeyStore.getInstance("PKCS12");
            trusted.load(null, null);
            if (ca != null) {
                int i = 0;
                for (X509Certificate c : certificates(ca)) {
                    trusted.setCertificateEntry("ca" + i++, c);
                }
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance(PROTOCOL);
            context.init(keys == null ? null : keys.getKeyManagers(), trust.getTrustManagers(), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot set up TLS: " + e.getMessage(), e);
        }
    }

    /** Every certificate of a PEM file, in order; at least one. */
    public static List<X509Certificate> certificates(Path pem) throws IOException {
        byte[] bytes = read(pem, "certificate");
        try (InputStream in = new ByteArrayInputStream(bytes)) {
            Collection<? extends Certificate> all = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (all.isEmpty()) {
                throw new IOException(pem + " holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)");
            }
            return all.stream().map(X509Certificate.class::cast).toList();
        } catch (CertificateException e) {
            throw new IOException(pem + " is not a PEM certificate: " + e.getMessage(), e);
        }
    }

    /** The private key of a PEM file in PKCS#8 form ({@code BEGIN PRIVATE KEY}), EC or RSA. */
    public static PrivateKey privateKey(Path pem) throws IOException {
        Matcher m = PRIVATE_KEY.matcher(new String(read(pem, "key"), StandardCharsets.US_ASCII));
        if (!m.find()) {
            throw new IOException(pem + " is not a PKCS#8 PEM private key (-----BEGIN PRIVATE KEY-----); convert one with "
                    + "'openssl pkcs8 -topk8 -nocrypt -in KEY -out KEY.pk8'");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(Base64.getMimeDecoder().decode(m.group(1)));
        for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
            try {
                return KeyFactory.getInstance(algorithm).generatePrivate(spec);
            } catch (InvalidKeySpecException | NoSuchAlgorithmException tryNext) {
                // the PKCS#8 header names the algorithm; the JDK wants it asked by name
            }
        }
        throw new IOException(pem + " holds a private key that is neither EC, RSA nor Ed25519");
    }

    /** Refuses a key file that its group or others may read or write: a key others can read is no secret. */
    public static void checkKeyPrivate(Path key) throws IOException {
        Set<PosixFilePermission> perms;
        try {
            perms = Files.getPosixFilePermissions(key);
        } catch (UnsupportedOperationException e) {
            return; // no POSIX permissions on this filesystem: nothing to check
        }
        for (PosixFilePermission p : perms) {
            if (NOT_OWNER.contains(p)) {
                throw new IOException("TLS key " + key + " is readable or writable by group or others; make it private: chmod 600 "
                        + key);
            }
        }
    }

    /** The subject CN of {@code cert}, or its whole subject when it has no CN. */
    public static String commonName(X509Certificate cert) {
        String subject = cert.getSubjectX500Principal().getName();
        try {
            for (Rdn rdn : new LdapName(subject).getRdns()) {
                if (rdn.getType().equalsIgnoreCase("CN")) {
                    return rdn.getValue().toString();
                }
            }
        } catch (InvalidNameException e) {
            return subject;
        }
        return subject;
    }

    private static byte[] read(Path file, String what) throws IOException {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new IOException("cannot read TLS " + what + " " + file + ": " + e.getMessage(), e);
        }
    }
}
