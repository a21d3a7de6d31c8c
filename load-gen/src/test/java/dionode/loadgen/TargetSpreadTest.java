package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import dionode.protocol.util.HostPort;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --target a,b,c}: job i's connection goes to the i-th node modulo their number, over real TCP. */
class TargetSpreadTest {

    @Test
    void jobsAreSpreadRoundRobinOverTheNodes() throws Exception {
        List<ServerSocket> listeners = new ArrayList<>();
        List<NodeClient> clients = new ArrayList<>();
        try {
            List<HostPort> addresses = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ServerSocket s = new ServerSocket(0, 16, InetAddress.getLoopbackAddress());
                listeners.add(s);
                addresses.add(new HostPort("127.0.0.1", s.getLocalPort()));
            }
            Target target = Target.remote(addresses, null);
            assertEquals("127.0.0.1:" + addresses.get(0).port() + ",127.0.0.1:" + addresses.get(1).port() + ",127.0.0.1:"
                    + addresses.get(2).port(), target.toString());
            for (int job = 0; job < 7; job++) {
                clients.add(target.connect(ClientOptions.defaults(), job));
            }
            int[] expected = {3, 2, 2}; // jobs 0,3,6 / 1,4 / 2,5
            for (int i = 0; i < 3; i++) {
                listeners.get(i).setSoTimeout(2000);
                for (int n = 0; n < expected[i]; n++) {
                    try (Socket accepted = listeners.get(i).accept()) {
                        assertEquals(clients.get(i + 3 * n).endpoint(), "127.0.0.1:" + listeners.get(i).getLocalPort());
                    }
                }
                listeners.get(i).setSoTimeout(200);
                ServerSocket l = listeners.get(i);
                assertThrows(SocketTimeoutException.class, l::accept, "node " + i + " got more connections than its jobs");
            }
            assertThrows(IllegalArgumentException.class, () -> Target.remote(List.of(), null));
        } finally {
            clients.forEach(NodeClient::close);
            for (ServerSocket s : listeners) {
                s.close();
            }
        }
    }
}
