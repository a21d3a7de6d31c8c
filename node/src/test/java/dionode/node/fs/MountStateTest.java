package dionode.node.fs;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.crash.RawImage;
import dionode.node.device.BlockDevice;
import dionode.node.device.FaultyNativeIO;
import dionode.node.journal.JournalOptions;
import dionode.node.meta.Bytes;
import dionode.node.meta.Superblock;
import dionode.node.meta.Superblock.State;
import dionode.node.server.NodeServer;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 10 item 13: the superblock records whether the device is mounted, when it was last
 * mounted, and how many mounts found it not cleanly unmounted; a read-only mount (fsck) changes
 * none of it, and a version 1 superblock is read and upgraded by the next read-write mount.
 */
class MountStateTest {
    private static final long SIZE = 32 * Fixture.MIB;
    private Path device;

    @AfterEach
    void remove() {
        Fixture.deleteQuietly(device);
    }

    private static Superblock onDisk(Path dev) throws IOException {
        try (RawImage r = new RawImage(dev)) {
            return Superblock.decode(r.read(0), SIZE);
        }
    }

    private static Clock at(long millis) {
        return Clock.fixed(Instant.ofEpochMilli(millis), ZoneOffset.UTC);
    }

    @Test
    void mountRecordsItselfBeforeServingAndACleanUnmountMarksItClean() throws Exception {
        device = Fixture.newDevice("mount-state");
        dionode.node.device.DeviceFiles.createFullyWritten(device, SIZE, Fixture.JNA);
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Mkfs.format(dev, 0, LockPolicy.ZEROING_AWARE, at(1_000));
        }
        Superblock fresh = onDisk(device);
        assertEquals(State.CLEAN, fresh.state());
        assertEquals(0, fresh.mountCount());

        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), at(2_000), false);
            Superblock live = onDisk(device);
            assertEquals(State.MOUNTED, live.state(), "on the device before mount returns, i.e. before serving");
            assertEquals(2_000, live.lastMountMillis());
            assertEquals(1, live.mountCount());
            assertEquals(live, v.superblock());
            v.close();
        }
        assertEquals(State.CLEAN, onDisk(device).state());
        assertEquals(1, onDisk(device).mountCount());

        // power lost while mounted: the clean unmount never reaches the device
        FaultyNativeIO io = new FaultyNativeIO(Fixture.JNA);
        try (BlockDevice dev = BlockDevice.open(device, io, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), at(3_000), false);
            io.dropWritesAfter(0);
            v.close();
        }
        Superblock crashed = onDisk(device);
        assertEquals(State.MOUNTED, crashed.state());
        assertEquals(0, crashed.uncleanMounts());

        // fsck reports it and writes nothing of its own to block 0
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), at(4_000), true);
            assertEquals(crashed, v.superblock());
        }
        assertEquals(crashed, onDisk(device));

        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), at(5_000), false);
            assertEquals(1, v.superblock().uncleanMounts(), "this mount counted the unclean shutdown");
            assertEquals(3, v.superblock().mountCount());
            v.close();
        }
        assertEquals(new Superblock(Superblock.VERSION, fresh.sectorSize(), State.CLEAN, fresh.layout(), 1_000,
                LockPolicy.ZEROING_AWARE, 5_000, 3, 1, fresh.volumeId()), onDisk(device));
    }

    @Test
    void aVersion1DeviceServesAndIsUpgradedAtMount() throws Exception {
        device = Fixture.newDevice("mount-state-v1");
        byte[] data = new byte[3 * Fixture.B];
        new java.util.Random(13).nextBytes(data);
        FileId ino;
        try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            FileId tagged = join(c.create("old", null, 0644, true)).file();
            join(c.write(tagged, 0, data, 0));
            // a version 1 node's handles named no volume: the upgraded node takes them as its own
            ino = new FileId(tagged.ino(), tagged.generation());
        }
        // rewrite block 0 as the version 1 node left it after a clean stop: no mount fields
        Superblock now = onDisk(device);
        try (RawImage r = new RawImage(device)) {
            byte[] b = new Superblock(1, now.sectorSize(), State.CLEAN, now.layout(), now.createdMillis(),
                    now.defaultPolicy(), 0, 0, 0, null).encode();
            r.write(0, b);
            assertEquals(1, Bytes.i32(r.read(0), 20), "version 1's FLAG_CLEAN is the state word's clean");
        }
        assertEquals(java.util.List.of(), Fixture.fsck(device));
        assertEquals(1, onDisk(device).version(), "fsck does not upgrade");
        try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            assertEquals(Superblock.VERSION, onDisk(device).version());
            assertEquals(State.MOUNTED, onDisk(device).state());
            assertArrayEquals(data, Fixture.read(c, ino, 0, data.length));
            assertTrue(onDisk(device).volumeId() != null, "the upgrade gave the volume an id");
            assertEquals(onDisk(device).volumeId().toString(), join(c.stat(ino)).volume(), "stat names the volume");
        }
        assertEquals(State.CLEAN, onDisk(device).state());
        assertEquals(1, onDisk(device).mountCount());
        java.util.UUID id = onDisk(device).volumeId();
        try (NodeServer node = Fixture.start(Fixture.config(device, SIZE, Duration.ofMillis(200)), Fixture.JNA);
                NodeClient c = Fixture.client(node)) {
            assertEquals(id.toString(), join(c.stat(ino)).volume(), "the id stays across mounts");
        }
        assertEquals(id, onDisk(device).volumeId());
    }
}
