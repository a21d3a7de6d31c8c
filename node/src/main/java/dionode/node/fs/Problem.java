package dionode.node.fs;

/**
 * One thing wrong with a volume, as mount and fsck report it. Immutable.
 *
 * @param ino the inode concerned, 0 for the volume itself
 * @param kind a stable short name, e.g. {@code double-allocation}
 * @param detail what was found
 */
public record Problem(long ino, String kind, String detail) {
    @Override
    public String toString() {
        return (ino > 0 ? "inode " + ino + ": " : "") + kind + ": " + detail;
    }
}
