package dionode.node.fs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.extent.ExtentFormat;
import dionode.node.meta.Layout;
import org.junit.jupiter.api.Test;

/**
 * The extent cache's shrinker (DESIGN §3): within a 64K budget (15 blocks), the files used least
 * recently lose all their blocks first; a block the journal pins and the blocks of a busy file stay;
 * the counters say what was dropped and what is held.
 */
class ExtentCacheTest {
    private static final long BUDGET = ExtentCache.MIN_BYTES;

    /** A leaf block holding {@code extents} entries. */
    private static byte[] leaf(int extents) {
        byte[] image = new byte[Layout.BLOCK_SIZE];
        ExtentFormat.initHeader(image, 0, ExtentFormat.BLOCK_MAX, 0);
        image[2] = (byte) extents;
        return image;
    }

    /** Five blocks of three extents each for {@code ino}, at {@code first}.. */
    private static void fill(ExtentCache cache, long ino, long first) {
        for (long blk = first; blk < first + 5; blk++) {
            cache.add(ino, blk, leaf(3));
        }
    }

    private static boolean holdsAll(ExtentCache cache, long first) {
        for (long blk = first; blk < first + 5; blk++) {
            if (!cache.contains(blk)) {
                return false;
            }
        }
        return true;
    }

    private static boolean holdsNone(ExtentCache cache, long first) {
        for (long blk = first; blk < first + 5; blk++) {
            if (cache.contains(blk)) {
                return false;
            }
        }
        return true;
    }

    @Test
    void theLeastRecentlyUsedFileIsDroppedWhole() {
        ExtentCache cache = new ExtentCache(BUDGET);
        fill(cache, 1, 100);
        fill(cache, 2, 200);
        fill(cache, 3, 300);
        assertEquals(45, cache.cachedExtents(), "15 blocks fit the budget");
        assertEquals(0, cache.shrunk());
        cache.get(1, 100);
        cache.add(4, 400, leaf(3));
        assertTrue(holdsNone(cache, 200), "file 2, used least recently, is dropped");
        assertTrue(holdsAll(cache, 100) && holdsAll(cache, 300) && cache.contains(400));
        assertEquals(15, cache.shrunk(), "its 5 blocks of 3 extents each");
        assertEquals(33, cache.cachedExtents());
        assertTrue(cache.bytes() <= BUDGET);
    }

    @Test
    void pinnedBlocksAndBusyFilesStay() {
        ExtentCache cache = new ExtentCache(BUDGET);
        fill(cache, 1, 100);
        byte[] journaled = cache.get(1, 101);
        cache.pin(1, 101, journaled);
        fill(cache, 2, 200);
        fill(cache, 3, 300);
        cache.busy(2, true);
        // file 1 is the least recently used: all but its pinned block go; busy file 2 is skipped, so 3 goes too
        for (long blk = 400; blk < 405; blk++) {
            cache.add(4, blk, leaf(3));
        }
        assertTrue(cache.contains(101), "the journal still holds this block");
        assertTrue(journaled == cache.get(1, 101), "the journal's image is the one in memory");
        assertFalse(cache.contains(100));
        assertTrue(holdsAll(cache, 200), "a busy file is never shrunk");
        assertTrue(holdsAll(cache, 400));
        cache.unpin(101, journaled);
        cache.busy(2, false);
        cache.get(2, 200);
        cache.get(4, 400);
        for (long blk = 500; blk < 505; blk++) {
            cache.add(5, blk, leaf(3));
        }
        assertFalse(cache.contains(101), "once checkpointed, the block may go");
        assertTrue(holdsAll(cache, 200) && holdsAll(cache, 400) && holdsAll(cache, 500));
    }

    @Test
    void aBusyFileMayExceedTheBudgetUntilItIsIdle() {
        ExtentCache cache = new ExtentCache(BUDGET);
        cache.busy(1, true);
        for (long blk = 100; blk < 120; blk++) {
            cache.add(1, blk, leaf(1));
        }
        assertEquals(20, cache.cachedExtents(), "nothing else to drop: the file in use keeps its blocks");
        cache.busy(1, false);
        assertEquals(0, cache.cachedExtents(), "the file went, whole, as soon as it was idle: the budget holds again");
        assertEquals(20, cache.shrunk());
        cache.add(2, 200, leaf(1));
        assertEquals(1, cache.cachedExtents());
    }

    @Test
    void theDropCountMovesOnlyWhenTheShrinkerTookBlocksOfTheFile() {
        ExtentCache cache = new ExtentCache(BUDGET);
        fill(cache, 1, 100);
        long before = cache.hold(1);
        cache.busy(1, false);
        assertEquals(before, cache.hold(1), "nothing was dropped: a tree found whole then is whole now");
        fill(cache, 2, 200);
        fill(cache, 3, 300);
        cache.add(4, 400, leaf(3));
        assertTrue(holdsAll(cache, 100) && holdsNone(cache, 200), "a held file keeps its blocks; the idle file 2 went instead");
        assertEquals(before, cache.hold(1), "file 1 lost nothing");
        cache.busy(1, false);
        cache.busy(1, false);
        cache.get(3, 300);
        cache.get(4, 400);
        fill(cache, 5, 500);
        assertTrue(holdsNone(cache, 100), "idle and least recently used, file 1 went whole");
        assertTrue(cache.hold(1) > before, "so its next step must walk its tree again");
        assertEquals(1, cache.hold(2), "file 2 was dropped once: its count is its own");
    }

    @Test
    void aCopyInMemoryIsNeverReplacedAndARemovedBlockIsGone() {
        ExtentCache cache = new ExtentCache(BUDGET);
        byte[] first = leaf(2);
        cache.add(1, 100, first);
        cache.add(1, 100, leaf(5));
        assertTrue(first == cache.get(1, 100), "the first image stays");
        cache.remove(100);
        byte[] back = leaf(4);
        cache.pin(1, 100, back);
        assertTrue(back == cache.get(1, 100), "a block the journal takes that was dropped comes back as the journal's image");
        cache.remove(100);
        assertFalse(cache.contains(100));
        assertEquals(0, cache.bytes());
    }

    @Test
    void aCheckpointUnpinsOnlyTheImageItWroteHome() {
        ExtentCache cache = new ExtentCache(BUDGET);
        byte[] freed = leaf(1);
        cache.pin(1, 100, freed);
        cache.remove(100);
        byte[] reused = leaf(1);
        cache.pin(2, 100, reused);
        cache.unpin(100, freed);
        for (long blk = 200; blk < 216; blk++) {
            cache.add(3, blk, leaf(1));
        }
        assertTrue(reused == cache.get(2, 100), "the new owner's journaled image is still pinned");
    }

    @Test
    void aBudgetBelow64KIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new ExtentCache(32 << 10));
        assertTrue(e.getMessage().contains("at least 65536"), e.getMessage());
    }
}
