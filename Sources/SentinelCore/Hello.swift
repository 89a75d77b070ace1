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
        let fields = payload.utf8.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false)
        guard fields.count == 8,
              !fields[4].isEmpty,
              let sentinelHost = host(fields[0], acceptHostnames),
              let sentinelPort = port(fields[1]),
              fields[2].count == 40,
              let currentEpoch = ASCIINumber.uint64(fields[3]),
              let masterHost = host(fields[5], acceptHostnames),
              let masterPort = port(fields[6]),
              let masterConfigEpoch = ASCIINumber.uint64(fields[7])
        else { return nil }
        return Hello(
            sentinelAddress: Address(sentinelHost, sentinelPort),
            runID: String(Substring(fields[2])),
            currentEpoch: currentEpoch,
            masterName: String(Substring(fields[4])),
            masterAddress: Address(masterHost, masterPort),
            masterConfigEpoch: masterConfigEpoch)
    }

    /// The text to publish; `parse(payload)` gives this hello back.
    public var payload: String {
        "\(sentinelAddress.host),\(sentinelAddress.port),\(runID),\(currentEpoch),"
            + "\(masterName),\(masterAddress.host),\(masterAddress.port),\(masterConfigEpoch)"
    }

    private static func host(_ text: Substring.UTF8View, _ acceptHostnames: Bool) -> String? {
        let host = String(Substring(text))
        if let ip = IPAddress.normalizeNumericHost(host) { return ip }
        return acceptHostnames && HostName.isValid(host) ? host : nil
    }

    private static func port(_ text: Substring.UTF8View) -> Int? {
        guard let n = ASCIINumber.uint64(text), (1...65535).contains(n) else { return nil }
        return Int(n)
    }
}
