package dionode.cli;

import dionode.cli.common.Json;
import dionode.node.device.BlockDevice;
import dionode.node.device.DeviceInUseException;
import dionode.node.device.JnaNativeIO;
import dionode.node.fs.Problem;
import dionode.node.fs.Volume;
import dionode.node.fs.VolumeLoader;
import dionode.node.journal.JournalOptions;
import dionode.node.meta.Superblock;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dionode fsck}: check a whole device; exit 0 only when clean. */
@Command(name = "fsck", mixinStandardHelpOptions = true,
        description = {"Check a whole device; exit 0 only when clean.",
            "Checks the superblock, the journal (replayed first, then read back), inode records, extent trees,",
            "bitmaps against extents, blocks claimed twice, orphans and sizes, and reports whether the device was",
            "cleanly unmounted. Exits 1 when problems were found or another process has the device open, 8 when",
            "it cannot be mounted."})
public final class FsckCommand implements Callable<Integer> {
    @Option(names = "--device", required = true, description = "device file or block device (not in use by a node)")
    Path device;

    @Option(names = "--json", description = "print the report as one JSON object")
    boolean json;

    @Override
    public Integer call() throws IOException {
        List<Problem> problems;
        long files;
        Superblock superblock = null;
        String fatal = null;
        try (BlockDevice dev = BlockDevice.open(device, new JnaNativeIO(), 0)) {
            Volume volume = VolumeLoader.mount(dev, JournalOptions.defaults(), Clock.systemUTC(), true);
            problems = volume.problems();
            files = volume.names().size();
            superblock = volume.superblock();
        } catch (DeviceInUseException e) {
            // not a finding about the device: the one-line error and exit 1 of every command
            throw e;
        } catch (IOException e) {
            problems = List.of(new Problem(0, "unmountable", e.getMessage()));
            files = 0;
            fatal = e.getMessage();
        }
        if (json) {
            StringBuilder report = new StringBuilder("{\"device\":").append(Json.str(device.toString()))
                    .append(",\"clean\":").append(problems.isEmpty())
                    .append(",\"files\":").append(files)
                    .append(",\"state\":").append(superblock == null ? "null" : Json.str(superblock.state().label()))
                    .append(",\"last_mount\":").append(superblock == null || superblock.lastMountMillis() == 0 ? "null"
                            : Json.str(Instant.ofEpochMilli(superblock.lastMountMillis()).toString()))
                    .append(",\"mounts\":").append(superblock == null ? "null" : Long.toString(superblock.mountCount()))
                    .append(",\"unclean_mounts\":").append(superblock == null ? "null" : Long.toString(superblock.uncleanMounts()))
                    .append(",\"volume\":").append(superblock == null || superblock.volumeId() == null ? "null"
                            : Json.str(superblock.volumeId().toString()))
                    .append(",\"problems\":[");
            for (int i = 0; i < problems.size(); i++) {
                Problem problem = problems.get(i);
                report.append(i > 0 ? "," : "").append("{\"ino\":").append(problem.ino())
                        .append(",\"kind\":").append(Json.str(problem.kind()))
                        .append(",\"detail\":").append(Json.str(problem.detail())).append('}');
            }
            System.out.println(report.append("]}"));
        } else {
            for (Problem problem : problems) {
                System.out.println(problem);
            }
            if (superblock != null) {
                System.out.println(device + ": state " + superblock.state().label() + (superblock.state() == Superblock.State.MOUNTED
                        ? " (not cleanly unmounted)" : "") + ", " + superblock.mountCount() + " mounts, " + superblock.uncleanMounts()
                        + " unclean" + (superblock.lastMountMillis() == 0 ? ""
                        : ", last mounted at " + Instant.ofEpochMilli(superblock.lastMountMillis())));
            }
            System.out.println(device + ": " + (problems.isEmpty() ? "clean" : problems.size() + " problems") + ", " + files + " files");
        }
        return fatal != null ? 8 : problems.isEmpty() ? 0 : 1;
    }
}
