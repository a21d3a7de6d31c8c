package dionode.node.lock;

/** How {@code i_rwsem} is held. */
public enum LockMode {
    SHARED,
    EXCLUSIVE
}
