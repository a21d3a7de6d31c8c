/**
 * Direct (O_DIRECT) I/O on the node's device: the one narrow native interface
 * ({@link dionode.node.device.NativeIO}) and its JNA implementation (its
 * fault-injecting twins are in the tests), the positional {@link dionode.node.device.BlockDevice},
 * creation of fully written device files, aligned buffers and the bounded
 * device I/O pool.
 *
 * <p>This package depends on nothing above it in the node (DESIGN.md section 9).
 * Only {@link dionode.node.device.JnaNativeIO} touches libc.
 */
package dionode.node.device;
