package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.device.AlignedBuffers;
import dionode.node.device.BlockDevice;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentCheck;
import dionode.node.extent.ExtentCorruptionException;
import dionode.node.extent.ExtentFormat;
import dionode.node.extent.ExtentTree;
import dionode.node.journal.Handle;
import dionode.node.journal.Journal;
import dionode.node.journal.JournalOptions;
import dionode.node.journal.ReplayResult;
import dionode.node.meta.FileNames;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import dionode.node.meta.Superblock;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A mounted dionode device: superblock, journal, inode table, allocator and every extent node,
 * all validated at mount (DESIGN §5) so that no inode actor ever waits for metadata I/O. Files
 * whose metadata fails validation are marked bad (EFSCORRUPTED) and the rest are served.
 * Thread-safe.
 */
public final class Volume implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Volume.class);

    private final BlockDevice dev;
    /** As found at mount; after a read-write mount's first step, as it recorded the mount. */
    private volatile Superblock sb;
    private final Layout layout;
    private final Journal journal;
    private final InodeTable inodes;
    private final BlockAllocator allocator;
    private final Map<Long, byte[]> nodes = new ConcurrentHashMap<>();
    private final Map<Long, String> bad = new ConcurrentHashMap<>();
    private final Map<String, FileId> names = new HashMap<>();
    private final List<Problem> problems = new ArrayList<>();
    private final Clock clock;
    private final ReplayResult replay;
    private volatile boolean closed;

    private Volume(BlockDevice dev, Superblock sb, Journal journal, ReplayResult replay, byte[][] table, byte[][] bitmaps,
            Clock clock) {
        this.dev = dev;
        this.sb = sb;
        this.layout = sb.layout();
        this.journal = journal;
        this.replay = replay;
        this.inodes = new InodeTable(layout, table);
        this.allocator = new BlockAllocator(layout, bitmaps, journal != null ? journal.lock() : new java.util.concurrent.locks.ReentrantLock());
        this.clock = clock;
    }

    // ------------------------------------------------------------------ mkfs

    /** Writes a fresh, empty dionode file system on {@code dev}; {@code inodes} 0 = scale with size. */
    public static Superblock mkfs(BlockDevice dev, long inodes, LockPolicy defaultPolicy, Clock clock) throws IOException {
        Layout l = Layout.forDevice(dev.size(), inodes);
        Journal.format(dev, l.journalStart(), l.journalBlocks());
        int batch = 256;
        for (long i = 0; i < l.inodeTableBlocks(); i += batch) {
            int n = (int) Math.min(batch, l.inodeTableBlocks() - i);
            ByteBuffer buf = AlignedBuffers.allocateAligned(n * Layout.BLOCK_SIZE);
            for (int k = 0; k < n; k++) {
                buf.put(InodeTable.emptyBlock(l, i + k));
            }
            buf.flip();
            dev.write((l.inodeTableStart() + i) * Layout.BLOCK_SIZE, buf);
        }
        byte[][] maps = BlockAllocator.initialBitmaps(l);
        for (int i = 0; i < maps.length; i++) {
            writeBlock(dev, l.bitmapStart() + i, maps[i]);
        }
        dev.flush();
        Superblock sb = Superblock.fresh(dev.sectorSize(), l, clock.millis(), defaultPolicy);
        writeBlock(dev, 0, sb.encode());
        dev.flush();
        LOG.info("formatted {}: {} blocks, {} inodes, journal {} blocks, data from block {}", dev.path(), l.totalBlocks(),
                l.inodeCount(), l.journalBlocks(), l.dataStart());
        return sb;
    }

    /** Whether block 0 of the device holds a dionode superblock at all (any version). */
    public static boolean looksFormatted(BlockDevice dev) throws IOException {
        byte[] b = readBlock(dev, 0);
        for (int i = 0; i < 8; i++) {
            if (b[i] != Superblock.MAGIC[i]) {
                return false;
            }
        }
        return true;
    }

    // ------------------------------------------------------------------ mount

    /**
     * Mounts: validates the superblock, replays the journal (into the regions it may log only),
     * reads back the superblock and journal replay may have touched, loads and validates all
     * metadata, records the mount in the superblock (state mounted), processes the orphan list.
     * {@code readOnly} (fsck) stops after validation: no journal is opened and nothing but the
     * replay is written.
     *
     * @throws MetadataCorruptException when the superblock, journal or bitmaps cannot be trusted
     */
    public static Volume mount(BlockDevice dev, JournalOptions options, Clock clock, boolean readOnly) throws IOException {
        Superblock found = Superblock.decode(readBlock(dev, 0), dev.size());
        Layout l = found.layout();
        MountState.warnIfUnclean(dev, found);
        ReplayResult replay = Journal.recover(dev, l.journalStart(), l.journalBlocks(), MountState.journalHomes(l));
        if (replay != null && replay.transactions() > 0) {
            LOG.info("journal recovery on {}: replayed {} transactions ({} blocks)", dev.path(), replay.transactions(),
                    replay.imagesReplayed());
        }
        MountState.checkReplay(dev, found);
        byte[][] table = readBlocks(dev, l.inodeTableStart(), (int) l.inodeTableBlocks());
        byte[][] bitmaps = readBlocks(dev, l.bitmapStart(), (int) l.bitmapBlocks());
        for (int i = 0; i < bitmaps.length; i++) {
            if (!BlockAllocator.crcOk(l.bitmapStart() + i, bitmaps[i])) {
                throw new MetadataCorruptException("allocation bitmap block " + (l.bitmapStart() + i) + ": checksum mismatch");
            }
        }
        Journal journal = readOnly ? null : Journal.open(dev, l.journalStart(), l.journalBlocks(), options, clock);
        Volume v = new Volume(dev, found, journal, replay, table, bitmaps, clock);
        try {
            v.load(dev);
            if (!readOnly) {
                v.sb = MountState.markMounted(dev, found, clock);
                v.processOrphans();
            }
        } catch (IOException | RuntimeException e) {
            if (journal != null) {
                journal.close();
            }
            throw e;
        }
        LOG.info("mounted {}: {} files, {} free blocks of {}{}", dev.path(), v.names.size(), v.allocator.freeBlocks(),
                l.dataBlocks(), v.bad.isEmpty() ? "" : ", " + v.bad.size() + " files with corrupt metadata");
        return v;
    }

    /** Reads every inode and extent node, validating each, then cross-checks blocks between files. */
    private void load(BlockDevice dev) throws IOException {
        Map<Long, List<long[]>> refs = new TreeMap<>(); // pblk -> [len, ino, node?]
        Map<Long, Long> reserves = new TreeMap<>();
        for (long ino = 1; ino <= layout.inodeCount(); ino++) {
            InodeRecord r;
            try {
                r = inodes.read(ino);
            } catch (MetadataCorruptException e) {
                markBad(ino, "bad-inode", e.getMessage());
                inodes.markUsed(ino);
                continue;
            }
            if (r == null) {
                continue;
            }
            inodes.markUsed(ino);
            boolean nameOk = r.unlinked() || checkName(ino);
            try {
                checkRootHeader(ino, r.root());
                loadNodes(dev, ino, r.root(), ExtentFormat.depth(r.root(), 0));
                long owner = ino;
                ExtentTree tree = new ExtentTree(ino, r.root().clone(), new ReadOnlyStore());
                ExtentCheck c = tree.validate(layout::inDataArea,
                        (pblk, len, node) -> refs.computeIfAbsent(pblk, k -> new ArrayList<>(1)).add(new long[] {len, owner}));
                reserves.put(ino, tree.conversionReserve(c.unwrittenBlocks()));
                if (c.writtenBlocks() + c.unwrittenBlocks() + c.nodeBlocks() != r.blocks()) {
                    problems.add(new Problem(ino, "block-count", "inode says " + r.blocks() + " blocks, extents hold "
                            + (c.writtenBlocks() + c.unwrittenBlocks() + c.nodeBlocks())));
                }
                if (!r.orphan()) {
                    // only an interrupted extending write or truncate (on the orphan list) may leave
                    // written blocks wholly past i_size; preallocation past it is unwritten
                    long eofBlock = (r.size() + layout.blockSize() - 1) / layout.blockSize();
                    if (c.endBlock() > eofBlock) {
                        for (Extent e : new ExtentTree(ino, r.root().clone(), new ReadOnlyStore()).extents(eofBlock,
                                ExtentFormat.MAX_LBLK + 1)) {
                            if (!e.unwritten()) {
                                problems.add(new Problem(ino, "written-past-eof", "written blocks from "
                                        + Math.max(e.lblk(), eofBlock) + " lie past i_size " + r.size()));
                                break;
                            }
                        }
                    }
                }
            } catch (ExtentCorruptionException | MetadataCorruptException e) {
                markBad(ino, "bad-extent-tree", e.getMessage());
                continue;
            }
            if (!r.unlinked() && nameOk) {
                FileId other = names.putIfAbsent(r.name(), new FileId(ino, r.generation()));
                if (other != null) {
                    markBad(ino, "duplicate-name", "name '" + r.name() + "' also used by inode " + other.ino());
                }
            }
            if (r.unlinked() && !r.orphan()) {
                problems.add(new Problem(ino, "unlinked-not-orphan", "unlinked inode not on the orphan list"));
            }
        }
        crossCheck(refs);
        reserveForConversions(reserves);
        // bad files keep their names (after every good one), so they answer EFSCORRUPTED rather than
        // vanish, and their names are not handed to new files
        for (long ino : new TreeMap<>(bad).keySet()) {
            String name = inodes.salvageName(ino);
            if (name != null) {
                names.putIfAbsent(name, new FileId(ino, inodes.generation(ino)));
            }
        }
    }

    /**
     * Whether the stored name is a file name ({@link FileNames}: the rule the namespace applies to
     * requests); a name no request could have made is corruption and makes the file bad.
     */
    private boolean checkName(long ino) {
        byte[] stored = inodes.nameBytes(ino);
        FileNames.Fault fault = FileNames.check(stored, 0, stored.length);
        if (fault != null) {
            markBad(ino, "bad-name", "name '" + FileNames.printable(stored) + "': " + fault.message());
        }
        return fault == null;
    }

    /** Overlaps between any two references, and references to blocks the bitmap calls free. */
    private void crossCheck(Map<Long, List<long[]>> refs) {
        long reachEnd = -1;
        long reachIno = 0;
        long referenced = 0;
        for (Map.Entry<Long, List<long[]>> e : refs.entrySet()) {
            long pblk = e.getKey();
            for (long[] ref : e.getValue()) {
                long len = ref[0];
                long ino = ref[1];
                if (pblk < reachEnd) {
                    String msg = "blocks from " + pblk + " are claimed by inodes " + reachIno + " and " + ino;
                    markBad(ino, "double-allocation", msg);
                    markBad(reachIno, "double-allocation", msg);
                }
                if (pblk + len > reachEnd) {
                    reachEnd = pblk + len;
                    reachIno = ino;
                }
                referenced += len;
                for (long b = pblk; b < pblk + len; b++) {
                    if (!allocator.allocatedOnDisk(b)) {
                        markBad(ino, "free-block-in-use", "block " + b + " is in an extent but free in the bitmap");
                        allocator.reserveInMemory(pblk, len);
                        break;
                    }
                }
            }
        }
        long used = layout.dataBlocks() - allocator.freeBlocks();
        if (used > referenced && bad.isEmpty()) {
            problems.add(new Problem(0, "leaked-blocks", (used - referenced) + " blocks allocated in the bitmap but used by no file"));
        }
    }

    /** Holds back the extent-node blocks every file's unwritten blocks may need (DESIGN §5). */
    private void reserveForConversions(Map<Long, Long> reserves) {
        for (Map.Entry<Long, Long> e : reserves.entrySet()) {
            if (!bad.containsKey(e.getKey()) && !allocator.reserve(e.getKey(), e.getValue(), true)) {
                LOG.warn("inode {}: only {} of the {} blocks its unwritten extents may need for extent nodes are free",
                        e.getKey(), allocator.reservation(e.getKey()), e.getValue());
            }
        }
    }

    /** ext4_ext_check of the inline root, before any block it names is read. */
    private static void checkRootHeader(long ino, byte[] root) throws MetadataCorruptException {
        if (!ExtentFormat.magicOk(root, 0) || ExtentFormat.max(root, 0) != ExtentFormat.ROOT_MAX
                || ExtentFormat.entries(root, 0) > ExtentFormat.ROOT_MAX || ExtentFormat.depth(root, 0) > ExtentFormat.MAX_DEPTH
                || ExtentFormat.depth(root, 0) > 0 && ExtentFormat.entries(root, 0) == 0) {
            throw new MetadataCorruptException("inode " + ino + ": bad extent root header (magic "
                    + Integer.toHexString(dionode.node.meta.Bytes.u16(root, 0)) + ", entries " + ExtentFormat.entries(root, 0)
                    + ", max " + ExtentFormat.max(root, 0) + ", depth " + ExtentFormat.depth(root, 0) + ")");
        }
    }

    private void loadNodes(BlockDevice dev, long ino, byte[] root, int rootDepth) throws IOException {
        if (rootDepth == 0) {
            return;
        }
        List<Long> level = new ArrayList<>();
        int n = Math.min(ExtentFormat.entries(root, 0), ExtentFormat.ROOT_MAX);
        for (int i = 0; i < n; i++) {
            level.add(ExtentFormat.child(root, 0, i));
        }
        for (int depth = rootDepth - 1; depth >= 0 && !level.isEmpty(); depth--) {
            List<Long> next = new ArrayList<>();
            for (long blk : level) {
                if (!layout.inDataArea(blk, 1)) {
                    throw new MetadataCorruptException("inode " + ino + ": extent node pointer " + blk + " outside the data area");
                }
                if (nodes.containsKey(blk)) {
                    throw new MetadataCorruptException("inode " + ino + ": extent node " + blk + " referenced twice");
                }
                byte[] b = readBlock(dev, blk);
                if (!ExtentFormat.crcOk(ino, blk, b)) {
                    throw new MetadataCorruptException("inode " + ino + ": extent node " + blk + " checksum mismatch");
                }
                if (!ExtentFormat.magicOk(b, 0) || ExtentFormat.depth(b, 0) != depth
                        || ExtentFormat.entries(b, 0) > ExtentFormat.BLOCK_MAX) {
                    throw new MetadataCorruptException("inode " + ino + ": extent node " + blk + " bad header");
                }
                nodes.put(blk, b);
                if (depth > 0) {
                    for (int i = 0; i < ExtentFormat.entries(b, 0); i++) {
                        next.add(ExtentFormat.child(b, 0, i));
                    }
                }
            }
            level = next;
        }
    }

    /** ext4_orphan_cleanup: finish interrupted extending writes, truncates and unlinks. */
    private void processOrphans() {
        List<Long> orphans = new ArrayList<>();
        for (long ino = 1; ino <= layout.inodeCount(); ino++) {
            InodeRecord r = bad.containsKey(ino) ? null : safeRead(ino);
            if (r != null && r.orphan()) {
                orphans.add(ino);
            }
        }
        for (long ino : orphans) {
            Inode inode = open(ino);
            if ((inode.flags & InodeRecord.FLAG_UNLINKED) != 0) {
                truncateBlocks(inode, 0);
                try (Handle h = startBlocking(inode, inode.stepCredits(0))) {
                    inodes.clear(h, ino);
                }
                inodes.release(ino);
                LOG.info("orphan inode {}: unlinked file removed", ino);
            } else {
                long keep = (inode.disksize + layout.blockSize() - 1) / layout.blockSize();
                truncateBlocks(inode, keep);
                inode.size = inode.disksize;
                inode.flags &= ~InodeRecord.FLAG_ORPHAN;
                Handle h = startBlocking(inode, inode.stepCredits(0));
                inode.commitStep(h);
                LOG.info("orphan inode {}: blocks past i_disksize {} freed", ino, inode.disksize);
            }
        }
        if (!orphans.isEmpty()) {
            journal.commit().join();
        }
    }

    private void truncateBlocks(Inode inode, long fromLblk) {
        ExtentSteps.runBlocking(inode, ExtentSteps.Kind.REMOVE, fromLblk, ExtentFormat.MAX_LBLK + 1,
                credits -> startBlocking(inode, credits));
    }

    /**
     * A handle for {@code inode}'s next step (attached to it, so its extent tree can journal node
     * blocks), waiting for a commit when the journal is full: for mount-time work only.
     */
    private Handle startBlocking(Inode inode, int credits) {
        while (true) {
            Handle h = inode.begin(credits);
            if (h != null) {
                return h;
            }
            journal.commit().join();
        }
    }

    // ------------------------------------------------------------------ runtime

    /** An inode's metadata for its owner; throws if the slot is free or its metadata is corrupt. */
    public Inode open(long ino) {
        String why = bad.get(ino);
        if (why != null) {
            throw new ExtentCorruptionException(why);
        }
        InodeRecord r = safeRead(ino);
        if (r == null) {
            throw new IllegalArgumentException("inode " + ino + " is not in use");
        }
        return new Inode(this, r);
    }

    /**
     * A new inode at the free number {@code ino}, logged in the handle's transaction. Its
     * generation is one more than that of the number's last file (kept in the free slot), so a
     * handle to any earlier file there is stale: ext4 takes {@code s_next_generation++} instead,
     * which needs a superblock update per create.
     */
    public Inode create(Handle h, long ino, String name, int mode, LockPolicy policy) {
        long now = nowNanos();
        InodeRecord r = new InodeRecord(ino, 0, mode & InodeRecord.MODE_MASK, inodes.generation(ino) + 1, policy, 0, 0, 0, now,
                now, now, ExtentTree.emptyRoot(), name);
        inodes.write(h, r);
        return new Inode(this, r);
    }

    private InodeRecord safeRead(long ino) {
        try {
            return inodes.validIno(ino) ? inodes.read(ino) : null;
        } catch (MetadataCorruptException e) {
            return null;
        }
    }

    private void markBad(long ino, String kind, String detail) {
        problems.add(new Problem(ino, kind, detail));
        bad.putIfAbsent(ino, "inode " + ino + ": " + detail);
        LOG.warn("inode {} marked corrupt: {}", ino, detail);
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

    Map<Long, byte[]> nodes() {
        return nodes;
    }

    /** Names found at mount and the handles of their files (the namespace starts from this). */
    public Map<String, FileId> names() {
        return Collections.unmodifiableMap(names);
    }

    /** Why an inode is unusable, or null. */
    public String badReason(long ino) {
        return bad.get(ino);
    }

    /** Everything mount found wrong, for logs and fsck. */
    public List<Problem> problems() {
        return List.copyOf(problems);
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

    // ------------------------------------------------------------------ block I/O helpers

    static byte[] readBlock(BlockDevice dev, long blk) throws IOException {
        return readBlocks(dev, blk, 1)[0];
    }

    static byte[][] readBlocks(BlockDevice dev, long first, int count) throws IOException {
        byte[][] out = new byte[count][];
        int batch = 256;
        for (int i = 0; i < count; i += batch) {
            int n = Math.min(batch, count - i);
            ByteBuffer buf = AlignedBuffers.allocateAligned(n * Layout.BLOCK_SIZE);
            buf.limit(n * Layout.BLOCK_SIZE);
            dev.read((first + i) * Layout.BLOCK_SIZE, buf);
            for (int k = 0; k < n; k++) {
                out[i + k] = new byte[Layout.BLOCK_SIZE];
                buf.get(k * Layout.BLOCK_SIZE, out[i + k]);
            }
        }
        return out;
    }

    static void writeBlock(BlockDevice dev, long blk, byte[] image) throws IOException {
        ByteBuffer buf = AlignedBuffers.allocateAligned(Layout.BLOCK_SIZE);
        buf.put(image).flip();
        dev.write(blk * Layout.BLOCK_SIZE, buf);
    }

    /** Reads nodes already loaded at mount; only for validation walks. */
    private final class ReadOnlyStore implements dionode.node.extent.ExtentNodeStore {
        @Override
        public byte[] node(long blk) {
            byte[] b = nodes.get(blk);
            if (b == null) {
                throw new ExtentCorruptionException("extent node " + blk + " not loaded");
            }
            return b;
        }

        @Override
        public byte[] modify(long blk) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public long allocateNode(long goal) {
            throw new UnsupportedOperationException("read-only");
        }

        @Override
        public void freeNode(long blk) {
            throw new UnsupportedOperationException("read-only");
        }
    }
}
