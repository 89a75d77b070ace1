import Glibc

/// Identifies a timer scheduled with `EventLoop.schedule(afterMs:_:)`, so it can be cancelled.
public struct TimerID: Hashable, Sendable {
    let raw: UInt64
}

/// Why a `Connection` is gone; passed to its `onClose` exactly once.
public enum CloseReason: Equatable, Sendable {
    /// The peer closed its side (read returned end of file).
    case closedByPeer
    /// `close()` or `closeAfterWriting()` on this side.
    case closedLocally
    /// An outgoing connect (and its TLS handshake, if any) or the TLS handshake of an accepted
    /// connection did not complete in time.
    case timeout
    /// The unsent output grew past `Connection.outputLimit`.
    case outputLimit
    /// A system call failed with this errno (for example ECONNREFUSED, ECONNRESET, EINVAL for a bad address).
    case error(Int32)
    /// The TLS handshake or session failed: OpenSSL's reason ("certificate verify failed", a
    /// protocol mismatch, a peer that does not speak TLS).
    case tlsFailed(String)
}

/// A failure to set up a socket, thrown by `EventLoop.listen`.
public enum SocketError: Error, Equatable, CustomStringConvertible {
    /// The host is not an IPv4 or IPv6 literal (or the port is out of range).
    case invalidAddress(String)
    /// A system call failed.
    case system(call: String, errno: Int32)

    public var description: String {
        switch self {
        case .invalidAddress(let address):
            return "invalid address '\(address)'"
        case .system(let call, let code):
            return "\(call): \(errnoDescription(code))"
        }
    }
}

/// "Connection refused (errno 111)".
func errnoDescription(_ code: Int32) -> String {
    guard let text = strerror(code) else { return "errno \(code)" }
    return "\(String(cString: text)) (errno \(code))"
}
