package dionode.node.meta;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.protocol.LockPolicy;
import org.junit.jupiter.api.Test;

/** The superblock's on-disk format: version 2's state and mount fields, version 1 images, refusals. */
class SuperblockTest {
    private static final long DEVICE = 64L << 20;
    private static final Layout LAYOUT = Layout.forDevice(DEVICE, 0);

    @Test
    void stateAndMountFieldsSitAtTheirDrawnOffsets() throws Exception {
        Superblock sb = Superblock.fresh(512, LAYOUT, 1_000, LockPolicy.ALIGNED_SHARED).mounted(5_000).mounted(9_000);
        byte[] b = sb.encode();
        assertEquals(Superblock.VERSION, Bytes.i32(b, 8));
        assertEquals(0, Bytes.i32(b, 20), "state mounted");
        assertEquals(9_000, Bytes.i64(b, 104), "last mount");
        assertEquals(2, Bytes.i64(b, 112), "mount count");
        assertEquals(1, Bytes.i64(b, 120), "the second mount found the first one's state still mounted");
        assertEquals(sb, Superblock.decode(b, DEVICE));
        byte[] clean = sb.unmounted().encode();
        assertEquals(1, Bytes.i32(clean, 20), "state clean");
        assertEquals(new Superblock(3, 512, Superblock.State.CLEAN, LAYOUT, 1_000, LockPolicy.ALIGNED_SHARED, 9_000, 2, 1,
                sb.volumeId()), Superblock.decode(clean, DEVICE));
        assertEquals(sb.volumeId(), new java.util.UUID(Bytes.i64(b, 128), Bytes.i64(b, 136)), "volume id at 128");
    }

    @Test
    void aVersion2SuperblockGetsAVolumeIdAtItsFirstMountAndKeepsIt() throws Exception {
        byte[] b = Superblock.fresh(512, LAYOUT, 1_000, LockPolicy.ZEROING_AWARE).encode();
        Bytes.i32(b, 8, 2);
        java.util.Arrays.fill(b, 128, 144, (byte) 0);
        Bytes.i32(b, Layout.BLOCK_SIZE - 4, Bytes.crc(0, b, 0, Layout.BLOCK_SIZE - 4));
        Superblock old = Superblock.decode(b, DEVICE);
        assertEquals(null, old.volumeId());
        Superblock first = old.mounted(2_000);
        assertEquals(Superblock.VERSION, first.version());
        assertTrue(first.volumeId() != null);
        Superblock again = Superblock.decode(first.unmounted().encode(), DEVICE).mounted(3_000);
        assertEquals(first.volumeId(), again.volumeId(), "a volume keeps its id");
        assertTrue(!first.volumeId().equals(Superblock.fresh(512, LAYOUT, 1_000, LockPolicy.ZEROING_AWARE).volumeId()),
                "each mkfs makes a new id");
    }

    /** A version 1 superblock as that node wrote it: flags word bit 0 = clean, zeros from 97. */
    static byte[] version1(int flags) {
        byte[] b = Superblock.fresh(512, LAYOUT, 1_000, LockPolicy.ZEROING_AWARE).encode();
        Bytes.i32(b, 8, 1);
        Bytes.i32(b, 20, flags);
        Bytes.i32(b, Layout.BLOCK_SIZE - 4, Bytes.crc(0, b, 0, Layout.BLOCK_SIZE - 4));
        return b;
    }

    @Test
    void aVersion1SuperblockIsReadAndUpgradedByTheNextMount() throws Exception {
        Superblock v1 = Superblock.decode(version1(1), DEVICE);
        assertEquals(1, v1.version());
        assertEquals(Superblock.State.CLEAN, v1.state());
        assertEquals(0, v1.lastMountMillis());
        assertEquals(0, v1.mountCount());
        Superblock up = v1.mounted(7_000);
        assertEquals(Superblock.VERSION, up.version());
        assertEquals(0, up.uncleanMounts());
        assertEquals(up, Superblock.decode(up.encode(), DEVICE));
        Superblock crashed = Superblock.decode(version1(0), DEVICE);
        assertEquals(Superblock.State.MOUNTED, crashed.state(), "a version 1 node that died left its flag cleared");
        assertEquals(1, crashed.mounted(7_000).uncleanMounts());
    }

    @Test
    void anUnknownStateOrVersionIsRefusedNamingIt() {
        byte[] b = version1(1);
        Bytes.i32(b, 8, 2);
        Bytes.i32(b, 20, 6);
        Bytes.i32(b, Layout.BLOCK_SIZE - 4, Bytes.crc(0, b, 0, Layout.BLOCK_SIZE - 4));
        MetadataCorruptException state = assertThrows(MetadataCorruptException.class, () -> Superblock.decode(b, DEVICE));
        assertTrue(state.getMessage().contains("impossible state 6"), state.getMessage());
        Bytes.i32(b, 8, 0);
        Bytes.i32(b, Layout.BLOCK_SIZE - 4, Bytes.crc(0, b, 0, Layout.BLOCK_SIZE - 4));
        MetadataCorruptException version = assertThrows(MetadataCorruptException.class, () -> Superblock.decode(b, DEVICE));
        assertTrue(version.getMessage().contains("version 0 (this node reads versions 1 to 3)"), version.getMessage());
    }
}
