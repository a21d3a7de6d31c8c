package dionode.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code dionode certs}: a CA, a server certificate and client certificates for a TLS node, laid
 * out as {@code serve --tls-*}, the client commands and libnbd's {@code tls-certificates=}
 * directory take them.
 */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = {"Write a new CA, a server certificate and client certificates (ECDSA P-256, valid 365 days):",
            "  DIR/ca-cert.pem, DIR/server-cert.pem, DIR/server-key.pem",
            "  DIR/CN/ca-cert.pem, DIR/CN/client-cert.pem, DIR/CN/client-key.pem   for each --client CN",
            "Keys are PKCS#8 PEM, mode 0600. A client directory is what libnbd's tls-certificates= and "
                + "'--tls-ca DIR/CN/ca-cert.pem --tls-cert DIR/CN/client-cert.pem --tls-key DIR/CN/client-key.pem' take."})
public final class CertsCommand implements Callable<Integer> {
    @Option(names = "--dir", required = true, paramLabel = "DIR", description = "where to write them (created if missing)")
    Path dir;

    @Option(names = "--server-name", required = true, split = ",", paramLabel = "NAME[,NAME...]",
            description = "the names clients reach the node by: DNS names or IP addresses (e.g. 127.0.0.1,localhost)")
    List<String> serverNames;

    @Option(names = "--client", split = ",", paramLabel = "CN[,CN...]",
            description = "client identities to issue certificates for (each a directory under DIR)")
    List<String> clients = List.of();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        for (String cn : clients) {
            if (cn.isEmpty() || cn.contains("/") || cn.equals(".") || cn.equals("..")) {
                throw new ParameterException(spec.commandLine(), "--client: '" + cn + "' cannot name a directory");
            }
        }
        Files.createDirectories(dir);
        Certificates ca = Certificates.newAuthority("dionode CA");
        Certificates.writeCertificate(dir.resolve("ca-cert.pem"), ca.authority());
        ca.server(serverNames).write(dir.resolve("server-cert.pem"), dir.resolve("server-key.pem"));
        for (String cn : clients) {
            Path d = Files.createDirectories(dir.resolve(cn));
            Certificates.writeCertificate(d.resolve("ca-cert.pem"), ca.authority());
            ca.client(cn).write(d.resolve("client-cert.pem"), d.resolve("client-key.pem"));
        }
        System.out.println("wrote a CA, a server certificate for " + String.join(",", serverNames)
                + (clients.isEmpty() ? "" : " and client certificates for " + String.join(",", clients)) + " in " + dir);
        return 0;
    }
}
