import WardenHTTP

/// One HTTP request to make: a delivery's attempt, signed at the moment it starts.
public struct WebhookAttempt: Sendable {
    public let endpointID: String
    public let delivery: WebhookDelivery
    public let url: HTTPURL
    /// Content-Type, User-Agent and the Standard Webhooks headers.
    public let headers: HTTPHeaders
    public let timeoutMs: Int
    public var body: [UInt8] { delivery.body }
}

/// Every configured endpoint and its queue: what the daemon drives with events and
/// the outcomes of its HTTP requests. Pure, like `WebhookEndpoint`.
///
///     dispatcher.publish(id: event.id, eventType: "+switch-master", body: event.body, now: now)
///     for attempt in dispatcher.startAttempts(now: now) { client.post(attempt) { outcome in
///         dispatcher.complete(endpointID: attempt.endpointID, deliveryID: attempt.delivery.id,
///                             outcome: outcome, now: now) } }
///     wake up at dispatcher.nextWakeUpMs(now: now); persist dispatcher.records() when it changed
public struct WebhookDispatcher: Sendable {
    public private(set) var endpoints: [WebhookEndpoint] = []
    public let policy: WebhookRetryPolicy
    /// Sent as User-Agent.
    public var userAgent: String
    private var seeds: WebhookJitter

    public init(configs: [WebhookConfig] = [], policy: WebhookRetryPolicy = WebhookRetryPolicy(), seed: UInt64,
                userAgent: String = "warden") {
        self.policy = policy
        self.userAgent = userAgent
        seeds = WebhookJitter(seed: seed)
        configure(configs)
    }

    public func endpoint(_ id: String) -> WebhookEndpoint? { endpoints.first { $0.id == id } }

    /// Applies a new list of endpoints (at start-up, or after CONFIG SET): endpoints
    /// whose id stays keep their queue and counters (a disabled one is enabled again
    /// if its configuration changed); the queues of removed endpoints are dropped.
    public mutating func configure(_ configs: [WebhookConfig]) {
        var next: [WebhookEndpoint] = []
        for config in configs where !next.contains(where: { $0.id == config.id }) {
            if var existing = endpoint(config.id) {
                if existing.config != config { existing.reconfigure(config) }
                next.append(existing)
            } else {
                next.append(WebhookEndpoint(config: config, policy: policy, seed: seeds.next()))
            }
        }
        endpoints = next
    }

    /// Queues the event for every endpoint whose patterns match `eventType`; returns
    /// what each of them did with it, by endpoint id.
    @discardableResult
    public mutating func publish(id: String, eventType: String, body: [UInt8], now: Int64) -> [(String, EnqueueResult)] {
        var results: [(String, EnqueueResult)] = []
        for index in endpoints.indices where endpoints[index].config.wants(eventType) {
            let delivery = WebhookDelivery(id: id, eventType: eventType, body: body, createdAtMs: now)
            results.append((endpoints[index].id, endpoints[index].enqueue(delivery)))
        }
        return results
    }

    /// Every attempt due now, at most one per endpoint, each signed with `now`.
    public mutating func startAttempts(now: Int64) -> [WebhookAttempt] {
        var attempts: [WebhookAttempt] = []
        for index in endpoints.indices {
            guard let delivery = endpoints[index].startAttempt(now: now) else { continue }
            let config = endpoints[index].config
            var headers: HTTPHeaders = ["Content-Type": CloudEvent.contentType, "User-Agent": userAgent]
            let seconds = now >= 0 ? now / 1000 : 0
            for (name, value) in StandardWebhooks.headers(id: delivery.id, timestampSeconds: seconds, body: delivery.body,
                                                         secrets: config.secrets) {
                headers.add(name, value)
            }
            attempts.append(WebhookAttempt(endpointID: config.id, delivery: delivery, url: config.url, headers: headers,
                                           timeoutMs: config.timeoutMs))
        }
        return attempts
    }

    public mutating func complete(endpointID: String, deliveryID: String, outcome: DeliveryOutcome,
                                  now: Int64) -> DeliveryDisposition {
        guard let index = endpoints.firstIndex(where: { $0.id == endpointID }) else { return .stale }
        return endpoints[index].complete(deliveryID: deliveryID, outcome: outcome, now: now)
    }

    /// Every attempt in flight is abandoned (shutdown, or the client was torn down).
    public mutating func abandonInFlight() {
        for index in endpoints.indices { endpoints[index].abandonInFlight() }
    }

    /// The earliest time an endpoint has something to send.
    /// Mutating for the reason `WebhookEndpoint.nextWakeUpMs` is.
    public mutating func nextWakeUpMs(now: Int64) -> Int64? {
        var earliest: Int64?
        for index in endpoints.indices {
            if let wake = endpoints[index].nextWakeUpMs(now: now) { earliest = min(earliest ?? wake, wake) }
        }
        return earliest
    }

    /// Deliveries waiting in all, in flight included.
    public var pendingCount: Int { endpoints.reduce(0) { $0 + $1.queue.count } }

    /// What to persist: every waiting delivery (in flight included: it is sent again
    /// after a restart, with the same webhook-id) and every endpoint disabled by a 410.
    public var records: [WebhookQueueRecord] {
        var out: [WebhookQueueRecord] = []
        for endpoint in endpoints {
            if let reason = endpoint.disabledReason {
                out.append(.disabled(endpointID: endpoint.id, url: endpoint.config.url.description, reason: reason))
            }
            for delivery in endpoint.queue { out.append(.delivery(endpointID: endpoint.id, delivery)) }
        }
        return out
    }

    /// Puts back what `records` saved: deliveries of endpoints still configured (the
    /// queue limits apply), and the disabled state of endpoints whose URL is unchanged.
    /// Returns how many deliveries were restored.
    @discardableResult
    public mutating func restore(_ records: [WebhookQueueRecord]) -> Int {
        var byEndpoint: [String: [WebhookDelivery]] = [:]
        for record in records {
            switch record {
            case .delivery(let endpointID, let delivery):
                byEndpoint[endpointID, default: []].append(delivery)
            case .disabled(let endpointID, let url, let reason):
                if let index = endpoints.firstIndex(where: { $0.id == endpointID }),
                   endpoints[index].config.url.description == url {
                    endpoints[index].disable(reason: reason)
                }
            }
        }
        var restored = 0
        for index in endpoints.indices {
            if let deliveries = byEndpoint[endpoints[index].id] { restored += endpoints[index].restore(deliveries) }
        }
        return restored
    }
}
