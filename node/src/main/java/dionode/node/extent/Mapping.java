package dionode.node.extent;

/**
 * The answer of one {@code ext4_map_blocks()} lookup: from {@code lblk}, {@code len} blocks that are
 * one contiguous run of a single state. For a hole {@code pblk} is 0 and {@code len} reaches the
 * next extent (or the lookup's limit). Immutable.
 */
public record Mapping(long lblk, long len, long pblk, State state) {

    public enum State {
        /** EXT4_MAP_MAPPED */
        WRITTEN,
        /** EXT4_MAP_UNWRITTEN */
        UNWRITTEN,
        HOLE
    }

    public boolean written() {
        return state == State.WRITTEN;
    }

    public boolean allocated() {
        return state != State.HOLE;
    }

    public long end() {
        return lblk + len;
    }
}
