package dionode.node.trace;

/**
 * Where a request's time in the node goes, in the order a write usually passes them. Every
 * nanosecond between a request being decoded and its reply being handed to the socket is in
 * exactly one stage. Immutable.
 */
public enum Stage {
    /** Decoded, on its way to its inode actor: the stream's hop and the actor's mailbox. */
    QUEUE("queue"),
    /** Parked for {@code i_rwsem} behind other requests of the file. */
    LOCK("lock"),
    /** In the actor: mapping, the lock decision, and completions waiting to be taken up. */
    ACTOR("actor"),
    /** Device I/O: waiting for an I/O thread and the read or write itself. */
    DEVICE("device"),
    /** Journaled steps (conversion, allocation), waits for journal room and for commits. */
    JOURNAL("journal"),
    /** Answered: back through the stream, encoded, to the socket. */
    REPLY("reply");

    private final String statName;

    Stage(String statName) {
        this.statName = statName;
    }

    /** The stage's name in {@code stats}: {@code latency_<name>_p50_us}. */
    public String statName() {
        return statName;
    }
}
