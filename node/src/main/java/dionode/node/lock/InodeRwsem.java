package dionode.node.lock;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code i_rwsem} as the kernel's rwsem behaves for these paths: many shared holders or one
 * exclusive holder, a FIFO of waiters with hand-off (a waiting exclusive request makes later shared
 * requests queue behind it, so writers needing exclusive are never starved), and trylocks that fail
 * whenever anyone is waiting ({@code down_read_trylock} checks RWSEM_FLAG_WAITERS). The queue is
 * bounded. Confined to its inode actor.
 *
 * @param <W> what a waiter is (the parked request)
 */
public final class InodeRwsem<W> {

    private record Waiter<W>(W owner, LockMode mode) {
    }

    private final ArrayDeque<Waiter<W>> waiters = new ArrayDeque<>();
    private final int maxWaiters;
    private int readers;
    private boolean writer;

    public InodeRwsem(int maxWaiters) {
        this.maxWaiters = maxWaiters;
    }

    /** inode_trylock / inode_trylock_shared. */
    public boolean tryLock(LockMode mode) {
        if (!available(mode)) {
            return false;
        }
        grant(mode);
        return true;
    }

    /** Parks a request behind everyone already waiting; false when the queue is full. */
    public boolean enqueue(W owner, LockMode mode) {
        if (waiters.size() >= maxWaiters) {
            return false;
        }
        waiters.addLast(new Waiter<>(owner, mode));
        return true;
    }

    /**
     * Releases one hold and hands the lock to the waiters at the head that can now run: one
     * exclusive waiter, or a run of shared waiters up to the next exclusive one.
     *
     * @return the waiters that now hold the lock, in queue order
     */
    public List<W> unlock(LockMode mode) {
        if (mode == LockMode.EXCLUSIVE) {
            if (!writer) {
                throw new IllegalStateException("exclusive unlock without holder");
            }
            writer = false;
        } else {
            if (readers == 0) {
                throw new IllegalStateException("shared unlock without holder");
            }
            readers--;
        }
        return wake();
    }

    /**
     * Trades a shared hold for an exclusive one when this request is the only holder and nobody
     * waits; otherwise the caller must unlock and queue for exclusive (ext4 restarts the checks).
     */
    public boolean tryUpgrade() {
        if (readers == 1 && !writer && waiters.isEmpty()) {
            readers = 0;
            writer = true;
            return true;
        }
        return false;
    }

    private List<W> wake() {
        List<W> granted = new ArrayList<>(2);
        while (!waiters.isEmpty() && compatible(waiters.peekFirst().mode())) {
            Waiter<W> w = waiters.pollFirst();
            grant(w.mode());
            granted.add(w.owner());
            if (w.mode() == LockMode.EXCLUSIVE) {
                break;
            }
        }
        return granted;
    }

    private boolean compatible(LockMode mode) {
        return mode == LockMode.SHARED ? !writer : !writer && readers == 0;
    }

    private void grant(LockMode mode) {
        if (mode == LockMode.SHARED) {
            readers++;
        } else {
            writer = true;
        }
    }

    /** Whether {@link #tryLock} would take {@code mode} now; takes nothing. */
    public boolean available(LockMode mode) {
        return waiters.isEmpty() && compatible(mode);
    }

    public int readers() {
        return readers;
    }

    public boolean writerHeld() {
        return writer;
    }

    public int waiting() {
        return waiters.size();
    }

    public boolean idle() {
        return readers == 0 && !writer && waiters.isEmpty();
    }
}
