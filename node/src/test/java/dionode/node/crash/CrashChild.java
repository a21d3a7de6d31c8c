package dionode.node.crash;

import dionode.node.server.NodeServer;
import dionode.protocol.client.NodeClient;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;

/**
 * The process the crash tests kill: runs a node on a device file and drives it, printing to
 * stdout (flushed per line) what the parent needs to judge the device after the SIGKILL.
 *
 * <ul>
 * <li>{@code populate DEVICE SIZE}: {@link Population}, fsync, then {@code SNAPSHOT <base64>} and
 * {@code SYNCED}; then waits to be killed.
 * <li>{@code loop DEVICE SIZE SEED ITERATION INTERVAL_MS LOGFILE}: {@link CrashWorkload}'s writers,
 * logging every operation and every acknowledgement to LOGFILE and stdout, until killed.
 * </ul>
 */
public final class CrashChild {
    private CrashChild() {
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), false, StandardCharsets.UTF_8);
        String mode = args[0];
        Path device = Path.of(args[1]);
        long size = Long.parseLong(args[2]);
        // long commit interval: only fsync, durable writes and full transactions commit
        Duration interval = mode.equals("loop") ? Duration.ofMillis(Long.parseLong(args[5])) : Duration.ofHours(1);
        NodeServer node = Fixture.start(Fixture.config(device, size, interval), Fixture.JNA);
        try (NodeClient c = Fixture.client(node)) {
            if (mode.equals("populate")) {
                Population.populate(c);
                String snap = Fixture.snapshot(c);
                out.println("SNAPSHOT " + Base64.getEncoder().encodeToString(snap.getBytes(StandardCharsets.UTF_8)));
                out.println("SYNCED");
                out.flush();
                Thread.sleep(Long.MAX_VALUE);
            } else if (mode.equals("loop")) {
                // the log goes to a file as well: a write(2) to a file is in the page cache when it
                // returns and survives the SIGKILL, whatever happens to the pipe's last bytes
                java.io.FileOutputStream file = new java.io.FileOutputStream(args[6], true);
                PrintStream tee = new PrintStream(new java.io.OutputStream() {
                    @Override
                    public void write(int b) throws java.io.IOException {
                        write(new byte[] {(byte) b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) throws java.io.IOException {
                        file.write(b, off, len);
                        out.write(b, off, len);
                    }

                    @Override
                    public void flush() {
                        out.flush();
                    }
                }, false, StandardCharsets.UTF_8);
                new CrashWorkload(node.address().getPort(), Long.parseLong(args[3]), Integer.parseInt(args[4]), tee).run();
                Thread.sleep(Long.MAX_VALUE);
            } else {
                throw new IllegalArgumentException(mode);
            }
        }
    }
}
