package dionode.node.inode;

import static dionode.node.inode.InodeState.BLOCK_BITS;

import dionode.node.extent.ExtentMissException;
import dionode.node.extent.Mapping;
import dionode.node.fs.Inode;
import dionode.node.lock.ExtentLookup;
import dionode.node.lock.InodeRwsem;
import dionode.node.lock.LockDecision;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * {@code dionode explain}: ext4_dio_write_checks for a direct write that is not made, on the
 * inode as it is now, with the lookups a real write would make (cache-only under NOWAIT) and the
 * answer it would get. It takes no lock and changes nothing; like stat it parks while extent
 * blocks a blocking lookup needs are read, and starts its lookups over after. Confined to its
 * inode actor.
 */
final class ExplainPath extends InodeOp {
    private final Request.Explain ask;

    private ExplainPath(InodeState state, CompletableFuture<Reply> reply, Request.Explain ask) {
        super(state, reply);
        this.ask = ask;
    }

    static void start(InodeState state, Request.Explain ask, CompletableFuture<Reply> reply) {
        new ExplainPath(state, reply, ask).granted();
    }

    @Override
    void granted() {
        Reply.Explanation answer = lookup(this::explain, false, this::granted);
        if (answer != null) {
            succeed(answer);
        }
    }

    private Reply.Explanation explain() {
        Inode inode = inode();
        List<Reply.ExtentAnswer> lookups = new ArrayList<>();
        ExtentLookup lookup = (lblk, maxLen) -> {
            Mapping m = ask.nowait() ? inode.mapCached(lblk, maxLen) : inode.map(lblk, maxLen);
            lookups.add(m == null ? new Reply.ExtentAnswer(lblk, maxLen, Reply.ExtentAnswer.NOT_CACHED, 0)
                    : new Reply.ExtentAnswer(lblk, maxLen, lower(m.state()), m.len()));
            return m;
        };
        LockDecision d = WritePath.checks(inode, ask.offset(), ask.length(), ask.nowait(), lookup);
        boolean missed = lookups.stream().anyMatch(a -> a.state().equals(Reply.ExtentAnswer.NOT_CACHED));
        long holes = holeBlocks(inode);
        InodeRwsem<InodeOp> rwsem = state.rwsem;
        String refusal = ask.nowait() ? nowaitRefusal(d, missed, holes) : null;
        String answer = refusal != null ? "EAGAIN: " + refusal : proceeds(d, holes);
        return new Reply.Explanation(inode.policy, ask.offset(), ask.length(), ask.nowait(), inode.size, inode.disksize,
                inode.nosec(), d.unaligned(), d.extending(), lookups, d.needsZeroing(), NodeCounters.ruleName(d.rule()),
                lower(d.mode()), d.inodeDioWait(), d.forceWait(), state.dio.inFlight(), lockNow(rwsem), holes, refusal != null,
                answer);
    }

    /** The holes a write would allocate in ext4_iomap_begin; -1 when a NOWAIT lookup could not tell from memory. */
    private long holeBlocks(Inode inode) {
        long first = ask.offset() >>> BLOCK_BITS;
        long end = (ask.offset() + ask.length() + (1L << BLOCK_BITS) - 1) >>> BLOCK_BITS;
        try {
            return inode.holeBlocks(first, end);
        } catch (ExtentMissException miss) {
            if (!ask.nowait()) {
                throw miss; // read the blocks and explain again (InodeOp.lookup)
            }
            return -1;
        }
    }

    /** What refuses a NOWAIT write, in the order the write meets it (WritePath: the decision, the trylock, allocation). */
    private String nowaitRefusal(LockDecision d, boolean missed, long holes) {
        if (d.eagain()) {
            return "needs the exclusive lock (" + NodeCounters.ruleName(d.rule()) + (missed ? ", extents not in memory" : "") + ")";
        }
        if (!state.rwsem.available(d.mode())) {
            return "i_rwsem is not available (" + lower(d.mode()) + ")";
        }
        if (holes < 0) {
            return "extents not in memory";
        }
        return holes > 0 ? "would allocate " + holes + " blocks" : null;
    }

    private String proceeds(LockDecision d, long holes) {
        StringBuilder out = new StringBuilder();
        out.append(state.rwsem.available(d.mode()) ? "proceeds under the " : "waits for the ").append(lower(d.mode())).append(" lock");
        int inFlight = state.dio.inFlight();
        if (d.inodeDioWait() && inFlight > 0) {
            out.append(", draining ").append(inFlight).append(" direct I/O in flight first");
        }
        long first = ask.offset() >>> BLOCK_BITS;
        long end = (ask.offset() + ask.length() + (1L << BLOCK_BITS) - 1) >>> BLOCK_BITS;
        if (state.pages().busy(first, end)) {
            out.append(", writing back the range's dirty cached pages first");
        }
        long inside = holes > 0 && inode().indirect()
                ? inode().holeBlocks(first, Math.min(end, (inode().size + (1L << BLOCK_BITS) - 1) >>> BLOCK_BITS)) : 0;
        if (inside > 0) {
            // ext4_dio_write_iter on -ENOTBLK (WritePath.fallBackToBuffered)
            out.append(", then falls back to buffered I/O: ").append(inside).append(" blocks are holes inside i_size of a file"
                    + " without extents, which cannot allocate unwritten blocks (exclusive lock, draining direct I/O, then the"
                    + " range flushed and invalidated)");
        } else if (holes > 0) {
            out.append(", allocating ").append(holes).append(" blocks");
        }
        return out.toString();
    }

    private static String lockNow(InodeRwsem<InodeOp> rwsem) {
        String held = rwsem.writerHeld() ? "held exclusive" : rwsem.readers() > 0 ? "held shared by " + rwsem.readers() : "free";
        return rwsem.waiting() > 0 ? held + ", " + rwsem.waiting() + " waiting" : held;
    }

    private static String lower(Enum<?> value) {
        return value.name().toLowerCase(Locale.ROOT);
    }
}
