package dionode.protocol.client;

import dionode.protocol.wire.Wire;
import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;

/**
 * Settings of one {@link NodeClient} connection. Immutable.
 *
 * @param maxInFlight most requests outstanding at once (1 to {@value #MAX_IN_FLIGHT_LIMIT}); a
 *     caller beyond it blocks until a reply frees a slot
 * @param maxPayload largest Kryo body sent or accepted, in bytes; must match the node's
 * @param connectTimeout TCP connect timeout, positive
 * @param tcpNoDelay TCP_NODELAY (Nagle off); on by default, requests are small and latency-bound
 * @param tls TLS 1.3 with this context (the CA the node's certificate must be signed by, and the
 *     client's own certificate if the node asks for one); null: plain text
 */
public record ClientOptions(int maxInFlight, int maxPayload, Duration connectTimeout, boolean tcpNoDelay, SSLContext tls) {
    public static final int DEFAULT_MAX_IN_FLIGHT = 64;
    public static final int MAX_IN_FLIGHT_LIMIT = 1 << 20;
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);

    public ClientOptions {
        if (maxInFlight < 1 || maxInFlight > MAX_IN_FLIGHT_LIMIT) {
            throw new IllegalArgumentException("maxInFlight " + maxInFlight + " not in [1, " + MAX_IN_FLIGHT_LIMIT + "]");
        }
        if (maxPayload < 1) {
            throw new IllegalArgumentException("maxPayload " + maxPayload + " < 1");
        }
        Objects.requireNonNull(connectTimeout, "connectTimeout");
        if (connectTimeout.isNegative() || connectTimeout.isZero()
                || connectTimeout.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("connectTimeout " + connectTimeout + " must be positive and under 24 days");
        }
    }

    /** 64 in flight, {@link Wire#DEFAULT_MAX_PAYLOAD}, 10 s connect timeout, TCP_NODELAY on. */
    public static ClientOptions defaults() {
        return new ClientOptions(DEFAULT_MAX_IN_FLIGHT, Wire.DEFAULT_MAX_PAYLOAD, DEFAULT_CONNECT_TIMEOUT, true, null);
    }

    public ClientOptions withMaxInFlight(int maxInFlight) {
        return new ClientOptions(maxInFlight, maxPayload, connectTimeout, tcpNoDelay, tls);
    }

    public ClientOptions withMaxPayload(int maxPayload) {
        return new ClientOptions(maxInFlight, maxPayload, connectTimeout, tcpNoDelay, tls);
    }

    public ClientOptions withConnectTimeout(Duration connectTimeout) {
        return new ClientOptions(maxInFlight, maxPayload, connectTimeout, tcpNoDelay, tls);
    }

    public ClientOptions withTls(SSLContext tls) {
        return new ClientOptions(maxInFlight, maxPayload, connectTimeout, tcpNoDelay, tls);
    }

    public ClientOptions withTcpNoDelay(boolean tcpNoDelay) {
        return new ClientOptions(maxInFlight, maxPayload, connectTimeout, tcpNoDelay, tls);
    }
}
