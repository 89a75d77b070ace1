/// Host names (`resolve-hostnames yes`): an instance's address may be a name, as
/// configured, listed by a master's INFO (a replica's `replica-announce-ip`) or
/// announced in a hello. As in Redis, every address keeps the name it was given and
/// the IP it resolves to:
/// - replies, events, hellos, SLAVEOF targets and the saved file show the name with
///   `announce-hostnames yes`, the IP otherwise (`announced`);
/// - two addresses are the same when their names or their IPs are (`sameAddress`).
///
/// Resolving is I/O, so the core asks for it (`Effect.resolve`, answered by
/// `Input.resolved`): when an instance with a name is added, again at each
/// reconnect (a name may move to another IP), and for names that INFO and hellos
/// mention. Connecting resolves in the driver too, at every attempt. SENTINEL
/// MONITOR by name waits for the answer and refuses a name that does not resolve,
/// as redis-sentinel does; at start-up the daemon refuses the configuration. A name
/// that stops resolving later is retried, never fatal.
extension Sentinel {
    /// What the resolver last said about a name (nil: it does not resolve), and when.
    struct Resolution {
        var ip: String?
        var at: Millis
    }

    /// The IP `host` stands for: itself when it is an IP literal, the cached answer
    /// for a name (nil while unresolved).
    func ip(of host: String) -> String? {
        if let literal = IPAddress.normalizeNumericHost(host) { return literal }
        return resolutions[host.lowercased()]?.ip
    }

    /// Whether `host` is a name rather than an IP literal.
    static func isName(_ host: String) -> Bool {
        IPAddress.normalizeNumericHost(host) == nil
    }

    /// The host to show for an address: its name with announce-hostnames, its IP
    /// otherwise (the name while it does not resolve).
    func announced(_ host: String) -> String {
        settings.announceHostnames ? host : (ip(of: host) ?? host)
    }

    func announced(_ a: Address) -> Address {
        Address(announced(a.host), a.port)
    }

    /// Redis's `sentinelAddrOrHostnameEqual`: same port, and the same name or the same IP.
    func sameAddress(_ a: Address, _ b: Address) -> Bool {
        a.port == b.port && sameHost(a.host, b.host)
    }

    /// The same host, by name (any case) or by IP when both resolve.
    func sameHost(_ a: String, _ b: String?) -> Bool {
        guard let b else { return false }
        if a.lowercased() == b.lowercased() { return true }
        guard let x = ip(of: a), let y = ip(of: b) else { return false }
        return x == y
    }

    /// Asks the driver to resolve `host` unless it is an IP literal, an answer is
    /// on its way, or one came less than `timing.resolvePeriod` ago.
    func requestResolution(_ host: String) {
        guard Self.isName(host), settings.resolveHostnames else { return }
        let key = host.lowercased()
        if resolving.contains(key) { return }
        if let known = resolutions[key], elapsed(since: known.at) < timing.resolvePeriod { return }
        resolving.insert(key)
        out.append(.resolve(host))
    }

    /// `Input.resolved`: records the answer, and runs again the commands that were
    /// waiting for it.
    func resolved(_ host: String, ip: String?) {
        let key = host.lowercased()
        resolving.remove(key)
        let normalized = ip.flatMap(IPAddress.normalizeNumericHost)
        if normalized == nil && ip != nil { return }  // not an IP: ignored
        resolutions[key] = Resolution(ip: normalized, at: now)
        let ready = awaitingFacts.filter { _, waiting in
            waiting.hosts.allSatisfy { !resolving.contains($0.lowercased()) }
        }
        for (id, waiting) in ready.sorted(by: { $0.key.raw < $1.key.raw }) {
            awaitingFacts[id] = nil
            command(id, waiting.args, executable: waiting.executable)
        }
    }

    /// A host a configuration or an INFO reply may name: an IP literal, or (with
    /// resolve-hostnames) a name.
    func acceptableHost(_ host: String) -> Bool {
        acceptedHost(host) != nil
    }

    /// `host` in the form an address keeps it (see `HostName.accepted`), under this
    /// sentinel's resolve-hostnames.
    func acceptedHost(_ host: String) -> String? {
        HostName.accepted(host, hostnames: settings.resolveHostnames)
    }
}

/// Host names as sentinel.conf, SENTINEL MONITOR and hellos accept them where
/// resolve-hostnames is on: syntactically valid DNS names (RFC 1123 labels; `_`
/// tolerated, as container networks use it). Nothing is resolved here.
public enum HostName {
    /// The form an address keeps a host in: an IP literal in canonical form (as
    /// getaddrinfo with AI_NUMERICHOST reads it), or, with `hostnames`
    /// (resolve-hostnames), a valid host name as given; nil for anything else.
    public static func accepted(_ host: String, hostnames: Bool) -> String? {
        if let ip = IPAddress.normalizeNumericHost(host) { return ip }
        return hostnames && isValid(host) ? host : nil
    }

    public static func isValid(_ host: String) -> Bool {
        let bytes = Array(host.utf8)
        guard !bytes.isEmpty, bytes.count <= 253 else { return false }
        for label in bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
            guard !label.isEmpty, label.count <= 63,
                  label.first != UInt8(ascii: "-"), label.last != UInt8(ascii: "-") else { return false }
            for byte in label {
                let ok = (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z"))
                    || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
                    || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
                    || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
                guard ok else { return false }
            }
        }
        return true
    }
}
