package dionode.node.namespace;

import dionode.node.fs.Inode;
import dionode.node.fs.Volume;
import dionode.node.inode.AccessRules;
import dionode.node.inode.Caller;
import dionode.node.inode.InodeCommand;
import dionode.node.inode.InodeRefs;
import dionode.node.inode.JournalParking;
import dionode.node.journal.Handle;
import dionode.node.journal.JournalAbortedException;
import dionode.node.meta.FileNames;
import dionode.node.meta.InodeRecord;
import dionode.node.meta.InodeTable;
import dionode.protocol.Errno;
import dionode.protocol.FileId;
import dionode.protocol.LockPolicy;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
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

    public record Op(Request.NamespaceRequest request, Caller caller, CompletableFuture<Reply> reply) implements Command {
    }

    private record Resume(Runnable action) implements Command {
    }

    private static final int MAX_PARKED = 4096;

    private final Volume vol;
    private final InodeRefs inodes;
    private final LockPolicy defaultPolicy;
    private final Map<String, FileId> names;
    private final JournalParking parking;
    /** Why this node cannot create DAX files (its device cannot be mapped), or null when it can. */
    private final String daxRefusal;
    private final AccessRules access;

    /** A namespace on a node that creates no DAX file. */
    public static Behavior<Command> create(Volume vol, InodeRefs inodes, LockPolicy defaultPolicy) {
        return create(vol, inodes, defaultPolicy, "this node has no DAX mapping of its device");
    }

    /** @param daxRefusal why a DAX create is refused (EOPNOTSUPP), or null when the device is mapped */
    public static Behavior<Command> create(Volume vol, InodeRefs inodes, LockPolicy defaultPolicy, String daxRefusal) {
        return create(vol, inodes, defaultPolicy, daxRefusal, AccessRules.NO_ADMINS);
    }

    /** @param access who may see which file in a listing */
    public static Behavior<Command> create(Volume vol, InodeRefs inodes, LockPolicy defaultPolicy, String daxRefusal,
            AccessRules access) {
        return Behaviors.setup(context -> new NamespaceActor(context, vol, inodes, defaultPolicy, daxRefusal, access));
    }

    private NamespaceActor(ActorContext<Command> context, Volume vol, InodeRefs inodes, LockPolicy defaultPolicy,
            String daxRefusal, AccessRules access) {
        super(context);
        this.access = access;
        this.daxRefusal = daxRefusal;
        this.vol = vol;
        this.inodes = inodes;
        this.defaultPolicy = defaultPolicy;
        this.names = new HashMap<>(vol.names());
        ActorRef<Command> self = context.getSelf();
        this.parking = new JournalParking(vol.journal(), MAX_PARKED, step -> self.tell(new Resume(step)));
    }

    @Override
    public Receive<Command> createReceive() {
        return newReceiveBuilder()
                .onMessage(Op.class, this::onOp)
                .onMessage(Resume.class, resume -> {
                    resume.action().run();
                    return this;
                })
                .build();
    }

    private Behavior<Command> onOp(Op op) {
        Request.NamespaceRequest request = op.request();
        CompletableFuture<Reply> reply = op.reply();
        Reply.Error bad = badName(request);
        if (bad != null) {
            reply.complete(bad);
        } else if (request instanceof Request.Create create) {
            create(create, op.caller(), reply);
        } else if (request instanceof Request.Lookup lookup) {
            FileId file = names.get(lookup.name());
            reply.complete(file == null ? noEntry(lookup.name()) : new Reply.InodeInfo(file, lookup.name(), false));
        } else if (request instanceof Request.Unlink unlink) {
            unlink(unlink.name(), op.caller(), reply);
        } else if (request instanceof Request.ListFiles) {
            List<Reply.DirEntry> entries = new ArrayList<>();
            String caller = op.caller().identity();
            int callerNumber = vol.identities().number(caller);
            names.entrySet().stream().sorted(Map.Entry.comparingByKey())
                    .filter(entry -> readable(entry.getValue(), caller, callerNumber))
                    .forEach(entry -> entries.add(new Reply.DirEntry(entry.getKey(), entry.getValue())));
            reply.complete(new Reply.FileList(entries));
        }
        return this;
    }

    /** ls shows only what the caller may read; a bad file (its record unreadable) shows to all, to be found and removed. */
    private boolean readable(FileId file, String caller, int callerNumber) {
        InodeTable.Access a = vol.inodes().access(file.ino());
        return a == null || access.mayRead(caller, a.owner() == callerNumber, a.mode());
    }

    private static Reply noEntry(String name) {
        return new Reply.Error(Errno.ENOENT, "no file named '" + name + "'");
    }

    /**
     * The refusal of a request whose name no file can have (none is stored, so lookup and unlink
     * of it are refused as create is, not answered ENOENT), or null.
     */
    private static Reply.Error badName(Request.NamespaceRequest request) {
        String name = request instanceof Request.Create create ? create.name()
                : request instanceof Request.Lookup lookup ? lookup.name()
                : request instanceof Request.Unlink unlink ? unlink.name() : null;
        FileNames.Fault fault = name == null ? null : FileNames.check(name);
        if (fault == null) {
            return null;
        }
        return new Reply.Error(fault == FileNames.Fault.TOO_LONG ? Errno.ENAMETOOLONG : Errno.EINVAL, fault.message());
    }

    private void create(Request.Create create, Caller caller, CompletableFuture<Reply> reply) {
        FileId existing = names.get(create.name());
        if (existing != null) {
            reply.complete(create.exclusive() ? new Reply.Error(Errno.EEXIST, "'" + create.name() + "' exists")
                    : new Reply.InodeInfo(existing, create.name(), false));
            return;
        }
        if (create.dax() && daxRefusal != null) {
            reply.complete(new Reply.Error(Errno.EOPNOTSUPP, "cannot create '" + create.name() + "' as a DAX file: " + daxRefusal));
            return;
        }
        FileNames.Fault badIdentity = FileNames.check(caller.identity());
        if (badIdentity != null) {
            reply.complete(new Reply.Error(Errno.EINVAL, "the identity '" + caller.identity() + "' cannot own files here: "
                    + badIdentity.message()));
            return;
        }
        Handle handle;
        try {
            // the file's record, and its owner's identity record if this is the owner's first file
            handle = vol.journal().tryStart(2);
        } catch (RuntimeException unavailable) {
            reply.complete(new Reply.Error(Errno.EROFS, "journal unavailable: " + unavailable.getMessage()));
            return;
        }
        if (handle == null) {
            park(() -> create(create, caller, reply), reply);
            return;
        }
        long ino = 0;
        Inode created = null;
        int owner;
        try {
            owner = vol.owner(handle, caller.identity());
            ino = owner < 0 ? 0 : vol.inodes().allocate();
            if (ino != 0) {
                created = vol.create(handle, ino, create.name(), create.mode(),
                        create.policy() != null ? create.policy() : defaultPolicy, create.dax(), create.indirect(), owner);
            }
        } finally {
            handle.close();
        }
        if (owner < 0) {
            reply.complete(new Reply.Error(Errno.ENOSPC, "no inode number up to " + InodeRecord.MAX_OWNER
                    + " is free for the record of a new owner, " + caller.identity()));
            return;
        }
        if (created == null) {
            reply.complete(new Reply.Error(Errno.ENOSPC, "inode table full (" + vol.layout().inodeCount() + " inodes)"));
            return;
        }
        FileId file = created.handle();
        names.put(create.name(), file);
        reply.complete(new Reply.InodeInfo(file, create.name(), true));
    }

    private void unlink(String name, Caller caller, CompletableFuture<Reply> reply) {
        FileId file = names.remove(name);
        if (file == null) {
            reply.complete(noEntry(name));
            return;
        }
        CompletableFuture<Reply> done = new CompletableFuture<>();
        inodes.tell(file.ino(), new InodeCommand.Delete(caller, done));
        ActorRef<Command> self = getContext().getSelf();
        done.whenComplete((answer, thrown) -> self.tell(new Resume(() -> {
            if (answer instanceof Reply.Done) {
                reply.complete(answer);
            } else {
                names.putIfAbsent(name, file);
                reply.complete(answer != null ? answer : new Reply.Error(Errno.EIO, String.valueOf(thrown)));
            }
        })));
    }

    /**
     * Retries {@code retry} when the journal has room (the same parking as an inode's steps);
     * answers {@code reply} at once when it cannot wait.
     */
    private void park(Runnable retry, CompletableFuture<Reply> reply) {
        try {
            if (!parking.park(retry)) {
                reply.complete(new Reply.Error(Errno.EAGAIN, "namespace busy: journal full"));
            }
        } catch (JournalAbortedException refused) {
            reply.complete(new Reply.Error(Errno.EROFS, "journal unavailable: " + refused.getMessage()));
        }
    }
}
