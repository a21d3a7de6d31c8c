package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.device.BlockDevice;
import dionode.node.extent.BlockMap;
import dionode.node.extent.Extent;
import dionode.node.extent.ExtentCheck;
import dionode.node.extent.ExtentCorruptionException;
import dionode.node.extent.ExtentFormat;
import dionode.node.extent.ExtentNodeStore;
import dionode.node.extent.ExtentTree;
import dionode.node.meta.Bytes;
import dionode.node.meta.FileNames;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import dionode.protocol.FileId;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks of mount (DESIGN §5). Every in-use inode record is read and validated, with its
 * name and its inline extent root. fsck ({@code full}) also reads every extent block each tree
 * reaches, validates it, and cross-checks between files: blocks claimed twice, blocks in an extent
 * but free in the bitmap, leaked blocks, block counts, written blocks past i_size. A serving mount
 * reads no extent block (ext4 reads them when a lookup needs them, DESIGN §3): for a tree deeper
 * than its root it checks the root's index entries and claims their blocks, and the rest is
 * checked as each block is read. A file whose metadata fails is marked bad (EFSCORRUPTED) and the
 * rest are served. It also marks the inode numbers in use and sets the conversion reservation in
 * the allocator of every file whose tree it walked (a deeper one's is set by its first journaled
 * step). One run per instance, on the mounting thread.
 */
final class VolumeCheck {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeCheck.class);

    /**
     * What the check found, for the mounted {@link Volume}.
     *
     * @param bad why each bad inode is unusable
     * @param names the files found by name (bad files keep theirs, after every good one)
     * @param problems everything found wrong, in the order found
     * @param identities the owners' identity records, by name
     */
    record Result(Map<Long, String> bad, Map<String, FileId> names, List<Problem> problems, Map<String, Integer> identities) {
    }

    /** Data or node blocks {@code [pblk, pblk + len)} referenced by inode {@code ino}. */
    private record Claim(long len, long ino) {
    }

    private final BlockDevice dev;
    private final Layout layout;
    private final InodeTable inodes;
    private final BlockAllocator allocator;
    private final Map<Long, byte[]> nodes = new ConcurrentHashMap<>();
    private final Map<Long, String> bad = new ConcurrentHashMap<>();
    private final Map<String, FileId> names = new HashMap<>();
    private final Map<String, Integer> identities = new HashMap<>();
    private final List<Problem> problems = new ArrayList<>();
    private final ExtentNodeStore loadedNodes = new LoadedNodes();
    private final ExtentCache cache;
    private final boolean full;

    /**
     * @param cache where the extent blocks a full check reads go
     * @param full fsck: read and check every extent block
     */
    VolumeCheck(BlockDevice dev, Layout layout, InodeTable inodes, BlockAllocator allocator, ExtentCache cache, boolean full) {
        this.dev = dev;
        this.layout = layout;
        this.inodes = inodes;
        this.allocator = allocator;
        this.cache = cache;
        this.full = full;
    }

    /** Reads every inode (and for fsck every extent block), validating each, then cross-checks blocks between files. */
    Result run() throws IOException {
        Map<Long, List<Claim>> claims = new TreeMap<>();
        Map<Long, Long> reserves = new TreeMap<>();
        for (long ino = 1; ino <= layout.inodeCount(); ino++) {
            InodeRecord record;
            try {
                record = inodes.read(ino);
            } catch (MetadataCorruptException e) {
                markBad(ino, "bad-inode", e.getMessage());
                inodes.markUsed(ino);
                continue;
            }
            if (record == null) {
                continue;
            }
            inodes.markUsed(ino);
            boolean nameOk = record.unlinked() || checkName(ino);
            try {
                BlockMap tree = load(record);
                if (tree == null) {
                    addName(ino, record, nameOk);
                    continue;
                }
                long owner = ino;
                ExtentCheck found = tree.validate(layout::inDataArea,
                        (pblk, len, node) -> claims.computeIfAbsent(pblk, k -> new ArrayList<>(1)).add(new Claim(len, owner)));
                reserves.put(ino, tree.conversionReserve(found.unwrittenBlocks()));
                long held = found.writtenBlocks() + found.unwrittenBlocks() + found.nodeBlocks();
                if (held != record.blocks()) {
                    problems.add(new Problem(ino, "block-count", "inode says " + record.blocks() + " blocks, extents hold " + held));
                }
                if (!record.orphan()) {
                    checkNothingWrittenPastEof(record, found, tree);
                }
            } catch (ExtentCorruptionException | MetadataCorruptException e) {
                markBad(ino, "bad-extent-tree", e.getMessage());
                continue;
            }
            addName(ino, record, nameOk);
        }
        crossCheck(claims);
        reserveForConversions(reserves);
        // bad files keep their names (after every good one), so they answer EFSCORRUPTED rather than
        // vanish, and their names are not handed to new files
        for (long ino : new TreeMap<>(bad).keySet()) {
            String name = inodes.salvageName(ino);
            if (name != null) {
                names.putIfAbsent(name, new FileId(ino, inodes.generation(ino)));
            }
        }
        return new Result(bad, names, List.copyOf(problems), Map.copyOf(identities));
    }

    /**
     * The file's block map with every block of it read and checked; null for a serving mount's
     * file whose map reaches beyond its root (those blocks are checked as lookups read them).
     */
    private BlockMap load(InodeRecord record) throws IOException, MetadataCorruptException {
        long ino = record.ino();
        if ((record.flags() & InodeRecord.FLAG_INDIRECT) != 0) {
            return IndirectCheck.load(record, full, layout, dev, nodes, loadedNodes, cache);
        }
        checkRootHeader(ino, record.root());
        if (!full && ExtentFormat.depth(record.root(), 0) > 0) {
            checkRootIndex(ino, record.root());
            return null;
        }
        loadNodes(ino, record.root(), ExtentFormat.depth(record.root(), 0));
        return new ExtentTree(ino, record.root().clone(), loadedNodes);
    }

    /** The file's name into the namespace, once; and the orphan check of an unlinked file. */
    private void addName(long ino, InodeRecord record, boolean nameOk) {
        if (record.identity()) {
            if (nameOk && (ino > InodeRecord.MAX_OWNER || identities.putIfAbsent(record.name(), (int) ino) != null)) {
                markBad(ino, "bad-identity", "identity '" + record.name() + "' at inode " + ino + " is a duplicate or past "
                        + InodeRecord.MAX_OWNER);
            }
            return;
        }
        if (!record.unlinked() && nameOk) {
            inodes.noteAccess(record);
            FileId other = names.putIfAbsent(record.name(), new FileId(ino, record.generation()));
            if (other != null) {
                markBad(ino, "duplicate-name", "name '" + record.name() + "' also used by inode " + other.ino());
            }
        }
        if (record.unlinked() && !record.orphan()) {
            problems.add(new Problem(ino, "unlinked-not-orphan", "unlinked inode not on the orphan list"));
        }
    }

    /**
     * A serving mount's check of a root that indexes blocks, without reading them: keys in order,
     * blocks in the data area. They are not claimed for the cross-check: a block the root names
     * may turn out to be no extent block at all (another file's data), which its checksum tells
     * when it is read, and the claim would then wrongly make that other file bad.
     */
    private void checkRootIndex(long ino, byte[] root) throws MetadataCorruptException {
        for (int i = 0; i < ExtentFormat.entries(root, 0); i++) {
            long child = ExtentFormat.child(root, 0, i);
            if (i > 0 && ExtentFormat.key(root, 0, i) <= ExtentFormat.key(root, 0, i - 1)) {
                throw new MetadataCorruptException("inode " + ino + ": extent root keys out of order");
            }
            if (!layout.inDataArea(child, 1)) {
                throw new MetadataCorruptException("inode " + ino + ": extent root points to block " + child
                        + " outside the data area");
            }
        }
    }

    /**
     * Only an interrupted extending write or truncate (on the orphan list) may leave written
     * blocks wholly past i_size; preallocation past it is unwritten (a file without extents has none).
     */
    private void checkNothingWrittenPastEof(InodeRecord record, ExtentCheck found, BlockMap tree) {
        long eofBlock = (record.size() + layout.blockSize() - 1) / layout.blockSize();
        if (found.endBlock() <= eofBlock) {
            return;
        }
        for (Extent extent : tree.extents(eofBlock, ExtentFormat.MAX_LBLK + 1)) {
            if (!extent.unwritten()) {
                problems.add(new Problem(record.ino(), "written-past-eof", "written blocks from "
                        + Math.max(extent.lblk(), eofBlock) + " lie past i_size " + record.size()));
                return;
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

    /** Overlaps between any two claims, and claims of blocks the bitmap calls free. */
    private void crossCheck(Map<Long, List<Claim>> claims) {
        long reachEnd = -1;
        long reachIno = 0;
        long referenced = 0;
        for (Map.Entry<Long, List<Claim>> entry : claims.entrySet()) {
            long pblk = entry.getKey();
            for (Claim claim : entry.getValue()) {
                if (pblk < reachEnd) {
                    String msg = "blocks from " + pblk + " are claimed by inodes " + reachIno + " and " + claim.ino();
                    markBad(claim.ino(), "double-allocation", msg);
                    markBad(reachIno, "double-allocation", msg);
                }
                if (pblk + claim.len() > reachEnd) {
                    reachEnd = pblk + claim.len();
                    reachIno = claim.ino();
                }
                referenced += claim.len();
                for (long blk = pblk; blk < pblk + claim.len(); blk++) {
                    if (!allocator.allocatedOnDisk(blk)) {
                        markBad(claim.ino(), "free-block-in-use", "block " + blk + " is in an extent but free in the bitmap");
                        allocator.reserveInMemory(pblk, claim.len());
                        break;
                    }
                }
            }
        }
        long used = layout.dataBlocks() - allocator.freeBlocks();
        if (full && used > referenced && bad.isEmpty()) {
            problems.add(new Problem(0, "leaked-blocks", (used - referenced) + " blocks allocated in the bitmap but used by no file"));
        }
    }

    /** Holds back the extent-node blocks every file's unwritten blocks may need (DESIGN §5). */
    private void reserveForConversions(Map<Long, Long> reserves) {
        for (Map.Entry<Long, Long> entry : reserves.entrySet()) {
            if (!bad.containsKey(entry.getKey()) && !allocator.reserve(entry.getKey(), entry.getValue(), true)) {
                LOG.warn("inode {}: only {} of the {} blocks its unwritten extents may need for extent nodes are free",
                        entry.getKey(), allocator.reservation(entry.getKey()), entry.getValue());
            }
        }
    }

    /** ext4_ext_check of the inline root, before any block it names is read. */
    private static void checkRootHeader(long ino, byte[] root) throws MetadataCorruptException {
        if (!ExtentFormat.magicOk(root, 0) || ExtentFormat.max(root, 0) != ExtentFormat.ROOT_MAX
                || ExtentFormat.entries(root, 0) > ExtentFormat.ROOT_MAX || ExtentFormat.depth(root, 0) > ExtentFormat.MAX_DEPTH
                || ExtentFormat.depth(root, 0) > 0 && ExtentFormat.entries(root, 0) == 0) {
            throw new MetadataCorruptException("inode " + ino + ": bad extent root header (magic "
                    + Integer.toHexString(Bytes.u16(root, 0)) + ", entries " + ExtentFormat.entries(root, 0)
                    + ", max " + ExtentFormat.max(root, 0) + ", depth " + ExtentFormat.depth(root, 0) + ")");
        }
    }

    /** Reads the tree's nodes level by level, checking each before the blocks it names are read. */
    private void loadNodes(long ino, byte[] root, int rootDepth) throws IOException {
        if (rootDepth == 0) {
            return;
        }
        List<Long> level = new ArrayList<>();
        int rootEntries = Math.min(ExtentFormat.entries(root, 0), ExtentFormat.ROOT_MAX);
        for (int i = 0; i < rootEntries; i++) {
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
                byte[] image = BlockIO.readBlock(dev, blk);
                if (!ExtentFormat.crcOk(ino, blk, image)) {
                    throw new MetadataCorruptException("inode " + ino + ": extent node " + blk + " checksum mismatch");
                }
                if (!ExtentFormat.magicOk(image, 0) || ExtentFormat.depth(image, 0) != depth
                        || ExtentFormat.entries(image, 0) > ExtentFormat.BLOCK_MAX) {
                    throw new MetadataCorruptException("inode " + ino + ": extent node " + blk + " bad header");
                }
                nodes.put(blk, image);
                cache.add(ino, blk, image);
                if (depth > 0) {
                    for (int i = 0; i < ExtentFormat.entries(image, 0); i++) {
                        next.add(ExtentFormat.child(image, 0, i));
                    }
                }
            }
            level = next;
        }
    }

    private void markBad(long ino, String kind, String detail) {
        problems.add(new Problem(ino, kind, detail));
        bad.putIfAbsent(ino, "inode " + ino + ": " + detail);
        LOG.warn("inode {} marked corrupt: {}", ino, detail);
    }

    /** Reads nodes already loaded; only for validation walks. */
    private final class LoadedNodes implements ExtentNodeStore {
        @Override
        public boolean resident(long blk) {
            return nodes.containsKey(blk);
        }

        @Override
        public byte[] node(long blk) {
            byte[] image = nodes.get(blk);
            if (image == null) {
                throw new ExtentCorruptionException("extent node " + blk + " not loaded");
            }
            return image;
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
