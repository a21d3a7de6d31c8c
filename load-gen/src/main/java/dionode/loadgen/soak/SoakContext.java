package dionode.loadgen.soak;

import dionode.protocol.FileId;
import dionode.protocol.client.ClientOptions;
import dionode.protocol.client.NodeClient;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What every activity of one soak shares: the node's address, the tally, the models of the files
 * whose every acknowledged byte is read back at the end, the seed, the bounds on waiting, and the
 * clock that ends the traffic. Thread-safe.
 */
final class SoakContext {
    private final String host;
    private final int port;
    private final Tally tally = new Tally();
    private final Map<String, FileModel> models = new ConcurrentSkipListMap<>();
    private final long seed;
    private final long deviceBytes;
    private final Duration replyTimeout;
    private final Duration frameTimeout;
    private final AtomicLong keys = new AtomicLong();
    /** Handles of unlinked files by inode number (the latest per number), for the ESTALE checks. */
    private final Map<Long, FileId> unlinked = new LinkedHashMap<>();
    private final long deadlineNanos;
    private volatile boolean stopped;

    /**
     * @param deviceBytes the device's size: how much a filler can write, how big files are made
     * @param replyTimeout the longest any request may go unanswered before the soak calls it a hang
     * @param frameTimeout the node's: a stalled half frame must be closed within it (and a margin)
     */
    SoakContext(String host, int port, long seed, long deviceBytes, Duration duration, Duration replyTimeout, Duration frameTimeout) {
        this.host = host;
        this.port = port;
        this.seed = seed;
        this.deviceBytes = deviceBytes;
        this.replyTimeout = replyTimeout;
        this.frameTimeout = frameTimeout;
        this.deadlineNanos = System.nanoTime() + duration.toNanos();
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    Tally tally() {
        return tally;
    }

    /** Name to model of every file to read back at the end (sorted by name). */
    Map<String, FileModel> models() {
        return models;
    }

    long deviceBytes() {
        return deviceBytes;
    }

    Duration replyTimeout() {
        return replyTimeout;
    }

    Duration frameTimeout() {
        return frameTimeout;
    }

    /** The same activity gets the same random sequence for the same {@code --seed}. */
    SplittableRandom random(String activity) {
        return new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ activity.hashCode());
    }

    /** A key for a new file's bytes: distinct for every file of the run. */
    long nextKey() {
        return seed << 20 ^ keys.incrementAndGet();
    }

    /** Whether traffic goes on: before the deadline and not stopped. */
    boolean running() {
        return !stopped && System.nanoTime() - deadlineNanos < 0;
    }

    void stop() {
        stopped = true;
    }

    /** Seconds until the deadline (0 once past it). */
    double secondsLeft() {
        return Math.max(0, (deadlineNanos - System.nanoTime()) / 1e9);
    }

    /** Sleeps up to {@code millis}, less if the traffic ends first; false once it has. */
    boolean pause(long millis) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (running()) {
            long left = end - System.nanoTime();
            if (left <= 0) {
                return true;
            }
            Thread.sleep(Math.min(100, Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))));
        }
        return false;
    }

    /** Sleeps until the traffic ends. */
    void awaitEnd() throws InterruptedException {
        while (running()) {
            Thread.sleep(100);
        }
    }

    NodeClient connect() throws IOException {
        return connect(port);
    }

    /** A connection to the node on {@code port} of the same host (the node restarted elsewhere). */
    NodeClient connect(int onPort) throws IOException {
        return NodeClient.connect(host, onPort, ClientOptions.defaults().withConnectTimeout(Duration.ofSeconds(10)));
    }

    /** A file was unlinked: a request through its handle must answer ESTALE once its number is in use again. */
    synchronized void unlinked(FileId handle) {
        unlinked.put(handle.ino(), handle);
    }

    /** The handle of the unlinked file whose number {@code created} now has (forgotten from here on), or null. */
    synchronized FileId reusedBy(FileId created) {
        return unlinked.remove(created.ino());
    }

    synchronized int unlinkedCount() {
        return unlinked.size();
    }

    void fail(String reason) {
        tally.fail(reason);
    }

    /**
     * A step an activity cannot go on without (create, truncate, fallocate of its own file): its
     * value, or an {@link IllegalStateException} saying what failed, which stops the activity and
     * is counted as a failure.
     */
    <T> T must(CompletionStage<T> stage, String what) {
        Answer<T> a = Answer.await(stage, replyTimeout);
        if (!a.ok()) {
            throw new IllegalStateException(what + ": " + a);
        }
        return a.value();
    }

    /** Creates {@code name} afresh (a leftover of an earlier run on a node given with --target is removed first). */
    FileId create(NodeClient c, String name) {
        Answer.await(c.unlink(name), replyTimeout);
        return must(c.create(name, null, 0644, true), "create " + name).file();
    }
}
