package dionode.node.cache;

/**
 * Dirty pages {@code [first, first + count)} of one file taken for writeback, with a copy of their
 * bytes as they were when taken (later writes dirty the pages again and go in a later run).
 */
public record PageRun(long first, int count, byte[] data) {
    /** The page after the run's last. */
    public long end() {
        return first + count;
    }
}
