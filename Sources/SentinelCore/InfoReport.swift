/// The fields of a redis-server `INFO` reply that a sentinel acts on.
///
/// `parse` reads the reply as bytes, line by line, and never fails: lines it does
/// not know, and known lines whose value does not parse, are skipped, so a field
/// is `nil` when the reply did not state it usably. It reports what the text says
/// and leaves the sentinel's rules (which fields count for a master, what a role
/// change means) to the state machine. Redis reads `master_host` and the other
/// replica fields only after `role:slave`; this parser reads them wherever they are.
public struct InfoReport: Equatable, Sendable {
    /// The role an instance reports in `role:`.
    public enum Role: Equatable, Sendable {
        case master
        case replica
    }

    /// One `slaveN:` line of a master's replication section.
    public struct ReplicaLine: Equatable, Sendable {
        public var ip: String
        public var port: Int
        /// `online`, `wait_bgsave`, `send_bulk`, ...; `nil` if the line has no state.
        public var state: String?
        /// The replication offset the replica acknowledged; absent in the old form.
        public var offset: Int64?

        public init(ip: String, port: Int, state: String? = nil, offset: Int64? = nil) {
            self.ip = ip
            self.port = port
            self.state = state
            self.offset = offset
        }
    }

    /// `run_id`: the first 40 characters of the value, as Redis takes them.
    public var runID: String? = nil
    /// `role:master` or `role:slave`.
    public var role: Role? = nil
    /// The `slaveN:` lines in reply order.
    public var replicas: [ReplicaLine] = []
    public var masterHost: String? = nil
    public var masterPort: Int? = nil
    /// `master_link_status`: `up` (any case) is true, any other value false, as in Redis.
    public var masterLinkUp: Bool? = nil
    /// `master_link_down_since_seconds`; nil when absent or negative (Redis prints -1
    /// for a link that was never up).
    public var masterLinkDownSinceSeconds: Int64? = nil
    /// `slave_priority` (or `replica_priority`, its newer spelling).
    public var replicaPriority: Int? = nil
    /// `slave_repl_offset`.
    public var replicaReplOffset: Int64? = nil
    /// `replica_announced` (or `replica-announced`): non-zero is true.
    public var replicaAnnounced: Bool? = nil
    /// `master_repl_offset`.
    public var masterReplOffset: Int64? = nil
    /// `master_failover_state` (Redis 6.2+): `no-failover`, `waiting-for-sync`,
    /// `failover-in-progress`.
    public var masterFailoverState: String? = nil
    /// `redis_version`.
    public var redisVersion: String? = nil
    /// `loading`: non-zero is true.
    public var loading: Bool? = nil

    public init() {}

    /// Parses the text of an `INFO` reply (lines end in `\r\n` or `\n`).
    public static func parse(_ text: String) -> InfoReport {
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    /// Parses an `INFO` reply as it arrives in a bulk string, without making a `String`.
    public static func parse(_ bytes: [UInt8]) -> InfoReport {
        bytes.withUnsafeBufferPointer { parse(bytes: $0) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> InfoReport {
        var report = InfoReport()
        var lineStart = 0
        let end = bytes.count
        while lineStart < end {
            var lineEnd = lineStart
            while lineEnd < end && bytes[lineEnd] != UInt8(ascii: "\n") { lineEnd += 1 }
            let next = lineEnd + 1
            if lineEnd > lineStart && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            report.apply(line: bytes[lineStart..<lineEnd])
            lineStart = next
        }
        return report
    }

    private mutating func apply(line: Slice<UnsafeBufferPointer<UInt8>>) {
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return }
        let key = line[line.startIndex..<colon]
        let value = line[(colon + 1)...]
        if key.isSlaveLineKey {
            if let replica = Self.replicaLine(value) { replicas.append(replica) }
            return
        }
        // Dispatch on the key's length first: most of the ~200 lines of a reply
        // are rejected by that comparison alone.
        switch key.count {
        case 4:
            if key.equals("role") {
                if value.equals("master") {
                    role = .master
                } else if value.equals("slave") {
                    role = .replica
                }
            }
        case 6:
            if key.equals("run_id") && value.count >= 40 {
                runID = String(decoding: value.prefix(40), as: UTF8.self)
            }
        case 7:
            if key.equals("loading") {
                loading = ASCIINumber.int64(value).map { $0 != 0 }
            }
        case 11:
            if key.equals("master_host") {
                masterHost = String(decoding: value, as: UTF8.self)
            } else if key.equals("master_port") {
                masterPort = Self.validPort(value)
            }
        case 13:
            if key.equals("redis_version") {
                redisVersion = String(decoding: value, as: UTF8.self)
            }
        case 14:
            if key.equals("slave_priority") {
                replicaPriority = ASCIINumber.int64(value).flatMap { Int(exactly: $0) }
            }
        case 16:
            if key.equals("replica_priority") {
                replicaPriority = ASCIINumber.int64(value).flatMap { Int(exactly: $0) }
            }
        case 17:
            if key.equals("slave_repl_offset") {
                replicaReplOffset = ASCIINumber.int64(value)
            } else if key.equals("replica_announced") || key.equals("replica-announced") {
                replicaAnnounced = ASCIINumber.int64(value).map { $0 != 0 }
            }
        case 18:
            if key.equals("master_link_status") {
                masterLinkUp = value.count == 2
                    && value[value.startIndex] | 0x20 == UInt8(ascii: "u")
                    && value[value.startIndex + 1] | 0x20 == UInt8(ascii: "p")
            } else if key.equals("master_repl_offset") {
                masterReplOffset = ASCIINumber.int64(value)
            }
        case 21:
            if key.equals("master_failover_state") {
                masterFailoverState = String(decoding: value.prefix(32), as: UTF8.self)
            }
        case 30:
            if key.equals("master_link_down_since_seconds") {
                masterLinkDownSinceSeconds = ASCIINumber.int64(value).flatMap { $0 < 0 ? nil : $0 }
            }
        default:
            break
        }
    }

    /// The value of a `slaveN:` line, in either of its forms:
    /// `ip=10.0.0.2,port=6379,state=online,offset=123,lag=0` (Redis 2.8 and later) or
    /// `10.0.0.2,6379,online` (older). Lines without a usable ip and port are dropped.
    private static func replicaLine(_ value: Slice<UnsafeBufferPointer<UInt8>>) -> ReplicaLine? {
        var fields: [Slice<UnsafeBufferPointer<UInt8>>] = []
        fields.reserveCapacity(5)
        var start = value.startIndex
        for i in value.indices where value[i] == UInt8(ascii: ",") {
            fields.append(value[start..<i])
            start = i + 1
        }
        fields.append(value[start..<value.endIndex])

        let isKeyed = fields.contains { $0.starts(with: "ip=".utf8) }
        if !isKeyed {
            // Redis needs two commas here: ip, port and a state after them.
            guard fields.count >= 3, !fields[0].isEmpty, let port = validPort(fields[1]) else {
                return nil
            }
            return ReplicaLine(ip: String(decoding: fields[0], as: UTF8.self), port: port,
                               state: String(decoding: fields[2], as: UTF8.self))
        }
        var ip: String? = nil
        var port: Int? = nil
        var state: String? = nil
        var offset: Int64? = nil
        for field in fields {
            guard let eq = field.firstIndex(of: UInt8(ascii: "=")) else { continue }
            let name = field[field.startIndex..<eq]
            let text = field[(eq + 1)...]
            if name.equals("ip") {
                ip = String(decoding: text, as: UTF8.self)
            } else if name.equals("port") {
                port = validPort(text)
            } else if name.equals("state") {
                state = String(decoding: text, as: UTF8.self)
            } else if name.equals("offset") {
                offset = ASCIINumber.int64(text)
            }
        }
        guard let ip, !ip.isEmpty, let port else { return nil }
        return ReplicaLine(ip: ip, port: port, state: state, offset: offset)
    }

    /// A port as a replica line states it. 0 is allowed: a master lists a replica
    /// whose listening port it does not know yet with port 0.
    private static func validPort(_ text: Slice<UnsafeBufferPointer<UInt8>>) -> Int? {
        guard let n = ASCIINumber.int64(text), (0...65535).contains(n) else { return nil }
        return Int(n)
    }
}

extension Slice where Base == UnsafeBufferPointer<UInt8> {
    /// Byte-wise equality with an ASCII literal.
    fileprivate func equals(_ literal: StaticString) -> Bool {
        guard count == literal.utf8CodeUnitCount else { return false }
        let other = UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount)
        var j = 0
        for byte in self {
            if byte != other[j] { return false }
            j += 1
        }
        return true
    }

    /// `slave` followed by one or more digits: the key of a replica line.
    fileprivate var isSlaveLineKey: Bool {
        guard count > 5, starts(with: "slave".utf8) else { return false }
        return dropFirst(5).allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }
}

/// Strict decimal numbers from ASCII bytes: an optional `-` (signed only) and at
/// least one digit, nothing else, no overflow. Shared by the INFO and hello parsers.
enum ASCIINumber {
    static func int64<C: Collection>(_ bytes: C) -> Int64? where C.Element == UInt8 {
        var rest = bytes[...]
        let negative = rest.first == UInt8(ascii: "-")
        if negative { rest = rest.dropFirst() }
        guard let magnitude = uint64(rest) else { return nil }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        return Int64(exactly: magnitude)
    }

    static func uint64<C: Collection>(_ bytes: C) -> UInt64? where C.Element == UInt8 {
        guard !bytes.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = sum
        }
        return value
    }
}
