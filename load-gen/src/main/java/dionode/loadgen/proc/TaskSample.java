package dionode.loadgen.proc;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One thread of a process as {@code /proc/PID/task/TID/} shows it at one moment: its name
 * (the comm of its stat line, which is what /proc/PID/task/TID/comm holds), when it started, its
 * CPU ticks and its context switches. A value; reading is stateless and thread-safe.
 */
public record TaskSample(long tid, String comm, long startTicks, long userTicks, long sysTicks, long voluntary, long involuntary) {

    /** A thread's counters before it ran: where a thread that started after the first sample counts from. */
    TaskSample atZero() {
        return new TaskSample(tid, comm, startTicks, 0, 0, 0, 0);
    }

    /** Every thread of the process whose /proc directory is {@code proc} (e.g. /proc/1234 or /proc/self). */
    public static List<TaskSample> all(Path proc) throws IOException {
        List<TaskSample> tasks = new ArrayList<>();
        try (DirectoryStream<Path> dir = Files.newDirectoryStream(proc.resolve("task"))) {
            for (Path task : dir) {
                read(task).ifPresent(tasks::add);
            }
        }
        return tasks;
    }

    /** One thread, from its /proc/PID/task/TID directory; empty when it ended since it was listed. */
    public static Optional<TaskSample> read(Path task) {
        try {
            ProcStat.Line stat = ProcStat.read(task.resolve("stat"));
            ProcStatus.Switches sw = ProcStatus.readSwitches(task.resolve("status"));
            return Optional.of(new TaskSample(Long.parseLong(task.getFileName().toString()), stat.comm(), stat.startTicks(),
                    stat.userTicks(), stat.sysTicks(), sw.voluntary(), sw.involuntary()));
        } catch (IOException ended) {
            return Optional.empty();
        }
    }
}
