package dionode.node.inode;

import dionode.node.journal.Journal;
import dionode.node.journal.JournalAbortedException;
import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * Steps of an actor that wait for room in the journal: jbd2_journal_start sleeping in
 * start_this_handle, without blocking the actor. A step parks when {@link Journal#tryStart} found
 * no room, or the running transaction locked for commit (wait_transaction_locked); the actor asks
 * the journal once for a wake-up ({@link Journal#onSpace}), and when it comes every step parked by
 * then retries (one that again finds no room parks again). Bounded.
 * Used by the inode actors and the namespace. Confined to its actor: the journal's wake-up only
 * hands a message to the actor through {@code resume}.
 */
public final class JournalParking {
    private final Journal journal;
    private final int maxParked;
    private final Consumer<Runnable> resume;
    private final ArrayDeque<Runnable> parked = new ArrayDeque<>();
    private boolean spaceRequested;

    /**
     * @param maxParked most steps parked at once
     * @param resume runs its argument inside the actor (a message to itself); called on the journal thread
     */
    public JournalParking(Journal journal, int maxParked, Consumer<Runnable> resume) {
        this.journal = journal;
        this.maxParked = maxParked;
        this.resume = resume;
    }

    /**
     * Parks {@code retry} until the journal may have room.
     *
     * @return false when {@code maxParked} steps already wait: nothing was parked
     * @throws JournalAbortedException when the journal refuses the wake-up (it is closed, or has too
     *                                 many); nothing was parked
     */
    public boolean park(Runnable retry) {
        if (parked.size() >= maxParked) {
            return false;
        }
        if (!spaceRequested) {
            try {
                journal.onSpace(() -> resume.accept(this::hasSpace));
            } catch (IllegalStateException refused) {
                throw new JournalAbortedException("journal closed", refused);
            }
            spaceRequested = true;
        }
        parked.add(retry);
        return true;
    }

    /** Steps parked now. */
    public int size() {
        return parked.size();
    }

    private void hasSpace() {
        spaceRequested = false;
        int waiting = parked.size();
        for (int i = 0; i < waiting && !parked.isEmpty(); i++) {
            parked.poll().run();
        }
    }
}
