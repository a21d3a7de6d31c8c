package dionode.node.journal;

import java.util.List;
import java.util.stream.Collectors;

/**
 * The blocks a journal transaction may name as home, for {@link Journal#recover}: the device's
 * regions in order, each named and either loggable or not. A replayed image goes straight to its
 * home, so a checksummed transaction that names the superblock (or any block outside the loggable
 * regions) would overwrite it with whatever the log holds; recovery refuses such a log instead.
 * The journal's own area is never a home, whatever the regions say. Immutable.
 *
 * @param regions every region of the device, in block order; a block in none of them is past the end
 */
public record HomeRegions(List<Region> regions) {

    /**
     * Blocks {@code [from, to)}, named as a user reads it ("the inode table").
     *
     * @param loggable whether the journal may write an image home here
     */
    public record Region(String name, long from, long to, boolean loggable) {
        boolean contains(long block) {
            return block >= from && block < to;
        }

        @Override
        public String toString() {
            return name + " [" + from + ", " + to + ")";
        }
    }

    public HomeRegions {
        regions = List.copyOf(regions);
    }

    /** Any block of a device of {@code blocks} blocks: for a journal that serves no layout of its own. */
    public static HomeRegions wholeDevice(long blocks) {
        return new HomeRegions(List.of(new Region("the device outside the journal", 0, blocks, true)));
    }

    /**
     * Why {@code block} cannot be a home (the region it falls in, or that it is past the last
     * one), or null if the journal may write it.
     */
    String refusal(long block) {
        for (Region r : regions) {
            if (r.contains(block)) {
                return r.loggable() ? null : "in " + r + ", where the journal never writes";
            }
        }
        long end = regions.isEmpty() ? 0 : regions.get(regions.size() - 1).to();
        return "past the last block " + (end - 1) + " of the file system";
    }

    /** The loggable regions, for the message of a refusal. */
    String loggable() {
        return regions.stream().filter(Region::loggable).map(Region::toString).collect(Collectors.joining(", "));
    }
}
