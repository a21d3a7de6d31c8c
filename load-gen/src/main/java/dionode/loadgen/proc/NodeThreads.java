package dionode.loadgen.proc;

/**
 * Which of a node's jobs a thread does, told by its name as /proc shows it (the comm, which Linux
 * cuts to 15 characters) or as Java names it: the names come from the node's code. Stateless and
 * thread-safe.
 */
public final class NodeThreads {
    private static final String NODE = "dionode-";

    private NodeThreads() {
    }

    /** The thread groups, each with its key in load-gen run's JSON. */
    public enum Group {
        /** {@code dionode-io-N}: device I/O (IoExecutor's pool). */
        IO("io"),
        /** {@code dionode-aio}: the kernel AIO completion thread (AioRing): where a data transfer's end is seen. */
        AIO("aio"),
        /**
         * {@code dionode-loop-N}, the event loops that run actors and stream stages and wait for the
         * sockets and AIO completions ({@code serve --dispatcher loop}), or
         * {@code dionode-pekko.actor.default-dispatcher-N} ({@code --dispatcher pool}) and, since all of
         * Pekko's threads share the 15 characters Linux keeps ("dionode-pekko.a"), its internal
         * dispatcher and the pekko transport's I/O threads too.
         */
        DISPATCHER("dispatcher"),
        /** {@code dionode-conn-ADDRESS}: a connection's reader (SocketStage, the nio transport). */
        CONN("conn"),
        /** {@code dionode-journal}: the journal's commit thread. */
        JOURNAL("journal"),
        /** The node's other threads: {@code dionode-accept-PORT} (NioListener), {@code dionode-scheduler-N} (Pekko's timer). */
        OTHER("other"),
        /**
         * Not the node's by name: the JVM's own (GC, JIT compilers, the main thread) and, in load-gen's
         * JVM, load-gen's, among them its clients' readers ({@code dionode-client-reader-...}).
         */
        JVM("jvm");

        private final String key;

        Group(String key) {
            this.key = key;
        }

        public String key() {
            return key;
        }
    }

    /** The group of the thread named {@code name} (a comm of up to 15 characters, or a full Java thread name). */
    public static Group group(String name) {
        if (!name.startsWith(NODE) || name.startsWith("dionode-client-")) {
            return Group.JVM;
        }
        String rest = name.substring(NODE.length());
        if (rest.startsWith("io-")) {
            return Group.IO;
        }
        if (rest.equals("aio")) {
            return Group.AIO;
        }
        if (rest.startsWith("pekko.") || rest.startsWith("loop-")) {
            return Group.DISPATCHER;
        }
        if (rest.startsWith("conn-")) {
            return Group.CONN;
        }
        if (rest.equals("journal")) {
            return Group.JOURNAL;
        }
        return Group.OTHER;
    }
}
