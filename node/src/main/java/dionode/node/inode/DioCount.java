package dionode.node.inode;

import static dionode.node.inode.NodeCounters.DIO_DRAINS;
import static dionode.node.inode.NodeCounters.DIO_IN_FLIGHT;

import dionode.node.trace.Stage;
import java.util.ArrayDeque;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/**
 * The inode's count of direct I/O in flight: inode_dio_begin, inode_dio_end, and inode_dio_wait,
 * whose waiters (exclusive holders draining before they change extents) run as their own steps
 * when the last I/O ends. Confined to its inode actor.
 */
final class DioCount {
    private final NodeCounters counters;
    private final StepTrampoline steps;
    private final ArrayDeque<StepTrampoline.Step> drainWaiters = new ArrayDeque<>();
    private int inFlight;

    DioCount(NodeCounters counters, StepTrampoline steps) {
        this.counters = counters;
        this.steps = steps;
    }

    /**
     * inode_dio_begin, then submits {@code io}; a submission that throws becomes a failed future,
     * so the caller's inode_dio_end follows however the I/O ends.
     */
    CompletableFuture<Void> begin(Supplier<CompletableFuture<Void>> io) {
        inFlight++;
        counters.add(DIO_IN_FLIGHT, 1);
        try {
            return io.get();
        } catch (RuntimeException failure) {
            return CompletableFuture.failedFuture(failure);
        }
    }

    /** inode_dio_end: the last completion wakes the exclusive holders in inode_dio_wait. */
    void end() {
        inFlight--;
        counters.add(DIO_IN_FLIGHT, -1);
        while (inFlight == 0 && !drainWaiters.isEmpty()) {
            StepTrampoline.Step waiter = drainWaiters.poll();
            steps.continueWith(waiter.op(), waiter.next());
        }
    }

    /** inode_dio_wait: {@code then} runs as {@code op}'s step once no direct I/O is in flight. */
    void await(InodeOp op, Runnable then) {
        if (inFlight == 0) {
            then.run();
        } else {
            counters.inc(DIO_DRAINS);
            op.trace.enter(Stage.LOCK);
            drainWaiters.add(new StepTrampoline.Step(op, () -> {
                op.trace.enter(Stage.ACTOR);
                then.run();
            }));
        }
    }

    int inFlight() {
        return inFlight;
    }

    int drainWaiters() {
        return drainWaiters.size();
    }
}
