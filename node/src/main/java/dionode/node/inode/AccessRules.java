package dionode.node.inode;

import dionode.node.meta.InodeRecord;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.Set;

/**
 * Who may do what to a file (DESIGN §6): the owner by the mode's owner bits (0400 read, 0200
 * write), everyone else by its others bits (0004, 0002); group bits are not used (a node has no
 * groups). Only the owner may chmod or unlink. Identities in {@code admins}
 * ({@code serve --admins}) may do anything. Without client certificates everyone is
 * {@code anonymous}, the owner of every file made so: files behave as before owners existed.
 * Immutable; thread-safe.
 */
public record AccessRules(Set<String> admins) {
    public static final AccessRules NO_ADMINS = new AccessRules(Set.of());

    public AccessRules {
        admins = Set.copyOf(admins);
    }

    /** What a request needs of its file. */
    enum Need { READ, WRITE, READ_OR_WRITE, OWNER }

    static Need need(Request.InodeRequest request) {
        if (request instanceof Request.Read || request instanceof Request.Stat || request instanceof Request.Fiemap
                || request instanceof Request.Explain) {
            return Need.READ;
        }
        if (request instanceof Request.Fsync) {
            return Need.READ_OR_WRITE;
        }
        return request instanceof Request.Chmod ? Need.OWNER : Need.WRITE;
    }

    /** Whether {@code caller} may read a file of {@code owner} (its owner number) and {@code mode}: what ls shows. */
    public boolean mayRead(String caller, boolean isOwner, int mode) {
        return allowed(Need.READ, caller, isOwner, mode);
    }

    boolean allowed(Need need, String caller, boolean isOwner, int mode) {
        if (admins.contains(caller)) {
            return true;
        }
        boolean read = (mode & (isOwner ? 0400 : 0004)) != 0;
        boolean write = (mode & (isOwner ? 0200 : 0002)) != 0;
        return switch (need) {
            case READ -> read;
            case WRITE -> write;
            case READ_OR_WRITE -> read || write;
            case OWNER -> isOwner;
        };
    }

    /** The refusal of {@code need} on a file, or null when {@code caller} may. */
    Reply.Error check(Need need, Caller caller, boolean isOwner, int mode, String what) {
        if (allowed(need, caller.identity(), isOwner, mode)) {
            return null;
        }
        String why = need == Need.OWNER ? "only its owner may " + what
                : String.format("mode %04o lets %s %s", mode & InodeRecord.MODE_MASK, isOwner ? "its owner" : "others",
                        need == Need.WRITE ? "not write" : "not read");
        return new Reply.Error(Errno.EACCES, caller.identity() + " may not " + what + " this file: " + why);
    }
}
