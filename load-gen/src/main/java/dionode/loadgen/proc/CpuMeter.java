package dionode.loadgen.proc;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Measures a node's CPU time and context switches from {@link #begin()} to {@link #end()}, from
 * /proc: a node in a process of its own ({@link #ofProcess}: the process's utime and stime, which
 * count every thread it ever had, and its threads' switches), or the node in this JVM
 * ({@link #ofThisJvm}: only the threads named as the node's, so load-gen's own client threads are
 * not counted); or load-gen's own side of the requests ({@link #ofLoadGenClients}: its job threads
 * and its clients' reader threads), so a run says whether the generator, not the node, ran out of
 * CPU.
 *
 * <p>Each thread is sampled at begin, once a second on a thread of the meter's own, and at end,
 * keeping its last values: a thread that started meanwhile counts from zero, one that ended keeps
 * what it had at the sample before (the rest is lost, and counted in
 * {@link NodeCpu#endedThreads()}). A thread is known by its id and start time, so a reused id is a
 * new thread. Context switches come from the threads only: /proc/PID/status holds the main
 * thread's.
 *
 * <p>Thread-safe: begin, the samples, end and {@link #reading()} are synchronized on the meter.
 */
public final class CpuMeter {
    private static final long SAMPLE_MILLIS = 1000;

    private final Path proc;
    private final long pid;
    /** Which threads count: all of a process, the node's in this JVM, or load-gen's clients in this JVM. */
    private enum Scope {
        PROCESS, NODE_HERE, CLIENTS_HERE
    }

    private final Scope scope;
    private final Map<Key, Seen> threads = new HashMap<>();
    private ProcStat.Line processAtBegin;
    private Thread ticker;
    private int round;
    private NodeCpu reading;
    private IOException lost;

    private record Key(long tid, long startTicks) {
    }

    /** A thread's values at the first sample that saw it (or zero) and at the last, and that last sample's round. */
    private record Seen(TaskSample first, TaskSample last, int round) {
    }

    private CpuMeter(long pid, Scope scope) {
        this.proc = Path.of("/proc", Long.toString(pid));
        this.pid = pid;
        this.scope = scope;
    }

    /** A node in process {@code pid}; an IOException when there is no such process to read. */
    public static CpuMeter ofProcess(long pid) throws IOException {
        CpuMeter meter = new CpuMeter(pid, Scope.PROCESS);
        ProcStat.read(meter.proc.resolve("stat"));
        return meter;
    }

    /** The node running in this JVM, by its threads' names ({@link NodeThreads}). */
    public static CpuMeter ofThisJvm() {
        return new CpuMeter(ProcessHandle.current().pid(), Scope.NODE_HERE);
    }

    /**
     * load-gen's side of the requests, in this JVM: the threads named {@code load-gen-job-N} (which
     * encode, send and, sync, read their own replies) and {@code dionode-client-reader-...}.
     */
    public static CpuMeter ofLoadGenClients() {
        return new CpuMeter(ProcessHandle.current().pid(), Scope.CLIENTS_HERE);
    }

    /** A load-gen client thread by its comm (15 characters at most). */
    static boolean loadGenClient(String comm) {
        return comm.startsWith("load-gen-job-") || comm.startsWith("dionode-client-");
    }

    /** Takes the first sample and starts sampling once a second. */
    public synchronized void begin() {
        if (ticker != null || reading != null) {
            throw new IllegalStateException("a meter measures once");
        }
        try {
            processAtBegin = scope == Scope.PROCESS ? ProcStat.read(proc.resolve("stat")) : null;
            sample(true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + (scope == Scope.CLIENTS_HERE ? "load-gen's own process " : "the node's process ")
                    + pid + " in /proc", e);
        }
        ticker = new Thread(this::tick, "load-gen-node-cpu");
        ticker.setDaemon(true);
        ticker.start();
    }

    /** Takes the last sample and stops sampling; {@link #reading()} then has the figures. */
    public synchronized void end() {
        if (ticker == null) {
            throw new IllegalStateException("end() before begin()");
        }
        ticker.interrupt();
        ticker = null;
        ProcStat.Line processAtEnd;
        try {
            sample(false);
            processAtEnd = scope == Scope.PROCESS ? ProcStat.read(proc.resolve("stat")) : null;
        } catch (IOException e) {
            lost = new IOException("process " + pid + " ended during the run", e);
            return;
        }
        if (processAtEnd != null && processAtEnd.startTicks() != processAtBegin.startTicks()) {
            lost = new IOException("process " + pid + " ended during the run (another process has its id now)");
            return;
        }
        reading = figures(processAtEnd);
    }

    /** The figures from begin to end; an IOException when the process ended meanwhile. */
    public synchronized NodeCpu reading() throws IOException {
        if (lost != null) {
            throw lost;
        }
        if (reading == null) {
            throw new IllegalStateException("reading() before end()");
        }
        return reading;
    }

    private void tick() {
        while (true) {
            try {
                Thread.sleep(SAMPLE_MILLIS);
            } catch (InterruptedException stopped) {
                return;
            }
            synchronized (this) {
                if (ticker != Thread.currentThread()) {
                    return;
                }
                try {
                    sample(false);
                } catch (IOException gone) {
                    return; // end() finds out and says so
                }
            }
        }
    }

    private void sample(boolean first) throws IOException {
        round++;
        List<TaskSample> now = TaskSample.all(proc);
        for (TaskSample t : now) {
            Key key = new Key(t.tid(), t.startTicks());
            Seen before = threads.get(key);
            TaskSample from = before != null ? before.first() : first ? t : t.atZero();
            threads.put(key, new Seen(from, t, round));
        }
    }

    private NodeCpu figures(ProcStat.Line processAtEnd) {
        long hz = ProcStat.ticksPerSecond();
        Map<NodeThreads.Group, NodeCpu.Usage> groups = new EnumMap<>(NodeThreads.Group.class);
        if (scope != Scope.CLIENTS_HERE) { // load-gen's own threads are not the node's: they have no groups
            for (NodeThreads.Group g : NodeThreads.Group.values()) {
                if (!(scope == Scope.NODE_HERE && g == NodeThreads.Group.JVM)) {
                    groups.put(g, NodeCpu.Usage.NONE);
                }
            }
        }
        NodeCpu.Usage sum = NodeCpu.Usage.NONE;
        int ended = 0;
        for (Seen s : threads.values()) {
            String comm = s.last().comm();
            if (!counts(comm)) {
                continue;
            }
            TaskSample a = s.first();
            TaskSample b = s.last();
            NodeCpu.Usage d = new NodeCpu.Usage(micros(b.userTicks() - a.userTicks(), hz), micros(b.sysTicks() - a.sysTicks(), hz),
                    b.voluntary() - a.voluntary(), b.involuntary() - a.involuntary(), 1);
            if (scope != Scope.CLIENTS_HERE) {
                groups.merge(NodeThreads.group(comm), d, NodeCpu.Usage::plus);
            }
            sum = sum.plus(d);
            ended += s.round() < round ? 1 : 0;
        }
        NodeCpu.Usage total = scope != Scope.PROCESS ? sum
                : new NodeCpu.Usage(micros(processAtEnd.userTicks() - processAtBegin.userTicks(), hz),
                        micros(processAtEnd.sysTicks() - processAtBegin.sysTicks(), hz), sum.voluntary(), sum.involuntary(), sum.threads());
        String source = switch (scope) {
            case PROCESS -> "pid";
            case NODE_HERE -> "embedded";
            case CLIENTS_HERE -> NodeCpu.LOAD_GEN;
        };
        return new NodeCpu(source, pid, total, groups, ended);
    }

    /** Whether a thread of this comm is in the figures. */
    private boolean counts(String comm) {
        return switch (scope) {
            case PROCESS -> true;
            case NODE_HERE -> NodeThreads.group(comm) != NodeThreads.Group.JVM;
            case CLIENTS_HERE -> loadGenClient(comm);
        };
    }

    private static long micros(long ticks, long hz) {
        return ticks * 1_000_000 / hz;
    }
}
