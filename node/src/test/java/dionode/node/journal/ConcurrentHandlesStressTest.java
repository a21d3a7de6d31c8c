package dionode.node.journal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.alloc.BlockAllocator;
import dionode.node.device.BlockDevice;
import dionode.node.extent.ExtentTree;
import dionode.node.fs.Mkfs;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import dionode.protocol.LockPolicy;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Handles of several threads at once against the real allocator and inode table of a formatted
 * device, with transactions small enough that commits lock and switch under them all the time:
 * threads allocate and free runs (one shared bitmap block) and rewrite their inodes (interleaved,
 * so every table block holds several threads' inodes). After a crash the recovered bitmap and
 * table are exactly the live images, and the allocator's count agrees with the bitmap: no block
 * is lost or handed out twice.
 */
@Timeout(120)
class ConcurrentHandlesStressTest extends JournalTestSupport {

    private static final int THREADS = 4;
    private static final int ROUNDS = 300;
    private static final int INODES_PER_THREAD = 8;
    /** One run allocated or freed (bitmap block), one given back in the same handle, one inode record. */
    private static final int CREDITS = 2 * BlockAllocator.creditsFor(8) + 1;

    /** What one thread holds at the end. */
    private record Held(List<BlockAllocator.Run> runs, long[] inos, int[] lastVersion) {
    }

    @Test
    void concurrentHandlesLoseNoBlockAndRecoverEveryImage() throws Exception {
        Path p = newDeviceFile(16L << 20);
        BlockDevice dev = openDevice(p, JNA);
        Mkfs.format(dev, THREADS * INODES_PER_THREAD, LockPolicy.ZEROING_AWARE, clock);
        Layout layout = Layout.forDevice(dev.size(), THREADS * INODES_PER_THREAD);
        Journal.recover(dev, layout.journalStart(), layout.journalBlocks());
        Journal j = track(Journal.open(dev, layout.journalStart(), layout.journalBlocks(),
                quiet().withMaxTxnBlocks(16).withCommitThreshold(12), clock));
        byte[][] table = readBlocks(dev, layout.inodeTableStart(), layout.inodeTableBlocks());
        byte[][] bitmaps = readBlocks(dev, layout.bitmapStart(), layout.bitmapBlocks());
        InodeTable inodes = new InodeTable(layout, table);
        BlockAllocator allocator = new BlockAllocator(layout, bitmaps);
        long freeAtStart = allocator.freeBlocks();

        CyclicBarrier go = new CyclicBarrier(THREADS);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Held> held = new ArrayList<>();
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            long[] inos = new long[INODES_PER_THREAD];
            for (int k = 0; k < INODES_PER_THREAD; k++) {
                inos[k] = 1 + t + (long) k * THREADS;
            }
            Held mine = new Held(new ArrayList<>(), inos, new int[INODES_PER_THREAD]);
            held.add(mine);
            Random rnd = new Random(t);
            threads.add(new Thread(() -> {
                try {
                    go.await();
                    for (int r = 1; r <= ROUNDS; r++) {
                        Handle h = start(j);
                        try {
                            round(h, r, rnd, mine, layout, inodes, allocator);
                        } finally {
                            h.close();
                        }
                        if (r % 10 == 0) {
                            j.commit().get(10, SECONDS);
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }, "handles-" + t));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        j.commit().get(10, SECONDS); // afterCommit releases ran: freed blocks are free again
        JournalStats stats = j.stats();
        assertTrue(stats.commits() >= ROUNDS / 10, stats.toString());
        assertEquals((long) THREADS * ROUNDS, stats.handles());

        BitSet owned = new BitSet();
        long heldBlocks = 0;
        for (Held mine : held) {
            for (BlockAllocator.Run run : mine.runs()) {
                for (long b = run.start(); b < run.end(); b++) {
                    assertFalse(owned.get((int) b), "block " + b + " handed out twice");
                    owned.set((int) b);
                }
                heldBlocks += run.len();
            }
        }
        assertEquals(0, allocator.releasingBlocks());
        assertEquals(freeAtStart - heldBlocks, allocator.freeBlocks(), "free count vs the runs held");
        assertEquals(allocator.freeBlocks(), allocator.availableBlocks());
        for (long b = layout.dataStart(); b < layout.totalBlocks(); b++) {
            assertEquals(owned.get((int) b), allocator.allocatedOnDisk(b), "bitmap bit of block " + b);
        }

        j.halt();
        dev.close();
        BlockDevice dev2 = openDevice(p, JNA);
        assertTrue(Journal.recover(dev2, layout.journalStart(), layout.journalBlocks()).transactions() > 0);
        byte[][] recoveredTable = readBlocks(dev2, layout.inodeTableStart(), layout.inodeTableBlocks());
        byte[][] recoveredMaps = readBlocks(dev2, layout.bitmapStart(), layout.bitmapBlocks());
        for (int i = 0; i < table.length; i++) {
            assertArrayEquals(table[i], recoveredTable[i], "inode table block " + (layout.inodeTableStart() + i));
        }
        for (int i = 0; i < bitmaps.length; i++) {
            assertArrayEquals(bitmaps[i], recoveredMaps[i], "bitmap block " + (layout.bitmapStart() + i));
            assertTrue(BlockAllocator.crcOk(layout.bitmapStart() + i, recoveredMaps[i]));
        }
        assertEquals(allocator.freeBlocks(), new BlockAllocator(layout, recoveredMaps).freeBlocks(),
                "the recovered bitmap's free count");
        InodeTable recovered = new InodeTable(layout, recoveredTable);
        for (Held mine : held) {
            for (int k = 0; k < INODES_PER_THREAD; k++) {
                InodeRecord record = recovered.read(mine.inos()[k]);
                assertNotNull(record, "inode " + mine.inos()[k]);
                assertEquals(mine.lastVersion()[k], record.size(), "inode " + mine.inos()[k]);
            }
        }
    }

    /** One handle's work: allocate or free a run, sometimes allocate and give back, rewrite one inode. */
    private static void round(Handle h, int r, Random rnd, Held mine, Layout layout, InodeTable inodes,
            BlockAllocator allocator) {
        List<BlockAllocator.Run> runs = mine.runs();
        if (runs.size() < 12 || rnd.nextInt(3) > 0) {
            long goal = layout.dataStart() + rnd.nextInt((int) layout.dataBlocks());
            BlockAllocator.Run run = allocator.allocate(h, goal, 1 + rnd.nextInt(8));
            assertNotNull(run, "device full");
            runs.add(run);
        } else {
            allocator.free(h, runs.remove(rnd.nextInt(runs.size())));
        }
        if (r % 7 == 0) {
            BlockAllocator.Run undone = allocator.allocate(h, layout.dataStart(), 1 + rnd.nextInt(8));
            assertNotNull(undone, "device full");
            allocator.unallocate(h, undone);
        }
        int k = r % INODES_PER_THREAD;
        long ino = mine.inos()[k];
        long blocks = runs.stream().mapToLong(BlockAllocator.Run::len).sum();
        inodes.write(h, new InodeRecord(ino, 0, 0644, 1, LockPolicy.ZEROING_AWARE, r, r, blocks, r, r, r,
                ExtentTree.emptyRoot(), "f" + ino, 0));
        mine.lastVersion()[k] = r;
    }

    /** A handle, waiting through onSpace while the journal has no room. */
    private static Handle start(Journal j) throws InterruptedException {
        for (;;) {
            Handle h = j.tryStart(CREDITS);
            if (h != null) {
                return h;
            }
            CountDownLatch space = new CountDownLatch(1);
            j.onSpace(space::countDown);
            assertTrue(space.await(10, SECONDS), "onSpace never fired");
        }
    }

    private static byte[][] readBlocks(BlockDevice dev, long start, long count) throws Exception {
        byte[][] blocks = new byte[(int) count][];
        for (int i = 0; i < count; i++) {
            blocks[i] = readBlock(dev, start + i);
        }
        return blocks;
    }
}
