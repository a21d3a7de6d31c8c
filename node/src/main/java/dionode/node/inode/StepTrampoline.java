package dionode.node.inode;

import java.util.ArrayDeque;

/**
 * Runs a request's next journal step once the current one has returned, not inside it: an
 * operation over a large extent map takes thousands of steps in a row (unlinking 2^17 extents
 * overflowed the stack when each step called the next). A step that throws fails its own
 * request, whichever request's step is running the loop. Confined to its inode actor.
 */
final class StepTrampoline {

    /** A request's continuation. */
    record Step(InodeOp op, Runnable next) {
    }

    private final ArrayDeque<Step> steps = new ArrayDeque<>();
    private boolean running;

    /** Runs {@code next} as {@code op}'s step now, or after the step that is running returns. */
    void continueWith(InodeOp op, Runnable next) {
        steps.add(new Step(op, next));
        if (running) {
            return;
        }
        running = true;
        try {
            Step step;
            while ((step = steps.poll()) != null) {
                try {
                    step.next().run();
                } catch (RuntimeException failure) {
                    step.op().fail(failure);
                }
            }
        } finally {
            running = false;
        }
    }
}
