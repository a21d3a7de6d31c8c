package dionode.loadgen.soak;

/**
 * One concern of a soak (verified traffic, unlink churn, full device, fuzzed frames, ...), run on
 * a thread of its own with connections of its own. Implementations are confined to that thread,
 * apart from what their clients' reply callbacks touch (they say so).
 */
interface Activity {
    /** The thread's name and the activity's name in failures. */
    String name();

    /**
     * Runs while {@link SoakContext#running()}, then waits (bounded) for its own requests and
     * leaves the files it modelled in place. What the node did wrong goes to the tally as failures.
     */
    void run(SoakContext ctx) throws Exception;
}
