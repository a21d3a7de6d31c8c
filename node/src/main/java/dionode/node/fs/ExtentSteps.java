package dionode.node.fs;

import dionode.node.journal.Handle;
import java.util.function.IntFunction;

/**
 * The step loop of an operation over a range of an inode's blocks, written once: while work
 * remains, one step of at most {@link Inode#extentsPerStep()} extents in a handle sized by
 * {@link Inode#stepCredits}, continuing where the step stopped (ext4 restarting its handle in
 * ext4_ext_remove_space, ext4_alloc_file_blocks, ext4_convert_unwritten_extents). How a handle is
 * obtained is the runner's: the inode actor parks until the journal has room and resumes on a
 * message; mount-time recovery waits for a commit ({@link #runBlocking}). Confined to the inode's
 * owner, like the {@link Inode} it steps.
 */
public final class ExtentSteps {

    /** What each step does to the blocks of {@code [from, to)}. */
    public enum Kind {
        /** ext4_ext_remove_space: removes extents and frees their blocks; done when no extent is left. */
        REMOVE {
            @Override
            boolean remains(Inode inode, long from, long to) {
                return from < to && !inode.tree().extents(from, to, 1).isEmpty();
            }

            @Override
            StepResult step(Inode inode, Handle handle, long from, long to, int maxExtents) {
                return new StepResult(inode.removeBlocks(handle, from, to, maxExtents), 0);
            }
        },
        /** ext4_alloc_file_blocks: allocates the holes as unwritten; done when no hole is left. */
        ALLOCATE {
            @Override
            boolean remains(Inode inode, long from, long to) {
                return from < to && inode.holeBlocks(from, to) > 0;
            }

            @Override
            StepResult step(Inode inode, Handle handle, long from, long to, int maxExtents) {
                return inode.allocateUnwritten(handle, from, to, maxExtents, false);
            }
        },
        /** FALLOC_FL_ZERO_RANGE's conversion of allocated blocks to unwritten; done at the range's end. */
        TO_UNWRITTEN {
            @Override
            boolean remains(Inode inode, long from, long to) {
                return from < to;
            }

            @Override
            StepResult step(Inode inode, Handle handle, long from, long to, int maxExtents) {
                return inode.convertState(from, to, true, maxExtents);
            }
        };

        abstract boolean remains(Inode inode, long from, long to);

        abstract StepResult step(Inode inode, Handle handle, long from, long to, int maxExtents);
    }

    private final Inode inode;
    private final Kind kind;
    private final long to;
    private long position;
    private int maxExtents;
    private StepResult last = new StepResult(0, 0);

    public ExtentSteps(Inode inode, Kind kind, long from, long to) {
        this.inode = inode;
        this.kind = kind;
        this.position = from;
        this.to = to;
    }

    /** Whether another step is needed. */
    public boolean remaining() {
        return kind.remains(inode, position, to);
    }

    /** Sizes the next step so that it fits one transaction; returns the credits its handle needs. */
    public int nextCredits() {
        maxExtents = inode.extentsPerStep();
        return inode.stepCredits(maxExtents);
    }

    /** Runs the next step in {@code handle} (sized by {@link #nextCredits}) and moves on past it. */
    public StepResult step(Handle handle) {
        last = kind.step(inode, handle, position, to, maxExtents);
        position = last.next();
        return last;
    }

    /** What the latest step did. */
    public StepResult lastStep() {
        return last;
    }

    /**
     * Runs every step on the calling thread, each in a handle from {@code startHandle} (which
     * may wait for a commit: mount-time work only). A step that throws is undone and rethrown.
     */
    public static void runBlocking(Inode inode, Kind kind, long from, long to, IntFunction<Handle> startHandle) {
        ExtentSteps steps = new ExtentSteps(inode, kind, from, to);
        while (steps.remaining()) {
            Handle handle = startHandle.apply(steps.nextCredits());
            try {
                steps.step(handle);
            } catch (RuntimeException failure) {
                inode.abortStep(handle);
                throw failure;
            }
            inode.commitStep(handle);
        }
    }
}
