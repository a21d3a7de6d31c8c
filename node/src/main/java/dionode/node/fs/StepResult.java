package dionode.node.fs;

/**
 * What one bounded step over a range of an inode's blocks did: where the operation continues
 * ({@code to} of the range when it is done), and how many blocks the step allocated or
 * converted. Immutable.
 *
 * @param next first block the next step starts from
 * @param blocks blocks this step allocated (allocation) or changed state (conversion); 0 when not counted
 */
public record StepResult(long next, long blocks) {
}
