package dionode.node.journal;

import dionode.node.device.BlockDevice;
import dionode.node.journal.JournalFormat.CommitCheck;
import dionode.node.journal.JournalFormat.Descriptor;
import dionode.node.journal.JournalFormat.DescriptorCheck;
import dionode.node.journal.JournalFormat.Rejected;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Mount-time recovery of a journal area (jbd2's recovery.c, its scan and replay passes in
 * one: the whole log is judged before anything is written) and the check {@link Journal#open}
 * makes that it ran, as Kafka's {@code LogLoader} returns what it recovered for
 * {@code LocalLog}. Each returns a record of what it found: a {@link ReplayResult} for a replay,
 * a {@link RecoveredJournal} for open.
 *
 * <p>An instance serves one replay on its caller's thread (not thread-safe); the static entry
 * points may be called from any thread, one at a time per device.
 */
final class JournalRecovery {

    /** Under the journal's logger name, which operators filter on. */
    private static final Logger LOG = LoggerFactory.getLogger(Journal.class);

    /**
     * A recovered journal area, checked and ready to open. Immutable record; the journal's
     * thread takes over {@code io}.
     *
     * @param sequence the tid expected at log block 1: the journal's next tid
     */
    record RecoveredJournal(JournalIO io, long sequence) {
    }

    /** What the log holds at one block: a whole transaction, or its end. */
    private sealed interface LogRead permits CommittedTxn, LogEnd {
    }

    /**
     * A transaction whose descriptors, images and commit block all check: its homes and
     * images in tag order, from log block {@code startBlock} up to {@code nextBlock}.
     */
    private record CommittedTxn(long tid, long startBlock, long[] homes, byte[][] images, long nextBlock)
            implements LogRead {
    }

    /** The log ends at the transaction being read: a clean end or a torn or corrupt tail. */
    private record LogEnd(String reason) implements LogRead {
    }

    private final JournalIO io;
    private final HomeRegions allowed;
    private final JournalIO.LogReader reader;

    private JournalRecovery(JournalIO io, HomeRegions allowed) {
        this.io = io;
        this.allowed = allowed;
        this.reader = io.new LogReader();
    }

    /** {@link Journal#recover(BlockDevice, long, long, HomeRegions)}. */
    static ReplayResult replay(BlockDevice dev, long startBlock, long blocks, HomeRegions allowed) throws IOException {
        Objects.requireNonNull(allowed, "allowed");
        return new JournalRecovery(new JournalIO(dev, startBlock, blocks), allowed).replay();
    }

    /** {@link Journal#checkRecovered}: a valid superblock and no transaction of its sequence in the log. */
    static RecoveredJournal checkRecovered(BlockDevice dev, long startBlock, long blocks) throws IOException {
        JournalIO io = new JournalIO(dev, startBlock, blocks);
        long sequence = io.readSuper().sequence();
        if (JournalFormat.decodeDescriptor(io.new LogReader().block(1), sequence, 0) instanceof Descriptor) {
            throw new IOException("journal at device block " + io.start + " holds transaction " + sequence
                    + " in its log: run Journal.recover before open");
        }
        return new RecoveredJournal(io, sequence);
    }

    private ReplayResult replay() throws IOException {
        long sequence = io.readSuper().sequence();
        TreeMap<Long, byte[]> latest = new TreeMap<>();
        long tid = sequence;
        long block = 1;
        int transactions = 0;
        long images = 0;
        LogRead read;
        while ((read = readTxn(block, tid)) instanceof CommittedTxn txn) {
            checkHomes(txn);
            for (int i = 0; i < txn.homes().length; i++) {
                latest.put(txn.homes()[i], txn.images()[i]);
            }
            images += txn.homes().length;
            transactions++;
            tid++;
            block = txn.nextBlock();
        }
        String endReason = ((LogEnd) read).reason();
        int written = io.writeHome(latest);
        io.flush();
        // Skip the tid that may have been partly written: nothing in the log can carry it again.
        long next = tid + 1;
        io.writeSuper(next);
        io.flush();
        long firstTid = transactions > 0 ? sequence : -1;
        long lastTid = transactions > 0 ? tid - 1 : -1;
        if (transactions > 0) {
            LOG.info("journal replayed {} transactions ({} images, {} home blocks), tids {}..{}; log ended at block "
                    + "{}: {}", transactions, images, written, firstTid, lastTid, block, endReason);
        }
        return new ReplayResult(transactions, images, written, firstTid, lastTid, next, block, endReason);
    }

    /** Reads transaction {@code tid} at log block {@code start}: descriptors, images, commit block. */
    private LogRead readTxn(long start, long tid) throws IOException {
        List<Descriptor> descriptors = new ArrayList<>();
        long block = start;
        int imageCount = 0;
        for (;;) {
            if (block >= io.length) {
                return new LogEnd(descriptors.isEmpty() ? "end of the journal area"
                        : "descriptors run off the journal area");
            }
            DescriptorCheck check = JournalFormat.decodeDescriptor(reader.block(block), tid, descriptors.size());
            if (check instanceof Rejected rejected) {
                return new LogEnd((descriptors.isEmpty() ? "" : "torn transaction " + tid + ": ") + rejected.reason()
                        + " at log block " + block);
            }
            Descriptor descriptor = (Descriptor) check;
            descriptors.add(descriptor);
            imageCount += descriptor.homes().length;
            block++;
            if (descriptor.last()) {
                break;
            }
        }
        if (block + imageCount + 1 > io.length) {
            return new LogEnd("transaction " + tid + " of " + imageCount + " images runs off the journal area");
        }
        long[] homes = new long[imageCount];
        int[] crcs = new int[imageCount];
        int tag = 0;
        for (Descriptor descriptor : descriptors) {
            System.arraycopy(descriptor.homes(), 0, homes, tag, descriptor.homes().length);
            System.arraycopy(descriptor.crcs(), 0, crcs, tag, descriptor.crcs().length);
            tag += descriptor.homes().length;
        }
        byte[][] images = new byte[imageCount][];
        for (int i = 0; i < imageCount; i++) {
            ByteBuffer image = reader.block(block + i);
            if (JournalFormat.imageCrc(image, 0) != crcs[i]) {
                return new LogEnd("torn transaction " + tid + ": image " + i + " (home " + homes[i]
                        + ") CRC mismatch at log block " + (block + i));
            }
            images[i] = image.array();
        }
        long commitBlock = block + imageCount;
        CommitCheck commit = JournalFormat.checkCommit(reader.block(commitBlock), tid, imageCount, descriptors.size(),
                JournalFormat.dataCrc(crcs, imageCount));
        if (commit instanceof Rejected rejected) {
            return new LogEnd("torn transaction " + tid + ": " + rejected.reason() + " at log block " + commitBlock);
        }
        return new CommittedTxn(tid, start, homes, images, commitBlock + 1);
    }

    /** A fully checksummed transaction's homes must be sane, or the journal lies. */
    private void checkHomes(CommittedTxn txn) throws JournalCorruptException {
        for (long home : txn.homes()) {
            String refusal = home < 0 || home >= io.deviceBlocks ? "outside the device of " + io.deviceBlocks
                    + " blocks" : io.inJournal(home) ? "inside the journal area" : allowed.refusal(home);
            if (refusal != null) {
                throw new JournalCorruptException("journal transaction " + txn.tid() + " at log block "
                        + txn.startBlock() + " is checksummed but names home block " + home + ", which is " + refusal
                        + "; the journal may log only " + allowed.loggable());
            }
        }
    }
}
