/// Why a request or response could not be parsed. For a request, `status` is the
/// status to answer with before closing the connection (400, 413, 414, 417, 431,
/// 501, 505); a response parser always uses 502 (the peer sent something invalid).
/// Once a parser has thrown, it throws the same error on every later call.
public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: Int
    public let reason: String

    public init(status: Int, _ reason: String) {
        self.status = status
        self.reason = reason
    }

    public var description: String { "\(status) \(reason)" }

    static func badRequest(_ reason: String) -> HTTPParseError { HTTPParseError(status: 400, reason) }
    static func tooLarge(_ reason: String) -> HTTPParseError { HTTPParseError(status: 413, reason) }
    static func headersTooLarge(_ reason: String) -> HTTPParseError { HTTPParseError(status: 431, reason) }
}
