package dionode.node.cache;

/**
 * What the page cache may ask of the actor that owns a file's pages. Each call only sends that
 * actor a message: it runs on whatever thread asks, never blocks, and the work happens in the actor.
 */
public interface FileOwner {
    /** Give back about {@code pages} pages: clean ones at once, dirty ones after writing them back. */
    void shrink(int pages);

    /** Write back the pages first dirtied at or before {@code dirtiedBefore} (nanos of the volume's clock). */
    void expire(long dirtiedBefore);
}
