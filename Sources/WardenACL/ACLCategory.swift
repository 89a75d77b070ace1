/// Redis 7.0's ACL command categories, in the order ACL CAT lists them (which is also
/// the order ACL LIST tries them when it describes a user's commands).
public enum ACLCategory: Int, CaseIterable, Sendable {
    case keyspace, read, write, set, sortedset, list, hash, string, bitmap, hyperloglog, geo, stream
    case pubsub, admin, fast, slow, blocking, dangerous, connection, transaction, scripting

    public var name: String {
        switch self {
        case .keyspace: return "keyspace"
        case .read: return "read"
        case .write: return "write"
        case .set: return "set"
        case .sortedset: return "sortedset"
        case .list: return "list"
        case .hash: return "hash"
        case .string: return "string"
        case .bitmap: return "bitmap"
        case .hyperloglog: return "hyperloglog"
        case .geo: return "geo"
        case .stream: return "stream"
        case .pubsub: return "pubsub"
        case .admin: return "admin"
        case .fast: return "fast"
        case .slow: return "slow"
        case .blocking: return "blocking"
        case .dangerous: return "dangerous"
        case .connection: return "connection"
        case .transaction: return "transaction"
        case .scripting: return "scripting"
        }
    }

    /// A category by name, any case.
    public init?(name: String) {
        let lower = name.lowercased()
        guard let found = Self.allCases.first(where: { $0.name == lower }) else { return nil }
        self = found
    }
}

/// A set of categories (a command's).
public struct ACLCategorySet: Sendable, Equatable {
    var bits: UInt32

    public init(_ categories: [ACLCategory]) {
        bits = categories.reduce(0) { $0 | (1 << UInt32($1.rawValue)) }
    }

    public func contains(_ category: ACLCategory) -> Bool {
        bits & (1 << UInt32(category.rawValue)) != 0
    }

    /// The members in ACL CAT order (how COMMAND INFO lists a command's categories).
    public var members: [ACLCategory] { ACLCategory.allCases.filter(contains) }
}
