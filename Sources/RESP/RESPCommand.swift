/// One command to send to a server: its arguments as bytes, exactly as they go
/// on the wire (a password is sent as the bytes it was configured with, not as a
/// Swift String that would repair invalid UTF-8).
///
/// Written as an array literal of strings where the arguments are text:
/// `let c: RESPCommand = ["PING"]`.
public struct RESPCommand: Equatable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var arguments: [[UInt8]]

    public init(_ arguments: [[UInt8]]) {
        self.arguments = arguments
    }

    public init(_ strings: [String]) {
        self.arguments = strings.map { Array($0.utf8) }
    }

    public init(arrayLiteral elements: String...) {
        self.init(elements)
    }

    /// The arguments as text (invalid UTF-8 repaired): for tests, logs and fakes.
    public var strings: [String] { arguments.map { String(decoding: $0, as: UTF8.self) } }

    /// The command name, lower-cased.
    public var name: String { strings.first?.lowercased() ?? "" }

    /// Space-separated arguments, with the password of AUTH (and of HELLO ... AUTH)
    /// shown as `******`.
    public var description: String {
        var shown = strings
        if let first = shown.first?.lowercased(), first == "auth", shown.count > 1 {
            shown[shown.count - 1] = "******"
        } else if shown.first?.lowercased() == "hello",
                  let i = shown.firstIndex(where: { $0.lowercased() == "auth" }), i + 2 < shown.count {
            shown[i + 2] = "******"
        }
        return shown.joined(separator: " ")
    }
}

extension RESPEncoder {
    /// Appends a command as a client sends it: a multibulk of bulk strings.
    public static func encodeCommand(_ command: RESPCommand, into out: inout [UInt8]) {
        encodeCommand(command.arguments, into: &out)
    }
}
