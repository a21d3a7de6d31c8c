package dionode.cli;

import java.io.IOException;
import java.io.StringWriter;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.bouncycastle.util.io.pem.PemWriter;

/**
 * A small certificate authority for {@code dionode certs}: ECDSA P-256 keys, X.509 v3
 * certificates built and signed with BouncyCastle (bcpkix), PEM files as JSSE, GnuTLS (libnbd,
 * qemu) and OpenSSL read them, private keys PKCS#8 with mode 0600. Not thread-safe (one run).
 */
final class Certificates {
    static final Duration VALIDITY = Duration.ofDays(365);
    private static final String SIGNATURE = "SHA256withECDSA";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyPair caKeys;
    private final X509Certificate ca;

    private Certificates(KeyPair caKeys, X509Certificate ca) {
        this.caKeys = caKeys;
        this.ca = ca;
    }

    /** A new CA, {@code CN=name}. */
    static Certificates newAuthority(String name) throws GeneralSecurityException, IOException {
        KeyPair keys = ecKeys();
        X500Name subject = name(name);
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(), Date.from(now.minusSeconds(300)),
                Date.from(now.plus(VALIDITY)), subject, keys.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
        return new Certificates(keys, sign(b, keys));
    }

    X509Certificate authority() {
        return ca;
    }

    /** A key and certificate for the node, valid for {@code names} (DNS names or IP addresses). */
    Issued server(List<String> names) throws GeneralSecurityException, IOException {
        GeneralName[] alt = new GeneralName[names.size()];
        for (int i = 0; i < names.size(); i++) {
            String n = names.get(i);
            alt[i] = isIpLiteral(n) ? new GeneralName(GeneralName.iPAddress, InetAddress.getByName(n).getHostAddress())
                    : new GeneralName(GeneralName.dNSName, n);
        }
        return issue(names.get(0), KeyPurposeId.id_kp_serverAuth, new GeneralNames(alt));
    }

    /** A key and certificate for the client identity {@code cn}. */
    Issued client(String cn) throws GeneralSecurityException, IOException {
        return issue(cn, KeyPurposeId.id_kp_clientAuth, null);
    }

    private Issued issue(String cn, KeyPurposeId purpose, GeneralNames alt) throws GeneralSecurityException, IOException {
        KeyPair keys = ecKeys();
        Instant now = Instant.now();
        X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(), Date.from(now.minusSeconds(300)),
                Date.from(now.plus(VALIDITY)), name(cn), keys.getPublic());
        JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
        b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
        b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purpose));
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
        b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(keys.getPublic()));
        if (alt != null) {
            b.addExtension(Extension.subjectAlternativeName, false, alt);
        }
        return new Issued(keys, sign(b, caKeys));
    }

    /** A key pair and the certificate issued for it. */
    record Issued(KeyPair keys, X509Certificate certificate) {
        void write(Path certFile, Path keyFile) throws IOException {
            writeCertificate(certFile, certificate);
            writeKey(keyFile, keys);
        }
    }

    static void writeCertificate(Path file, X509Certificate cert) throws IOException {
        try {
            write(file, pem("CERTIFICATE", cert.getEncoded()), "rw-r--r--");
        } catch (CertificateEncodingException e) {
            throw new IOException("cannot encode the certificate for " + file + ": " + e.getMessage(), e);
        }
    }

    /** PKCS#8, created 0600 before a byte of the key is written. */
    static void writeKey(Path file, KeyPair keys) throws IOException {
        write(file, pem("PRIVATE KEY", pkcs8(keys)), "rw-------");
    }

    /**
     * The PKCS#8 encoding, for an EC key with its public point inside: JDK 17 leaves the optional
     * publicKey field of ECPrivateKey (RFC 5915) out, and GnuTLS (libnbd, qemu) refuses such a key
     * ("ASN1 parser: Element was not found").
     */
    static byte[] pkcs8(KeyPair keys) throws IOException {
        if (!(keys.getPrivate() instanceof java.security.interfaces.ECPrivateKey ec)) {
            return keys.getPrivate().getEncoded();
        }
        org.bouncycastle.asn1.pkcs.PrivateKeyInfo info = org.bouncycastle.asn1.pkcs.PrivateKeyInfo.getInstance(ec.getEncoded());
        org.bouncycastle.asn1.x509.SubjectPublicKeyInfo pub =
                org.bouncycastle.asn1.x509.SubjectPublicKeyInfo.getInstance(keys.getPublic().getEncoded());
        int bits = ec.getParams().getOrder().bitLength();
        return new org.bouncycastle.asn1.pkcs.PrivateKeyInfo(info.getPrivateKeyAlgorithm(),
                new org.bouncycastle.asn1.sec.ECPrivateKey(bits, ec.getS(), pub.getPublicKeyData(), null)).getEncoded();
    }

    private static void write(Path file, String text, String mode) throws IOException {
        Files.deleteIfExists(file);
        Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(mode)));
        Files.writeString(file, text, StandardCharsets.US_ASCII, StandardOpenOption.TRUNCATE_EXISTING);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(mode)); // whatever the umask took away or left
    }

    private static String pem(String type, byte[] der) throws IOException {
        StringWriter out = new StringWriter();
        try (PemWriter w = new PemWriter(out)) {
            w.writeObject(new PemObject(type, der));
        }
        return out.toString();
    }

    private static X509Certificate sign(X509v3CertificateBuilder b, KeyPair signer) throws GeneralSecurityException {
        try {
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(SIGNATURE).build(signer.getPrivate())));
        } catch (OperatorCreationException e) {
            throw new GeneralSecurityException("cannot sign with " + SIGNATURE + ": " + e.getMessage(), e);
        }
    }

    private static KeyPair ecKeys() throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        return g.generateKeyPair();
    }

    private static BigInteger serial() {
        return new BigInteger(127, RANDOM).add(BigInteger.ONE);
    }

    private static X500Name name(String cn) {
        return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.CN, cn).build();
    }

    static boolean isIpLiteral(String name) {
        return name.matches("[0-9.]+") || name.contains(":");
    }
}
