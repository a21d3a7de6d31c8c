package dionode.node.inode;

/**
 * How anything outside an inode actor reaches it: by inode number only (DESIGN §7). The local
 * implementation is {@link InodeRegion}; Cluster Sharding (entity = inode) can replace it without
 * touching the actor. Implementations are thread-safe.
 */
@FunctionalInterface
public interface InodeRefs {
    void tell(long ino, InodeCommand command);
}
