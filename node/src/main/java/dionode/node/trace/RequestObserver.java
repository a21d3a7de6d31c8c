package dionode.node.trace;

/**
 * Told each traced request as it is answered, on the thread that answers it: it must not block
 * and must not keep {@code stageNanos}, which is read-only and belongs to the trace.
 */
@FunctionalInterface
public interface RequestObserver {
    /**
     * @param op the request's kind, e.g. {@code write} or {@code punch_hole}
     * @param stageNanos nanoseconds in each {@link Stage}, indexed by its ordinal
     * @param totalNanos nanoseconds from decoding to the reply
     */
    void answered(String op, long[] stageNanos, long totalNanos);
}
