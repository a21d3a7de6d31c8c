package dionode.node.server;

/**
 * The ways a node can carry a request's bytes that tests of the transport run on: our socket
 * stage read by the event loop or by a thread per connection, and Pekko's Tcp on the event loop.
 */
enum Engines {
    NIO_ON_LOOP(new NodeConfig.Engine(TransportKind.NIO, true, true, NodeConfig.Engine.DEFAULT_LOOP_SPIN)),
    NIO_THREAD_PER_CONNECTION(new NodeConfig.Engine(TransportKind.NIO, true, false, NodeConfig.Engine.DEFAULT_LOOP_SPIN)),
    PEKKO_TCP(new NodeConfig.Engine(TransportKind.PEKKO, true, true, NodeConfig.Engine.DEFAULT_LOOP_SPIN));

    private final NodeConfig.Engine engine;

    Engines(NodeConfig.Engine engine) {
        this.engine = engine;
    }

    NodeConfig.Engine engine() {
        return engine;
    }
}
