import RESP

@testable import SentinelCore

/// What the daemon does with the answers the core asks for, for tests that drive a
/// core directly: saves are answered at once (succeeding unless `diskFails`),
/// script paths are executable unless listed, scripts start.
struct SyncDriver {
    var diskFails = false
    var notExecutable: Set<String> = []
    /// What host names resolve to (others do not resolve).
    var hosts: [String: String] = [:]
    /// Every configuration "written" so far.
    var saved: [SentinelConfig] = []
    var nextRequest: UInt64 = 1_000_000

    /// Hands `input` to the core and answers what needs an answer, depth first (as
    /// the daemon's `perform` does). Returns every effect, in order, the answered
    /// ones included.
    mutating func handle(_ core: Sentinel, _ input: Input, now: Millis) -> [Effect] {
        var all: [Effect] = []
        for e in core.handle(input, now: now) {
            all.append(e)
            switch e {
            case .save(let request):
                if !diskFails { saved.append(request.config) }
                all += handle(core, .saved(request.id, ok: !diskFails), now: now)
            case .checkExecutable(let id, let paths):
                all += handle(core, .executableChecked(id, paths.map { !notExecutable.contains($0) }), now: now)
            case .resolve(let name):
                all += handle(core, .resolved(name, ip: hosts[name]), now: now)
            default:
                break
            }
        }
        return all
    }

    /// A client command: its reply (nil if none came) and every effect.
    mutating func command(_ core: Sentinel, _ args: [String], now: Millis) -> (reply: RESPValue?, effects: [Effect]) {
        nextRequest += 1
        let id = RequestID(nextRequest)
        let effects = handle(core, .command(id, args.map { Array($0.utf8) }), now: now)
        var reply: RESPValue?
        for e in effects { if case .reply(id, let v) = e { reply = v } }
        return (reply, effects.filter { if case .reply(id, _) = $0 { return false } else { return true } })
    }
}

extension Input {
    /// A peer's hello PUBLISHed on our port.
    static func hello(_ payload: String) -> Input {
        .command(RequestID(0), [Array("PUBLISH".utf8), Array(Timing.helloChannel.utf8), Array(payload.utf8)])
    }
}

extension Array where Element == Effect {
    /// The effects without replies to commands (what the core did besides answering).
    var withoutReplies: [Effect] { filter { if case .reply = $0 { return false } else { return true } } }
    /// The configurations the effects asked to save.
    var saves: [SaveRequest] { compactMap { if case .save(let r) = $0 { return r } else { return nil } } }
    /// Whether one of the effects asks for a save.
    var savesConfig: Bool { !saves.isEmpty }
    /// The effects without the saves.
    var withoutSaves: [Effect] { filter { if case .save = $0 { return false } else { return true } } }
    /// Where the first save is, and where the first event named `name` is.
    var firstSave: Int? { firstIndex { if case .save = $0 { return true } else { return false } } }
    func firstEvent(_ name: String) -> Int? {
        firstIndex { if case .event(let e) = $0 { return e.name == name } else { return false } }
    }
}
