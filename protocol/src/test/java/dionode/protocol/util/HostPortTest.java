package dionode.protocol.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class HostPortTest {
    @Test
    void peerAddresses() {
        assertEquals(new HostPort("127.0.0.1", 7070), HostPort.parse("127.0.0.1:7070"));
        assertEquals(new HostPort("node-1.example", 1), HostPort.parse("node-1.example:1"));
        assertEquals(new HostPort("::1", 65535), HostPort.parse("[::1]:65535"));
        assertEquals(new HostPort("::1", 7070), HostPort.parse("::1:7070"), "the last ':' ends an unbracketed IPv6 host");
    }

    @Test
    void peerAddressesRefused() {
        assertEquals("expected HOST:PORT, got 'nohostport'", refused("nohostport"));
        assertEquals("expected HOST:PORT, got ':7070'", refused(":7070"));
        assertEquals("expected HOST:PORT, got 'host:'", refused("host:"));
        assertEquals("expected HOST:PORT, got '[::1]'", refused("[::1]"));
        assertEquals("bad port 'abc' in address 'h:abc'", refused("h:abc"));
        assertEquals("port 0 not in 1..65535 in address 'h:0'", refused("h:0"));
        assertEquals("port 99999 not in 1..65535 in address 'h:99999'", refused("h:99999"));
        assertEquals("unclosed '[' in address '[::1:7070'", refused("[::1:7070"));
    }

    @Test
    void listeningAddresses() {
        assertEquals(new HostPort("10.0.0.1", 10809), listen(""));
        assertEquals(new HostPort("10.0.0.1", 10809), listen(null));
        assertEquals(new HostPort("10.0.0.1", 9000), listen("9000"));
        assertEquals(new HostPort("0.0.0.0", 10809), listen("0.0.0.0:10809"));
        assertEquals(new HostPort("127.0.0.1", 0), listen("127.0.0.1:0"));
        assertEquals(new HostPort("::1", 10809), listen("[::1]:10809"));
        assertEquals(new HostPort("::1", 10809), listen("[::1]"));
        assertEquals(new HostPort("nbdhost", 10809), listen("nbdhost"));
        assertEquals(new HostPort("nbdhost", 10809), listen("nbdhost:"));
        assertEquals(new HostPort("10.0.0.1", 9000), listen(":9000"));
    }

    @Test
    void listeningAddressesRefused() {
        assertEquals("write an IPv6 host in brackets: [::1]:PORT", listenRefused("::1"));
        assertEquals("unclosed '[' in NBD address '[::1'", listenRefused("[::1"));
        assertEquals("expected ':' after ']' in NBD address '[::1]9'", listenRefused("[::1]9"));
        assertEquals("bad port 'x' in NBD address 'h:x'", listenRefused("h:x"));
        assertEquals("port 70000 not in 0..65535 in NBD address '70000'", listenRefused("70000"));
    }

    @Test
    void printsIpv6HostsInBrackets() {
        assertEquals("127.0.0.1:7070", new HostPort("127.0.0.1", 7070).toString());
        assertEquals("[::1]:7070", new HostPort("::1", 7070).toString());
        assertEquals(HostPort.parse("[fe80::1]:80"), HostPort.parse(HostPort.parse("[fe80::1]:80").toString()));
    }

    private static String refused(String text) {
        return assertThrows(IllegalArgumentException.class, () -> HostPort.parse(text), text).getMessage();
    }

    private static HostPort listen(String text) {
        return HostPort.parseListen(text, "10.0.0.1", 10809, "NBD address");
    }

    private static String listenRefused(String text) {
        return assertThrows(IllegalArgumentException.class, () -> listen(text), text).getMessage();
    }
}
