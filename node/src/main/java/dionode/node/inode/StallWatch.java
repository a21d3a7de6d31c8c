package dionode.node.inode;

/**
 * Notices an inode that holds requests and has handled no message that could move them on (a
 * request, a completion) since the previous tick: a wedge, or a device that stopped answering.
 * Reports each stall once. Confined to its inode actor.
 */
final class StallWatch {
    private long progress;
    private long progressAtLastTick = -1;
    private boolean reported;

    /** A message that can move a request on was handled. */
    void progress() {
        progress++;
    }

    /** At a tick: true once per stall, when requests are held and nothing moved since the last tick. */
    boolean newlyStalled(boolean holding) {
        boolean stalled = holding && progress == progressAtLastTick;
        boolean report = stalled && !reported;
        reported = stalled;
        progressAtLastTick = progress;
        return report;
    }
}
