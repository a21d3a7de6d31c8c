/**
 * TLS from PEM files, with the JDK's JSSE only: the node's and the clients' SSLContexts (TLS 1.3),
 * the key-file permission check, and a peer's identity (its certificate's subject CN). Imports no
 * dionode package.
 */
package dionode.protocol.tls;
