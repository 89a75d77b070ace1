import Configuration
import EventLoop
import RESP
import SentinelCore
@testable import WardenDaemon

/// A `ClientServer` around a real SentinelCore `Sentinel`, with no socket and no event
/// loop: it stands in for `Daemon` as the server's host, handing client commands to the
/// core and carrying out the effects the sentinel port cares about (replies, events,
/// saves, which always succeed here; links and scripts are not made). Time is `now`,
/// moved by the test. Clients are `EmbeddedTransport`s.
final class EmbeddedSentinel: ClientServerHost {
    let core: Sentinel
    let logger = Logger(level: .nothing, path: "/dev/null")
    let tls = TLSMaterial(config: TLSConfig())
    let startTime: Millis
    let serverRunID = String(repeating: "0", count: 40)
    let configFile = ConfigFile(path: "/nonexistent/warden-embedded-sentinel.conf")
    private(set) var server: ClientServer!
    var now: Millis = 1_700_000_000_000
    /// The reason SHUTDOWN asked for, once it did.
    private(set) var shutdownReason: String?
    private var requests: [RequestID: UInt64] = [:]
    private var nextRequest: UInt64 = 0
    private var transports: [EmbeddedTransport] = []
    private var nextPort = 50_000

    init(config: SentinelConfig = SentinelConfig(), server settings: ServerSettings = ServerSettings()) throws {
        startTime = now
        core = Sentinel(config: config, seed: 1, now: now)
        let users = try ACLSetup.initialUsers(sentinel: config, server: settings)
        server = ClientServer(host: self, loop: nil, server: settings, acl: users)
        server.wallClock = { [unowned self] in self.now }
        perform(core.start(now: now))
    }

    /// A new client, accepted by the server.
    func connect(remoteHost: String = "127.0.0.1") -> EmbeddedTransport {
        let transport = EmbeddedTransport(remoteHost: remoteHost, remotePort: nextPort)
        nextPort += 1
        transports.append(transport)
        server.accept(transport)
        return transport
    }

    /// Delivers the `onClose` of every transport that closed, as the event loop does once
    /// the current callback has returned.
    func settle() {
        for transport in transports { transport.deliverClose() }
    }

    /// An input for the core (a timer tick, say), with what it produces carried out.
    func feed(_ input: Input) {
        perform(core.handle(input, now: now))
        settle()
    }

    // MARK: ClientServerHost

    func submit(_ s: ClientSession, _ args: [[UInt8]]) {
        nextRequest += 1
        let id = RequestID(nextRequest)
        requests[id] = s.id
        s.awaiting = id
        perform(core.handle(.command(id, args), now: now))
    }

    func shutdownSoon(reason: String) {
        shutdownReason = reason
    }

    private func perform(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .reply(let id, let value):
                guard let sid = requests.removeValue(forKey: id), let s = server.sessions[sid] else { continue }
                s.reply(value)
                s.awaiting = nil
                if !s.processing { server.process(s) }
            case .event(let event):
                if event.level != .debug { server.publish(channel: event.name, message: event.payload) }
            case .save(let request):
                perform(core.handle(.saved(request.id, ok: true), now: now))
            default:
                continue
            }
        }
    }
}
