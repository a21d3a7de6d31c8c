package dionode.node.journal;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.node.device.BlockDevice;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Many writers on a small log: handles, parking on onSpace, commits and checkpoints all
 * interleave; at the end every home block equals its writer's last live image.
 */
class JournalConcurrencyTest extends JournalTestSupport {

    @Test
    void writersParkCommitAndCheckpointConsistently() throws Exception {
        Path p = newDeviceFile(DEV_BYTES);
        BlockDevice dev = openDevice(p, JNA);
        Journal j = start(dev, quiet().withMaxTxnBlocks(8).withCommitThreshold(6));
        int writers = 4;
        int rounds = 400;
        int blocksPerWriter = 10;
        byte[][][] images = new byte[writers][blocksPerWriter][BS];
        AtomicLong parked = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
            int me = w;
            threads.add(new Thread(() -> {
                try {
                    for (int r = 1; r <= rounds; r++) {
                        Handle h;
                        while ((h = j.tryStart(3)) == null) {
                            parked.incrementAndGet();
                            CountDownLatch space = new CountDownLatch(1);
                            j.onSpace(space::countDown);
                            assertTrue(space.await(10, SECONDS), "onSpace never fired");
                        }
                        try {
                            for (int k = 0; k < 3; k++) {
                                int b = (r + k * 3) % blocksPerWriter;
                                long home = 100 + me * blocksPerWriter + b;
                                fill(h.getWriteAccess(home, images[me][b], SEALER), home, r);
                            }
                        } finally {
                            h.close();
                        }
                        if (r % 25 == 0) {
                            j.commit().get(10, SECONDS);
                        }
                    }
                } catch (Throwable t) {
                    failure.compareAndSet(null, t);
                }
            }, "writer-" + w));
        }
        threads.forEach(Thread::start);
        for (Thread t : threads) {
            t.join();
        }
        if (failure.get() != null) {
            throw new AssertionError(failure.get());
        }
        JournalStats s = j.stats();
        j.close();
        assertEquals((long) writers * rounds, s.handles());
        assertTrue(s.checkpoints() > 0, s.toString());
        assertTrue(s.maxTxnBlocks() <= 8, s.toString());
        for (int w = 0; w < writers; w++) {
            for (int b = 0; b < blocksPerWriter; b++) {
                long home = 100 + w * blocksPerWriter + b;
                assertArrayEquals(images[w][b], readBlock(dev, home), "home " + home);
            }
        }
        assertEquals(0, Journal.recover(dev, J_START, J_BLOCKS).transactions());
    }
}
