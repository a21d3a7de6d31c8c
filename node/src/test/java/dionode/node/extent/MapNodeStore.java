package dionode.node.extent;

import dionode.node.meta.Layout;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** Extent nodes in a map: for tests of the pure tree. Not thread-safe. */
final class MapNodeStore implements ExtentNodeStore {
    final Map<Long, byte[]> blocks = new HashMap<>();
    final Set<Long> freed = new HashSet<>();
    private long next;
    /** Nodes handed out so far. */
    int allocations;

    MapNodeStore(long firstBlock) {
        this.next = firstBlock;
    }

    @Override
    public byte[] node(long blk) {
        byte[] b = blocks.get(blk);
        if (b == null) {
            throw new IllegalStateException("no node " + blk);
        }
        return b;
    }

    @Override
    public byte[] modify(long blk) {
        return node(blk);
    }

    @Override
    public long allocateNode(long goal) {
        long blk = next++;
        allocations++;
        blocks.put(blk, new byte[Layout.BLOCK_SIZE]);
        return blk;
    }

    @Override
    public void freeNode(long blk) {
        if (blocks.remove(blk) == null) {
            throw new IllegalStateException("double free of node " + blk);
        }
        freed.add(blk);
    }
}
