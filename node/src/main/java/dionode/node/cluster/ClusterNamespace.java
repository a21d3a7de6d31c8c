package dionode.node.cluster;

import dionode.node.inode.Caller;
import dionode.protocol.Errno;
import dionode.protocol.message.Reply;
import dionode.protocol.message.Request;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * One namespace over every volume (DESIGN §7). Each volume's namespace actor keeps its own names;
 * this composes them. A new name goes on the volume rendezvous hashing picks among those serving
 * ({@link Rendezvous}), unless the create names one; a create first asks the other volumes, so a
 * name that exists anywhere is EEXIST (or opened). A lookup asks the volume it found the name on
 * last, then the hashed one, then the rest, and remembers where it found it. A volume that cannot
 * be asked makes a create, and a lookup that finds the name nowhere else, EHOSTDOWN: never a second
 * file of one name, never ENOENT for a file that may exist. Two members creating
 * one name at once send both creates to its hashed volume, whose actor serializes them. Thread-safe.
 */
final class ClusterNamespace {
    /** Names whose volume is remembered; beyond it the least recently used are forgotten (they are looked up again). */
    static final int CACHED_NAMES = 65_536;

    private final ClusterRouter router;
    private final VolumeView view;
    private final Map<String, String> volumeOfName = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
            return size() > CACHED_NAMES;
        }
    };

    /** Where a lookup found a name: its volume and the answer (InodeInfo), or null volume and the failure. */
    private record Located(String volume, Reply reply) {
    }

    ClusterNamespace(ClusterRouter router, VolumeView view) {
        this.router = router;
        this.view = view;
    }

    CompletionStage<Reply> handle(Request.NamespaceRequest request, Caller caller) {
        if (request instanceof Request.Create create) {
            return create(create, caller);
        }
        if (request instanceof Request.Lookup lookup) {
            return locate(lookup.name(), caller).thenApply(Located::reply);
        }
        if (request instanceof Request.Unlink unlink) {
            return locate(unlink.name(), caller).thenCompose(found -> {
                if (found.volume() == null) {
                    return CompletableFuture.completedFuture(found.reply());
                }
                forget(unlink.name());
                return send(found.volume(), request, caller);
            });
        }
        return list(caller);
    }

    private CompletionStage<Reply> create(Request.Create create, Caller caller) {
        List<String> serving = view.volumesServing();
        String target = create.volume() != null ? create.volume() : Rendezvous.pick(create.name(), serving);
        if (create.volume() != null && !serving.contains(target)) {
            VolumeView.Owner owner = view.ownerOf(target);
            return CompletableFuture.completedFuture(owner == null
                    ? new Reply.Error(Errno.EINVAL, "no member of the cluster mounts volume " + target)
                    : new Reply.Error(Errno.EHOSTDOWN, "the node serving volume " + target + " (" + owner.address() + ") is "
                            + (owner.reachable() ? owner.status() : "unreachable")));
        }
        List<CompletableFuture<Located>> elsewhere = new ArrayList<>();
        for (String v : serving) {
            if (!v.equals(target)) {
                elsewhere.add(ask(v, new Request.Lookup(create.name()), caller).toCompletableFuture());
            }
        }
        return CompletableFuture.allOf(elsewhere.toArray(CompletableFuture[]::new)).thenCompose(all -> {
            Reply.Error unasked = null;
            for (CompletableFuture<Located> f : elsewhere) {
                Located l = f.join();
                if (l.reply() instanceof Reply.InodeInfo existing) {
                    remember(create.name(), l.volume());
                    return CompletableFuture.completedFuture(create.exclusive()
                            ? new Reply.Error(Errno.EEXIST, "'" + create.name() + "' exists (on volume " + l.volume() + ")")
                            : existing);
                }
                if (l.reply() instanceof Reply.Error e && e.errno() == Errno.EHOSTDOWN) {
                    unasked = e;
                }
            }
            if (unasked != null) {
                // a volume that could not be asked may hold the name: creating it here could make it twice
                return CompletableFuture.completedFuture(new Reply.Error(Errno.EHOSTDOWN, "cannot tell whether '" + create.name()
                        + "' exists elsewhere: " + unasked.message()));
            }
            return send(target, create, caller).thenApply(reply -> {
                if (reply instanceof Reply.InodeInfo) {
                    remember(create.name(), target);
                }
                return reply;
            });
        });
    }

    /** The name's file: asked of each volume serving, in order of likelihood, until one has it. */
    private CompletionStage<Located> locate(String name, Caller caller) {
        List<String> serving = view.volumesServing();
        List<String> order = new ArrayList<>();
        String cached = cachedVolume(name);
        if (cached != null && serving.contains(cached)) {
            order.add(cached);
        }
        String hashed = Rendezvous.pick(name, serving);
        if (!order.contains(hashed)) {
            order.add(hashed);
        }
        serving.stream().filter(v -> !order.contains(v)).forEach(order::add);
        Reply.Error unseen = cached == null || serving.contains(cached) ? null
                : new Reply.Error(Errno.EHOSTDOWN, "'" + name + "' is on volume " + cached + ", whose node is not serving");
        return next(name, caller, order, 0, unseen);
    }

    /**
     * Asks {@code order[i]}, then the rest. {@code unseen} is why the name may exist where it could
     * not be looked up (its volume's node not serving or not answering), which is the answer, not
     * ENOENT, when no volume has it.
     */
    private CompletionStage<Located> next(String name, Caller caller, List<String> order, int i, Reply.Error unseen) {
        if (i == order.size()) {
            Reply miss = unseen != null ? unseen : new Reply.Error(Errno.ENOENT, "no file named '" + name + "'");
            return CompletableFuture.completedFuture(new Located(null, miss));
        }
        return ask(order.get(i), new Request.Lookup(name), caller).thenCompose(l -> {
            if (l.reply() instanceof Reply.InodeInfo) {
                remember(name, l.volume());
                return CompletableFuture.completedFuture(l);
            }
            if (l.reply() instanceof Reply.Error e && e.errno() == Errno.EHOSTDOWN) {
                return next(name, caller, order, i + 1, unseen != null ? unseen : e);
            }
            if (l.reply() instanceof Reply.Error e && e.errno() != Errno.ENOENT) {
                return CompletableFuture.completedFuture(new Located(null, e)); // a bad name: every volume says the same
            }
            return next(name, caller, order, i + 1, unseen);
        });
    }

    /** Every serving volume's listing, merged by name; a volume that fails to answer is left out. */
    private CompletionStage<Reply> list(Caller caller) {
        List<CompletableFuture<Reply>> all = new ArrayList<>();
        for (String v : view.volumesServing()) {
            all.add(send(v, new Request.ListFiles(), caller).toCompletableFuture());
        }
        return CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<Reply.DirEntry> entries = new ArrayList<>();
            for (CompletableFuture<Reply> f : all) {
                if (f.join() instanceof Reply.FileList l) {
                    entries.addAll(l.entries());
                }
            }
            entries.sort(Comparator.comparing(Reply.DirEntry::name));
            return new Reply.FileList(entries);
        });
    }

    private CompletionStage<Located> ask(String volume, Request request, Caller caller) {
        return send(volume, request, caller).thenApply(reply -> new Located(volume, reply));
    }

    private CompletionStage<Reply> send(String volume, Request request, Caller caller) {
        return router.send(volume, VolumeDoors.namespaceEntity(volume), request, caller);
    }

    private synchronized String cachedVolume(String name) {
        return volumeOfName.get(name);
    }

    private synchronized void remember(String name, String volume) {
        volumeOfName.put(name, volume);
    }

    private synchronized void forget(String name) {
        volumeOfName.remove(name);
    }
}
