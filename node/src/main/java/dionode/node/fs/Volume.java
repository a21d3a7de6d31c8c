package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.device.BlockDevice;
import dionode.node.extent.ExtentCorruptionException;
import dionode.node.extent.ExtentMissException;
import dionode.node.extent.ExtentTree;
import dionode.node.extent.IndirectMap;
import dionode.node.journal.Handle;
import dionode.node.journal.Journal;
import dionode.node.journal.ReplayResult;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import dionode.node.meta.Superblock;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import java.io.IOException;
import java.time.Clock;
import java.util.Collections;
import java.util.List;
import java.util.HashMap;
import java.util.Map;

/**
 * A mounted dionode device, the runtime handle of everything on it: the device, the superblock
 * this mount recorded, the layout, the journal, the inode table, the allocator, loaded and
 * validated by {@link VolumeLoader}, and the bounded {@link ExtentCache} of extent blocks, read
 * when a lookup needs them. It opens and creates inodes, says which files are bad (found so by
 * mount, or since), and unmounts. Thread-safe: what mount found is fixed at construction, the set
 * of bad files and the cache are concurrent (each extent block is changed only by the owner of its
 * inode), and the parts are thread-safe themselves.
 */
public final class Volume implements AutoCloseable {
    private final BlockDevice dev;
    private final Superblock sb;
    private final Layout layout;
    private final Journal journal;
    private final InodeTable inodes;
    private final BlockAllocator allocator;
    private final ExtentCache cache;
    private final Map<Long, String> bad;
    private final Map<String, FileId> names;
    private final Identities identities;
    private final List<Problem> problems;
    private final Clock clock;
    private final ReplayResult replay;
    private volatile boolean closed;

    /** {@code journal} is null for a read-only mount. */
    Volume(BlockDevice dev, Superblock sb, Journal journal, ReplayResult replay, InodeTable inodes, BlockAllocator allocator,
            VolumeCheck.Result found, ExtentCache cache, Clock clock) {
        this.dev = dev;
        this.sb = sb;
        this.layout = sb.layout();
        this.journal = journal;
        this.replay = replay;
        this.inodes = inodes;
        this.allocator = allocator;
        this.cache = cache;
        this.bad = found.bad();
        Map<String, FileId> tagged = new HashMap<>();
        found.names().forEach((name, file) -> tagged.put(name, file.onVolume(tag())));
        this.names = Collections.unmodifiableMap(tagged);
        this.identities = new Identities(found.identities());
        this.problems = found.problems();
        this.clock = clock;
    }

    /** An inode's metadata for its owner; throws if the slot is free or its metadata is corrupt. */
    public Inode open(long ino) {
        String why = bad.get(ino);
        if (why != null) {
            throw new ExtentCorruptionException(why);
        }
        InodeRecord record = recordOrNull(ino);
        if (record == null) {
            throw new IllegalArgumentException("inode " + ino + " is not in use");
        }
        return new Inode(this, record);
    }

    /**
     * A new inode at the free number {@code ino}, logged in the handle's transaction. Its
     * generation is one more than that of the number's last file (kept in the free slot), so a
     * handle to any earlier file there is stale: ext4 takes {@code s_next_generation++} instead,
     * which needs a superblock update per create.
     */
    public Inode create(Handle handle, long ino, String name, int mode, LockPolicy policy) {
        return create(handle, ino, name, mode, policy, false);
    }

    /**
     * {@link #create(Handle, long, String, int, LockPolicy)}, a DAX file when {@code dax}, mapped by
     * ext3-style block pointers when {@code indirect}, owned by owner number {@code owner}.
     */
    public Inode create(Handle handle, long ino, String name, int mode, LockPolicy policy, boolean dax, boolean indirect,
            int owner) {
        int flags = (dax ? InodeRecord.FLAG_DAX : 0) | (indirect ? InodeRecord.FLAG_INDIRECT : 0);
        return new Inode(this, write(handle, ino, flags, name, mode, policy, owner));
    }

    public Inode create(Handle handle, long ino, String name, int mode, LockPolicy policy, boolean dax) {
        return create(handle, ino, name, mode, policy, dax, false, 0);
    }

    /** The identity record of {@code identity} at the free number {@code ino} (see {@link Identities}). */
    void writeIdentity(Handle handle, long ino, String identity) {
        write(handle, ino, InodeRecord.FLAG_IDENTITY, identity, 0, LockPolicy.ZEROING_AWARE, 0);
    }

    private InodeRecord write(Handle handle, long ino, int flags, String name, int mode, LockPolicy policy, int owner) {
        long now = nowNanos();
        InodeRecord record = new InodeRecord(ino, flags, mode & InodeRecord.MODE_MASK, inodes.generation(ino) + 1, policy, 0, 0, 0,
                now, now, now,
                (flags & InodeRecord.FLAG_INDIRECT) != 0 ? IndirectMap.emptyRoot() : ExtentTree.emptyRoot(), name, owner);
        inodes.write(handle, record);
        return record;
    }

    /** Who owns files here. */
    public Identities identities() {
        return identities;
    }

    /**
     * The owner number of {@code identity}, its identity record written in {@code handle} first if
     * it has none; -1 when the numbers identities may take are all in use. The namespace's only.
     */
    public int owner(Handle handle, String identity) {
        return identities.numberOrCreate(identity, handle, inodes, this);
    }

    /** The record of {@code ino}; null when the number is out of range, the slot free or its record corrupt. */
    InodeRecord recordOrNull(long ino) {
        try {
            return inodes.validIno(ino) ? inodes.read(ino) : null;
        } catch (MetadataCorruptException e) {
            return null;
        }
    }

    public long nowNanos() {
        return clock.millis() * 1_000_000L;
    }

    public Clock clock() {
        return clock;
    }

    public BlockDevice device() {
        return dev;
    }

    /** The superblock: as found (read-only mount), or as this read-write mount recorded itself. */
    /** The tag this volume's file handles carry ({@link FileId#volumeTag}), 0 for a volume without an id (read-only, never mounted rw). */
    public long tag() {
        java.util.UUID id = sb.volumeId();
        return id == null ? 0 : FileId.volumeTag(id.toString());
    }

    public Superblock superblock() {
        return sb;
    }

    public Layout layout() {
        return layout;
    }

    public Journal journal() {
        return journal;
    }

    public InodeTable inodes() {
        return inodes;
    }

    public BlockAllocator allocator() {
        return allocator;
    }

    /** The extent blocks in memory. */
    public ExtentCache extentCache() {
        return cache;
    }

    /**
     * Reads every block of {@code inode}'s extent tree that is not in memory, on the calling thread:
     * for mount-time work (orphan cleanup), never for an actor.
     */
    void loadTreeBlocking(Inode inode) throws IOException {
        List<ExtentMissException.Want> wants;
        while (!(wants = inode.tree().missing()).isEmpty()) {
            for (ExtentMissException.Want want : wants) {
                inode.accept(want, BlockIO.readBlock(dev, want.blk()));
            }
        }
    }

    /** Names found at mount and the handles of their files (the namespace starts from this). */
    public Map<String, FileId> names() {
        return names;
    }

    /** From now on {@code ino} answers EFSCORRUPTED, {@code why}, to every request (until the node restarts). */
    public void markBad(long ino, String why) {
        bad.putIfAbsent(ino, why);
    }

    /** Why an inode is unusable, or null. */
    public String badReason(long ino) {
        return bad.get(ino);
    }

    /** How many files mount found bad. */
    int badCount() {
        return bad.size();
    }

    /** Everything mount found wrong, for logs and fsck. */
    public List<Problem> problems() {
        return problems;
    }

    public ReplayResult replay() {
        return replay;
    }

    /** Clean unmount: commit, checkpoint, mark the superblock clean. The device stays open. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (journal != null) {
            boolean ok = !journal.isAborted();
            journal.close();
            if (ok && !journal.isAborted()) {
                MountState.markClean(dev, sb);
            }
        }
    }
}
