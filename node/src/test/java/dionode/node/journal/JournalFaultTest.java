package dionode.node.journal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.BlockDevice;
import dionode.node.device.FaultyNativeIO;
import dionode.node.device.FaultyNativeIO.Op;
import dionode.node.device.NativeIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Device errors: the journal fails sticky and claims nothing durable after the first one. */
class JournalFaultTest extends JournalTestSupport {

    private Path device;
    private FaultyNativeIO faulty;
    private Journal journal;

    private void startFaulty() throws Exception {
        device = newDeviceFile(DEV_BYTES);
        faulty = new FaultyNativeIO(JNA);
        BlockDevice dev = openDevice(device, faulty);
        journal = start(dev, quiet());
        change(journal, 1, 100);
        journal.commit().get(10, SECONDS); // T1: durable
    }

    /** Starts T2 (100 and 101 at v2, with callbacks) and commits it; returns the failure. */
    private Throwable failedT2(AtomicBoolean callbackRan) throws Exception {
        Handle h = journal.tryStart(2);
        fill(h.getWriteAccess(100, image(100), SEALER), 100, 2);
        fill(h.getWriteAccess(101, image(101), SEALER), 101, 2);
        h.afterCommit(() -> callbackRan.set(true));
        h.afterCheckpoint(() -> callbackRan.set(true));
        h.close();
        ExecutionException e = assertThrows(ExecutionException.class, () -> journal.commit().get(10, SECONDS));
        return e.getCause();
    }

    private void assertSticky(Throwable first) {
        JournalAbortedException ab = assertInstanceOf(JournalAbortedException.class, first);
        NativeIOException io = assertInstanceOf(NativeIOException.class, ab.getCause());
        assertEquals(NativeIOException.EIO, io.errno());
        assertTrue(journal.isAborted());
        assertTrue(journal.stats().aborted());

        ExecutionException later = assertThrows(ExecutionException.class, () -> journal.commit().get(10, SECONDS));
        assertSame(io, assertInstanceOf(JournalAbortedException.class, later.getCause()).getCause());
        JournalAbortedException ts = assertThrows(JournalAbortedException.class, () -> journal.tryStart(1));
        assertSame(io, ts.getCause());
        ExecutionException cp = assertThrows(ExecutionException.class, () -> journal.checkpoint().get(10, SECONDS));
        assertInstanceOf(JournalAbortedException.class, cp.getCause());
        journal.close(); // no throw, idempotent
        journal.close();
    }

    private ReplayResult recoverFresh() throws Exception {
        BlockDevice dev = openDevice(device, JNA);
        return Journal.recover(dev, J_START, J_BLOCKS);
    }

    @Test
    void pwriteFailureFailsStickyAndNothingOfTheTxnIsReplayed() throws Exception {
        startFaulty();
        faulty.failAfter(Op.PWRITE, 0, NativeIOException.EIO);
        AtomicBoolean ran = new AtomicBoolean();
        Throwable first = failedT2(ran);
        assertSticky(first);
        assertFalse(ran.get(), "callbacks of a failed txn never run");

        ReplayResult r = recoverFresh();
        assertEquals(1, r.transactions(), r.toString());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 1);
        assertZero(dev, 101);
    }

    @Test
    void tornLogWriteIsNotReplayed() throws Exception {
        startFaulty();
        // One block per pwrite; the 3rd of T2's 4 blocks fails: descriptor and one image land,
        // the second image and the commit record do not.
        faulty.limitTransfer(Op.PWRITE, BS);
        faulty.failAfter(Op.PWRITE, 2, NativeIOException.EIO);
        AtomicBoolean ran = new AtomicBoolean();
        assertSticky(failedT2(ran));
        assertFalse(ran.get());

        ReplayResult r = recoverFresh();
        assertEquals(1, r.transactions(), r.toString());
        assertTrue(r.endReason().contains("torn transaction"), r.endReason());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 1);
        assertZero(dev, 101);
    }

    @Test
    void fdatasyncFailureFailsStickyAndReplayFollowsTheCommitRecord() throws Exception {
        startFaulty();
        faulty.failAfter(Op.FDATASYNC, 0, NativeIOException.EIO);
        AtomicBoolean ran = new AtomicBoolean();
        assertSticky(failedT2(ran));
        assertFalse(ran.get());

        // The O_DIRECT write itself completed, so T2's commit record is on the device (log
        // block 7, after T1 at 1..3 and T2's descriptor and images at 4..6). Nothing was
        // acknowledged, yet replaying it is correct: the record really reached the device.
        BlockDevice raw = openDevice(device, JNA);
        ByteBuffer commit = ByteBuffer.wrap(readBlock(raw, J_START + 7)).order(ByteOrder.LITTLE_ENDIAN);
        boolean commitOnDevice = commit.getInt(JournalFormat.C_MAGIC) == JournalFormat.COMMIT_MAGIC
                && JournalFormat.blockCrcOk(commit);
        raw.close();
        ReplayResult r = recoverFresh();
        assertEquals(commitOnDevice ? 2 : 1, r.transactions(), r.toString());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, commitOnDevice ? 2 : 1);
    }

    @Test
    void checkpointFailureFailsStickyAndTheLogStillHoldsEverything() throws Exception {
        startFaulty();
        change(journal, 2, 100, 101);
        journal.commit().get(10, SECONDS);
        faulty.failAfter(Op.PWRITE, 0, NativeIOException.EIO); // the home write
        ExecutionException e = assertThrows(ExecutionException.class, () -> journal.checkpoint().get(10, SECONDS));
        JournalAbortedException ab = assertInstanceOf(JournalAbortedException.class, e.getCause());
        assertInstanceOf(NativeIOException.class, ab.getCause());
        assertThrows(JournalAbortedException.class, () -> journal.tryStart(1));
        journal.close();

        ReplayResult r = recoverFresh();
        assertEquals(2, r.transactions(), r.toString());
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 2);
        assertHome(dev, 101, 2);
    }

    @Test
    void superblockWriteFailureDuringCheckpointIsRecoverable() throws Exception {
        startFaulty();
        change(journal, 2, 100, 101);
        journal.commit().get(10, SECONDS);
        faulty.failAfter(Op.PWRITE, 1, NativeIOException.EIO); // homes land (one run), superblock fails
        CompletableFuture<Void> cp = journal.checkpoint();
        assertThrows(ExecutionException.class, () -> cp.get(10, SECONDS));
        assertTrue(journal.isAborted());
        journal.close();

        ReplayResult r = recoverFresh();
        assertEquals(2, r.transactions(), "the old sequence still stands: the log replays again, harmlessly");
        BlockDevice dev = openDevice(device, JNA);
        assertHome(dev, 100, 2);
        assertHome(dev, 101, 2);
    }

    @Test
    void parkedCallersAreWokenByAnAbort() throws Exception {
        device = newDeviceFile(DEV_BYTES);
        faulty = new FaultyNativeIO(JNA);
        BlockDevice dev = openDevice(device, faulty);
        journal = start(dev, quiet().withMaxTxnBlocks(2).withCommitThreshold(2));
        faulty.failAlwaysAfter(Op.PWRITE, 0, NativeIOException.EIO);
        change(journal, 1, 100);
        assertEquals(null, journal.tryStart(2));
        CompletableFuture<Throwable> woke = new CompletableFuture<>();
        journal.onSpace(() -> {
            try {
                Handle h = journal.tryStart(2);
                if (h != null) {
                    h.close();
                }
                woke.complete(null);
            } catch (Throwable t) {
                woke.complete(t);
            }
        });
        // The running txn commits (its write fails) and the waiter runs; later it sees the abort.
        await(journal::isAborted, "the abort");
        Throwable t = woke.get(10, SECONDS);
        if (t != null) {
            assertInstanceOf(JournalAbortedException.class, t);
        }
        assertThrows(JournalAbortedException.class, () -> journal.tryStart(1));
    }
}
