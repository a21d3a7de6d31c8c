package dionode.node.fs;

/**
 * How far one journaled step of an {@link Inode} got. Immutable.
 *
 * @param next the logical block to continue from (the range's end when it is done)
 * @param blocks the blocks the step changed: allocated, or converted between written and unwritten
 */
public record StepProgress(long next, long blocks) {
}
