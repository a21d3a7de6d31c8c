package dionode.node.server;

import static dionode.node.crash.Fixture.join;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dionode.cli.FsckCommand;
import dionode.node.crash.Fixture;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.client.NodeClient;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Names are judged on their UTF-8 bytes: a name with an unpaired surrogate has none, so it is
 * refused before anything is stored, and a restart and fsck stay clean.
 */
class NameRulesTest {

    private static Reply.Error error(NodeClient c, Request r) {
        Reply reply = join(c.send(r));
        assertTrue(reply instanceof Reply.Error, r + " answered " + reply);
        return (Reply.Error) reply;
    }

    private static List<String> names(NodeClient c) {
        return join(c.list()).stream().map(Reply.DirEntry::name).toList();
    }

    @Test
    void unpairedSurrogatesAreEinvalAndNothingIsStored() throws Exception {
        Path device = TestNodes.newDevicePath();
        FileId question;
        FileId emoji;
        try {
            try (NodeServer node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
                    NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
                for (String name : List.of("s\ud800", "s\udbff", "\udc00")) {
                    Reply.Error e = error(c, new Request.Create(name, null, 0644, true));
                    assertEquals(Errno.EINVAL, e.errno(), e.toString());
                    assertTrue(e.message().contains("UTF-8"), e.message());
                    assertEquals(Errno.EINVAL, error(c, new Request.Lookup(name)).errno());
                    assertEquals(Errno.EINVAL, error(c, new Request.Unlink(name)).errno());
                }
                assertEquals(List.of(), names(c));
                // what String.getBytes would have stored them as, and a paired surrogate: real names
                question = join(c.create("s?", null, 0644, true)).file();
                emoji = join(c.create("s\ud83d\ude00", null, 0644, true)).file();
                assertNotEquals(question, emoji);
                assertEquals(Errno.EINVAL, error(c, new Request.Create("s\ud800", null, 0644, false)).errno(),
                        "not opened as 's?' either");
                assertEquals(List.of("s?", "s\ud83d\ude00"), names(c));
            }
            assertEquals(List.of(), Fixture.fsck(device));
            assertEquals(0, new CommandLine(new FsckCommand()).execute("--device", device.toString()));
            try (NodeServer node = TestNodes.start(device, 64 << 20, LockPolicy.ZEROING_AWARE);
                    NodeClient c = NodeClient.connect("127.0.0.1", node.address().getPort())) {
                assertEquals(List.of("s?", "s\ud83d\ude00"), names(c));
                assertEquals(question, join(c.lookup("s?")).file());
                assertEquals(emoji, join(c.lookup("s\ud83d\ude00")).file());
                assertEquals(0, join(c.stat(emoji)).size());
            }
            assertEquals(List.of(), Fixture.fsck(device));
        } finally {
            Files.deleteIfExists(device);
        }
    }
}
