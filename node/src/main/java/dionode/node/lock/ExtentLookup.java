package dionode.node.lock;

import dionode.node.extent.Mapping;

/** One {@code ext4_map_blocks()} lookup without allocation, as the lock decision needs it. */
@FunctionalInterface
public interface ExtentLookup {
    Mapping map(long lblk, long maxLen);
}
