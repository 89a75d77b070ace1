import WardenHTTP

/// Limits and the retry schedule of webhook delivery, for every endpoint.
///
/// After the n-th failed attempt the next waits a random time in
/// `0...min(maxBackoffMs, initialBackoffMs * 2^(n-1))` ("full jitter"), at least
/// `minBackoffMs`; or, when the receiver sent Retry-After, that long (at most
/// `maxRetryAfterMs`, at least `minBackoffMs`). With the defaults the waits grow
/// 0.5, 1, 2, 4 ... 60 s, and 15 attempts span about 5 to 10 minutes.
public struct WebhookRetryPolicy: Sendable, Equatable {
    /// Deliveries waiting per endpoint; when full, the oldest not in flight is dropped.
    public var maxQueueLength: Int
    /// Attempts before a delivery is given up (counted in `expired`).
    public var maxAttempts: Int
    public var initialBackoffMs: Int64
    /// The cap of one wait before jitter.
    public var maxBackoffMs: Int64
    /// The least wait after a failure, so a receiver is never retried in a tight loop.
    public var minBackoffMs: Int64
    /// A longer Retry-After is shortened to this.
    public var maxRetryAfterMs: Int64
    /// A delivery older than this (by its creation time) is given up.
    public var maxAgeMs: Int64
    /// A bigger body is refused at enqueue.
    public var maxBodyBytes: Int

    public init(maxQueueLength: Int = 1000, maxAttempts: Int = 15, initialBackoffMs: Int64 = 500,
                maxBackoffMs: Int64 = 60_000, minBackoffMs: Int64 = 100, maxRetryAfterMs: Int64 = 600_000,
                maxAgeMs: Int64 = 86_400_000, maxBodyBytes: Int = 64 * 1024) {
        self.maxQueueLength = max(maxQueueLength, 1)
        self.maxAttempts = max(maxAttempts, 1)
        self.initialBackoffMs = max(initialBackoffMs, 1)
        self.maxBackoffMs = max(maxBackoffMs, 1)
        self.minBackoffMs = max(minBackoffMs, 0)
        self.maxRetryAfterMs = max(maxRetryAfterMs, 0)
        self.maxAgeMs = max(maxAgeMs, 1)
        self.maxBodyBytes = max(maxBodyBytes, 0)
    }

    /// The latest a pending attempt may be scheduled after now: anything later (a
    /// clock set back, a corrupt persisted time) is pulled in to this.
    var maxScheduleAheadMs: Int64 { max(maxBackoffMs, maxRetryAfterMs) }
}

/// One event on its way to one endpoint.
public struct WebhookDelivery: Equatable, Sendable {
    /// The `webhook-id`: the same on every attempt, the receiver's idempotency key.
    /// Printable ASCII without spaces or `.` (Standard Webhooks), 1-128 bytes.
    public let id: String
    /// The Redis event name (`+switch-master`), for filtering, logs and metrics.
    public let eventType: String
    public let body: [UInt8]
    /// Unix milliseconds when the event was queued (wall clock: it survives restarts).
    public let createdAtMs: Int64
    /// Attempts started so far.
    public internal(set) var attempts: Int
    /// Unix milliseconds of the earliest next attempt.
    public internal(set) var nextAttemptAtMs: Int64

    public init(id: String, eventType: String, body: [UInt8], createdAtMs: Int64,
                attempts: Int = 0, nextAttemptAtMs: Int64? = nil) {
        self.id = id
        self.eventType = eventType
        self.body = body
        self.createdAtMs = createdAtMs
        // Read back from a file, so kept in a range where counting on cannot overflow.
        self.attempts = min(max(attempts, 0), 1_000_000)
        self.nextAttemptAtMs = nextAttemptAtMs ?? createdAtMs
    }

    static let maxIDLength = 128
    static let maxEventTypeLength = 128

    /// Ids and event types are written unquoted in the queue file and in headers.
    static func isWord(_ text: String, maxLength: Int, allowDot: Bool) -> Bool {
        (1...maxLength).contains(text.utf8.count)
            && text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F && (allowDot || $0 != 0x2E) }
    }

    var isWellFormed: Bool {
        Self.isWord(id, maxLength: Self.maxIDLength, allowDot: false)
            && Self.isWord(eventType, maxLength: Self.maxEventTypeLength, allowDot: true)
    }
}

/// How an attempt ended, as the HTTP client reports it.
public enum DeliveryOutcome: Equatable, Sendable {
    /// A complete response with this status (and its Retry-After, if valid).
    case response(status: Int, retryAfter: RetryAfter?)
    /// The attempt's deadline passed (connect, send or the response).
    case timeout
    /// Name resolution, connect, TLS or the connection itself failed.
    case connectionFailed(String)
    /// The peer sent something that is not an HTTP response.
    case invalidResponse(String)

    /// The outcome of a complete response: its status and Retry-After.
    public init(_ response: HTTPClientResponse) {
        self = .response(status: response.status, retryAfter: response.retryAfter)
    }

    /// The label of the attempt counters: `2xx`, `3xx`, `4xx`, `410`, `429`, `5xx`,
    /// `timeout`, `connection_error`, `invalid_response`.
    public var label: String {
        switch self {
        case .response(let status, _):
            if status == 410 || status == 429 { return String(status) }
            return "\(min(max(status / 100, 1), 5))xx"
        case .timeout: return "timeout"
        case .connectionFailed: return "connection_error"
        case .invalidResponse: return "invalid_response"
        }
    }
}

/// What `complete` did with the delivery.
public enum DeliveryDisposition: Equatable, Sendable {
    /// 2xx: done.
    case delivered
    /// Will be tried again at this time (Unix ms).
    case retrying(atMs: Int64)
    /// Given up: a final status (3xx, 4xx but 410 and 429), or the attempts or the age ran out.
    case failed(String)
    /// 410 Gone: the endpoint is disabled and its queue dropped.
    case endpointDisabled
    /// Not the delivery in flight (already completed, or dropped meanwhile): ignored.
    case stale
}

/// What `enqueue` did.
public enum EnqueueResult: Equatable, Sendable {
    case queued
    /// Queued; the queue was full, so this older delivery was dropped.
    case queuedDroppingOldest(String)
    /// Not queued: the endpoint is disabled, the body is too big, or the id or event
    /// type is not well-formed.
    case rejected(String)
}

/// Counters of one endpoint, for `/metrics` and logs.
public struct WebhookEndpointStats: Equatable, Sendable {
    public var enqueued = 0
    public var delivered = 0
    /// Given up on a final status, or refused at enqueue.
    public var failed = 0
    /// Given up after `maxAttempts` or `maxAgeMs`.
    public var expired = 0
    public var droppedQueueFull = 0
    /// Dropped because the endpoint is disabled (410), at that moment or later.
    public var droppedDisabled = 0
    /// Attempts by `DeliveryOutcome.label`.
    public var attempts: [String: Int] = [:]

    public init() {}
}

/// The seeded source of the jitter, so a run is reproducible from its seed: Knuth's
/// MMIX linear congruential step with a xorshift-multiply output (quality enough for
/// spreading retries; not for anything secret).
public struct WebhookJitter: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed ^ 0x6A09_E667_F3BC_C908 }
    public mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        let x = (state ^ (state >> 29)) &* 0x2545_F491_4F6C_DD1D
        return x ^ (x >> 32)
    }
}

/// The delivery state machine of one endpoint. Pure: the time is an argument of every
/// call (Unix milliseconds, wall clock), the jitter comes from a seeded generator,
/// and sending is the caller's job:
///
///     endpoint.enqueue(delivery)
///     if let d = endpoint.startAttempt(now: now) { send it; later:
///         endpoint.complete(deliveryID: d.id, outcome: outcome, now: now) }
///     schedule a wake-up at endpoint.nextWakeUpMs(now: now)
///
/// Deliveries go out one at a time, oldest first, so a receiver sees events in the
/// order they happened; a delivery being retried holds back the ones after it.
public struct WebhookEndpoint: Sendable {
    public private(set) var config: WebhookConfig
    public let policy: WebhookRetryPolicy
    /// Waiting deliveries, oldest first; the first is the one in flight, if any.
    public private(set) var queue: [WebhookDelivery] = []
    public private(set) var inFlightID: String?
    /// Set by a 410: nothing more is queued or sent until `reconfigure`.
    public private(set) var disabledReason: String?
    public private(set) var stats = WebhookEndpointStats()
    private var random: WebhookJitter

    public init(config: WebhookConfig, policy: WebhookRetryPolicy = WebhookRetryPolicy(), seed: UInt64) {
        self.config = config
        self.policy = policy
        self.random = WebhookJitter(seed: seed)
    }

    public var id: String { config.id }
    public var isDisabled: Bool { disabledReason != nil }

    /// A new configuration for the same id: the queue is kept, and a disabled endpoint
    /// is enabled again (the operator has looked at it).
    public mutating func reconfigure(_ config: WebhookConfig) {
        self.config = config
        disabledReason = nil
    }

    public mutating func enqueue(_ delivery: WebhookDelivery) -> EnqueueResult {
        if let disabledReason {
            stats.droppedDisabled &+= 1
            return .rejected("endpoint disabled (\(disabledReason))")
        }
        guard delivery.body.count <= policy.maxBodyBytes else {
            stats.failed &+= 1
            return .rejected("body larger than \(policy.maxBodyBytes) bytes")
        }
        guard delivery.isWellFormed else {
            stats.failed &+= 1
            return .rejected("malformed delivery id or event type")
        }
        var result = EnqueueResult.queued
        if queue.count >= policy.maxQueueLength {
            let oldest = inFlightID == nil ? 0 : 1
            stats.droppedQueueFull &+= 1
            guard oldest < queue.count else { return .rejected("queue full") }
            result = .queuedDroppingOldest(queue.remove(at: oldest).id)
        }
        queue.append(delivery)
        stats.enqueued &+= 1
        return result
    }

    /// The next delivery to send, if one is due and none is in flight: its attempt
    /// count is raised and it is in flight until `complete`. Deliveries older than
    /// `maxAgeMs` are given up here.
    public mutating func startAttempt(now: Int64) -> WebhookDelivery? {
        guard disabledReason == nil, inFlightID == nil else { return nil }
        dropExpired(now: now)
        guard !queue.isEmpty else { return nil }
        clampSchedule(now: now)
        guard queue[0].nextAttemptAtMs <= now else { return nil }
        queue[0].attempts &+= 1
        inFlightID = queue[0].id
        return queue[0]
    }

    /// When `startAttempt` next has something to send (Unix ms); nil while an attempt
    /// is in flight, or nothing is queued, or the endpoint is disabled. Mutating: a
    /// next attempt further ahead than the longest wait (the clock was set back, or a
    /// persisted time is wrong) is pulled in, and stays pulled in.
    public mutating func nextWakeUpMs(now: Int64) -> Int64? {
        guard disabledReason == nil, inFlightID == nil, !queue.isEmpty else { return nil }
        clampSchedule(now: now)
        return queue[0].nextAttemptAtMs
    }

    /// Records how the attempt in flight ended and decides what follows.
    public mutating func complete(deliveryID: String, outcome: DeliveryOutcome, now: Int64) -> DeliveryDisposition {
        guard let inFlightID, inFlightID == deliveryID, queue.first?.id == deliveryID else { return .stale }
        self.inFlightID = nil
        stats.attempts[outcome.label, default: 0] &+= 1
        var retryAfterMs: Int64?
        switch outcome {
        case .response(let status, let retryAfter):
            switch status {
            case 200...299:
                queue.removeFirst()
                stats.delivered &+= 1
                return .delivered
            case 410:
                disabledReason = "410 Gone"
                stats.droppedDisabled &+= queue.count
                queue.removeAll()
                return .endpointDisabled
            case 429, 500...599:
                retryAfterMs = retryAfter.map { $0.delayMs(nowMs: now) }
            default:
                queue.removeFirst()
                stats.failed &+= 1
                return .failed("HTTP \(status)")
            }
        case .timeout, .connectionFailed, .invalidResponse:
            break
        }
        if queue[0].attempts >= policy.maxAttempts {
            queue.removeFirst()
            stats.expired &+= 1
            return .failed("gave up after \(policy.maxAttempts) attempts")
        }
        let delay = retryDelay(afterAttempt: queue[0].attempts, retryAfterMs: retryAfterMs)
        let at = saturatingAdd(now, delay)
        queue[0].nextAttemptAtMs = at
        return .retrying(atMs: at)
    }

    /// Disables the endpoint as a 410 does (used when restoring a persisted 410).
    public mutating func disable(reason: String) {
        guard disabledReason == nil else { return }
        disabledReason = reason
        inFlightID = nil
        stats.droppedDisabled &+= queue.count
        queue.removeAll()
    }

    /// The attempt in flight will not complete (its connection was abandoned, e.g. at
    /// shutdown): it stays first in the queue, due at once; its attempt still counts.
    public mutating func abandonInFlight() {
        inFlightID = nil
    }

    /// Adds persisted deliveries (oldest first) after a restart; ids already queued are
    /// skipped, and the queue limit applies (the oldest go first). Returns how many
    /// were added.
    @discardableResult
    public mutating func restore(_ deliveries: [WebhookDelivery]) -> Int {
        var known = Set(queue.map(\.id))
        var added = 0
        for delivery in deliveries where known.insert(delivery.id).inserted {
            if case .rejected = enqueue(delivery) { continue }
            added += 1
        }
        return added
    }

    /// The wait before the next attempt, after `attempts` failed ones.
    mutating func retryDelay(afterAttempt attempts: Int, retryAfterMs: Int64?) -> Int64 {
        if let retryAfterMs {
            return max(min(retryAfterMs, policy.maxRetryAfterMs), policy.minBackoffMs)
        }
        let doublings = max(attempts - 1, 0)
        var cap = policy.maxBackoffMs
        if doublings < 62 {
            let (scaled, overflow) = policy.initialBackoffMs.multipliedReportingOverflow(by: Int64(1) << Int64(doublings))
            if !overflow { cap = min(scaled, policy.maxBackoffMs) }
        }
        return max(Int64.random(in: 0...cap, using: &random), policy.minBackoffMs)
    }

    private mutating func dropExpired(now: Int64) {
        while let head = queue.first, saturatingSubtract(now, head.createdAtMs) > policy.maxAgeMs {
            queue.removeFirst()
            stats.expired &+= 1
        }
    }

    private mutating func clampSchedule(now: Int64) {
        let latest = saturatingAdd(now, policy.maxScheduleAheadMs)
        if queue[0].nextAttemptAtMs > latest { queue[0].nextAttemptAtMs = latest }
    }
}

func saturatingAdd(_ a: Int64, _ b: Int64) -> Int64 {
    let (sum, overflow) = a.addingReportingOverflow(b)
    return overflow ? (b > 0 ? Int64.max : Int64.min) : sum
}

func saturatingSubtract(_ a: Int64, _ b: Int64) -> Int64 {
    let (difference, overflow) = a.subtractingReportingOverflow(b)
    return overflow ? (b < 0 ? Int64.max : Int64.min) : difference
}
