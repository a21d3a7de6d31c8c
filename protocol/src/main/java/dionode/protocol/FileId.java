package dionode.protocol;

/**
 * A file handle: the inode number and the generation of the file that had it when the handle was
 * given out (by create, lookup or list), like an NFS file handle or ext4's {@code i_generation}.
 * Inode numbers are reused after unlink; the generation changes on every reuse, so a request
 * through a handle to an earlier file answers {@link Errno#ESTALE} instead of reaching the new
 * one. Clients treat it as opaque and send it back as they got it. Immutable.
 */
public record FileId(long ino, int generation) {
    @Override
    public String toString() {
        return "inode " + ino + " generation " + Integer.toUnsignedString(generation);
    }
}
