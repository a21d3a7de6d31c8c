package dionode.node.nbd;

import dionode.node.device.JnaNativeIO;
import dionode.node.server.NodeConfig;
import dionode.node.server.NodeServer;
import dionode.protocol.LockPolicy;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.javadsl.Tcp;

/**
 * A node with NBD next to the native protocol, until {@code dionode serve --nbd} is wired:
 * {@code NbdServeMain DEVICE SIZE_BYTES NATIVE_PORT [H:]P}. Creates the device file if missing,
 * prints {@code listening on H:P} and {@code nbd on H:P}, stops cleanly on SIGTERM/SIGINT.
 */
public final class NbdServeMain {
    private NbdServeMain() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 4) {
            System.err.println("usage: NbdServeMain DEVICE SIZE_BYTES NATIVE_PORT [H:]P");
            System.exit(2);
        }
        NodeConfig config = NodeConfig.defaults().withDevice(Path.of(args[0]), Long.parseLong(args[1]), true)
                .withAddress("127.0.0.1", Integer.parseInt(args[2])).withPolicy(LockPolicy.ZEROING_AWARE);
        NodeServer node = NodeServer.start(config, new JnaNativeIO());
        NbdServer.Address a = NbdServer.parseAddress(args[3]);
        Tcp.ServerBinding nbd = NbdServer.bind(node.system(), node.dispatcher(), node.volume().device().sectorSize(),
                a.host(), a.port()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        CountDownLatch stop = new CountDownLatch(1);
        for (String sig : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(sig), s -> stop.countDown());
        }
        System.out.println("listening on " + node.address().getHostString() + ":" + node.address().getPort());
        System.out.println("nbd on " + nbd.localAddress().getHostString() + ":" + nbd.localAddress().getPort());
        System.out.flush();
        stop.await();
        nbd.unbind().toCompletableFuture().get(10, TimeUnit.SECONDS);
        node.close();
    }
}
