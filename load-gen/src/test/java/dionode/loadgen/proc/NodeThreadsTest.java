package dionode.loadgen.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.loadgen.Target;
import dionode.loadgen.proc.NodeThreads.Group;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The thread-name rule over the names a node's threads really have, in /proc (cut to 15 characters) and in Java. */
class NodeThreadsTest {
    /** As /proc/self/task/TID/comm showed them for an embedded node that had served a write (and the JVM's own). */
    @Test
    void theNamesLinuxShows() {
        Map<String, Group> seen = new LinkedHashMap<>();
        seen.put("dionode-io-0", Group.IO);
        seen.put("dionode-io-31", Group.IO);
        seen.put("dionode-pekko.a", Group.DISPATCHER); // default-dispatcher-N and internal-dispatcher-N alike
        seen.put("dionode-conn-/1", Group.CONN);
        seen.put("dionode-journal", Group.JOURNAL);
        seen.put("dionode-accept-", Group.OTHER);
        seen.put("dionode-schedul", Group.OTHER);
        seen.put("dionode-aio", Group.AIO);
        seen.put("dionode-client-", Group.JVM); // load-gen's client reader, not the node's
        seen.put("load-gen-job-0", Group.JVM);
        seen.put("java", Group.JVM);
        seen.put("C2 CompilerThre", Group.JVM);
        seen.put("GC Thread#0", Group.JVM);
        seen.put("G1 Conc#0", Group.JVM);
        seen.put("JNA Cleaner", Group.JVM);
        seen.forEach((comm, group) -> assertEquals(group, NodeThreads.group(comm), comm));
    }

    @Test
    void theNamesJavaGives() {
        assertEquals(Group.DISPATCHER, NodeThreads.group("dionode-pekko.actor.default-dispatcher-3"));
        assertEquals(Group.DISPATCHER, NodeThreads.group("dionode-pekko.actor.internal-dispatcher-2"));
        assertEquals(Group.DISPATCHER, NodeThreads.group("dionode-loop-0"));
        assertEquals(Group.CONN, NodeThreads.group("dionode-conn-/127.0.0.1:52516"));
        assertEquals(Group.OTHER, NodeThreads.group("dionode-accept-36869"));
        assertEquals(Group.OTHER, NodeThreads.group("dionode-scheduler-1"));
        assertEquals(Group.JVM, NodeThreads.group("dionode-client-reader-127.0.0.1:36869"));
    }

    /** A live node's threads, as /proc and Java name them: every group is there and a name's cut does not change its group. */
    @Test
    void aLiveNodesThreads() throws Exception {
        try (Target node = Target.embedded(Path.of("target"), 1 << 20);
                NodeClient c = NodeClient.connect(node.host(), node.port())) {
            FileId f = c.create("node-threads-test", LockPolicy.parse("zeroing-aware"), 0644, true).toCompletableFuture().join().file();
            c.write(f, 0, new byte[4096], 0).toCompletableFuture().join();
            Set<Group> groups = EnumSet.noneOf(Group.class);
            for (TaskSample t : TaskSample.all(Path.of("/proc/self"))) {
                groups.add(NodeThreads.group(t.comm()));
            }
            // the I/O pool's threads start with the first transfer kernel AIO does not take: there may be none yet;
            // the event loop reads the connections, so there is no reader thread (CONN is --dispatcher pool's)
            Set<Group> always = EnumSet.complementOf(EnumSet.of(Group.IO, Group.CONN));
            assertTrue(groups.containsAll(always), "threads of this JVM by group: " + groups);
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                String name = t.getName();
                assertEquals(NodeThreads.group(name), NodeThreads.group(name.substring(0, Math.min(15, name.length()))), name);
                if (name.startsWith("dionode-") && !name.startsWith("dionode-client-")) {
                    assertTrue(NodeThreads.group(name) != Group.JVM, name);
                }
            }
        }
    }
}
