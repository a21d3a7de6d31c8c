package dionode.loadgen;

import dionode.loadgen.proc.CpuMeter;
import dionode.loadgen.proc.NodeCpu;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * {@code load-gen run}'s measure of the node's CPU and its own: the meters, the bracket that runs them
 * over the measured run, and the report's lines. Stateless.
 */
final class RunCpu {
    private RunCpu() {
    }

    /** The meter of {@code --node-pid}; refused as a bad argument when there is no such process to read. */
    static CpuMeter ofProcess(long pid) {
        try {
            return CpuMeter.ofProcess(pid);
        } catch (IOException e) {
            throw new IllegalArgumentException("--node-pid " + pid + ": no such process on this machine (cannot read /proc/" + pid + "/stat)");
        }
    }

    /** load-gen's own job and client reader threads; null where there is no /proc to read them from. */
    static CpuMeter ofLoadGenClients() {
        return Files.isDirectory(Path.of("/proc/self/task")) ? CpuMeter.ofLoadGenClients() : null;
    }

    /** Begins the meters given (null ones skipped) in order as the run starts, and ends them in reverse as it ends. */
    static LoadEngine.Bracket bracket(CpuMeter... meters) {
        List<CpuMeter> on = Stream.of(meters).filter(Objects::nonNull).toList();
        return new LoadEngine.Bracket(() -> on.forEach(CpuMeter::begin), () -> {
            for (int i = on.size() - 1; i >= 0; i--) {
                on.get(i).end();
            }
        });
    }

    /** The node's figures; null when it was not measured, or its process ended during the run. */
    static NodeCpu reading(CpuMeter cpu) {
        try {
            return cpu == null ? null : cpu.reading();
        } catch (IOException ended) {
            return null;
        }
    }

    /** The node cpu line (and its note), or why there is none; nothing for a node that cannot be measured. */
    static void print(PrintStream out, CpuMeter cpu, long completed) {
        try {
            NodeCpu figures = cpu.reading();
            out.println(figures.line(completed));
            if (figures.note() != null) {
                out.println(figures.note());
            }
        } catch (IOException e) {
            out.println("node cpu: not measured: " + e.getMessage());
        }
    }
}
