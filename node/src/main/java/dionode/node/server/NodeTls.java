package dionode.node.server;

import dionode.node.inode.Caller;
import dionode.node.inode.NodeCounters;
import dionode.protocol.tls.TlsFiles;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.TLSClosing;
import org.apache.pekko.stream.TLSProtocol;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.TLS;
import org.apache.pekko.util.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS 1.3 in front of a connection's flow, through Pekko Streams' TLS stage and JSSE
 * ({@code serve --tls-cert --tls-key [--tls-ca]}). With a CA, client certificates are required
 * and the caller is the certificate's subject CN. A handshake that fails or is not done within
 * {@link #handshakeTimeout} closes the connection, freeing its slot, and counts in
 * {@code tls_failures}. Immutable; thread-safe.
 *
 * @param context the node's certificate and key, and the CA it trusts for clients
 * @param requireClientCert a client without a certificate signed by that CA is refused
 */
public record NodeTls(SSLContext context, boolean requireClientCert, Duration handshakeTimeout) {
    private static final Logger LOG = LoggerFactory.getLogger(NodeTls.class);
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    /** A handshake that did not finish in time. */
    static final class HandshakeTimeout extends RuntimeException {
        HandshakeTimeout(Duration timeout) {
            super("TLS handshake not done within " + timeout.toMillis() + " ms", null, false, false);
        }
    }

    SSLEngine engine() {
        SSLEngine engine = context.createSSLEngine();
        engine.setUseClientMode(false);
        engine.setEnabledProtocols(new String[] {TlsFiles.PROTOCOL});
        engine.setNeedClientAuth(requireClientCert);
        return engine;
    }

    /**
     * {@code app}'s flow for one connection, behind TLS: ciphertext in and out, plaintext between,
     * and the caller it is given set from the client's certificate when the handshake is done.
     */
    public Flow<ByteString, ByteString, NotUsed> wrap(Function<Caller.Ref, Flow<ByteString, ByteString, NotUsed>> app,
            NodeCounters counters) {
        Caller.Ref caller = new Caller.Ref();
        CompletableFuture<Void> handshake = new CompletableFuture<>();
        Flow<TLSProtocol.SslTlsInbound, TLSProtocol.SslTlsOutbound, NotUsed> plain = Flow.of(TLSProtocol.SslTlsInbound.class)
                .filter(TLSProtocol.SessionBytes.class::isInstance)
                .map(in -> ((TLSProtocol.SessionBytes) in).bytes())
                .via(app.apply(caller))
                .map(bytes -> (TLSProtocol.SslTlsOutbound) new TLSProtocol.SendBytes(bytes));
        return TLS.create(this::engine, session -> {
            caller.set(new Caller(identity(session)));
            handshake.complete(null);
        }, TLSClosing.eagerClose()).reversed().join(plain)
                .viaMat(KillSwitches.single(), Keep.right())
                .watchTermination((UniqueKillSwitch kill, CompletionStage<Done> done) -> {
                    handshake.orTimeout(handshakeTimeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((ok, late) -> {
                        if (late != null) {
                            kill.abort(new HandshakeTimeout(handshakeTimeout));
                        }
                    });
                    done.whenComplete((ended, failure) -> {
                        if (!handshake.isDone() || handshake.isCompletedExceptionally()) {
                            counters.inc(NodeCounters.TLS_FAILURES);
                            LOG.debug("TLS handshake failed: {}", failure == null ? "the client closed" : failure.toString());
                        }
                        handshake.completeExceptionally(new IllegalStateException("connection ended"));
                    });
                    return NotUsed.getInstance();
                });
    }

    /** The client's certificate subject CN, or anonymous when it showed none (no --tls-ca). */
    static String identity(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            return chain.length > 0 && chain[0] instanceof X509Certificate x ? TlsFiles.commonName(x) : Caller.ANONYMOUS_NAME;
        } catch (SSLPeerUnverifiedException e) {
            return Caller.ANONYMOUS_NAME;
        }
    }
}
