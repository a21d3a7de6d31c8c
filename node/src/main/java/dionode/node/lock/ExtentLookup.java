package dionode.node.lock;

import dionode.node.extent.Mapping;

/**
 * One {@code ext4_map_blocks()} lookup without allocation, as the lock decision needs it. A
 * cache-only lookup (EXT4_GET_BLOCKS_CACHED_NOWAIT) answers null where it would have to read the
 * device; a blocking one never answers null.
 */
@FunctionalInterface
public interface ExtentLookup {
    Mapping map(long lblk, long maxLen);
}
