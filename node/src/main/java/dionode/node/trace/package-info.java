/**
 * Where each request's time in the node goes: the stages a request passes, its trace, and the
 * node-wide per-stage latency window {@code stats} shows. Plain Java over HdrHistogram; imports no
 * other dionode package but protocol's messages.
 */
package dionode.node.trace;
