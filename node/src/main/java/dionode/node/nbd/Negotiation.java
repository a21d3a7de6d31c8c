package dionode.node.nbd;

/**
 * What a connection's options have agreed on so far: structured replies, and the metadata
 * contexts the last NBD_OPT_SET_META_CONTEXT selected, for which export. Immutable: each option
 * answers with the next value, and the decoder, which reads one option at a time, keeps it.
 *
 * @param structured NBD_OPT_STRUCTURED_REPLY was acknowledged
 * @param metaExport the export name of the last SET_META_CONTEXT (null: none was sent, or it failed)
 * @param baseAllocation that SET_META_CONTEXT selected {@code base:allocation}
 */
record Negotiation(boolean structured, String metaExport, boolean baseAllocation) {
    /** Before any option: simple replies, no context. */
    static final Negotiation NONE = new Negotiation(false, null, false);
    /**
     * The id of {@code base:allocation} in SET_META_CONTEXT replies and block status chunks. Ids are
     * the server's choice (transient, opaque to the client); LIST_META_CONTEXT replies carry 0.
     */
    static final int BASE_ALLOCATION_ID = 1;

    Negotiation withStructuredReplies() {
        return new Negotiation(true, metaExport, baseAllocation);
    }

    /** The outcome of a SET_META_CONTEXT: it replaces the previous selection, even when it fails. */
    Negotiation withMetaContext(String export, boolean selected) {
        return new Negotiation(structured, export, selected);
    }

    /**
     * Whether NBD_CMD_BLOCK_STATUS may be used on {@code export}: structured replies, and the last
     * SET_META_CONTEXT named this very export and selected {@code base:allocation} (the spec binds the
     * selection to the export name later given to GO or EXPORT_NAME).
     */
    boolean blockStatusFor(String export) {
        return structured && baseAllocation && export.equals(metaExport);
    }
}
