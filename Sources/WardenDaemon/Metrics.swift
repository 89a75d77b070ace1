import EventLoop
import SentinelCore
import WardenHTTP

/// What the daemon counts from the core's events and its own work, for /metrics. Every
/// map is keyed by names the core emits or monitors, and bounded.
struct DaemonCounters {
    /// Distinct event names (or master names) kept at most; beyond, new ones are not counted.
    static let maxKeys = 256

    var events: [String: Int] = [:]
    /// (master, instance type, "down" | "up")
    var sdown: [Key3: Int] = [:]
    /// (master, "down" | "up")
    var odown: [Key2: Int] = [:]
    /// (master, result): this sentinel's own failover attempts.
    var failovers: [Key2: Int] = [:]
    var failoverSeconds: [String: PrometheusHistogram] = [:]
    /// +switch-master seen, by master.
    var switches: [String: Int] = [:]
    var scriptsStarted = 0
    var scriptsNotStarted = 0

    struct Key2: Hashable { let a: String, b: String }
    struct Key3: Hashable { let a: String, b: String, c: String }

    static func bump<K: Hashable>(_ map: inout [K: Int], _ key: K) {
        if map[key] != nil || map.count < maxKeys { map[key, default: 0] &+= 1 }
    }

    mutating func count(_ record: EventRecord, facts: EventFacts) {
        Self.bump(&events, record.name)
        guard let master = record.master else { return }
        switch record.name {
        case "+sdown", "-sdown":
            Self.bump(&sdown, Key3(a: master, b: facts.instanceType ?? "unknown", c: record.name == "+sdown" ? "down" : "up"))
        case "+odown", "-odown":
            Self.bump(&odown, Key2(a: master, b: record.name == "+odown" ? "down" : "up"))
        case "+switch-master":
            Self.bump(&switches, master)
        default:
            break
        }
    }

    mutating func count(_ outcome: FailoverLog.Outcome) {
        if let result = outcome.attemptResult { Self.bump(&failovers, Key2(a: outcome.master, b: result)) }
        if let seconds = outcome.durationSeconds,
           failoverSeconds[outcome.master] != nil || failoverSeconds.count < Self.maxKeys {
            failoverSeconds[outcome.master, default: .failoverSeconds].observe(seconds)
        }
    }

    /// A master no longer monitored: its series go.
    mutating func forget(_ master: String) {
        sdown = sdown.filter { $0.key.a != master }
        odown = odown.filter { $0.key.a != master }
        failovers = failovers.filter { $0.key.a != master }
        failoverSeconds[master] = nil
        switches[master] = nil
    }
}

extension Daemon {
    /// The /metrics body: redis_exporter's sentinel metrics under their names and labels,
    /// then Warden's own (`warden_*`).
    func metricsText() -> [UInt8] {
        var text = PrometheusText()
        do {
            try writeMetrics(into: &text)
        } catch {
            // A programming error (a bad name or a duplicate family); the tests catch it.
            logger.log(.warning, "metrics: \(error)")
        }
        return text.bytes
    }

    private func writeMetrics(into text: inout PrometheusText) throws(PrometheusError) {
        let now = EventLoop.wallClockMs()
        let summary = core.summary(now: now)
        let views = core.masterViews(now: now)
        func labels(_ v: MasterView) -> [(String, String)] { [("master_name", v.name), ("master_address", v.address.description)] }
        func perMaster(_ value: (MasterView) -> Double) -> [PrometheusSample] {
            views.map { PrometheusSample(value($0), labels: labels($0)) }
        }

        // redis_exporter's names (its `redis` namespace), from INFO and SENTINEL MASTERS / SLAVES / SENTINELS / CKQUORUM.
        try text.gauge("redis_sentinel_masters", help: "The number of masters this sentinel is watching",
                       [PrometheusSample(views.count)])
        try text.gauge("redis_sentinel_tilt", help: "Sentinel is in TILT mode", [PrometheusSample(summary.tilt ? 1 : 0)])
        try text.gauge("redis_sentinel_running_scripts", help: "Number of scripts in execution right now",
                       [PrometheusSample(summary.runningScripts)])
        try text.gauge("redis_sentinel_scripts_queue_length", help: "Queue of user scripts to execute",
                       [PrometheusSample(summary.scriptsQueueLength)])
        try text.gauge("redis_sentinel_simulate_failure_flags", help: "Failures simulations",
                       [PrometheusSample(summary.simulateFailureFlags)])
        try text.gauge("redis_sentinel_master_status", help: "Master status on Sentinel", views.map { v in
            let status = APIJSON.masterStatus(v.flags)
            return PrometheusSample(status == "ok" ? 1.0 : 0.0, labels: labels(v) + [("master_status", status)])
        })
        try text.gauge("redis_sentinel_master_slaves", help: "The number of slaves of the master",
                       perMaster { Double($0.replicas.count) })
        try text.gauge("redis_sentinel_master_sentinels", help: "The number of sentinels monitoring this master",
                       perMaster { Double($0.sentinels.count + 1) })
        try text.gauge("redis_sentinel_master_ok_slaves", help: "The number of okay slaves of the master", perMaster { v in
            Double(v.replicas.filter { $0.announced && $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count)
        })
        try text.gauge("redis_sentinel_master_ok_sentinels", help: "The number of okay sentinels monitoring this master",
                       perMaster { v in Double(1 + v.sentinels.filter { $0.flags.isDisjoint(with: [.sDown, .oDown]) }.count) })
        try text.gauge("redis_sentinel_master_ckquorum_status", help: "Master ckquorum status", views.compactMap { v in
            guard let check = core.quorumCheck(named: v.name) else { return nil }
            return PrometheusSample(check.ok ? 1.0 : 0.0, labels: [("master_name", v.name), ("message", check.message)])
        })
        try text.gauge("redis_sentinel_master_setting_ckquorum", help: "Show the current ckquorum config for each master",
                       perMaster { Double($0.quorum) })
        try text.gauge("redis_sentinel_master_setting_failover_timeout",
                       help: "Show the current failover-timeout config for each master", perMaster { Double($0.failoverTimeoutMs) })
        try text.gauge("redis_sentinel_master_setting_parallel_syncs",
                       help: "Show the current parallel-syncs config for each master", perMaster { Double($0.parallelSyncs) })
        try text.gauge("redis_sentinel_master_setting_down_after_milliseconds",
                       help: "Show the current down-after-milliseconds config for each master", perMaster { Double($0.downAfterMs) })
        try text.gauge("redis_sentinel_master_config_epoch", help: "Get the config epoch of the master",
                       perMaster { Double($0.configEpoch) })
        try text.gauge("redis_sentinel_master_last_ok_ping_reply_seconds",
                       help: "Seconds since the last valid reply of the master to a PING", perMaster { Double($0.lastOKPingMsAgo) / 1000 })

        // Warden's own.
        try text.gauge("warden_info", help: "Warden's version (the value is 1)",
                       [PrometheusSample(Int64(1), labels: [("version", WardenVersion.string),
                                                     ("redis_version", WardenVersion.redisCompatible),
                                                     ("sentinel_id", summary.myID)])])
        try text.gauge("warden_start_time_seconds", help: "When this process started, in Unix seconds",
                       [PrometheusSample(Double(startTime) / 1000)])
        try text.gauge("warden_current_epoch", help: "The sentinel's current epoch", [PrometheusSample(Double(summary.currentEpoch))])
        try text.gauge("warden_master_failover_in_progress", help: "1 while a failover of the master runs on this sentinel",
                       perMaster { $0.flags.contains(.failoverInProgress) ? 1 : 0 })
        try text.counter("warden_failovers_total",
                         help: "Failovers this sentinel started, by result (ok, timeout, aborted, not_elected)",
                         counters.failovers.sorted { ($0.key.a, $0.key.b) < ($1.key.a, $1.key.b) }.map {
                             PrometheusSample(Int64($0.value), labels: [("master_name", $0.key.a), ("result", $0.key.b)])
                         })
        try text.histogram("warden_failover_duration_seconds",
                           help: "Failovers this sentinel led, from +try-failover to +switch-master",
                           counters.failoverSeconds.sorted { $0.key < $1.key }.map { ([("master_name", $0.key)], $0.value) })
        try text.counter("warden_switch_master_total", help: "+switch-master events (failovers seen, led here or not)",
                         counters.switches.sorted { $0.key < $1.key }.map {
                             PrometheusSample(Int64($0.value), labels: [("master_name", $0.key)])
                         })
        try text.counter("warden_sdown_transitions_total",
                         help: "Instances entering (down) and leaving (up) the subjectively down state",
                         counters.sdown.sorted { ($0.key.a, $0.key.b, $0.key.c) < ($1.key.a, $1.key.b, $1.key.c) }.map {
                             PrometheusSample(Int64($0.value), labels: [("master_name", $0.key.a), ("instance_type", $0.key.b),
                                                                      ("direction", $0.key.c)])
                         })
        try text.counter("warden_odown_transitions_total",
                         help: "Masters entering (down) and leaving (up) the objectively down state",
                         counters.odown.sorted { ($0.key.a, $0.key.b) < ($1.key.a, $1.key.b) }.map {
                             PrometheusSample(Int64($0.value), labels: [("master_name", $0.key.a), ("direction", $0.key.b)])
                         })
        try text.counter("warden_events_total", help: "Events published, by name",
                         counters.events.sorted { $0.key < $1.key }.map {
                             PrometheusSample(Int64($0.value), labels: [("event", $0.key)])
                         })
        try text.counter("warden_script_runs_total", help: "Notification and reconfiguration scripts run, by whether they started",
                         [PrometheusSample(Int64(counters.scriptsStarted), labels: [("result", "started")]),
                          PrometheusSample(Int64(counters.scriptsNotStarted), labels: [("result", "not_started")])])

        let endpoints = webhooks?.sender.dispatcher.endpoints ?? []
        try text.counter("warden_webhook_deliveries_total",
                         help: "Webhook deliveries by endpoint and outcome (delivered, failed, expired, dropped_queue_full, dropped_disabled)",
                         endpoints.flatMap { e -> [PrometheusSample] in
                             let s = e.stats
                             return [("delivered", s.delivered), ("failed", s.failed), ("expired", s.expired),
                                     ("dropped_queue_full", s.droppedQueueFull), ("dropped_disabled", s.droppedDisabled)].map {
                                 PrometheusSample(Int64($0.1), labels: [("endpoint", e.id), ("outcome", $0.0)])
                             }
                         })
        try text.counter("warden_webhook_attempts_total", help: "Webhook HTTP attempts by endpoint and result",
                         endpoints.flatMap { e in
                             e.stats.attempts.sorted { $0.key < $1.key }.map {
                                 PrometheusSample(Int64($0.value), labels: [("endpoint", e.id), ("result", $0.key)])
                             }
                         })
        try text.gauge("warden_webhook_queue_depth", help: "Webhook deliveries waiting, by endpoint (the one in flight included)",
                       endpoints.map { PrometheusSample($0.queue.count, labels: ["endpoint": $0.id]) })
        try text.gauge("warden_webhook_endpoint_disabled", help: "1 when the endpoint answered 410 Gone and is not sent to",
                       endpoints.map { PrometheusSample($0.isDisabled ? 1 : 0, labels: ["endpoint": $0.id]) })
        try text.histogram("warden_webhook_delivery_seconds", help: "From the event to its delivery (2xx), by endpoint",
                           (webhooks?.deliverySeconds ?? [:]).sorted { $0.key < $1.key }.map { ([("endpoint", $0.key)], $0.value) })

        try text.gauge("warden_connected_clients", help: "Clients connected to the sentinel port",
                       [PrometheusSample(server.sessions.count)])
        let connected = links.values.filter { $0.connection.isConnected }.count
        try text.gauge("warden_links", help: "Links to Redis instances and other sentinels, by state",
                       [PrometheusSample(connected, labels: ["state": "connected"]),
                        PrometheusSample(links.count - connected, labels: ["state": "connecting"])])
        if let http {
            let stats = http.server.stats
            try text.gauge("warden_http_connections", help: "Open connections to the HTTP API",
                           [PrometheusSample(http.server.connectionCount)])
            try text.gauge("warden_http_event_streams", help: "Open event streams (GET /v1/events)",
                           [PrometheusSample(http.server.streamCount)])
            try text.counter("warden_http_responses_total", help: "HTTP responses by status class",
                             (1...5).map { PrometheusSample(Int64(stats.responsesByClass[$0]), labels: [("code", "\($0)xx")]) })
            try text.counter("warden_http_connections_rejected_total", help: "HTTP connections refused at http-max-connections",
                             [PrometheusSample(Int64(stats.connectionsRejected), labels: [])])
            try text.counter("warden_http_timeouts_total", help: "HTTP connections cut off, by cause",
                             [PrometheusSample(Int64(stats.requestTimeouts), labels: [("cause", "request")]),
                              PrometheusSample(Int64(stats.idleTimeouts), labels: [("cause", "idle")]),
                              PrometheusSample(Int64(stats.handlerTimeouts), labels: [("cause", "handler")])])
        }
    }
}
