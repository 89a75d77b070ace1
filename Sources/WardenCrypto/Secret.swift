/// A password or token: kept as the exact bytes it was given (no Unicode
/// normalisation, no repair of invalid UTF-8), compared in constant time, and
/// never printed: its description is `******`.
public struct Secret: Sendable, Equatable, ExpressibleByStringLiteral, CustomStringConvertible, CustomDebugStringConvertible {
    public let bytes: [UInt8]

    public init<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        self.bytes = Array(bytes)
    }

    public init(_ text: String) {
        self.bytes = Array(text.utf8)
    }

    public init(stringLiteral text: String) {
        self.init(text)
    }

    public var isEmpty: Bool { bytes.isEmpty }

    /// Whether `candidate` is exactly this secret, byte for byte, in constant time.
    public func matches<C: Collection>(_ candidate: C) -> Bool where C.Element == UInt8 {
        constantTimeEqual(bytes, candidate)
    }

    public static func == (a: Secret, b: Secret) -> Bool { a.matches(b.bytes) }

    public var description: String { "******" }
    public var debugDescription: String { "Secret(******)" }
}
