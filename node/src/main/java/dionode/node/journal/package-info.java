/**
 * The jbd2-style metadata journal: transactions, commit, checkpoint, replay. One room per
 * responsibility, each class stating its thread-safety:
 *
 * <ul>
 *   <li>{@link dionode.node.journal.Journal}: the API (format, recover, open; handles,
 *       commit, checkpoint, close), the request lock, the sticky abort and the journal
 *       thread's loop. Thread-safe.</li>
 *   <li>{@code RunningTxn}: the running transaction, handles joining it lock-free, when it
 *       commits unasked, and the commit's lock, wait for open handles and switch.
 *       {@code TxnState}: one transaction's T_LOCKED, t_updates and outstanding credits in one
 *       atomic word. {@code Txn}: its blocks and callbacks (concurrent) and its snapshot.
 *       Thread-safe. {@code JournalRequests}: the commit, checkpoint and onSpace callers waiting
 *       for the thread (group commit), guarded by the request lock.</li>
 *   <li>{@code CommitCycle}: what the thread took after a switch in one cycle and what it does
 *       with it. {@code LogWriter}: descriptors, images and commit block into the log ring,
 *       and the ring's head. {@code Checkpointer}: committed images home and the log's tail.
 *       Journal-thread-only.</li>
 *   <li>{@code JournalRecovery}: replay and open's check, returning records
 *       ({@link dionode.node.journal.ReplayResult}). {@code JournalFormat}: the on-disk blocks,
 *       drawn beside their offsets. {@code JournalIO}: the area's device operations.</li>
 *   <li>{@code JournalCounters}: the counters, whose snapshot is
 *       {@link dionode.node.journal.JournalStats}. {@code TxnLimits}: transaction bounds.</li>
 * </ul>
 *
 * <p>Depends only on {@code node.device} (DESIGN.md section 9).
 */
package dionode.node.journal;
