import EventLoop
import Glibc

/// Name resolution (getaddrinfo) off the loop thread: getaddrinfo blocks, for as long
/// as the resolver's own timeouts (resolv.conf) take, so each lookup runs on a thread
/// of its own and the answer comes back to the loop thread with `EventLoop.execute`.
/// Not on a Dispatch queue: blocked calls there hold Dispatch's few worker threads
/// (about one per core on Linux), which the daemon's signal handling also needs.
///
/// At most `maxConcurrent` lookups run at once and `maxQueued` wait; beyond that a
/// lookup fails at once. There is no cache: webhooks are rare, and every attempt then
/// sees DNS changes. A caller that stops waiting (its own deadline) just ignores the
/// late answer.
public final class HostResolver: @unchecked Sendable {   // its state is only touched on the loop thread
    public let loop: EventLoop
    public let maxConcurrent: Int
    public let maxQueued: Int
    /// At most this many addresses are returned per name.
    public static let maxAddresses = 8

    private var running = 0
    private var waiting: [(String, Box)] = []

    /// Carries a loop-thread-only completion through the lookup thread and back; it is
    /// only called on the loop thread.
    private final class Box: @unchecked Sendable {
        let completion: (Result<[String], HostResolverError>) -> Void
        init(_ completion: @escaping (Result<[String], HostResolverError>) -> Void) { self.completion = completion }
    }

    public init(loop: EventLoop, maxConcurrent: Int = 4, maxQueued: Int = 64) {
        self.loop = loop
        self.maxConcurrent = max(maxConcurrent, 1)
        self.maxQueued = max(maxQueued, 0)
    }

    /// Loop thread only. The numeric addresses of `host` (IPv4 and IPv6, in
    /// getaddrinfo's order), delivered later on the loop thread, never from inside this call.
    public func resolve(_ host: String, completion: @escaping (Result<[String], HostResolverError>) -> Void) {
        let box = Box(completion)
        if running < maxConcurrent {
            start(host, box)
        } else if waiting.count < maxQueued {
            waiting.append((host, box))
        } else {
            loop.schedule(afterMs: 0) { box.completion(.failure(HostResolverError("too many name lookups under way"))) }
        }
    }

    private func start(_ host: String, _ box: Box) {
        running += 1
        let started = startThread {
            let result = HostResolver.lookUp(host)
            self.loop.execute { self.finished(box, result) }
        }
        if !started {
            loop.schedule(afterMs: 0) { self.finished(box, .failure(HostResolverError("cannot start a thread for a name lookup"))) }
        }
    }

    private func finished(_ box: Box, _ result: Result<[String], HostResolverError>) {
        running -= 1
        box.completion(result)
        if !waiting.isEmpty, running < maxConcurrent {
            let (next, nextBox) = waiting.removeFirst()
            start(next, nextBox)
        }
    }

    /// The blocking lookup itself (any thread).
    static func lookUp(_ host: String) -> Result<[String], HostResolverError> {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, nil, &hints, &list)
        guard status == 0 else {
            let text = gai_strerror(status).map { String(cString: $0) } ?? "error \(status)"
            return .failure(HostResolverError("cannot resolve '\(host)': \(text)"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [String] = []
        var entry = list
        while let current = entry, addresses.count < maxAddresses {
            entry = current.pointee.ai_next
            guard let address = current.pointee.ai_addr else { continue }
            var text = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, current.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 else {
                continue
            }
            let numeric = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !addresses.contains(numeric) { addresses.append(numeric) }
        }
        guard !addresses.isEmpty else { return .failure(HostResolverError("cannot resolve '\(host)': no address")) }
        return .success(addresses)
    }
}

public struct HostResolverError: Error, Equatable, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Runs `body` on a new detached thread; false if no thread could be started.
func startThread(_ body: @escaping @Sendable () -> Void) -> Bool {
    let job = Unmanaged.passRetained(ThreadJob(body)).toOpaque()
    var thread = pthread_t()
    let created = pthread_create(&thread, nil, { context in
        guard let context else { return nil }
        Unmanaged<ThreadJob>.fromOpaque(context).takeRetainedValue().body()
        return nil
    }, job)
    guard created == 0 else {
        Unmanaged<ThreadJob>.fromOpaque(job).release()
        return false
    }
    pthread_detach(thread)
    return true
}

private final class ThreadJob {
    let body: @Sendable () -> Void
    init(_ body: @escaping @Sendable () -> Void) { self.body = body }
}
