package dionode.cli;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import picocli.CommandLine;

/** Runs the dionode command line in-process with System.in/out/err redirected. Not thread-safe (swaps the globals). */
final class CliRunner {
    private CliRunner() {
    }

    record Result(int code, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + code + ", stderr: " + stderr + ", stdout: " + (stdout.length > 300 ? stdout.length + " bytes" : out());
        }
    }

    static Result run(byte[] stdin, String... args) {
        InputStream in = System.in;
        PrintStream out = System.out;
        PrintStream err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream();
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        try (PrintStream po = new PrintStream(o, true); PrintStream pe = new PrintStream(e, true, StandardCharsets.UTF_8)) {
            System.setIn(new ByteArrayInputStream(stdin));
            System.setOut(po);
            System.setErr(pe);
            CommandLine cl = new CommandLine(new Main());
            ClientCommands.register(cl);
            int code = cl.execute(args);
            po.flush();
            pe.flush();
            return new Result(code, o.toByteArray(), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setIn(in);
            System.setOut(out);
            System.setErr(err);
        }
    }

    static Result run(String... args) {
        return run(new byte[0], args);
    }
}
