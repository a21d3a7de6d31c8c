package dionode.loadgen.proc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The meter on this JVM, with threads named as the node's and as load-gen's that start after
 * begin(), spend a known CPU time (their own, however long it takes) and end before end().
 */
class CpuMeterTest {
    private static final long NODE_MS = 300;
    private static final long LOADGEN_MS = 600;

    @Test
    void embeddedCountsTheNodesThreadsOnlyAndKeepsWhatAnEndedThreadHadSpent() throws Exception {
        CpuMeter meter = CpuMeter.ofThisJvm();
        meter.begin();
        spendAndEnd();
        meter.end();
        NodeCpu cpu = meter.reading();
        assertEquals("embedded", cpu.source());
        assertEquals(ProcessHandle.current().pid(), cpu.pid());
        assertFalse(cpu.groups().containsKey(NodeThreads.Group.JVM), cpu.toString());
        long io = cpu.groups().get(NodeThreads.Group.IO).cpuUs();
        assertTrue(io >= (NODE_MS - 30) * 1000, "the ended dionode-io thread's CPU, kept from the sample before it ended: " + cpu);
        assertTrue(cpu.total().cpuUs() < LOADGEN_MS * 1000, "load-gen's thread is not the node's: " + cpu);
        assertTrue(cpu.endedThreads() >= 1, cpu.toString());
        assertTrue(cpu.note() != null && cpu.note().contains("ended during the run"), cpu.note());
        assertEquals(cpu.total().cpuUs(), cpu.groupsCpuUs(), "embedded: the total is the node's groups");
    }

    @Test
    void loadGensOwnMeterCountsItsJobThreadsOnly() throws Exception {
        CpuMeter meter = CpuMeter.ofLoadGenClients();
        meter.begin();
        spendAndEnd();
        meter.end();
        NodeCpu cpu = meter.reading();
        assertEquals(NodeCpu.LOAD_GEN, cpu.source());
        assertTrue(cpu.groups().isEmpty(), cpu.toString());
        assertTrue(cpu.total().cpuUs() >= (LOADGEN_MS - 30) * 1000, "the job thread's CPU: " + cpu);
        assertTrue(cpu.total().cpuUs() < (LOADGEN_MS + NODE_MS - 30) * 1000, "the node's thread is not load-gen's: " + cpu);
        assertTrue(cpu.line(1000).startsWith("load-gen cpu: "), cpu.line(1000));
        assertTrue(cpu.line(1000).endsWith("(job and client reader threads)"), cpu.line(1000));
    }

    @Test
    void aProcessCountsEveryThreadItEverHad() throws Exception {
        CpuMeter meter = CpuMeter.ofProcess(ProcessHandle.current().pid());
        meter.begin();
        spendAndEnd();
        meter.end();
        NodeCpu cpu = meter.reading();
        assertEquals("pid", cpu.source());
        assertTrue(cpu.total().cpuUs() >= (NODE_MS + LOADGEN_MS - 30) * 1000, cpu.toString());
        assertTrue(cpu.groups().get(NodeThreads.Group.IO).cpuUs() >= (NODE_MS - 30) * 1000, cpu.toString());
        assertTrue(cpu.groups().get(NodeThreads.Group.JVM).cpuUs() >= (LOADGEN_MS - 30) * 1000, cpu.toString());
        assertTrue(cpu.total().voluntary() > 0, cpu.toString());
        assertTrue(cpu.line(1000).matches("node cpu: \\d+\\.\\d µs/request \\(user \\d+\\.\\d µs, sys \\d+\\.\\d µs\\), "
                + "\\d+\\.\\d\\d voluntary \\+ \\d+\\.\\d\\d involuntary context switches/request \\(pid " + cpu.pid() + "\\)"), cpu.line(1000));
    }

    @Test
    void aProcessThatIsNotThereIsRefusedAndOneThatEndsIsSaid() throws Exception {
        assertThrows(IOException.class, () -> CpuMeter.ofProcess(999_999_999L));
        Process child = new ProcessBuilder("sleep", "30").start();
        CpuMeter meter = CpuMeter.ofProcess(child.pid());
        meter.begin();
        child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        meter.end();
        IOException e = assertThrows(IOException.class, meter::reading);
        assertEquals("process " + child.pid() + " ended during the run", e.getMessage());
    }

    /**
     * A thread named as a node I/O thread spends NODE_MS, one named as a load-gen job LOADGEN_MS;
     * both live on for two sampling periods after spending, then end.
     */
    private static void spendAndEnd() throws Exception {
        CountDownLatch spent = new CountDownLatch(2);
        Thread node = spender("dionode-io-test", NODE_MS, spent);
        Thread loadGen = spender("load-gen-job-test", LOADGEN_MS, spent);
        spent.await();
        Thread.sleep(2200); // at least one of the meter's once-a-second samples sees what they spent
        node.interrupt();
        loadGen.interrupt();
        node.join();
        loadGen.join();
        awaitGoneFromProc(node.getName(), loadGen.getName());
    }

    /** A joined Java thread's OS thread can still be listed in /proc for a moment; the meter must see it gone. */
    private static void awaitGoneFromProc(String... names) throws Exception {
        Path self = Path.of("/proc", Long.toString(ProcessHandle.current().pid()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        List<String> comms = Stream.of(names).map(n -> n.substring(0, Math.min(15, n.length()))).toList(); // TASK_COMM_LEN
        while (TaskSample.all(self).stream().anyMatch(t -> comms.contains(t.comm()))) {
            assertTrue(System.nanoTime() < deadline, "threads still listed in /proc 10 s after they ended");
            Thread.sleep(5);
        }
    }

    private static Thread spender(String name, long millis, CountDownLatch spent) {
        Thread t = new Thread(() -> {
            ProcStatTest.burn(millis);
            spent.countDown();
            try {
                Thread.sleep(60_000);
            } catch (InterruptedException done) {
                // end
            }
        }, name);
        t.start();
        return t;
    }
}
