package dionode.loadgen;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** {@code load-gen run --warmup} against an embedded node: the node's per-stage latency line, from its stats. */
class RunStagesTest {
    private static final Pattern STAGES = Pattern.compile("node latency by stage, p50/p99 us \\(the node's last 10 s\\): queue (\\d+)/(\\d+) "
            + "lock (\\d+)/(\\d+) actor (\\d+)/(\\d+) device (\\d+)/(\\d+) journal (\\d+)/(\\d+) reply (\\d+)/(\\d+) total (\\d+)/(\\d+) "
            + "\\(([\\d,]+) requests\\)");

    @Test
    void theNodesStagesAreReportedOnceAndNotAsDeltas() throws Exception {
        String out = CommandsTest.runCli("run", "--embedded", "--dir", "target", "--layout", "written", "--warmup", "1",
                "--duration", "2", "--jobs", "2", "--region-mib", "8");
        Matcher m = STAGES.matcher(out);
        assertTrue(m.find(), out);
        assertTrue(Long.parseLong(m.group(15).replace(",", "")) > 0, "requests in the window: " + m.group());
        assertTrue(Long.parseLong(m.group(7)) > 0, "a write spends time at the device: " + m.group());
        assertTrue(Long.parseLong(m.group(13)) >= Long.parseLong(m.group(7)), "the whole is no less than a part: " + m.group());
        assertFalse(out.contains("latency_device_p50_us"), "percentiles are not listed as counters with deltas:\n" + out);
    }
}
