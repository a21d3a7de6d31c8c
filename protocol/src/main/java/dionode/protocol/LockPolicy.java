package dionode.protocol;

/**
 * Which version of ext4_dio_write_checks() decides the lock for direct writes (DESIGN §2): the
 * seed's three benchmark columns. Immutable.
 */
public enum LockPolicy {
    /** Before the series: shared only for a pure overwrite seen by one extent lookup. */
    OVERWRITE_CHECK("overwrite-check"),
    /** Patch 3: aligned non-extending writes are shared whatever the extents. */
    ALIGNED_SHARED("aligned-shared"),
    /** Patches 3 and 4: unaligned writes are exclusive only when partial-block zeroing is needed. */
    ZEROING_AWARE("zeroing-aware");

    private final String cliName;

    LockPolicy(String cliName) {
        this.cliName = cliName;
    }

    /** The name users type and JSON shows, e.g. {@code zeroing-aware}. */
    public String cliName() {
        return cliName;
    }

    public static LockPolicy parse(String name) {
        for (LockPolicy p : values()) {
            if (p.cliName.equals(name) || p.name().equalsIgnoreCase(name)) {
                return p;
            }
        }
        throw new IllegalArgumentException(
                "unknown lock policy '" + name + "' (expected overwrite-check, aligned-shared or zeroing-aware)");
    }

    @Override
    public String toString() {
        return cliName;
    }
}
