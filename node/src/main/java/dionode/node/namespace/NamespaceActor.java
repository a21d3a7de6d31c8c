package dionode.node.namespace;

import dionode.node.fs.Inode;
import dionode.node.fs.Volume;
import dionode.node.inode.InodeCommand;
import dionode.node.inode.InodeRefs;
import dionode.node.journal.Handle;
import dionode.node.meta.FileNames;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.AbstractBehavior;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.Receive;

/**
 * The flat directory: name to file handle (inode number and generation). Creates write the new
 * inode (with its name) in a journal handle; unlink removes the name at once and has the inode's
 * actor free the file. Every name a request carries is judged by {@link FileNames} first, the rule
 * mount and fsck apply to stored names. One actor, so create/unlink of a name are serialized.
 * Confined to its actor.
 */
public final class NamespaceActor extends AbstractBehavior<NamespaceActor.Command> {

    public sealed interface Command {
    }

    public record Op(Request.NamespaceRequest request, CompletableFuture<Reply> reply) implements Command {
    }

    private record Resume(Runnable action) implements Command {
    }

    private static final int MAX_PARKED = 4096;

    private final Volume vol;
    private final InodeRefs inodes;
    private final LockPolicy defaultPolicy;
    private final Map<String, FileId> names;
    private final ArrayDeque<Runnable> journalWaiters = new ArrayDeque<>();
    private boolean spaceRequested;

    public static Behavior<Command> create(Volume vol, InodeRefs inodes, LockPolicy defaultPolicy) {
        return Behaviors.setup(c -> new NamespaceActor(c, vol, inodes, defaultPolicy));
    }

    private NamespaceActor(ActorContext<Command> context, Volume vol, InodeRefs inodes, LockPolicy defaultPolicy) {
        super(context);
        this.vol = vol;
        this.inodes = inodes;
        this.defaultPolicy = defaultPolicy;
        this.names = new HashMap<>(vol.names());
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Op.class, this::onOp)
                .onMessage(Resume.class, r -> {
                    r.action().run();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onOp(Op op) {
        Request.NamespaceRequest r = op.request();
        CompletableFuture<Reply> f = op.reply();
        Reply.Error bad = badName(r);
        if (bad != null) {
            f.complete(bad);
        } else if (r instanceof Request.Create c) {
            create(c, f);
        } else if (r instanceof Request.Lookup l) {
            FileId file = names.get(l.name());
            f.complete(file == null ? noEntry(l.name()) : new Reply.InodeInfo(file, l.name(), false));
        } else if (r instanceof Request.Unlink u) {
            unlink(u.name(), f);
        } else if (r instanceof Request.ListFiles) {
            List<Reply.DirEntry> entries = new ArrayList<>();
            names.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .forEach(e -> entries.add(new Reply.DirEntry(e.getKey(), e.getValue())));
            f.complete(new Reply.FileList(entries));
        }
        return this;
    }

    private static Reply noEntry(String name) {
        return new Reply.Error(Errno.ENOENT, "no file named '" + name + "'");
    }

    /**
     * The refusal of a request whose name no file can have (none is stored, so lookup and unlink
     * of it are refused as create is, not answered ENOENT), or null.
     */
    private static Reply.Error badName(Request.NamespaceRequest r) {
        String name = r instanceof Request.Create c ? c.name() : r instanceof Request.Lookup l ? l.name()
                : r instanceof Request.Unlink u ? u.name() : null;
        FileNames.Fault fault = name == null ? null : FileNames.check(name);
        if (fault == null) {
            return null;
        }
        return new Reply.Error(fault == FileNames.Fault.TOO_LONG ? Errno.ENAMETOOLONG : Errno.EINVAL, fault.message());
    }

    private void create(Request.Create c, CompletableFuture<Reply> f) {
        FileId existing = names.get(c.name());
        if (existing != null) {
            f.complete(c.exclusive() ? new Reply.Error(Errno.EEXIST, "'" + c.name() + "' exists")
                    : new Reply.InodeInfo(existing, c.name(), false));
            return;
        }
        Handle h;
        try {
            h = vol.journal().tryStart(1);
        } catch (RuntimeException e) {
            f.complete(new Reply.Error(Errno.EROFS, "journal unavailable: " + e.getMessage()));
            return;
        }
        if (h == null) {
            park(() -> create(c, f), f);
            return;
        }
        long ino;
        Inode created = null;
        try {
            ino = vol.inodes().allocate();
            if (ino != 0) {
                created = vol.create(h, ino, c.name(), c.mode(), c.policy() != null ? c.policy() : defaultPolicy);
            }
        } finally {
            h.close();
        }
        if (created == null) {
            f.complete(new Reply.Error(Errno.ENOSPC, "inode table full (" + vol.layout().inodeCount() + " inodes)"));
            return;
        }
        FileId file = new FileId(ino, created.generation);
        names.put(c.name(), file);
        f.complete(new Reply.InodeInfo(file, c.name(), true));
    }

    private void unlink(String name, CompletableFuture<Reply> f) {
        FileId file = names.remove(name);
        if (file == null) {
            f.complete(noEntry(name));
            return;
        }
        CompletableFuture<Reply> done = new CompletableFuture<>();
        inodes.tell(file.ino(), new InodeCommand.Delete(done));
        ActorRef<Command> self = getContext().getSelf();
        done.whenComplete((r, e) -> self.tell(new Resume(() -> {
            if (r instanceof Reply.Done) {
                f.complete(r);
            } else {
                names.putIfAbsent(name, file);
                f.complete(r != null ? r : new Reply.Error(Errno.EIO, String.valueOf(e)));
            }
        })));
    }

    private void park(Runnable retry, CompletableFuture<Reply> f) {
        if (journalWaiters.size() >= MAX_PARKED) {
            f.complete(new Reply.Error(Errno.EAGAIN, "namespace busy: journal full"));
            return;
        }
        journalWaiters.add(retry);
        if (!spaceRequested) {
            spaceRequested = true;
            ActorRef<Command> self = getContext().getSelf();
            vol.journal().onSpace(() -> self.tell(new Resume(() -> {
                spaceRequested = false;
                int n = journalWaiters.size();
                for (int i = 0; i < n && !journalWaiters.isEmpty(); i++) {
                    journalWaiters.poll().run();
                }
            })));
        }
    }
}
