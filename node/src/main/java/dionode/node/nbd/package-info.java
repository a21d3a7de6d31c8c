/**
 * The NBD front-end (Network Block Device protocol, fixed newstyle; simple replies, or structured
 * replies with the {@code base:allocation} context and block status when the client asks): real,
 * unmodified block clients (qemu-io, nbdcopy, nbdinfo, fio's nbd engine, the kernel's
 * nbd-client) drive the node. It is one more decoder in front of the same
 * {@link dionode.node.server.Dispatcher} as the native protocol: each export is a file of the
 * namespace, each NBD command one or more of the protocol's requests, served by the same inode
 * actors under the file's lock policy. {@link dionode.node.nbd.NbdServer} binds it.
 *
 * <p>Like {@code node.server}, it sits above the inode actors and imports only the protocol
 * records, the dispatcher and Pekko Streams.
 */
package dionode.node.nbd;
