package dionode.node.nbd;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Launching real NBD clients from tests: a test is skipped when its program is not installed
 * ({@code apt-get install -y qemu-utils libnbd-bin fio}).
 */
final class NbdTools {
    record Run(int exit, String output) {
    }

    private NbdTools() {
    }

    static void assumeInstalled(String program) {
        boolean found = false;
        for (String dir : System.getenv().getOrDefault("PATH", "/usr/bin:/bin").split(File.pathSeparator)) {
            found |= Files.isExecutable(Path.of(dir, program));
        }
        assumeTrue(found, program + " is not installed (apt-get install -y qemu-utils libnbd-bin fio)");
    }

    /** Runs {@code command} in {@code dir} (fio leaves state files in its cwd), stdout and stderr together. */
    static Run run(Path dir, List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(300, TimeUnit.SECONDS), "timed out: " + command);
        return new Run(p.exitValue(), new String(out));
    }
}
