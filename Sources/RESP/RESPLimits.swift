/// Size limits applied by the RESP parsers, so that no peer can make Warden
/// buffer or allocate without bound.
///
/// The defaults are redis-server's, except `maxQueryBuffer`: Redis allows a
/// client 1 GB of query buffer, but every sentinel command is tiny, so Warden
/// caps one command (or one reply) at 1 MB.
public struct RESPLimits: Sendable, Equatable {
    /// The longest bulk string accepted (`proto-max-bulk-len`).
    public var maxBulkLength: Int
    /// The most elements in one multibulk or aggregate (pairs, for maps and attributes).
    public var maxMultibulkCount: Int
    /// The longest inline request, `*`/`$` header line or reply line (`PROTO_INLINE_MAX_SIZE`).
    public var maxInlineLength: Int
    /// The most bytes one command (request parser) or one reply (reply parser)
    /// may occupy on the wire, counted while it is still incomplete.
    public var maxQueryBuffer: Int
    /// How deep RESP aggregates may nest in a reply.
    public var maxNestingDepth: Int

    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxMultibulkCount: Int = 1024 * 1024,
        maxInlineLength: Int = 64 * 1024,
        maxQueryBuffer: Int = 1024 * 1024,
        maxNestingDepth: Int = 64
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxMultibulkCount = maxMultibulkCount
        self.maxInlineLength = maxInlineLength
        self.maxQueryBuffer = maxQueryBuffer
        self.maxNestingDepth = maxNestingDepth
    }

    /// Redis's limits, with Warden's 1 MB per-command cap.
    public static let `default` = RESPLimits()
}
