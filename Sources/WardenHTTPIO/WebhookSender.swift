import EventLoop
import WardenHTTP
import WardenWebhooks

/// Drives a `WebhookDispatcher` with an `HTTPClient` on the loop: sends every attempt
/// as it falls due, feeds the outcomes back, and keeps one timer for the next due
/// attempt. Nothing here blocks the loop, and nothing waits for a delivery: `publish`
/// only queues. Loop thread only.
///
///     let sender = WebhookSender(loop: loop, client: HTTPClient(loop: loop),
///                                dispatcher: WebhookDispatcher(configs: configs, seed: seed))
///     sender.restore(WebhookQueueFile.decode(bytes).records)
///     sender.onQueueChange = { write WebhookQueueFile.encode(sender.records) atomically }
///     sender.publish(id: event.id, eventType: "+switch-master", body: event.body)
public final class WebhookSender {
    public let loop: EventLoop
    public let client: HTTPClient
    public private(set) var dispatcher: WebhookDispatcher
    /// Wall-clock milliseconds (the dispatcher's times survive restarts).
    private let clock: () -> Int64
    /// After anything that changes what `records` returns: persist then.
    public var onQueueChange: (() -> Void)?
    /// After each attempt: for logs and metrics.
    public var onAttempt: ((WebhookAttempt, DeliveryOutcome, DeliveryDisposition) -> Void)?

    private var timer: TimerID?
    private var timerAt: Int64?
    private var inFlight: [HTTPClientTask] = []
    private var stopped = false

    public init(loop: EventLoop, client: HTTPClient, dispatcher: WebhookDispatcher,
                clock: @escaping () -> Int64 = EventLoop.wallClockMs) {
        self.loop = loop
        self.client = client
        self.dispatcher = dispatcher
        self.clock = clock
    }

    public var records: [WebhookQueueRecord] { dispatcher.records }

    /// Queues an event for the endpoints that want it; sending starts at once.
    @discardableResult
    public func publish(id: String, eventType: String, body: [UInt8]) -> [(String, EnqueueResult)] {
        let results = dispatcher.publish(id: id, eventType: eventType, body: body, now: clock())
        if !results.isEmpty { onQueueChange?() }
        pump()
        return results
    }

    public func configure(_ configs: [WebhookConfig]) {
        dispatcher.configure(configs)
        onQueueChange?()
        pump()
    }

    @discardableResult
    public func restore(_ records: [WebhookQueueRecord]) -> Int {
        let restored = dispatcher.restore(records)
        pump()
        return restored
    }

    /// Stops sending: cancels the timer and the requests under way (their deliveries
    /// stay queued, to be persisted and sent after a restart).
    public func stop() {
        stopped = true
        if let timer { loop.cancel(timer) }
        timer = nil
        timerAt = nil
        for task in inFlight { task.cancel() }
        inFlight = []
        dispatcher.abandonInFlight()
    }

    /// Starts what is due and sets the timer for what comes next.
    private func pump() {
        guard !stopped else { return }
        let now = clock()
        for attempt in dispatcher.startAttempts(now: now) { send(attempt) }
        guard let wake = dispatcher.nextWakeUpMs(now: now) else {
            if let timer { loop.cancel(timer) }
            timer = nil
            timerAt = nil
            return
        }
        if timerAt == wake { return }
        if let timer { loop.cancel(timer) }
        timerAt = wake
        timer = loop.schedule(afterMs: max(wake - now, 0)) { [weak self] in
            guard let self else { return }
            self.timer = nil
            self.timerAt = nil
            self.pump()
        }
    }

    private func send(_ attempt: WebhookAttempt) {
        let request = HTTPClientRequest(method: "POST", url: attempt.url, headers: attempt.headers, body: attempt.body,
                                        timeoutMs: Int64(attempt.timeoutMs))
        var task: HTTPClientTask?
        task = client.send(request) { [weak self] result in
            guard let self else { return }
            self.inFlight.removeAll { $0 === task }
            let outcome: DeliveryOutcome
            switch result {
            case .success(let response):
                outcome = DeliveryOutcome(response)
            case .failure(.cancelled):
                return
            case .failure(.timeout):
                outcome = .timeout
            case .failure(.invalidResponse(let error)):
                outcome = .invalidResponse(error.reason)
            case .failure(let error):
                outcome = .connectionFailed(error.description)
            }
            let disposition = self.dispatcher.complete(endpointID: attempt.endpointID, deliveryID: attempt.delivery.id,
                                                       outcome: outcome, now: self.clock())
            self.onAttempt?(attempt, outcome, disposition)
            self.onQueueChange?()
            self.pump()
        }
        if let task, !task.isFinished { inFlight.append(task) }
    }
}
