/**
 * What the admin commands ({@code dionode.cli}) and the client commands ({@code dionode.cli.client})
 * share: JSON string quoting for their one-line outputs and the size parser of their options. It
 * imports neither, so the two stay independent of each other (DESIGN §9).
 */
package dionode.cli.common;
