package dionode.protocol.message;

import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Every reply the node sends. Immutable values. */
public sealed interface Reply {

    /** The request failed; nothing it asked for happened unless {@code message} says otherwise. */
    record Error(Errno errno, String message) implements Reply {
    }

    record Done() implements Reply {
    }

    /** The file a create or lookup found: {@code file} is the handle every inode request carries. */
    record InodeInfo(FileId file, String name, boolean created) implements Reply {
    }

    record FileList(List<DirEntry> entries) implements Reply {
        public FileList {
            entries = List.copyOf(entries);
        }
    }

    record DirEntry(String name, FileId file) implements Reply {
    }

    record Written(long bytes) implements Reply {
    }

    /** Read data; shorter than asked at end of file. */
    record Data(byte[] data) implements Reply {
    }

    /**
     * stat: {@code blocks} counts allocated fs blocks of {@code blockSize} bytes; {@code mode} holds
     * permission and setuid/setgid bits; {@code dax}: a DAX file (STATX_ATTR_DAX); {@code owner}:
     * the identity that created it ({@code anonymous} without a client certificate).
     */
    /**
     * @param mapping how the file maps its blocks: {@code extents} or {@code indirect} (ext3-style pointers)
     * @param volume the id of the volume that holds the file (its superblock's UUID), or "" when not told
     * @param node the address of the node that serves that volume, as {@code members} lists it, or "" when not told
     */
    record FileStat(FileId file, String name, long size, long disksize, long blocks, int blockSize, int mode,
            LockPolicy policy, long mtimeNanos, long ctimeNanos, Layout layout, boolean dax, String owner, String mapping,
            String volume, String node) implements Reply {
        /** A file on a volume whose node is not told. */
        public FileStat(FileId file, String name, long size, long disksize, long blocks, int blockSize, int mode,
                LockPolicy policy, long mtimeNanos, long ctimeNanos, Layout layout, boolean dax, String owner, String mapping,
                String volume) {
            this(file, name, size, disksize, blocks, blockSize, mode, policy, mtimeNanos, ctimeNanos, layout, dax, owner, mapping,
                    volume, "");
        }

        /** This stat as told by the node at {@code address}. */
        public FileStat servedBy(String address) {
            return new FileStat(file, name, size, disksize, blocks, blockSize, mode, policy, mtimeNanos, ctimeNanos, layout, dax,
                    owner, mapping, volume, address);
        }

        /** A file on an unnamed volume. */
        public FileStat(FileId file, String name, long size, long disksize, long blocks, int blockSize, int mode,
                LockPolicy policy, long mtimeNanos, long ctimeNanos, Layout layout, boolean dax, String owner, String mapping) {
            this(file, name, size, disksize, blocks, blockSize, mode, policy, mtimeNanos, ctimeNanos, layout, dax, owner, mapping,
                    "");
        }

        /** An extent-mapped file of nobody in particular. */
        public FileStat(FileId file, String name, long size, long disksize, long blocks, int blockSize, int mode,
                LockPolicy policy, long mtimeNanos, long ctimeNanos, Layout layout) {
            this(file, name, size, disksize, blocks, blockSize, mode, policy, mtimeNanos, ctimeNanos, layout, false, "anonymous",
                    "extents");
        }
    }

    /** How a file's blocks are laid out: extent records and blocks per state. */
    record Layout(long extents, long writtenBlocks, long unwrittenBlocks) implements Reply {
    }

    record FiemapReply(List<FiemapExtent> extents) implements Reply {
        public FiemapReply {
            extents = List.copyOf(extents);
        }
    }

    /** One extent in bytes, as FS_IOC_FIEMAP reports it; {@code flags} are the FIEMAP_EXTENT_* bits. */
    record FiemapExtent(long logical, long physical, long length, int flags) implements Reply {
        public static final int LAST = 0x1;
        public static final int UNWRITTEN = 0x800;
        public static final int MERGED = 0x1000;

        public boolean unwritten() {
            return (flags & UNWRITTEN) != 0;
        }
    }

    /**
     * explain: ext4_dio_write_checks evaluated for a write that was not made. {@code rule} and
     * {@code lock} are lower-case names ({@code needs_zeroing}, {@code exclusive}: the rule is the
     * {@code write_rule_*} counter a real write would move); {@code inodeDioWait} and
     * {@code forceWait} say whether it would drain in-flight direct I/O first and hold the lock
     * until its I/O completes; {@code lockNow} is i_rwsem as it is held now; {@code eagain} and
     * {@code answer} what the write would get now: for NOWAIT, EAGAIN and why, or that it proceeds.
     */
    record Explanation(LockPolicy policy, long offset, long length, boolean nowait, long size, long disksize, boolean nosec,
            boolean unaligned, boolean extending, List<ExtentAnswer> lookups, boolean needsZeroing, String rule, String lock,
            boolean inodeDioWait, boolean forceWait, int dioInFlight, String lockNow, long holeBlocks, boolean eagain,
            String answer) implements Reply {
        public Explanation {
            lookups = List.copyOf(lookups);
        }
    }

    /**
     * One extent lookup the checks made: from block {@code lblk}, at most {@code maxLen} blocks;
     * {@code state} of the {@code len} blocks found ({@code written}, {@code unwritten}, {@code hole}),
     * or {@code not cached} when a cache-only lookup would have had to read the device.
     */
    record ExtentAnswer(long lblk, long maxLen, String state, long len) implements Reply {
        public static final String NOT_CACHED = "not cached";
    }

    /**
     * The members of the node's cluster, the answering node among them.
     *
     * @param volume the volume the answering node mounts (how a client given several targets learns which serves which)
     */
    record Members(List<Member> members, String volume) implements Reply {
        public Members {
            members = List.copyOf(members);
        }

        /** Members told by a node that does not say its volume. */
        public Members(List<Member> members) {
            this(members, "");
        }
    }

    /**
     * One member of the cluster.
     *
     * @param address its cluster address ({@code pekko://dionode@host:port}); a node without a
     *                cluster gives its native listener's {@code host:port}
     * @param volume the volume id it mounts ({@code Superblock.volumeId()}), empty when it announced none
     * @param status Pekko's member status lower-cased: up, joining, weakly-up, leaving, exiting, down, removed
     * @param reachable false while the failure detector of some member marks it unreachable
     */
    record Member(String address, String volume, String status, boolean reachable) implements Reply {
    }

    /** Node counters by name, e.g. {@code write_shared}. */
    record Stats(Map<String, Long> counters) implements Reply {
        public Stats {
            counters = Collections.unmodifiableSortedMap(new TreeMap<>(counters));
        }
    }
}
