package dionode.node.fs;

import dionode.node.journal.Handle;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The client identities that own files on this volume, each an identity record in the inode
 * table (DESIGN §6): a file's owner field is its identity's inode number, 0 for anonymous.
 * Thread-safe: the namespace adds, any inode actor reads (an identity never changes or goes).
 */
public final class Identities {
    public static final String ANONYMOUS = "anonymous";

    private final Map<String, Integer> byName = new ConcurrentHashMap<>();
    private final Map<Integer, String> byNumber = new ConcurrentHashMap<>();

    Identities(Map<String, Integer> found) {
        found.forEach(this::put);
    }

    private void put(String name, int number) {
        byName.put(name, number);
        byNumber.put(number, name);
    }

    /** The owner number of {@code identity}: 0 for anonymous, -1 for one that owns nothing here yet. */
    public int number(String identity) {
        return ANONYMOUS.equals(identity) ? 0 : byName.getOrDefault(identity, -1);
    }

    /** Who owner number {@code owner} is; a number no identity record has (a damaged image) names itself. */
    public String name(int owner) {
        return owner == 0 ? ANONYMOUS : byNumber.getOrDefault(owner, "#" + owner);
    }

    /**
     * The owner number of {@code identity}, writing its identity record in {@code handle} at the
     * lowest free inode number if it has none: -1 when no number up to {@link InodeRecord#MAX_OWNER}
     * is free. Called by the namespace only (one thread), so two creates cannot race for one name.
     */
    int numberOrCreate(String identity, Handle handle, InodeTable inodes, Volume volume) {
        int known = number(identity);
        if (known >= 0) {
            return known;
        }
        long ino = inodes.allocateLowest(InodeRecord.MAX_OWNER);
        if (ino == 0) {
            return -1;
        }
        volume.writeIdentity(handle, ino, identity);
        put(identity, (int) ino);
        return (int) ino;
    }
}
