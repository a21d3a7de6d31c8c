/**
 * picocli converters shared by the command lines: {@code dionode}'s admin commands
 * ({@code dionode.cli}), its client commands ({@code dionode.cli.client}) and load-gen. They adapt
 * the parsers of {@code dionode.protocol.util} and import nothing else of dionode, so every
 * command line may depend on this package and it on none of them.
 */
package dionode.cli.option;
