package dionode.node.fs;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.ChildJvm;
import dionode.node.crash.CrashChild;
import dionode.node.crash.Fixture;
import dionode.node.crash.Population;
import dionode.node.device.FaultyNativeIO;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 4, first "Done when": a restart keeps every file, size, mode (setuid included), policy,
 * timestamp and extent state, with fiemap identical before and after, and the same bytes; after a
 * clean stop, after a power cut right after fsync (every later write dropped, no clean unmount),
 * and after a SIGKILL of a node in another JVM once it has fsync'd. The files are
 * {@link Population}'s, one of them with about 4000 extents in a multi-level extent tree.
 */
@Timeout(120)
class RestartTest {
    private static final long SIZE = 64 * Fixture.MIB;
    private Path device;

    @AfterEach
    void remove() {
        Fixture.deleteQuietly(device);
    }

    private static NodeServer start(Path device, dionode.node.device.NativeIO io) throws Exception {
        return Fixture.start(Fixture.config(device, SIZE, Duration.ofHours(1)), io);
    }

    private static void checkPopulation(String snapshot) {
        assertTrue(snapshot.contains("suid ino=") && snapshot.contains("mode=4755"), snapshot);
        assertTrue(snapshot.contains("mode=2750"), snapshot);
        assertTrue(snapshot.contains("policy=overwrite-check") && snapshot.contains("policy=aligned-shared"), snapshot);
        assertTrue(snapshot.contains("flags=2048"), "unwritten extents in the snapshot");
    }

    @Test
    void cleanStopKeepsEverything() throws Exception {
        device = Fixture.newDevice("restart-clean");
        String before;
        try (NodeServer node = start(device, Fixture.JNA); NodeClient c = Fixture.client(node)) {
            Population.populate(c);
            before = Fixture.snapshot(c);
            FileId many = join(c.lookup("many-extents")).file();
            Reply.FileStat st = join(c.stat(many));
            assertTrue(st.layout().extents() >= 4000, "many extents: " + st.layout());
            assertTrue(st.blocks() > st.layout().writtenBlocks() + st.layout().unwrittenBlocks(),
                    "extent blocks counted: the tree spilled out of the inode");
        }
        checkPopulation(before);
        if (Boolean.getBoolean("dionode.print.snapshot")) {
            System.out.println(before);
        }
        assertEquals(List.of(), Fixture.fsck(device));
        try (NodeServer node = start(device, Fixture.JNA); NodeClient c = Fixture.client(node)) {
            assertEquals(before, Fixture.snapshot(c));
        }
        // and a second restart of the restarted image
        try (NodeServer node = start(device, Fixture.JNA); NodeClient c = Fixture.client(node)) {
            assertEquals(before, Fixture.snapshot(c));
        }
    }

    @Test
    void powerCutAfterFsyncKeepsEverything() throws Exception {
        device = Fixture.newDevice("restart-cut");
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        String before;
        try (NodeServer node = start(device, io); NodeClient c = Fixture.client(node)) {
            Population.populate(c);
            before = Fixture.snapshot(c);
            // the power fails now: nothing after the fsync reaches the device (no checkpoint, no clean flag)
            io.dropWritesAfter(0);
        }
        assertTrue(io.droppedWrites() > 0, "the unmount's writes were dropped");
        try (NodeServer node = start(device, Fixture.JNA); NodeClient c = Fixture.client(node)) {
            assertTrue(node.volume().replay().transactions() > 0, "the fsync'd transactions came from the journal");
            assertEquals(before, Fixture.snapshot(c));
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }

    @Test
    void sigkillAfterFsyncKeepsEverything() throws Exception {
        device = Fixture.newDevice("restart-kill");
        Path log = Fixture.dir().resolve("restart-kill-child.log");
        String before;
        try (ChildJvm child = ChildJvm.start(CrashChild.class, log, "populate", device.toString(), Long.toString(SIZE))) {
            String snap = child.await("SNAPSHOT ", 90_000);
            assertNotNull(snap, "child populated the node; see " + log);
            assertNotNull(child.await("SYNCED", 10_000));
            before = new String(Base64.getDecoder().decode(snap.substring("SNAPSHOT ".length())), StandardCharsets.UTF_8);
            child.kill();
        }
        checkPopulation(before);
        assertEquals(List.of(), Fixture.fsck(device));
        try (NodeServer node = start(device, Fixture.JNA); NodeClient c = Fixture.client(node)) {
            assertEquals(before, Fixture.snapshot(c));
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }
}
