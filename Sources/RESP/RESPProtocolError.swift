/// Why a RESP parser gave up on a byte stream. After an error the stream is
/// out of step, so the parser keeps throwing it and the connection should close.
public enum RESPProtocolError: Error, Equatable {
    /// A malformed stream. The message is what redis-server writes after
    /// `-ERR Protocol error: `, e.g. `invalid bulk length`.
    case protocolError(String)
    /// The peer sent more than `RESPLimits.maxQueryBuffer` bytes for one command
    /// or reply. Redis closes such a connection without replying.
    case queryBufferLimit

    /// The error reply to send before closing (`ERR Protocol error: <message>`),
    /// or nil when the connection is closed without a reply.
    public var replyText: String? {
        switch self {
        case .protocolError(let message): return "ERR Protocol error: \(message)"
        case .queryBufferLimit: return nil
        }
    }
}

extension RESPProtocolError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .protocolError(let message): return "Protocol error: \(message)"
        case .queryBufferLimit: return "query buffer limit exceeded"
        }
    }
}
