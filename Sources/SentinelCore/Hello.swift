/// A sentinel's hello: what it publishes every couple of seconds on
/// `__sentinel__:hello` of each instance it monitors, to announce itself to the
/// other sentinels and spread its view of the master's configuration.
///
/// On the wire it is one line of eight comma-separated fields:
/// `sentinel_ip,sentinel_port,sentinel_runid,current_epoch,master_name,master_ip,master_port,master_config_epoch`.
/// Splitting on `,` is safe for IPv6 addresses, which contain `:` but never `,`.
public struct Hello: Equatable, Sendable {
    /// Where the publishing sentinel says it can be reached (its announce address).
    public var sentinelAddress: Address
    /// The publishing sentinel's 40-character id.
    public var runID: String
    public var currentEpoch: UInt64
    public var masterName: String
    /// The master's address as the publisher currently knows it.
    public var masterAddress: Address
    /// The configuration epoch of that address.
    public var masterConfigEpoch: UInt64

    public init(sentinelAddress: Address, runID: String, currentEpoch: UInt64,
                masterName: String, masterAddress: Address, masterConfigEpoch: UInt64) {
        self.sentinelAddress = sentinelAddress
        self.runID = runID
        self.currentEpoch = currentEpoch
        self.masterName = masterName
        self.masterAddress = masterAddress
        self.masterConfigEpoch = masterConfigEpoch
    }

    /// Reads a hello payload. Returns nil unless there are exactly eight fields, the
    /// master name is non-empty, both ports are decimal numbers in 1...65535, the run
    /// id has 40 bytes, both epochs are unsigned decimals, and both hosts are IP
    /// literals or, with `acceptHostnames` (resolve-hostnames), valid host names.
    ///
    /// IP literals are taken as redis-sentinel takes them (getaddrinfo with
    /// AI_NUMERICHOST) and kept in canonical form, so that an address from a hello
    /// is written to sentinel.conf as text the config parser reads back the same.
    public static func parse(_ payload: String, acceptHostnames: Bool = true) -> Hello? {
        var text = payload
        return text.withUTF8 { parse(bytes: $0, acceptHostnames) }
    }

    private typealias Field = Slice<UnsafeBufferPointer<UInt8>>

    /// The same over the payload's bytes: the eight fields are found in one pass,
    /// without an array of them.
    private static func parse(bytes: UnsafeBufferPointer<UInt8>, _ acceptHostnames: Bool) -> Hello? {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: 9) { starts -> Hello? in
            // Where each field starts, and (starts[8]) one past the end of the last.
            starts[0] = 0
            var commas = 0
            for (i, byte) in bytes.enumerated() where byte == UInt8(ascii: ",") {
                commas += 1
                guard commas < 8 else { return nil }
                starts[commas] = i + 1
            }
            guard commas == 7 else { return nil }
            starts[8] = bytes.count + 1
            return parse(fields: { bytes[starts[$0]..<(starts[$0 + 1] - 1)] }, acceptHostnames)
        }
    }

    private static func parse(fields field: (Int) -> Field, _ acceptHostnames: Bool) -> Hello? {
        let name = field(4)
        guard !name.isEmpty,
              let sentinelHost = host(field(0), acceptHostnames),
              let sentinelPort = port(field(1)),
              field(2).count == 40,
              let currentEpoch = ASCIINumber.uint64(field(3)),
              let masterHost = host(field(5), acceptHostnames),
              let masterPort = port(field(6)),
              let masterConfigEpoch = ASCIINumber.uint64(field(7))
        else { return nil }
        return Hello(
            sentinelAddress: Address(sentinelHost, sentinelPort),
            runID: String(decoding: field(2), as: UTF8.self),
            currentEpoch: currentEpoch,
            masterName: String(decoding: name, as: UTF8.self),
            masterAddress: Address(masterHost, masterPort),
            masterConfigEpoch: masterConfigEpoch)
    }

    /// Whether the run id field (the third) of a hello payload is `runID`, without
    /// reading the rest: our own hellos come back on every channel we publish on.
    public static func isSent(by runID: String, _ payload: String) -> Bool {
        let bytes = payload.utf8
        var commas = 0
        var start = bytes.startIndex
        var i = bytes.startIndex
        while i != bytes.endIndex {
            if bytes[i] == UInt8(ascii: ",") {
                commas += 1
                if commas == 2 {
                    start = bytes.index(after: i)
                } else if commas == 3 {
                    return bytes[start..<i].elementsEqual(runID.utf8)
                }
            }
            i = bytes.index(after: i)
        }
        return false
    }

    /// The text to publish; `parse(payload)` gives this hello back.
    public var payload: String {
        "\(sentinelAddress.host),\(sentinelAddress.port),\(runID),\(currentEpoch),"
            + "\(masterName),\(masterAddress.host),\(masterAddress.port),\(masterConfigEpoch)"
    }

    private static func host(_ text: Field, _ acceptHostnames: Bool) -> String? {
        HostName.accepted(String(decoding: text, as: UTF8.self), hostnames: acceptHostnames)
    }

    private static func port(_ text: Field) -> Int? {
        guard let n = ASCIINumber.uint64(text), (1...65535).contains(n) else { return nil }
        return Int(n)
    }
}
