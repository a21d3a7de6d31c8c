package dionode.node.fs;

import dionode.node.device.BlockDevice;
import dionode.node.journal.HomeRegions;
import dionode.node.journal.HomeRegions.Region;
import dionode.node.journal.Journal;
import dionode.node.meta.Layout;
import dionode.node.meta.MetadataCorruptException;
import dionode.node.meta.Superblock;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The superblock's part in mount and unmount (ext4_setup_super, ext4_put_super): which blocks
 * the journal may replay into, the check of what replay wrote, the unclean-shutdown warning, and
 * the clean/mounted state written around a read-write mount. Stateless; thread-safe.
 */
final class MountState {
    private static final Logger LOG = LoggerFactory.getLogger(MountState.class);

    private MountState() {
    }

    /**
     * Where the journal may write home: the inode table, the bitmaps and the data area (extent
     * tree blocks; file data is never journaled but lives beside them). The superblock is written
     * directly, never through the journal, and the journal is never its own home.
     */
    static HomeRegions journalHomes(Layout layout) {
        return new HomeRegions(List.of(
                new Region("the superblock", 0, layout.journalStart(), false),
                new Region("the journal", layout.journalStart(), layout.inodeTableStart(), false),
                new Region("the inode table", layout.inodeTableStart(), layout.bitmapStart(), true),
                new Region("the allocation bitmaps", layout.bitmapStart(), layout.dataStart(), true),
                new Region("the data area", layout.dataStart(), layout.totalBlocks(), true)));
    }

    /** Logs the unclean shutdown a superblock in state mounted means. */
    static void warnIfUnclean(BlockDevice dev, Superblock sb) {
        if (sb.state() == Superblock.State.MOUNTED) {
            LOG.warn("device {} was not cleanly unmounted (last mounted at {}); replaying the journal", dev.path(),
                    lastMount(sb));
        }
    }

    /** The last mount time as ISO-8601, or "an unknown time" (a version 1 superblock never recorded it). */
    private static String lastMount(Superblock sb) {
        return sb.lastMountMillis() > 0 ? Instant.ofEpochMilli(sb.lastMountMillis()).toString() : "an unknown time";
    }

    /**
     * After replay, reads back what it may have touched instead of trusting what was read before:
     * the superblock must be unchanged and the journal must hold no transaction any more.
     *
     * @throws MetadataCorruptException if the superblock no longer reads back as it was
     */
    static void checkReplay(BlockDevice dev, Superblock before) throws IOException {
        Superblock after;
        try {
            after = Superblock.decode(BlockIO.readBlock(dev, 0), dev.size());
        } catch (MetadataCorruptException e) {
            throw new MetadataCorruptException("after journal replay: " + e.getMessage());
        }
        if (!after.equals(before)) {
            throw new MetadataCorruptException("journal replay changed the superblock: " + before + " became " + after);
        }
        Layout layout = before.layout();
        Journal.checkRecovered(dev, layout.journalStart(), layout.journalBlocks());
    }

    /**
     * Records a read-write mount before anything is served or journaled: state mounted, the
     * time, the counts, the current version; written and flushed.
     *
     * @return the superblock now on the device
     */
    static Superblock markMounted(BlockDevice dev, Superblock found, Clock clock) throws IOException {
        Superblock sb = found.mounted(clock.millis());
        if (found.version() != sb.version()) {
            LOG.info("device {}: superblock upgraded from version {} to {}", dev.path(), found.version(), sb.version());
        }
        write(dev, sb);
        return sb;
    }

    /** Records a clean unmount; only after the journal's last checkpoint. */
    static void markClean(BlockDevice dev, Superblock mounted) throws IOException {
        write(dev, mounted.unmounted());
    }

    private static void write(BlockDevice dev, Superblock sb) throws IOException {
        BlockIO.writeBlock(dev, 0, sb.encode());
        dev.flush();
    }
}
