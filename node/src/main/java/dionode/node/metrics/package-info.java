/**
 * What operators scrape: the node's {@code stats} counters, latency histograms and health over
 * HTTP in the Prometheus text format ({@code serve --metrics}). The only package that knows the
 * Prometheus client; it reads a running node and changes nothing in it.
 */
package dionode.node.metrics;
