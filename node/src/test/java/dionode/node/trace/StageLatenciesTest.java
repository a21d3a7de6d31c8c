package dionode.node.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The stage arithmetic and the window, on a clock the test moves. */
class StageLatenciesTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final StageLatencies latencies = new StageLatencies(clock::get);

    private void advanceMicros(long micros) {
        clock.addAndGet(micros * 1000);
    }

    /** A write that queued 10 µs, waited 300 µs for the lock, 40 µs in the actor, 2 ms on the device, 500 µs journaling, 20 µs replying. */
    private void oneWrite() {
        OpTrace trace = latencies.begin("write");
        advanceMicros(10);
        trace.enter(Stage.ACTOR);
        trace.enter(Stage.LOCK);
        advanceMicros(300);
        trace.enter(Stage.ACTOR);
        advanceMicros(20);
        trace.enter(Stage.DEVICE);
        advanceMicros(2000);
        trace.enter(Stage.ACTOR);
        advanceMicros(20);
        trace.enter(Stage.JOURNAL);
        advanceMicros(500);
        trace.enter(Stage.REPLY);
        advanceMicros(20);
        trace.replied();
    }

    @Test
    void everyMicrosecondIsInExactlyOneStage() {
        oneWrite();
        latencies.rotate();
        Map<String, Long> f = latencies.figures();
        assertEquals(1, f.get("latency_requests"));
        assertEquals(10, f.get("latency_queue_p50_us"));
        assertClose(300, f.get("latency_lock_p50_us"));
        assertEquals(40, f.get("latency_actor_p50_us"));
        assertClose(2000, f.get("latency_device_p50_us"));
        assertClose(500, f.get("latency_journal_p50_us"));
        assertEquals(20, f.get("latency_reply_p50_us"));
        assertClose(2870, f.get("latency_total_p99_us"));
    }

    @Test
    void aTraceIsRecordedOnceAndNothingAfterItsReplyCounts() {
        OpTrace trace = latencies.begin("write");
        advanceMicros(100);
        trace.replied();
        advanceMicros(5000);
        trace.enter(Stage.DEVICE);
        trace.replied();
        latencies.rotate();
        assertEquals(1, latencies.figures().get("latency_requests"));
        assertEquals(100, latencies.figures().get("latency_queue_p50_us"));
        assertEquals(0, latencies.figures().get("latency_device_p50_us"));
        assertEquals(0, latencies.figures().get("latency_device_p99_us"));
    }

    @Test
    void theWindowHoldsTheLastTenSecondsAndForgetsOlderOnes() {
        oneWrite();
        latencies.rotate();
        for (int second = 1; second < StageLatencies.WINDOW_SECONDS; second++) {
            latencies.rotate();
            assertEquals(1, latencies.figures().get("latency_requests"), "second " + second);
        }
        latencies.rotate();
        assertEquals(0, latencies.figures().get("latency_requests"));
        assertEquals(0, latencies.figures().get("latency_lock_p99_us"));
    }

    @Test
    void percentilesSeparateTheSlowFewFromTheRest() {
        for (int i = 0; i < 99; i++) {
            OpTrace fast = latencies.begin("write");
            fast.enter(Stage.DEVICE);
            advanceMicros(50);
            fast.replied();
        }
        OpTrace slow = latencies.begin("write");
        slow.enter(Stage.DEVICE);
        advanceMicros(80_000);
        slow.replied();
        slow.replied();
        latencies.rotate();
        Map<String, Long> f = latencies.figures();
        assertEquals(100, f.get("latency_requests"));
        assertEquals(50, f.get("latency_device_p50_us"));
        assertEquals(50, f.get("latency_device_p99_us"), "p99 of 100 is the 99th: " + f);
        assertEquals(0, f.get("latency_lock_p99_us"));
    }

    /** Two significant digits: a figure is the top of its bucket, within 1% above the value. */
    private static void assertClose(long expected, long actual) {
        assertTrue(actual >= expected && actual <= expected + expected / 100 + 1, "expected about " + expected + ", got " + actual);
    }

    @Test
    void aStayLongerThanTheRangeCountsAsItsTop() {
        OpTrace stuck = latencies.begin("write");
        stuck.enter(Stage.LOCK);
        advanceMicros(3_600_000_000L); // an hour
        stuck.replied();
        latencies.rotate();
        assertClose(StageLatencies.MAX_MICROS, latencies.figures().get("latency_lock_p99_us"));
    }

    @Test
    void theTraceOfNoConnectionRecordsNothing() {
        OpTrace.NONE.enter(Stage.DEVICE);
        OpTrace.NONE.replied();
        latencies.rotate();
        assertEquals(0, latencies.figures().get("latency_requests"));
    }
}
