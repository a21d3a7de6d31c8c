package dionode.node.extent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.meta.Bytes;
import dionode.node.meta.Layout;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The ext3-style block map against a plain model: lookups, runs, removal that frees empty pointer blocks, checks. */
class IndirectMapTest {
    private static final long DATA = 1_000_000;
    private static final long SINGLE = IndirectMap.DIRECT;
    private static final long DOUBLE = SINGLE + IndirectMap.PER_BLOCK;
    private static final long TRIPLE = DOUBLE + (long) IndirectMap.PER_BLOCK * IndirectMap.PER_BLOCK;

    private final MapNodeStore store = new MapNodeStore(100);
    private final IndirectMap map = new IndirectMap(9, IndirectMap.emptyRoot(), store);

    @Test
    void emptyMapIsOneHoleToTheLimit() {
        assertEquals(new Mapping(5, 1L << 32, 0, Mapping.State.HOLE), map.map(5, 1L << 32));
        assertEquals(List.of(), map.extents(0, 1L << 32));
    }

    @Test
    void eachLevelTakesItsPointerBlocks() {
        map.replace(0, 1, List.of(new Extent(0, 1, DATA, false)));
        assertEquals(0, store.allocations, "a direct pointer lives in the inode");
        map.replace(SINGLE, SINGLE + 1, List.of(new Extent(SINGLE, 1, DATA + 1, false)));
        assertEquals(1, store.allocations, "the single indirect block");
        map.replace(DOUBLE, DOUBLE + 1, List.of(new Extent(DOUBLE, 1, DATA + 2, false)));
        assertEquals(3, store.allocations, "double: its block and one level-0 block");
        map.replace(TRIPLE, TRIPLE + 1, List.of(new Extent(TRIPLE, 1, DATA + 3, false)));
        assertEquals(6, store.allocations, "triple: three blocks");
        for (long[] at : new long[][] {{0, DATA}, {SINGLE, DATA + 1}, {DOUBLE, DATA + 2}, {TRIPLE, DATA + 3}}) {
            Mapping m = map.map(at[0], 1);
            assertEquals(Mapping.State.WRITTEN, m.state());
            assertEquals(at[1], m.pblk());
        }
        ExtentCheck check = map.validate((p, l) -> true, (p, l, node) -> { });
        assertEquals(new ExtentCheck(4, 4, 0, 6, TRIPLE + 1), check);
        List<Extent> removed = map.replace(0, IndirectMap.MAX_BLOCKS, List.of());
        assertEquals(4, removed.size());
        assertTrue(store.blocks.isEmpty(), "every pointer block freed once empty: " + store.blocks.keySet());
        assertEquals(6, store.freed.size());
        assertTrue(allZero(map.root()));
    }

    @Test
    void runsCoalesceWithinAGroupAndMappingsAcrossGroups() {
        // blocks 0..2000 contiguous on the device: crosses the direct/single and single/double borders
        for (long l = 0; l < 2000; ) {
            int len = map.maxRun(l, false);
            len = (int) Math.min(len, 2000 - l);
            map.replace(l, l + len, List.of(new Extent(l, len, DATA + l, false)));
            l += len;
        }
        Mapping m = map.map(0, 5000);
        assertEquals(new Mapping(0, 2000, DATA, Mapping.State.WRITTEN), m);
        assertEquals(new Mapping(2000, 3000, 0, Mapping.State.HOLE), map.map(2000, 3000));
        List<Extent> runs = map.extents(0, 2000);
        assertEquals(List.of(new Extent(0, 12, DATA, false), new Extent(12, 1024, DATA + 12, false),
                new Extent(DOUBLE, 2000 - (int) DOUBLE, DATA + DOUBLE, false)), runs);
        // a run is reported unclipped within its group
        assertEquals(List.of(new Extent(12, 1024, DATA + 12, false)), map.extents(500, 501));
        assertEquals(new Extent(499, 1, DATA + 499, false), map.lastBefore(500));
        assertEquals(12, map.maxRun(0, false));
        assertEquals(1024 - 4, map.maxRun(SINGLE + 4, false));
        assertThrows(IllegalArgumentException.class, () -> map.maxRun(0, true));
    }

    @Test
    void randomChangesMatchAModel() {
        Random rnd = new Random(42);
        TreeMap<Long, Long> model = new TreeMap<>();
        long[] hot = {0, SINGLE - 3, DOUBLE - 5, DOUBLE + 3000, TRIPLE - 7, TRIPLE + 5_000_000};
        long nextData = DATA;
        for (int op = 0; op < 3000; op++) {
            long base = hot[rnd.nextInt(hot.length)];
            long from = base + rnd.nextInt(2500);
            long to = from + 1 + rnd.nextInt(rnd.nextInt(4) == 0 ? 3000 : 40);
            if (rnd.nextBoolean()) {
                List<Extent> removed = map.replace(from, to, List.of());
                long count = 0;
                for (Extent e : removed) {
                    for (long l = e.lblk(); l < e.end(); l++) {
                        assertEquals(model.remove(l), e.pblk() + (l - e.lblk()), "removed block " + l);
                        count++;
                    }
                }
                assertEquals(0, model.subMap(from, to).size(), "left in [" + from + ", " + to + ")");
                assertTrue(count >= 0);
            } else {
                long start = from;
                for (long l = from; l < to; ) {
                    Mapping m = map.map(l, to - l);
                    if (m.allocated()) {
                        l = m.end();
                        continue;
                    }
                    int len = (int) Math.min(m.len(), map.maxRun(l, false));
                    map.replace(l, l + len, List.of(new Extent(l, len, nextData, false)));
                    for (int i = 0; i < len; i++) {
                        model.put(l + i, nextData + i);
                    }
                    nextData += len + rnd.nextInt(3);
                    l += len;
                }
                assertTrue(start < to);
            }
            if (op % 100 == 0) {
                checkAgainst(model);
            }
        }
        checkAgainst(model);
        map.replace(0, IndirectMap.MAX_BLOCKS, List.of());
        assertTrue(store.blocks.isEmpty(), "all pointer blocks freed");
    }

    private void checkAgainst(TreeMap<Long, Long> model) {
        long data = 0;
        Set<Long> seen = new HashSet<>();
        for (Extent e : map.extents(0, IndirectMap.MAX_BLOCKS)) {
            for (long l = e.lblk(); l < e.end(); l++) {
                assertEquals(model.get(l), e.pblk() + (l - e.lblk()), "run block " + l);
                assertTrue(seen.add(l));
                data++;
            }
        }
        assertEquals(model.size(), data);
        for (Map.Entry<Long, Long> entry : model.entrySet()) {
            Mapping m = map.map(entry.getKey(), 1);
            assertEquals(entry.getValue(), m.pblk(), "lookup " + entry.getKey());
        }
        for (long probe : new long[] {0, 5, SINGLE, DOUBLE + 17, TRIPLE + 3}) {
            Mapping m = map.map(probe, 3000);
            for (long l = probe; l < m.end(); l++) {
                Long p = model.get(l);
                assertEquals(m.written() ? Long.valueOf(m.pblk() + (l - probe)) : null, p, "mapping from " + probe + " at " + l);
            }
        }
        ExtentCheck check = map.validate((p, l) -> true, (p, l, node) -> { });
        assertEquals(model.size(), check.writtenBlocks());
        assertEquals(store.blocks.size(), check.nodeBlocks(), "no pointer block outside the map");
        for (byte[] image : store.blocks.values()) {
            assertTrue(!allZero(image), "an empty pointer block stayed allocated");
        }
    }

    @Test
    void missingNamesUnreadBlocksWithTheirLevelAndFirstBlock() {
        map.replace(DOUBLE + 1030, DOUBLE + 1031, List.of(new Extent(DOUBLE + 1030, 1, DATA, false)));
        long top = Bytes.i32(map.root(), (IndirectMap.DIRECT + 1) * 4) & 0xFFFF_FFFFL;
        Set<Long> unread = new HashSet<>(store.blocks.keySet());
        unread.remove(top);
        ExtentNodeStore partial = new ExtentNodeStore() {
            @Override
            public byte[] node(long blk) {
                return store.node(blk);
            }

            @Override
            public boolean resident(long blk) {
                return !unread.contains(blk);
            }

            @Override
            public byte[] modify(long blk) {
                return store.modify(blk);
            }

            @Override
            public long allocateNode(long goal) {
                return store.allocateNode(goal);
            }

            @Override
            public void freeNode(long blk) {
                store.freeNode(blk);
            }
        };
        IndirectMap view = new IndirectMap(9, map.root().clone(), partial);
        List<ExtentMissException.Want> wants = view.missing();
        assertEquals(1, wants.size());
        assertEquals(new ExtentMissException.Want(unread.iterator().next(), 0, DOUBLE + 1024), wants.get(0));
        ExtentMissException miss = assertThrows(ExtentMissException.class, () -> view.map(DOUBLE + 1030, 1));
        assertEquals(wants, miss.wants());
        assertEquals(new Mapping(DOUBLE, 1024, 0, Mapping.State.HOLE), view.map(DOUBLE, 1024), "a null entry needs no read");
    }

    @Test
    void aBlockReadFromTheDeviceIsChecked() {
        byte[] image = new byte[Layout.BLOCK_SIZE];
        Bytes.i32(image, 0, 500);
        Bytes.i32(image, 8, 7);
        ExtentMissException.Want want = new ExtentMissException.Want(99, 0, SINGLE);
        ExtentCorruptionException outside = assertThrows(ExtentCorruptionException.class,
                () -> map.checkBlock(want, image, (p, l) -> p >= 100));
        assertTrue(outside.getMessage().contains("points to block 7, outside the data area"), outside.getMessage());
        Bytes.i32(image, 8, 500);
        ExtentCorruptionException twice = assertThrows(ExtentCorruptionException.class,
                () -> map.checkBlock(want, image, (p, l) -> true));
        assertTrue(twice.getMessage().contains("names block 500 twice"), twice.getMessage());
        Bytes.i32(image, 8, 501);
        map.checkBlock(want, image, (p, l) -> true);
    }

    @Test
    void unwrittenIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> map.replace(0, 1, List.of(new Extent(0, 1, DATA, true))));
        assertThrows(IllegalArgumentException.class, () -> map.convertState(0, 1, true));
        assertEquals(0, map.convertState(0, 10, false));
        assertEquals(0, map.conversionReserve(100));
        assertNull(map.lastBefore(0));
        List<Extent> none = new ArrayList<>();
        map.forEach(0, 10, none::add);
        assertEquals(List.of(), none);
    }

    private static boolean allZero(byte[] image) {
        for (byte b : image) {
            if (b != 0) {
                return false;
            }
        }
        return true;
    }
}
