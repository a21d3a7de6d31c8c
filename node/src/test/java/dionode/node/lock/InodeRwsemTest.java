package dionode.node.lock;

import static dionode.node.lock.LockMode.EXCLUSIVE;
import static dionode.node.lock.LockMode.SHARED;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class InodeRwsemTest {
    private final InodeRwsem<String> sem = new InodeRwsem<>(4);

    @Test
    void sharedHoldersCoexistExclusiveExcludes() {
        assertTrue(sem.tryLock(SHARED));
        assertTrue(sem.tryLock(SHARED));
        assertFalse(sem.tryLock(EXCLUSIVE));
        assertEquals(2, sem.readers());
        sem.unlock(SHARED);
        sem.unlock(SHARED);
        assertTrue(sem.tryLock(EXCLUSIVE));
        assertFalse(sem.tryLock(SHARED));
    }

    @Test
    void waitingExclusiveBlocksLaterSharedSoWritersAreNotStarved() {
        assertTrue(sem.tryLock(SHARED));
        assertTrue(sem.enqueue("x", EXCLUSIVE));
        // a stream of shared requests now queues behind the exclusive one
        assertFalse(sem.tryLock(SHARED));
        assertTrue(sem.enqueue("s1", SHARED));
        assertTrue(sem.enqueue("s2", SHARED));
        assertEquals(List.of("x"), sem.unlock(SHARED));
        assertTrue(sem.writerHeld());
        assertEquals(List.of("s1", "s2"), sem.unlock(EXCLUSIVE));
        assertEquals(2, sem.readers());
    }

    @Test
    void handOffStopsAtTheNextExclusive() {
        assertTrue(sem.tryLock(EXCLUSIVE));
        sem.enqueue("s1", SHARED);
        sem.enqueue("x", EXCLUSIVE);
        sem.enqueue("s2", SHARED);
        assertEquals(List.of("s1"), sem.unlock(EXCLUSIVE));
        assertEquals(List.of("x"), sem.unlock(SHARED));
        assertEquals(List.of("s2"), sem.unlock(EXCLUSIVE));
    }

    @Test
    void queueIsBounded() {
        assertTrue(sem.tryLock(EXCLUSIVE));
        for (int i = 0; i < 4; i++) {
            assertTrue(sem.enqueue("w" + i, SHARED));
        }
        assertFalse(sem.enqueue("w5", SHARED));
    }

    @Test
    void upgradeOnlyForTheSoleHolderWithNoWaiters() {
        assertTrue(sem.tryLock(SHARED));
        assertTrue(sem.tryUpgrade());
        assertTrue(sem.writerHeld());
        sem.unlock(EXCLUSIVE);
        assertTrue(sem.tryLock(SHARED));
        assertTrue(sem.tryLock(SHARED));
        assertFalse(sem.tryUpgrade());
    }

    @Test
    void unbalancedUnlockIsABug() {
        assertThrows(IllegalStateException.class, () -> sem.unlock(SHARED));
        assertThrows(IllegalStateException.class, () -> sem.unlock(EXCLUSIVE));
    }
}
