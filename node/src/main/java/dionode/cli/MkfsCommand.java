package dionode.cli;

import dionode.cli.option.SizeConverter;
import dionode.node.device.BlockDevice;
import dionode.node.device.DeviceFiles;
import dionode.node.device.JnaNativeIO;
import dionode.node.device.NativeIO;
import dionode.node.fs.Mkfs;
import dionode.node.meta.Layout;
import dionode.node.meta.Superblock;
import dionode.protocol.LockPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code dionode mkfs}: format a device. */
@Command(name = "mkfs", mixinStandardHelpOptions = true,
        description = "Format a device: superblock, journal, inode table, bitmaps. A missing device file is created fully written.")
public final class MkfsCommand implements Callable<Integer> {
    @Option(names = "--device", required = true, description = "device file or block device")
    Path device;

    @Option(names = "--size", converter = SizeConverter.class,
            description = "size of a device file to create (required when it does not exist)")
    Long size;

    @Option(names = "--block-size", description = "fs block size; only 4096 is supported (default: ${DEFAULT-VALUE})")
    int blockSize = Layout.BLOCK_SIZE;

    @Option(names = "--inodes", description = "number of inodes (default: scales with the size)")
    long inodes;

    @Option(names = "--lock-policy", description = "default lock policy recorded in the superblock (default: ${DEFAULT-VALUE})")
    String policy = LockPolicy.ZEROING_AWARE.cliName();

    @Override
    public Integer call() throws Exception {
        if (blockSize != Layout.BLOCK_SIZE) {
            System.err.println("dionode mkfs: EINVAL: only --block-size 4096 is supported");
            return 2;
        }
        NativeIO io = new JnaNativeIO();
        if (!Files.exists(device)) {
            if (size == null) {
                System.err.println("dionode mkfs: ENOENT: " + device + " does not exist; give --size to create it");
                return 2;
            }
            if (device.toAbsolutePath().getParent() != null) {
                Files.createDirectories(device.toAbsolutePath().getParent());
            }
            DeviceFiles.createFullyWritten(device, size, io);
        }
        try (BlockDevice dev = BlockDevice.open(device, io, 0)) {
            Superblock superblock = Mkfs.format(dev, inodes, LockPolicy.parse(policy), Clock.systemUTC());
            Layout layout = superblock.layout();
            System.out.printf("%s: %d blocks of %d bytes, sector %d, %d inodes, journal %d blocks, data from block %d%n",
                    device, layout.totalBlocks(), layout.blockSize(), superblock.sectorSize(), layout.inodeCount(),
                    layout.journalBlocks(), layout.dataStart());
        }
        return 0;
    }
}
