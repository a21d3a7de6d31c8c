package dionode.node.fs;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.alloc.BlockAllocator;
import dionode.node.crash.Fixture;
import dionode.node.device.BlockDevice;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentCheck;
import dionode.node.extent.ExtentFormat;
import dionode.node.journal.Handle;
import dionode.node.journal.JournalOptions;
import dionode.protocol.LockPolicy;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * A journaled step of an inode that fails part way leaves the extent tree, the inode's block count
 * and the allocator exactly as they were (issue 10, item 10: a conversion that found no block for
 * an extent node dropped extents, and the inode's block count and its extents disagreed).
 */
@Timeout(60)
class InodeStepTest {
    private static final long END = ExtentFormat.MAX_LBLK + 1;
    private Path device;

    @BeforeEach
    void format() throws Exception {
        device = Fixture.formattedDevice("step", 32 * Fixture.MIB);
    }

    @AfterEach
    void remove() {
        Fixture.deleteQuietly(device);
    }

    /** What a failed step must not change. */
    private record State(List<Extent> extents, long blocks, long unwritten, long free, long reserved, byte[] root) {
        static State of(Volume v, Inode inode) {
            return new State(inode.tree().extents(0, END), inode.blocks, inode.unwritten(), v.allocator().freeBlocks(),
                    v.allocator().reservedBlocks(), inode.tree().root().clone());
        }

        void assertSame(State after, String what) {
            assertEquals(extents, after.extents, what + ": extents");
            assertEquals(blocks, after.blocks, what + ": block count");
            assertEquals(unwritten, after.unwritten, what + ": unwritten blocks");
            assertEquals(free, after.free, what + ": free blocks");
            assertEquals(reserved, after.reserved, what + ": reserved blocks");
            assertArrayEquals(root, after.root, what + ": inline root");
        }
    }

    @Test
    void conversionsThatFindNoNodeBlockLeaveEverythingAsItWas() throws Exception {
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            Inode inode = create(v, "f");
            step(v, inode, h -> inode.allocateUnwritten(h, 0, 2048, 64, false));
            assertTrue(v.allocator().reservation(inode.ino()) > 0, "fallocated space reserves its conversions' nodes");
            // the allocator refuses every node: nothing free, and the file's reservation taken away
            v.allocator().reserve(inode.ino(), 0, true);
            List<BlockAllocator.Run> filler = takeEveryFreeBlock(v);
            assertEquals(0, v.allocator().freeBlocks());

            Random rnd = new Random(8);
            int failed = 0;
            for (int i = 0; i < 200; i++) {
                long b = rnd.nextInt(2048);
                State before = State.of(v, inode);
                Handle h = inode.begin(inode.stepCredits(inode.extentsPerStep()));
                try {
                    inode.convertWritten(b, b + 1, inode.extentsPerStep());
                    inode.commitStep(h);
                } catch (NoSpaceException e) {
                    inode.abortStep(h);
                    failed++;
                    before.assertSame(State.of(v, inode), "conversion of block " + b);
                }
                assertConsistent(v, inode);
            }
            assertTrue(failed > 0, "conversions needed node blocks");

            // with space back, the same conversions work, and every block is accounted for
            giveBack(v, filler);
            for (long b = 0; b < 2048; b += 3) {
                long at = b;
                step(v, inode, h -> inode.convertWritten(at, at + 1, inode.extentsPerStep()));
            }
            assertTrue(inode.tree().depth() > 0, "the conversions spilled into extent blocks");
            assertConsistent(v, inode);
            while (!inode.tree().extents(0, END, 1).isEmpty()) {
                step(v, inode, h -> inode.removeBlocks(h, 0, END, inode.extentsPerStep()));
            }
            assertEquals(0, inode.blocks);
            assertEquals(0, v.allocator().reservation(inode.ino()));
            v.close();
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }

    @Test
    void aPunchThatFindsNoNodeBlockLeavesEverythingAsItWas() throws Exception {
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            Inode inode = create(v, "f");
            // four one-block extents fill the inline root; punching inside a fifth needs a node block
            for (int i = 0; i < 3; i++) {
                long at = 2L * i;
                step(v, inode, h -> inode.allocateUnwritten(h, at, at + 1, 1, false));
            }
            step(v, inode, h -> inode.allocateUnwritten(h, 10, 20, 1, false));
            List<BlockAllocator.Run> filler = takeEveryFreeBlock(v);
            State before = State.of(v, inode);
            Handle h = inode.begin(inode.stepCredits(inode.extentsPerStep()));
            try {
                inode.removeBlocks(h, 14, 15, inode.extentsPerStep());
                throw new AssertionError("the punch found a node block on a full device");
            } catch (NoSpaceException e) {
                inode.abortStep(h);
            }
            before.assertSame(State.of(v, inode), "punch");
            assertConsistent(v, inode);
            giveBack(v, filler);
            v.close();
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }

    /** Patch 6's WARN_ON_ONCE: EXT4_GET_BLOCKS_CREATE is never combined with CACHED_NOWAIT. */
    @Test
    void anAllocationUnderACacheOnlyLookupIsRefusedBeforeAnythingChanges() throws Exception {
        try (BlockDevice dev = BlockDevice.open(device, Fixture.JNA, 0)) {
            Volume v = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), false);
            Inode inode = create(v, "f");
            step(v, inode, h -> inode.allocateUnwritten(h, 0, 4, 1, false));
            State before = State.of(v, inode);
            Handle h = inode.begin(inode.stepCredits(inode.extentsPerStep()));
            try {
                inode.allocateUnwritten(h, 8, 16, 1, true);
                throw new AssertionError("an allocation ran under a cache-only lookup");
            } catch (IllegalStateException e) {
                assertTrue(e.getMessage().contains("NOWAIT"), e.getMessage());
                inode.abortStep(h);
            }
            before.assertSame(State.of(v, inode), "refused allocation");
            assertEquals(List.of(new Extent(0, 4, inode.map(0, 4).pblk(), true)), inode.tree().extents(0, END));
            v.close();
        }
        assertEquals(List.of(), Fixture.fsck(device));
    }

    private static Inode create(Volume v, String name) {
        long ino = v.inodes().allocate();
        try (Handle h = v.journal().tryStart(1)) {
            return v.create(h, ino, name, 0644, LockPolicy.ZEROING_AWARE);
        }
    }

    private static void step(Volume v, Inode inode, java.util.function.Consumer<Handle> work) {
        Handle h = inode.begin(inode.stepCredits(inode.extentsPerStep()));
        work.accept(h);
        inode.commitStep(h);
    }

    /** The inode's block count agrees with what its tree holds, and the tree is valid. */
    private static void assertConsistent(Volume v, Inode inode) {
        ExtentCheck c = inode.tree().validate(v.layout()::inDataArea, (pblk, len, node) -> { });
        assertEquals(c.writtenBlocks() + c.unwrittenBlocks() + c.nodeBlocks(), inode.blocks, "block count vs extents");
        assertEquals(c.unwrittenBlocks(), inode.unwritten());
    }

    private static List<BlockAllocator.Run> takeEveryFreeBlock(Volume v) {
        List<BlockAllocator.Run> runs = new ArrayList<>();
        try (Handle h = v.journal().tryStart(8)) {
            BlockAllocator.Run r;
            while ((r = v.allocator().allocate(h, 0, Long.MAX_VALUE)) != null) {
                runs.add(r);
            }
        }
        assertEquals(0, v.allocator().availableBlocks());
        return runs;
    }

    private static void giveBack(Volume v, List<BlockAllocator.Run> runs) {
        try (Handle h = v.journal().tryStart(8)) {
            runs.forEach(r -> v.allocator().free(h, r));
        }
        v.journal().commit().join();
    }
}
