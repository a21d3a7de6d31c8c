/**
 * The client subcommands of {@code dionode} (put, get, stat, fiemap, ls, rm, truncate, fallocate,
 * punch, sync, chmod, stats): each a {@link dionode.cli.client.ClientCommand} talking to one node
 * over a {@link dionode.protocol.client.NodeApi} (one node, or several members of a cluster). A failed request prints
 * {@code dionode CMD: ERRNO: message} on stderr and exits 1; usage errors exit 2.
 */
package dionode.cli.client;
