package dionode.protocol.util;

import java.util.Objects;

/**
 * A network address as the tools spell it, {@code HOST:PORT}, an IPv6 host in brackets
 * ({@code [::1]:7070}): the one parser behind the client commands' and load-gen's
 * {@code --target} and the node's {@code serve --nbd [H:]P}. Immutable.
 *
 * @param host a host name or address literal, without brackets
 * @param port as given; the parsers take 0..65535 (0: any free port, for a listener)
 */
public record HostPort(String host, int port) {
    public HostPort {
        Objects.requireNonNull(host, "host");
    }

    /**
     * A peer to connect to: {@code HOST:PORT}, both given, port 1..65535. The last ':' ends the
     * host, so an IPv6 host may also come without brackets ({@code ::1:7070}).
     *
     * @throws IllegalArgumentException naming the text
     */
    public static HostPort parse(String text) {
        String spec = text.trim();
        Parts parts = spec.startsWith("[") ? bracketed(spec, "address") : splitAt(spec, spec.lastIndexOf(':'));
        if (parts.host.isEmpty() || parts.port.isEmpty()) {
            throw new IllegalArgumentException("expected HOST:PORT, got '" + text + "'");
        }
        return new HostPort(parts.host, port(parts.port, 1, text, "address"));
    }

    /**
     * A listening address {@code [H:]P}: {@code "10809"}, {@code "0.0.0.0:10809"},
     * {@code "[::1]:10809"}, a host alone ({@code "nbdhost"}, {@code "nbdhost:"}) or nothing; a
     * part left out is {@code defaultHost} or {@code defaultPort}. Port 0 picks a free port. An
     * IPv6 host needs its brackets here, since a port may be left out.
     *
     * @param what what the address is for, in error messages (e.g. "NBD address")
     * @throws IllegalArgumentException naming the text
     */
    public static HostPort parseListen(String text, String defaultHost, int defaultPort, String what) {
        String spec = text == null ? "" : text.trim();
        Parts parts;
        if (spec.startsWith("[")) {
            parts = bracketed(spec, what);
        } else {
            int colon = spec.lastIndexOf(':');
            if (colon >= 0 && spec.indexOf(':') != colon) {
                throw new IllegalArgumentException("write an IPv6 host in brackets: [" + spec + "]:PORT");
            }
            boolean portOnly = colon < 0 && !spec.isEmpty() && spec.chars().allMatch(Character::isDigit);
            parts = portOnly ? new Parts("", spec) : splitAt(spec, colon);
        }
        String host = parts.host.isEmpty() ? defaultHost : parts.host;
        return new HostPort(host, parts.port.isEmpty() ? defaultPort : port(parts.port, 0, text, what));
    }

    /** {@code HOST:PORT}, an IPv6 host in brackets. */
    @Override
    public String toString() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /** The two parts as written; an empty one was left out. */
    private record Parts(String host, String port) {
    }

    /** {@code [HOST]} or {@code [HOST]:PORT}. */
    private static Parts bracketed(String spec, String what) {
        int close = spec.indexOf(']');
        if (close < 0) {
            throw new IllegalArgumentException("unclosed '[' in " + what + " '" + spec + "'");
        }
        String rest = spec.substring(close + 1);
        if (!rest.isEmpty() && !rest.startsWith(":")) {
            throw new IllegalArgumentException("expected ':' after ']' in " + what + " '" + spec + "'");
        }
        return new Parts(spec.substring(1, close), rest.isEmpty() ? "" : rest.substring(1));
    }

    /** Host before {@code colon}, port after it; no colon (-1) is a host alone. */
    private static Parts splitAt(String spec, int colon) {
        return colon < 0 ? new Parts(spec, "") : new Parts(spec.substring(0, colon), spec.substring(colon + 1));
    }

    private static int port(String digits, int lowest, String text, String what) {
        int port;
        try {
            port = Integer.parseInt(digits);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port '" + digits + "' in " + what + " '" + text + "'");
        }
        if (port < lowest || port > 65535) {
            throw new IllegalArgumentException("port " + port + " not in " + lowest + "..65535 in " + what + " '" + text + "'");
        }
        return port;
    }
}
