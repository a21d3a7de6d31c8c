package dionode.protocol;

import java.util.UUID;

/**
 * A file handle: the inode number and the generation of the file that had it when the handle was
 * given out (by create, lookup or list), like an NFS file handle or ext4's {@code i_generation},
 * and the tag of the volume that holds it ({@link #volumeTag(String)}), so any node of a cluster
 * can route it (DESIGN §7). Inode numbers are reused after unlink; the generation changes on
 * every reuse, so a request through a handle to an earlier file answers {@link Errno#ESTALE}
 * instead of reaching the new one. A volume of 0 means the volume of the node it is sent to.
 * Clients treat it as opaque and send it back as they got it. Immutable.
 */
public record FileId(long ino, int generation, long volume) {
    /** A handle to a file on the volume of the node it is sent to. */
    public FileId(long ino, int generation) {
        this(ino, generation, 0);
    }

    /** The 64-bit tag a volume's handles carry: its UUID's halves folded, never 0 (0 is "this node's"). */
    public static long volumeTag(String volumeUuid) {
        UUID id = UUID.fromString(volumeUuid);
        long tag = id.getMostSignificantBits() ^ id.getLeastSignificantBits();
        return tag == 0 ? 1 : tag;
    }

    /** This handle as given out by the node of volume {@code tag}. */
    public FileId onVolume(long tag) {
        return volume == tag ? this : new FileId(ino, generation, tag);
    }

    @Override
    public String toString() {
        return "inode " + ino + " generation " + Integer.toUnsignedString(generation);
    }
}
