package dionode.loadgen.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The /proc readers on real processes: this JVM, its threads, and a child whose name has spaces and parentheses. */
class ProcStatTest {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    @Test
    void thisJvmsLineParsesAndAThreadsTicksGrowByTheCpuItSpent() throws Exception {
        ProcStat.Line self = ProcStat.read(Path.of("/proc/self/stat"));
        assertEquals("java", self.comm());
        assertTrue(self.startTicks() > 0 && self.userTicks() + self.sysTicks() > 0, self.toString());
        ProcStat.Line before = ProcStat.read(Path.of("/proc/thread-self/stat"));
        burn(300);
        ProcStat.Line after = ProcStat.read(Path.of("/proc/thread-self/stat"));
        long ticks = after.userTicks() + after.sysTicks() - before.userTicks() - before.sysTicks();
        long hz = ProcStat.ticksPerSecond();
        assertTrue(ticks >= hz * 280 / 1000, "300 ms of CPU on this thread counted as " + ticks + " ticks at " + hz + "/s");
        assertEquals(before.startTicks(), after.startTicks());
    }

    @Test
    void theTickRateIsGetconfs() throws Exception {
        Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
        long said = Long.parseLong(new String(p.getInputStream().readAllBytes()).trim());
        assertEquals(said, ProcStat.ticksPerSecond());
    }

    @Test
    void aChildsNameWithSpacesAndParenthesesIsReadWhole() throws Exception {
        Path dir = Files.createDirectories(Path.of("target", "proc-stat-test"));
        Path program = dir.resolve("a) (b c");
        Files.copy(Path.of("/bin/sleep"), program, StandardCopyOption.REPLACE_EXISTING);
        assertTrue(program.toFile().setExecutable(true));
        Process child = new ProcessBuilder(program.toAbsolutePath().toString(), "30").start();
        try {
            Path proc = Path.of("/proc", Long.toString(child.pid()));
            List<TaskSample> tasks = TaskSample.all(proc);
            for (int i = 0; i < 500 && !(tasks.get(0).comm().equals("a) (b c") && tasks.get(0).voluntary() > 0); i++) {
                Thread.sleep(10); // until the fork has exec'ed and gone to sleep
                tasks = TaskSample.all(proc);
            }
            assertEquals(1, tasks.size(), tasks.toString());
            assertEquals(child.pid(), tasks.get(0).tid());
            assertEquals("a) (b c", tasks.get(0).comm());
            assertTrue(tasks.get(0).voluntary() >= 1, "it sleeps: " + tasks);
            ProcStat.Line line = ProcStat.read(proc.resolve("stat"));
            assertEquals("a) (b c", line.comm());
            assertEquals(tasks.get(0).startTicks(), line.startTicks());
            assertTrue(line.startTicks() >= ProcStat.read(Path.of("/proc/self/stat")).startTicks(), line.toString());
        } finally {
            child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        assertThrows(IOException.class, () -> ProcStat.read(Path.of("/proc", Long.toString(child.pid()), "stat")));
        assertTrue(TaskSample.read(Path.of("/proc", Long.toString(child.pid()), "task", Long.toString(child.pid()))).isEmpty());
    }

    @Test
    void aLineIsSplitAfterItsLastParenthesis() {
        String fields = " S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23";
        ProcStat.Line l = ProcStat.parse("4242 (x) 1 2 3 4 5 6 7 8 9 10 11 (y)" + fields);
        assertEquals("x) 1 2 3 4 5 6 7 8 9 10 11 (y", l.comm());
        assertEquals(new ProcStat.Line(l.comm(), 11, 12, 19), l, "utime, stime, starttime are fields 14, 15, 22");
        assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("4242 no name here"));
        assertThrows(IllegalArgumentException.class, () -> ProcStat.parse("4242 (x) S 1 2"));
    }

    @Test
    void contextSwitchesInProcSelfStatusAreTheMainThreadsOnly() throws Exception {
        ProcStatus.Switches leaderBefore = ProcStatus.readSwitches(Path.of("/proc/self/status"));
        ProcStatus.Switches[] own = new ProcStatus.Switches[1];
        Thread sleeper = new Thread(() -> {
            try {
                for (int i = 0; i < 200; i++) {
                    Thread.sleep(1);
                }
                own[0] = ProcStatus.readSwitches(Path.of("/proc/thread-self/status"));
            } catch (InterruptedException | IOException e) {
                throw new AssertionError(e);
            }
        }, "proc-test-sleeper");
        sleeper.start();
        sleeper.join();
        ProcStatus.Switches leaderAfter = ProcStatus.readSwitches(Path.of("/proc/self/status"));
        assertTrue(own[0].voluntary() >= 200, "each sleep waited: " + own[0]);
        assertTrue(leaderAfter.voluntary() - leaderBefore.voluntary() < 200, leaderBefore + " -> " + leaderAfter);
        assertEquals(new ProcStatus.Switches(12, 3),
                ProcStatus.switches(List.of("Name:\tx", "voluntary_ctxt_switches:\t12", "nonvoluntary_ctxt_switches:\t3")));
    }

    /** Spends {@code millis} of this thread's CPU time, however long that takes on a busy machine. */
    static void burn(long millis) {
        long until = THREADS.getCurrentThreadCpuTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        long x = 0;
        while (THREADS.getCurrentThreadCpuTime() < until) {
            for (int i = 0; i < 10_000; i++) {
                x += i * 31L ^ x;
            }
        }
        if (x == 42) {
            System.out.print("");
        }
    }
}
