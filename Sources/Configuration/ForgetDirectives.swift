import SentinelCore

/// Warden's per-master forgetting directives (see docs/forgetting.md):
///
///     sentinel auto-forget-after <master> <ms>          0 (default): off
///     sentinel forgotten-sentinel <master> <runid> <ip> <port> <until-ms> <awaiting>
///     sentinel forgotten-replica <master> <ip> <port> <until-ms> <awaiting>
///
/// The last two are state the sentinel writes itself (tombstones): `until-ms` is the
/// wall-clock time the tombstone goes (0: not confirmed yet, never expires), and
/// `awaiting` the comma-separated run ids of the peers that have not confirmed yet,
/// or `-` for none.
extension ConfigParser.SentinelState {
    func applyForgetting(_ sub: String, _ args: [String], to master: inout MasterConfig) throws(ConfigParser.Failure) {
        switch sub {
        case "auto-forget-after":
            let ms = try milliseconds(args[1], of: sub)
            guard ms == 0 || ForgetSettings.autoForgetRange.contains(ms) else {
                throw ConfigParser.Failure("auto-forget-after must be 0 (off) or between \(ForgetSettings.autoForgetRange.lowerBound) and \(ForgetSettings.autoForgetRange.upperBound) ms.")
            }
            master.forgetting.autoForgetAfter = ms
        case "forgotten-sentinel":
            guard args[1].utf8.count == runIDLength else { throw ConfigParser.Failure("Malformed Sentinel id in forgotten-sentinel.") }
            guard !master.forgetting.sentinels.contains(where: { $0.runID == args[1] }) else {
                throw ConfigParser.Failure("Duplicate runid for forgotten sentinel.")
            }
            guard master.forgetting.sentinels.count < ForgetSettings.maxSentinels else {
                throw ConfigParser.Failure("Too many forgotten sentinels for one master.")
            }
            let address = try forgottenAddress(args[2], args[3])
            master.forgetting.sentinels.append(ForgottenSentinel(
                runID: args[1], address: address, awaiting: try awaiting(args[5]), until: try until(args[4])))
        default:
            guard master.forgetting.replicas.count < ForgetSettings.maxReplicas else {
                throw ConfigParser.Failure("Too many forgotten replicas for one master.")
            }
            let address = try instanceAddress(args[1], args[2])
            master.forgetting.replicas.append(ForgottenReplica(
                address: address, awaiting: try awaiting(args[4]), until: try until(args[3])))
        }
    }

    /// A forgotten sentinel never heard of has no address: `0.0.0.0 0`.
    private func forgottenAddress(_ host: String, _ port: String) throws(ConfigParser.Failure) -> Address {
        if port == "0" { return Address(IPAddress.normalizeNumericHost(host) ?? "0.0.0.0", 0) }
        return try instanceAddress(host, port)
    }

    private func until(_ text: String) throws(ConfigParser.Failure) -> Millis {
        guard let v = Millis(text), v >= 0 else { throw ConfigParser.Failure("Invalid tombstone time '\(text)'.") }
        return v
    }

    private func awaiting(_ text: String) throws(ConfigParser.Failure) -> [String] {
        if text == "-" { return [] }
        let ids = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        guard ids.count <= 1024, ids.allSatisfy({ $0.utf8.count == runIDLength }) else {
            throw ConfigParser.Failure("Invalid list of run ids '\(text)'.")
        }
        return ids
    }
}

extension ConfigParser {
    /// The lines `ConfigRewriter` writes for a master's forgetting state, as
    /// (option, arguments) after `sentinel`.
    public static func forgettingLines(_ m: MasterConfig) -> [(String, [String])] {
        var lines: [(String, [String])] = []
        let f = m.forgetting
        if f.autoForgetAfter != 0 { lines.append(("auto-forget-after", [m.name, String(f.autoForgetAfter)])) }
        func list(_ ids: [String]) -> String { ids.isEmpty ? "-" : ids.joined(separator: ",") }
        for t in f.sentinels {
            lines.append(("forgotten-sentinel", [m.name, t.runID, t.address.host, String(t.address.port), String(t.until), list(t.awaiting)]))
        }
        for r in f.replicas {
            lines.append(("forgotten-replica", [m.name, r.address.host, String(r.address.port), String(r.until), list(r.awaiting)]))
        }
        return lines
    }
}
