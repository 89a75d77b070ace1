import EventLoop
import RESP
import SentinelCore
import WardenCrypto
import WardenHTTP
import WardenHTTPIO
import WardenWebhooks

/// The HTTP/JSON API on `http-port`: the masters as this sentinel sees them, probes in
/// Patroni's style for load balancers and Kubernetes, the recent events (and a
/// Server-Sent Events stream of them), a manual failover or coordinated switchover
/// (HTTPSwitchover.swift), and /metrics. The shapes are
/// described in docs/openapi.yaml. Everything is answered on the loop from read-only views
/// of the core, between inputs; the failover is an ordinary SENTINEL FAILOVER command.
///
/// A bearer token (`http-token`) is needed for POSTs, and for every request with
/// `http-token-reads yes`; without a token POSTs are refused (403). It is compared in
/// constant time and never logged: the access log has the method, path and status only.
final class HTTPAPI {
    unowned let daemon: Daemon
    let server: HTTPServer
    private var router = Router<Route>()

    enum Access { case read, write }

    struct Route {
        let access: Access
        let handle: (HTTPAPI) -> (HTTPRequest, [String: String], HTTPResponder) -> Void
    }

    /// `?limit=` of GET /v1/events, at most (the feed keeps as many).
    static let maxEventLimit = EventFeed.capacity

    init(daemon: Daemon, settings: HTTPSettings) {
        self.daemon = daemon
        let limits = HTTPServerLimits(maxConnections: settings.maxConnections, requestTimeoutMs: settings.requestTimeoutMs,
                                      idleTimeoutMs: settings.idleTimeoutMs)
        var handle: ((HTTPRequest, HTTPResponder) -> Void)?
        server = HTTPServer(loop: daemon.loop, limits: limits) { request, responder in handle?(request, responder) }
        handle = { [unowned self] request, responder in self.handle(request, responder) }
        server.onResponse = { [unowned self] request, status in
            self.daemon.logger.log(.verbose, "HTTP \(request.method) \(Self.loggable(request.path)) \(status)")
        }
        router.add("GET", "/v1/masters", Route(access: .read, handle: { $0.masters }))
        router.add("GET", "/v1/masters/{name}", Route(access: .read, handle: { $0.master }))
        router.add("GET", "/v1/masters/{name}/primary", Route(access: .read, handle: { $0.primary }))
        router.add("GET", "/v1/masters/{name}/replica", Route(access: .read, handle: { $0.replica }))
        router.add("POST", "/v1/masters/{name}/failover", Route(access: .write, handle: { $0.failover }))
        router.add("POST", "/v1/masters/{name}/switchover", Route(access: .write, handle: { $0.switchover }))
        router.add("GET", "/v1/events", Route(access: .read, handle: { $0.events }))
        router.add("GET", "/v1/health", Route(access: .read, handle: { $0.health }))
        router.add("GET", "/v1/liveness", Route(access: .read, handle: { $0.liveness }))
        router.add("GET", "/v1/readiness", Route(access: .read, handle: { $0.readiness }))
        router.add("GET", "/metrics", Route(access: .read, handle: { $0.metrics }))
    }

    /// Listens on every `http-bind` address; on failure nothing stays open.
    func listen(_ settings: HTTPSettings) throws(StartupError) {
        for host in settings.bind {
            do {
                try server.listen(host: host, port: settings.port)
            } catch {
                server.close()
                throw StartupError("Could not create the HTTP listening socket \(host):\(settings.port): \(error)\n"
                    + "Failed listening on http-port \(settings.port), aborting.")
            }
        }
    }

    func close() {
        daemon.eventFeed.closeStreams()
        server.close()
    }

    /// A path as logged: at most 200 bytes, control characters replaced.
    static func loggable(_ path: String) -> String {
        String(decoding: path.utf8.prefix(200).map { $0 < 0x20 || $0 == 0x7F ? UInt8(ascii: "?") : $0 }, as: UTF8.self)
    }

    private func handle(_ request: HTTPRequest, _ responder: HTTPResponder) {
        switch router.match(method: request.method, path: request.path) {
        case .notFound:
            responder.respond(Self.error(404, "no such endpoint: \(request.method) \(Self.loggable(request.path))"))
        case .badPath:
            responder.respond(Self.error(400, "malformed path (bad percent-escape, or not UTF-8)"))
        case .methodNotAllowed(let allowed):
            var response = Self.error(405, "method \(request.method) not allowed here (allowed: \(allowed.joined(separator: ", ")))")
            response.headers.set("Allow", allowed.joined(separator: ", "))
            responder.respond(response)
        case .matched(let route, let parameters):
            if let refusal = authorize(request, route.access) { return responder.respond(refusal) }
            route.handle(self)(request, parameters, responder)
        }
    }

    // MARK: - Authorization

    /// Nil when the request may go on; else the 401 or 403 to answer.
    func authorize(_ request: HTTPRequest, _ access: Access) -> HTTPResponse? {
        let http = daemon.core.settings.http
        guard access == .write || http.tokenReads else { return nil }
        guard let token = http.token else {
            if access == .read { return nil }
            return Self.error(403, "POST requests are disabled: set http-token in sentinel.conf to enable them")
        }
        if let presented = Self.bearerToken(request.headers["authorization"]), token.matches(presented) { return nil }
        var response = Self.error(401, request.headers.contains("authorization")
            ? "invalid bearer token" : "a bearer token is required (Authorization: Bearer <http-token>)")
        response.headers.set("WWW-Authenticate", "Bearer realm=\"warden\"")
        return response
    }

    /// The token of `Authorization: Bearer <token>` (scheme in any case), as bytes.
    static func bearerToken(_ header: String?) -> [UInt8]? {
        guard let header else { return nil }
        let bytes = Array(header.utf8)
        guard bytes.count > 7, String(decoding: bytes[0..<6], as: UTF8.self).lowercased() == "bearer",
              bytes[6] == 0x20 else { return nil }
        let token = bytes[7...].drop { $0 == 0x20 }
        return token.isEmpty ? nil : Array(token)
    }

    // MARK: - Masters

    private var now: Millis { EventLoop.wallClockMs() }

    private func masters(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        let now = self.now
        let views = daemon.core.masterViews(now: now, withOffset: true)
        responder.respond(Self.json(200, ["masters": .array(views.map {
            APIJSON.master($0, failover: daemon.failovers.latest($0.name), now: now)
        })]))
    }

    private func master(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        guard let view = lookup(parameters, responder, withOffset: true) else { return }
        responder.respond(Self.json(200, APIJSON.master(view, failover: daemon.failovers.latest(view.name), now: now)))
    }

    private func lookup(_ parameters: [String: String], _ responder: HTTPResponder, withOffset: Bool = false) -> MasterView? {
        let name = parameters["name"] ?? ""
        guard let view = daemon.core.masterView(named: name, now: now, withOffset: withOffset) else {
            responder.respond(Self.error(404, "no such master: \(Self.loggable(name))"))
            return nil
        }
        return view
    }

    /// `host:port` from a query value: a host of letters, digits and `.-_`, or an IPv6
    /// address in brackets (`[::1]:6379`); a port of 1-65535 without leading zeros
    /// (the pattern docs/openapi.yaml gives).
    static func parseAddress(_ text: String) -> Address? {
        let bytes = Array(text.utf8)
        guard let colon = bytes.lastIndex(of: UInt8(ascii: ":")) else { return nil }
        let portBytes = bytes[(colon + 1)...]
        guard (1...5).contains(portBytes.count), portBytes.first != UInt8(ascii: "0"),
              portBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let port = Int(String(decoding: portBytes, as: UTF8.self)), (1...65535).contains(port) else { return nil }
        var hostBytes = bytes[..<colon]
        let bracketed = hostBytes.first == UInt8(ascii: "[")
        if bracketed {
            guard hostBytes.count > 2, hostBytes.last == UInt8(ascii: "]") else { return nil }
            hostBytes = hostBytes.dropFirst().dropLast()
            guard hostBytes.allSatisfy({ Self.isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return nil }
        } else {
            guard !hostBytes.isEmpty, hostBytes.allSatisfy({
                Self.isHex($0) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || "._-".utf8.contains($0)
            }) else { return nil }
        }
        let host = String(decoding: hostBytes, as: UTF8.self)
        return Address(IPAddress.normalize(host) ?? host, port)
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c | 0x20 >= 0x61 && c | 0x20 <= 0x66)
    }

    /// Characters of the `events` query value at most (and so at most 64 patterns).
    static let maxEventsParameter = 128

    /// The query, or a 400 answered for it.
    private func query(_ request: HTTPRequest, _ responder: HTTPResponder, allowed: Set<String>) -> HTTPQuery? {
        guard let query = HTTPQuery(request.query) else {
            responder.respond(Self.error(400, "malformed query string"))
            return nil
        }
        if let unknown = query.pairs.first(where: { !allowed.contains($0.name) }) {
            responder.respond(Self.error(400, "unknown query parameter '\(Self.loggable(unknown.name))'"))
            return nil
        }
        return query
    }

    /// Why this sentinel would not send clients to the master now (empty: healthy and agreed).
    func primaryProblems(_ view: MasterView, tilt: Bool) -> [String] {
        var reasons: [String] = []
        if tilt { reasons.append("tilt") }
        if view.flags.contains(.oDown) { reasons.append("o_down") }
        if view.flags.contains(.sDown) { reasons.append("s_down") }
        if view.flags.contains(.failoverInProgress) { reasons.append("failover_in_progress") }
        if view.flags.contains(.disconnected) { reasons.append("disconnected") }
        if view.infoAgeMs == nil { reasons.append("no_info_yet") }
        if view.roleReported != .master { reasons.append("reports_replica_role") }
        if !Self.agreed(view) { reasons.append("too_few_sentinels_reachable") }
        return reasons
    }

    /// This sentinel hears enough of the others (quorum − 1 of them) to know whether a
    /// failover happened elsewhere: an isolated sentinel's view is not an agreed one.
    static func agreed(_ view: MasterView) -> Bool {
        let reachable = view.sentinels.filter { $0.flags.isDisjoint(with: [.sDown, .disconnected]) }.count
        return reachable + 1 >= view.quorum
    }

    private func primary(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        guard let query = query(request, responder, allowed: ["address"]), let view = lookup(parameters, responder) else { return }
        var reasons = primaryProblems(view, tilt: daemon.core.tilt)
        if let wanted = query["address"] {
            guard let address = Self.parseAddress(wanted) else {
                return responder.respond(Self.error(400, "address must be host:port"))
            }
            if address != view.address { reasons.append("not_the_primary") }
        }
        let body: JSONObject = ["name": .string(view.name), "address": APIJSON.address(view.address),
                                "config_epoch": .int(Int64(clamping: view.configEpoch)), "healthy": .bool(reasons.isEmpty),
                                "reasons": .array(reasons.map(JSONValue.string))]
        responder.respond(Self.json(reasons.isEmpty ? 200 : 503, .object(body)))
    }

    private func replica(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        guard let query = query(request, responder, allowed: ["address", "lag"]),
              let view = lookup(parameters, responder, withOffset: true) else { return }
        var maxLag: Int64?
        if let text = query["lag"] {
            guard let lag = Int64(text), lag >= 0 else { return responder.respond(Self.error(400, "lag must be a number of bytes")) }
            maxLag = lag
        }
        var wanted: Address?
        if let text = query["address"] {
            guard let address = Self.parseAddress(text) else { return responder.respond(Self.error(400, "address must be host:port")) }
            wanted = address
        }
        var healthy: [JSONValue] = []
        for r in view.replicas where r.announced && (wanted == nil || r.address == wanted) {
            let lag = APIJSON.lag(r, master: view)
            guard r.flags.isDisjoint(with: [.sDown, .oDown, .disconnected]), r.roleReported == .replica,
                  r.masterLinkUp, r.infoAgeMs != nil else { continue }
            if let maxLag, (lag ?? Int64.max) > maxLag { continue }
            healthy.append(["address": APIJSON.address(r.address), "lag_bytes": lag.map(JSONValue.int) ?? .null])
        }
        let body: JSONObject = ["name": .string(view.name), "healthy": .bool(!healthy.isEmpty), "replicas": .array(healthy)]
        responder.respond(Self.json(healthy.isEmpty ? 503 : 200, .object(body)))
    }

    private func failover(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        let name = parameters["name"] ?? ""
        // A body is optional; if there is one, it is a JSON object (its members are ignored).
        guard bodyIsJSONIfAny(request, responder) else { return }
        if !request.body.isEmpty {
            guard let body = try? JSONParser.parse(request.body), body.objectValue != nil else {
                return responder.respond(Self.error(400, "the body must be a JSON object"))
            }
        }
        submitFailover([Array("SENTINEL".utf8), Array("FAILOVER".utf8), Array(name.utf8)], name: name, what: "failover",
                       responder) { text in
            text.hasPrefix("ERR No such master") ? 404 : text.hasPrefix("INPROG") || text.hasPrefix("NOGOODSLAVE") ? 409 : 500
        }
    }

    /// False (and 415 sent) when a request has a body that is not `application/json`.
    func bodyIsJSONIfAny(_ request: HTTPRequest, _ responder: HTTPResponder) -> Bool {
        guard !request.body.isEmpty else { return true }
        let type = request.headers["content-type"].map { String($0.split(separator: ";").first ?? "").trimmingSpacesLowercased }
        guard type == "application/json" else {
            responder.respond(Self.error(415, "a body must be application/json"))
            return false
        }
        return true
    }

    /// Runs a SENTINEL FAILOVER command for a POST: 202 once the core accepted it,
    /// otherwise the status `status` gives its error reply.
    func submitFailover(_ command: [[UInt8]], name: String, what: String, _ responder: HTTPResponder,
                        status: @escaping (String) -> Int) {
        daemon.submitHTTP(command) { reply in
            guard responder.isConnected else { return }
            switch reply {
            case .error(let text):
                responder.respond(Self.error(status(text), text))
            default:
                self.daemon.logger.log(.notice, "HTTP: \(what) of \(Self.loggable(name)) requested")
                responder.respond(Self.json(202, ["name": .string(name), "accepted": .bool(true)]))
            }
        }
    }

    // MARK: - Events

    private func events(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        guard let query = query(request, responder, allowed: ["limit", "since", "events"]) else { return }
        var patterns: [EventPattern] = []
        if let text = query["events"] {
            // Empty items are ignored; 128 characters hold at most 64 patterns.
            guard !text.isEmpty, text.unicodeScalars.count <= Self.maxEventsParameter else {
                return responder.respond(Self.error(400, "events must be 1-\(Self.maxEventsParameter) characters of comma-separated patterns"))
            }
            patterns = text.split(separator: ",").prefix(EventFeed.maxPatterns).map { EventPattern(String($0)) }
        }
        var since: UInt64?
        if let text = query["since"] ?? request.headers["last-event-id"] {
            guard let value = Int64(text), value >= 0 else {
                return responder.respond(Self.error(400, "since must be an event seq number"))
            }
            since = UInt64(value)
        }
        // Only when asked for by name: `Accept: */*` (curl's) gets the JSON list.
        let wantsStream = request.headers.tokens("accept").contains {
            $0.split(separator: ";").first.map { $0.trimmingSpaces } == ServerSentEvent.contentType
        } && httpAccepts(request.headers["accept"], ServerSentEvent.contentType)
        if wantsStream {
            guard let stream = responder.startStream() else { return }
            daemon.eventFeed.addStream(stream, patterns: patterns, since: since)
            return
        }
        var limit = 100
        if let text = query["limit"] {
            guard let value = Int(text), (1...Self.maxEventLimit).contains(value) else {
                return responder.respond(Self.error(400, "limit must be 1-\(Self.maxEventLimit)"))
            }
            limit = value
        }
        let records = daemon.eventFeed.recent(since: since ?? 0, limit: limit, patterns: patterns)
        responder.respond(Self.json(200, ["last_seq": .int(Int64(clamping: daemon.eventFeed.lastSeq)),
                                          "events": .array(records.map(\.json))]))
    }

    // MARK: - Process probes

    private func health(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        let summary = daemon.core.summary(now: now)
        let masters = daemon.core.masterViews(now: now).map { view -> JSONValue in
            ["name": .string(view.name), "status": .string(APIJSON.masterStatus(view.flags))]
        }
        let body: JSONValue = ["status": .string(summary.tilt ? "tilt" : "ok"), "tilt": .bool(summary.tilt),
                               "masters": .array(masters)]
        responder.respond(Self.json(summary.tilt ? 503 : 200, body))
    }

    private func liveness(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        responder.respond(Self.json(200, ["status": "alive"]))
    }

    private func readiness(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        var reasons: [String] = []
        if daemon.core.tilt { reasons.append("tilt") }
        for view in daemon.core.masterViews(now: now) {
            if view.infoAgeMs == nil && !view.flags.contains(.sDown) { reasons.append("\(view.name): no_info_yet") }
            if !Self.agreed(view) { reasons.append("\(view.name): too_few_sentinels_reachable") }
        }
        let body: JSONValue = ["status": .string(reasons.isEmpty ? "ready" : "not_ready"),
                               "reasons": .array(reasons.map(JSONValue.string))]
        responder.respond(Self.json(reasons.isEmpty ? 200 : 503, body))
    }

    private func metrics(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        var response = HTTPResponse(status: 200, headers: ["Content-Type": PrometheusText.contentType],
                                    body: daemon.metricsText())
        response.headers.set("Cache-Control", "no-store")
        responder.respond(response)
    }

    // MARK: - Responses

    static func json(_ status: Int, _ value: JSONValue) -> HTTPResponse {
        HTTPResponse(status: status, headers: ["Content-Type": "application/json", "Cache-Control": "no-store"],
                     body: value.encoded + [0x0A])
    }

    static func error(_ status: Int, _ message: String) -> HTTPResponse {
        var response = HTTPServer.jsonError(status: status, message: message)
        response.headers.set("Cache-Control", "no-store")
        return response
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}

extension String {
    var trimmingSpacesLowercased: String { Substring(self).trimmingSpaces.lowercased() }
}

/// The JSON shapes of the API (docs/openapi.yaml) and of webhook payloads.
enum APIJSON {
    static func address(_ a: Address) -> JSONValue { ["host": .string(a.host), "port": .int(a.port)] }

    static func flags(_ f: InstanceFlags) -> JSONValue {
        .array(f.redisNames.split(separator: ",").map { .string(String($0)) })
    }

    /// As INFO's `status=`: `odown`, `sdown` or `ok`.
    static func masterStatus(_ f: InstanceFlags) -> String {
        f.contains(.oDown) ? "odown" : f.contains(.sDown) ? "sdown" : "ok"
    }

    static func instanceStatus(_ f: InstanceFlags) -> String {
        f.contains(.oDown) ? "odown" : f.contains(.sDown) ? "sdown" : f.contains(.disconnected) ? "disconnected" : "ok"
    }

    static func optionalInt(_ value: Int64?) -> JSONValue { value.map(JSONValue.int) ?? .null }

    static func epoch(_ value: UInt64) -> JSONValue { .int(Int64(clamping: value)) }

    /// Bytes the replica is behind the master's offset, as of their last INFOs (never negative).
    static func lag(_ r: ReplicaView, master: MasterView) -> Int64? {
        guard let offset = master.replicationOffset, r.infoAgeMs != nil else { return nil }
        return max(offset -| r.replicationOffset, 0)
    }

    static func master(_ v: MasterView, failover: FailoverLog.Failover?, now: Millis) -> JSONValue {
        var o: JSONObject = [
            "name": .string(v.name), "address": address(v.address), "status": .string(masterStatus(v.flags)),
            "flags": flags(v.flags), "run_id": .optional(v.runID), "quorum": .int(v.quorum),
            "config_epoch": epoch(v.configEpoch),
            "failover": ["state": .string(v.failoverState.redisName), "epoch": epoch(v.failoverEpoch),
                         "in_progress": .bool(v.flags.contains(.failoverInProgress))],
        ]
        o["leader"] = v.leader.map { ["run_id": .string($0), "epoch": epoch(v.leaderEpoch)] } ?? .null
        o["role_reported"] = .string(v.roleReported == .master ? "master" : "slave")
        o["last_ok_ping_ms"] = .int(v.lastOKPingMsAgo)
        o["info_age_ms"] = optionalInt(v.infoAgeMs)
        o["s_down_ms"] = optionalInt(v.sDownForMs)
        o["o_down_ms"] = optionalInt(v.oDownForMs)
        o["replication_offset"] = optionalInt(v.replicationOffset)
        o["settings"] = ["down_after_ms": .int(v.downAfterMs), "failover_timeout_ms": .int(v.failoverTimeoutMs),
                         "parallel_syncs": .int(v.parallelSyncs)]
        o["replicas"] = .array(v.replicas.filter(\.announced).map { r in
            var replica: JSONObject = [
                "address": address(r.address), "run_id": .optional(r.runID), "flags": flags(r.flags),
                "status": .string(instanceStatus(r.flags)),
                "role_reported": .string(r.roleReported == .master ? "master" : "slave"),
                "master_link": .string(r.masterLinkUp ? "up" : "down"), "master_link_down_ms": .int(r.masterLinkDownMs),
            ]
            replica["master_address"] = r.masterHost.map { address(Address($0, r.masterPort)) } ?? .null
            replica["priority"] = .int(r.priority)
            replica["offset"] = .int(r.replicationOffset)
            replica["lag_bytes"] = optionalInt(lag(r, master: v))
            replica["info_age_ms"] = optionalInt(r.infoAgeMs)
            replica["last_ok_ping_ms"] = .int(r.lastOKPingMsAgo)
            return .object(replica)
        })
        o["sentinels"] = .array(v.sentinels.map { p in
            var peer: JSONObject = ["run_id": .string(p.runID), "address": address(p.address), "flags": flags(p.flags),
                                    "status": .string(instanceStatus(p.flags)), "last_hello_ms": .int(p.lastHelloMsAgo),
                                    "last_ok_ping_ms": .int(p.lastOKPingMsAgo)]
            peer["voted_leader"] = p.votedLeader.map { ["run_id": .string($0), "epoch": epoch(p.votedLeaderEpoch)] } ?? .null
            return .object(peer)
        })
        o["last_failover"] = failover.map(self.failover) ?? .null
        return .object(o)
    }

    static func failover(_ f: FailoverLog.Failover) -> JSONValue {
        var o: JSONObject = ["result": .string(f.result), "led_by_this_sentinel": .bool(f.elected),
                             "epoch": epoch(f.epoch), "started_at": .string(UTCDateTime.rfc3339(unixMs: f.startedAtMs))]
        o["ended_at"] = f.endedAtMs.map { .string(UTCDateTime.rfc3339(unixMs: $0)) } ?? .null
        o["duration_seconds"] = f.endedAtMs.map { .double(Double(max($0 - f.startedAtMs, 0)) / 1000) } ?? .null
        o["old_address"] = f.oldAddress.map(address) ?? .null
        o["new_address"] = f.newAddress.map(address) ?? .null
        o["timeline"] = .array(f.timeline.map(\.json))
        return .object(o)
    }
}
