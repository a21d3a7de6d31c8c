package dionode.node.fs;

import dionode.node.alloc.BlockAllocator;
import dionode.node.device.BlockDevice;
import dionode.node.journal.Journal;
import dionode.node.journal.JournalOptions;
import dionode.node.journal.ReplayResult;
import dionode.node.meta.InodeTable;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import dionode.node.meta.Superblock;
import java.io.IOException;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mount (ext4_fill_super): from a device to a {@link Volume}. The superblock, the inode table and
 * the bitmaps are read and validated here; extent blocks below the inline roots are read when a
 * lookup needs them (fsck reads them all). Blocking I/O, on the caller's thread; stateless,
 * thread-safe.
 */
public final class VolumeLoader {
    private static final Logger LOG = LoggerFactory.getLogger(VolumeLoader.class);

    private VolumeLoader() {
    }

    /**
     * Mounts: validates the superblock, replays the journal (into the regions it may log only),
     * reads back the superblock and journal replay may have touched, loads and validates the inode
     * table and bitmaps ({@link VolumeCheck}; {@code readOnly}: every extent block too), records the mount in the superblock (state mounted), processes
     * the orphan list ({@link OrphanCleanup}). {@code readOnly} (fsck) stops after validation: no
     * journal is opened and nothing but the replay is written.
     *
     * @throws MetadataCorruptException when the superblock, journal or bitmaps cannot be trusted
     */
    public static Volume mount(BlockDevice dev, JournalOptions options, Clock clock, boolean readOnly) throws IOException {
        return mount(dev, options, clock, readOnly, DEFAULT_EXTENT_CACHE);
    }

    /** The default {@code serve --es-cache}. */
    public static final long DEFAULT_EXTENT_CACHE = 64L << 20;

    /**
     * Like {@link #mount(BlockDevice, JournalOptions, Clock, boolean)}, with {@code extentCache}
     * bytes for extent blocks (a read-only mount keeps every block it checks).
     */
    public static Volume mount(BlockDevice dev, JournalOptions options, Clock clock, boolean readOnly, long extentCache)
            throws IOException {
        Superblock found = Superblock.decode(BlockIO.readBlock(dev, 0), dev.size());
        Layout layout = found.layout();
        MountState.warnIfUnclean(dev, found);
        ReplayResult replay = Journal.recover(dev, layout.journalStart(), layout.journalBlocks(), MountState.journalHomes(layout));
        if (replay != null && replay.transactions() > 0) {
            LOG.info("journal recovery on {}: replayed {} transactions ({} blocks)", dev.path(), replay.transactions(),
                    replay.imagesReplayed());
        }
        MountState.checkReplay(dev, found);
        byte[][] table = BlockIO.readBlocks(dev, layout.inodeTableStart(), (int) layout.inodeTableBlocks());
        byte[][] bitmaps = BlockIO.readBlocks(dev, layout.bitmapStart(), (int) layout.bitmapBlocks());
        for (int i = 0; i < bitmaps.length; i++) {
            if (!BlockAllocator.crcOk(layout.bitmapStart() + i, bitmaps[i])) {
                throw new MetadataCorruptException("allocation bitmap block " + (layout.bitmapStart() + i) + ": checksum mismatch");
            }
        }
        Journal journal = readOnly ? null : Journal.open(dev, layout.journalStart(), layout.journalBlocks(), options, clock);
        Volume volume;
        try {
            InodeTable inodes = new InodeTable(layout, table);
            BlockAllocator allocator = new BlockAllocator(layout, bitmaps);
            ExtentCache cache = readOnly ? ExtentCache.unbounded() : new ExtentCache(extentCache);
            VolumeCheck.Result checked = new VolumeCheck(dev, layout, inodes, allocator, cache, readOnly).run();
            Superblock recorded = readOnly ? found : MountState.markMounted(dev, found, clock);
            volume = new Volume(dev, recorded, journal, replay, inodes, allocator, checked, cache, clock);
            if (!readOnly) {
                new OrphanCleanup(volume).run();
            }
        } catch (IOException | RuntimeException e) {
            if (journal != null) {
                journal.close();
            }
            throw e;
        }
        LOG.info("mounted {}: {} files, {} free blocks of {}{}", dev.path(), volume.names().size(),
                volume.allocator().freeBlocks(), layout.dataBlocks(),
                volume.badCount() == 0 ? "" : ", " + volume.badCount() + " files with corrupt metadata");
        return volume;
    }
}
