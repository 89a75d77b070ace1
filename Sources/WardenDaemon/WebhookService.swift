import Configuration
import Glibc
import Dispatch
import EventLoop
import SentinelCore
import Synchronization
import WardenHTTP
import WardenHTTPIO
import WardenWebhooks

/// The webhooks of the running sentinel: turns events into signed CloudEvents, hands them
/// to the `WebhookSender` (which retries them on the loop, never blocking it), applies
/// `webhook` settings changed by SENTINEL CONFIG SET, and keeps the pending deliveries
/// in a file under `dir` so that they are sent after a restart.
///
/// Which sentinels send: every one sends every event it emits. Each event of one failover
/// carries the same CloudEvent id (and `webhook-id`) from every sentinel that emits it:
/// +switch-master is identified by master, new address and config epoch, the leader's
/// failover events by master and failover epoch. So a receiver that de-duplicates on the
/// id gets one +switch-master per failover whichever sentinels reach it, and a leader that
/// dies or is cut off from the receiver loses nothing. See docs/webhooks.md.
final class WebhookService {
    unowned let daemon: Daemon
    let sender: WebhookSender
    let queuePath: String
    private let writer: QueueFileWriter
    /// The settings the sender runs with.
    private(set) var applied: [WebhookSetting] = []
    /// Event to delivered, by endpoint.
    private(set) var deliverySeconds: [String: PrometheusHistogram] = [:]
    /// The queue changed and is not written yet; written once per `persistDelayMs`.
    private var persistTimer: TimerID?
    private var stopped = false
    /// Deliveries restored at start-up and lines of the file that were skipped.
    private(set) var restored = 0

    /// Several changes within this are written once.
    static let persistDelayMs: Int64 = 20
    /// Endpoints whose last attempt failed (their next failures are logged at verbose level).
    private var failing: Set<String> = []
    /// Events after which a delivery was dropped for a full queue are logged at most this often.
    private var lastDropLog: Int64 = 0

    init(daemon: Daemon, settings: SentinelConfig, queuePath: String, seed: UInt64) {
        self.daemon = daemon
        self.queuePath = queuePath
        let loop = daemon.loop
        let https = LazyHTTPSContext(logger: daemon.logger)
        let client = HTTPClient(loop: loop) { loop, address, port, url, timeoutMs in
            guard url.isSecure else { return loop.connect(host: address, port: port, timeoutMs: timeoutMs) }
            guard let context = https.context else { return nil }
            return HTTPClient.tlsConnector(context)(loop, address, port, url, timeoutMs)
        }
        let policy = WebhookRetryPolicy(maxQueueLength: settings.webhookQueueLimit)
        sender = WebhookSender(loop: loop, client: client,
                               dispatcher: WebhookDispatcher(policy: policy, seed: seed,
                                                             userAgent: "warden/\(WardenVersion.string)"))
        let logger = daemon.logger
        writer = QueueFileWriter(path: queuePath) { message in
            loop.execute { logger.log(.warning, message) }
        }
        sender.onQueueChange = { [unowned self] in self.queueChanged() }
        sender.onAttempt = { [unowned self] attempt, outcome, disposition in
            self.attempted(attempt, outcome, disposition)
        }
    }

    /// Applies the configured endpoints and puts back what the queue file kept.
    func start(_ settings: [WebhookSetting]) {
        configure(settings)
        let file = ConfigFile(path: queuePath)
        guard access(queuePath, F_OK) == 0 else { return }
        do {
            let (records, discarded) = WebhookQueueFile.decode(Array(try file.read().utf8))
            restored = sender.restore(records)
            let skipped = discarded > 0 ? "; \(discarded) damaged line(s) skipped" : ""
            daemon.logger.log(.notice, "Webhooks: \(restored) pending deliveries restored from \(queuePath)\(skipped)")
        } catch {
            daemon.logger.log(.warning, "Webhooks: cannot read \(queuePath): \(error)")
        }
    }

    /// Makes the sender's endpoints those of `settings` (at start-up and after CONFIG SET).
    func configure(_ settings: [WebhookSetting]) {
        guard settings != applied else { return }
        var configs: [WebhookConfig] = []
        for setting in settings {
            do {
                configs.append(try ServiceDirectives.webhookConfig(setting))
            } catch {
                daemon.logger.log(.warning, "Webhook \(setting.id) not used: \(error.reason)")
            }
        }
        let before = applied
        applied = settings
        sender.configure(configs)
        for setting in settings where !before.contains(setting) {
            daemon.logger.log(.notice, "Webhook \(setting.id): \(setting.redactedValue)")
        }
        for setting in before where !settings.contains(where: { $0.id == setting.id }) {
            daemon.logger.log(.notice, "Webhook \(setting.id) removed")
        }
        for id in deliverySeconds.keys where !settings.contains(where: { $0.id == id }) { deliverySeconds[id] = nil }
    }

    /// Queues `record` for every endpoint that wants it.
    func publish(_ record: EventRecord, facts: EventFacts, view: MasterView?, summary: SentinelSummary) {
        guard !stopped, sender.dispatcher.endpoints.contains(where: { $0.config.wants(record.name) }) else { return }
        let event = Self.cloudEvent(record, facts: facts, view: view, summary: summary, port: daemon.core.settings.port)
        for (endpoint, result) in sender.publish(id: event.id, eventType: record.name, body: event.body) {
            switch result {
            case .queued:
                break
            case .queuedDroppingOldest(let dropped):
                let now = EventLoop.monotonicMs()
                if now - lastDropLog >= 1000 {
                    lastDropLog = now
                    daemon.logger.log(.warning, "Webhook \(endpoint): queue full, dropped the oldest delivery (\(dropped))")
                }
            case .rejected(let reason):
                daemon.logger.log(.verbose, "Webhook \(endpoint): \(record.name) not queued: \(reason)")
            }
        }
    }

    /// Stops sending and writes the queue as it is (in-flight deliveries included).
    func stop() {
        guard !stopped else { return }
        stopped = true
        if let persistTimer { daemon.loop.cancel(persistTimer) }
        persistTimer = nil
        sender.stop()
        if !applied.isEmpty || access(queuePath, F_OK) == 0 {
            writer.writeNow(sender.records)
        }
    }

    private func queueChanged() {
        guard !stopped, persistTimer == nil else { return }
        persistTimer = daemon.loop.schedule(afterMs: Self.persistDelayMs) { [unowned self] in
            self.persistTimer = nil
            // Copied here (bodies are shared, not copied); encoded and written on the writer's thread.
            self.writer.submit(self.sender.records)
        }
    }

    private func attempted(_ attempt: WebhookAttempt, _ outcome: DeliveryOutcome, _ disposition: DeliveryDisposition) {
        let endpoint = attempt.endpointID
        let what = "\(attempt.delivery.eventType) (\(attempt.delivery.id), attempt \(attempt.delivery.attempts))"
        switch disposition {
        case .delivered:
            let seconds = Double(max(EventLoop.wallClockMs() - attempt.delivery.createdAtMs, 0)) / 1000
            deliverySeconds[endpoint, default: .deliverySeconds].observe(seconds)
            if failing.remove(endpoint) != nil {
                daemon.logger.log(.notice, "Webhook \(endpoint): delivering again")
            }
            daemon.logger.log(.verbose, "Webhook \(endpoint): delivered \(what)")
        case .retrying(let at):
            let wait = max(at - EventLoop.wallClockMs(), 0)
            // The first failure after a success is a notice; the retries that follow are verbose.
            let level: LogLevel = failing.insert(endpoint).inserted ? .notice : .verbose
            daemon.logger.log(level, "Webhook \(endpoint): \(what) failed (\(Self.describe(outcome))), retry in \(wait) ms")
        case .failed(let reason):
            daemon.logger.log(.warning, "Webhook \(endpoint): gave up \(what): \(Self.describe(outcome)); \(reason)")
        case .endpointDisabled:
            daemon.logger.log(.warning, "Webhook \(endpoint): disabled by 410 Gone; its queue is dropped until its configuration changes")
        case .stale:
            break
        }
    }

    static func describe(_ outcome: DeliveryOutcome) -> String {
        switch outcome {
        case .response(let status, _): return "HTTP \(status)"
        case .timeout: return "timed out"
        case .connectionFailed(let reason): return reason
        case .invalidResponse(let reason): return "invalid response: \(reason)"
        }
    }

    // MARK: - The CloudEvent

    /// Failover events only the leader of a failover emits: one id per failover epoch.
    static let leaderEvents: Set<String> = [
        "+elected-leader", "+selected-slave", "+promoted-slave", "+slave-reconf-sent", "+slave-reconf-inprog",
        "+slave-reconf-done", "+failover-end", "+failover-end-for-timeout", "-failover-abort-no-good-slave",
        "-failover-abort-slave-timeout", "-slave-reconf-sent-timeout",
    ]

    /// The event's id: the same from every sentinel for the same fact of a failover, unique otherwise.
    static func eventID(_ record: EventRecord, facts: EventFacts, view: MasterView?, myID: String) -> String {
        if record.name == "+switch-master", let master = facts.master, let to = facts.newAddress, let view {
            return CloudEvent.stableID([record.name, master, to.description, String(view.configEpoch)])
        }
        if leaderEvents.contains(record.name) || record.name.hasPrefix("+failover-state-"),
           let master = facts.master, let view, view.failoverEpoch > 0 {
            return CloudEvent.stableID([record.name, master, String(view.failoverEpoch), record.payload])
        }
        return CloudEvent.stableID([myID, record.name, record.payload, String(record.timeMs), String(record.seq)])
    }

    static func cloudEvent(_ record: EventRecord, facts: EventFacts, view: MasterView?, summary: SentinelSummary,
                           port: Int) -> CloudEvent {
        var data: JSONObject = [
            "event": .string(record.name),
            "text": .string(record.payload),
            "master": .optional(facts.master),
            "address": view.map { APIJSON.address($0.address) } ?? .null,
            "old_address": facts.oldAddress.map(APIJSON.address) ?? .null,
            "new_address": facts.newAddress.map(APIJSON.address) ?? .null,
        ]
        if let type = facts.instanceType, let name = facts.instanceName {
            var instance: JSONObject = ["type": .string(type), "name": .string(name)]
            if let address = facts.instanceAddress {
                instance["host"] = .string(address.host)
                instance["port"] = .int(address.port)
            }
            data["instance"] = .object(instance)
        } else {
            data["instance"] = .null
        }
        data["config_epoch"] = view.map { .int(Int64(clamping: $0.configEpoch)) } ?? .null
        data["failover_epoch"] = view.flatMap { $0.failoverEpoch > 0 ? .int(Int64(clamping: $0.failoverEpoch)) : nil } ?? .null
        data["current_epoch"] = .int(Int64(clamping: summary.currentEpoch))
        if let view, let leader = view.leader {
            data["leader"] = ["run_id": .string(leader), "epoch": .int(Int64(clamping: view.leaderEpoch))]
        } else {
            data["leader"] = .null
        }
        data["sentinel"] = ["id": .string(summary.myID), "port": .int(port)]
        let source = facts.master.map { "/warden/masters/" + PercentEncoding.encode($0) } ?? "/warden"
        return CloudEvent(id: eventID(record, facts: facts, view: view, myID: summary.myID), source: source,
                          type: "io.warden." + record.name, timeMs: record.timeMs, subject: facts.master,
                          data: .object(data))
    }
}

/// The HTTPS context (the system's CA store), built when the first https delivery starts,
/// since loading the CA store costs memory; nil (https fails) when OpenSSL cannot build it.
final class LazyHTTPSContext {
    private let logger: Logger
    private var built: TLSContext?
    private var tried = false

    init(logger: Logger) { self.logger = logger }

    var context: TLSContext? {
        if !tried {
            tried = true
            do {
                built = try TLSContext(verifyingServersWithCAFile: nil, caDirectory: nil)
            } catch {
                logger.log(.warning, "Webhooks: no TLS for https endpoints: \(error.message)")
            }
        }
        return built
    }
}

/// Encodes and writes the webhook queue file on a thread of its own (the loop never waits
/// for a disk, nor spends the time to encode a full queue): the latest snapshot wins, each
/// written atomically (temporary file, fsync, rename).
final class QueueFileWriter: Sendable {
    private let file: ConfigFile
    private let queue = DispatchQueue(label: "warden.webhook-queue-file")
    private let state = Mutex<(pending: [WebhookQueueRecord]?, scheduled: Bool)>((nil, false))
    private let onError: @Sendable (String) -> Void
    /// When a failure was last reported (monotonic ms) and how many since went unreported:
    /// an unwritable `dir` is reported once a minute, not at every change.
    private let lastError = Mutex<(at: Int64, unreported: Int)>((Int64.min / 2, 0))
    static let errorReportIntervalMs: Int64 = 60_000

    init(path: String, onError: @escaping @Sendable (String) -> Void) {
        file = ConfigFile(path: path)
        self.onError = onError
    }

    func submit(_ records: [WebhookQueueRecord]) {
        let schedule = state.withLock { state -> Bool in
            state.pending = records
            if state.scheduled { return false }
            state.scheduled = true
            return true
        }
        if schedule { queue.async { self.drain() } }
    }

    private func drain() {
        while let records = state.withLock({ state -> [WebhookQueueRecord]? in
            let next = state.pending
            state.pending = nil
            if next == nil { state.scheduled = false }
            return next
        }) {
            write(records)
        }
    }

    /// Waits for a write under way, then writes `records` before returning (at shutdown).
    func writeNow(_ records: [WebhookQueueRecord]) {
        state.withLock { $0.pending = nil }
        queue.sync {}
        write(records)
    }

    private func write(_ records: [WebhookQueueRecord]) {
        do {
            try file.save(String(decoding: WebhookQueueFile.encode(records), as: UTF8.self))
        } catch {
            let now = EventLoop.monotonicMs()
            let report = lastError.withLock { last -> Int? in
                guard now - last.at >= Self.errorReportIntervalMs else {
                    last.unreported += 1
                    return nil
                }
                defer { last = (now, 0) }
                return last.unreported
            }
            if let skipped = report {
                let more = skipped > 0 ? " (\(skipped) more failures in the last minute)" : ""
                onError("Webhooks: cannot write the queue file \(file.path): \(error.message)\(more)")
            }
        }
    }
}
