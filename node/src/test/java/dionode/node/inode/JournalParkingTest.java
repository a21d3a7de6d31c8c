package dionode.node.inode;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.crash.Fixture;
import dionode.node.device.BlockDevice;
import dionode.node.device.DeviceFiles;
import dionode.node.journal.CommitHold;
import dionode.node.journal.Handle;
import dionode.node.journal.Journal;
import dionode.node.journal.JournalAbortedException;
import dionode.node.journal.JournalOptions;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Parking for journal space against a real journal on an O_DIRECT device file. The test thread
 * plays the actor: the journal's wake-ups arrive in {@link #mailbox} and run when the test says.
 */
@Timeout(30)
class JournalParkingTest {
    private static final long J_START = 8;
    private static final long J_BLOCKS = 64;

    private final BlockingQueue<Runnable> mailbox = new LinkedBlockingQueue<>();
    private final CommitHold hold = new CommitHold();
    private Path device;
    private BlockDevice dev;
    private Journal journal;

    @BeforeEach
    void openJournal() throws Exception {
        device = Fixture.newDevice("parking");
        DeviceFiles.createFullyWritten(device, 2 * Fixture.MIB, Fixture.JNA);
        dev = BlockDevice.open(device, Fixture.JNA, 0);
        Journal.format(dev, J_START, J_BLOCKS);
        Journal.recover(dev, J_START, J_BLOCKS);
        journal = Journal.open(dev, J_START, J_BLOCKS, JournalOptions.defaults().withMaxSpaceWaiters(1).withHook(hold),
                Clock.systemUTC());
    }

    @AfterEach
    void close() throws Exception {
        hold.release();
        if (journal != null) {
            journal.close();
        }
        if (dev != null) {
            dev.close();
        }
        Fixture.deleteQuietly(device);
    }

    @Test
    void aRefusedWakeUpParksNothingSoTheFailedStepNeverRunsLater() throws Exception {
        // the journal thread is held inside a commit, so the one wake-up slot stays taken
        hold.arm();
        try (Handle handle = journal.tryStart(1)) {
            handle.getWriteAccess(200, new byte[4096], (home, image) -> { });
        }
        journal.commit();
        assertTrue(hold.awaitHeld());
        CountDownLatch otherWoken = new CountDownLatch(1);
        journal.onSpace(otherWoken::countDown);

        JournalParking parking = new JournalParking(journal, 8, mailbox::add);
        List<String> ran = new ArrayList<>();
        assertThrows(JournalAbortedException.class, () -> parking.park(() -> ran.add("refused")));
        assertEquals(0, parking.size(), "a step whose wake-up was refused is not parked");

        hold.release();
        assertTrue(otherWoken.await(10, TimeUnit.SECONDS));
        assertTrue(parking.park(() -> ran.add("parked")));
        assertEquals(1, parking.size());
        Runnable wakeUp = mailbox.poll(10, TimeUnit.SECONDS);
        assertTrue(wakeUp != null, "the journal woke the parked step");
        wakeUp.run();
        assertEquals(List.of("parked"), ran, "only the step that was parked runs: the refused one was answered already");
        assertEquals(0, parking.size());
    }

    @Test
    void parkingIsBoundedAndOneWakeUpRunsEveryStepParkedByThen() throws Exception {
        JournalParking parking = new JournalParking(journal, 2, mailbox::add);
        List<String> ran = new ArrayList<>();
        assertTrue(parking.park(() -> ran.add("first")));
        assertTrue(parking.park(() -> ran.add("second")));
        assertFalse(parking.park(() -> ran.add("third")), "a full parking refuses");
        Runnable wakeUp = mailbox.poll(10, TimeUnit.SECONDS);
        assertTrue(wakeUp != null, "the journal woke the parked steps");
        wakeUp.run();
        assertEquals(List.of("first", "second"), ran);
        assertEquals(0, parking.size());
        assertTrue(mailbox.isEmpty(), "one wake-up for the lot");
    }
}
