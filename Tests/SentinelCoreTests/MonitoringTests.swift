import Foundation
import RESP
import XCTest

@testable import SentinelCore

/// Drives a `Sentinel` the way the daemon does, without sockets: the test moves
/// the clock, opens the links the core asks for, and answers the commands it
/// sends, in order, as a fake Redis would.
final class CoreRig {
    static let myID = "0123456789abcdef0123456789abcdef01234567"
    static let peerID = "fedcba9876543210fedcba9876543210fedcba98"
    static let masterAddress = Address("127.0.0.1", 6379)
    static let replicaAddress = Address("127.0.0.1", 6380)

    let sentinel: Sentinel
    /// Answers saves and script checks at once, as the daemon does.
    var driver = SyncDriver()
    private(set) var now: Millis
    /// Commands sent on each open link and not answered yet, oldest first.
    private(set) var unanswered: [LinkID: [[String]]] = [:]
    /// Open links (asked for and not closed), in the order they were asked for.
    private(set) var openLinks: [(id: LinkID, address: Address)] = []

    /// A sentinel monitoring mymaster at 127.0.0.1:6379 with quorum 2 and a
    /// 5000 ms down-after period, unless `configure` says otherwise.
    init(now: Millis = 1_000_000, configure: (inout SentinelConfig) -> Void = { _ in }) {
        var c = SentinelConfig()
        c.myid = Self.myID
        var m = MasterConfig(name: "mymaster", address: Self.masterAddress, quorum: 2)
        m.downAfter = 5000
        c.masters = [m]
        configure(&c)
        self.now = now
        sentinel = Sentinel(config: c, seed: 42, now: now)
        record(sentinel.start(now: now))
    }

    @discardableResult
    func feed(_ input: Input) -> [Effect] {
        let effects = driver.handle(sentinel, input, now: now)
        record(effects)
        return effects
    }

    @discardableResult
    func tick(at time: Millis) -> [Effect] {
        now = time
        return feed(.tick)
    }

    /// Ticks every `step` ms until `time` (inclusive), gathering the effects.
    @discardableResult
    func tick(until time: Millis, step: Millis = 100) -> [Effect] {
        var effects: [Effect] = []
        while now + step <= time { effects += tick(at: now + step) }
        if now < time { effects += tick(at: time) }
        return effects
    }

    func command(_ args: String...) -> (reply: RESPValue, effects: [Effect]) {
        command(args)
    }

    /// A client command with its saves answered; `-ERR no reply` if none came.
    func command(_ args: [String]) -> (reply: RESPValue, effects: [Effect]) {
        let result = driver.command(sentinel, args, now: now)
        record(result.effects)
        return (result.reply ?? .error("ERR no reply"), result.effects)
    }

    func record(_ effects: [Effect]) {
        for e in effects {
            switch e {
            case .connect(let id, let address):
                openLinks.append((id, address))
                unanswered[id] = []
            case .send(let id, let args):
                unanswered[id, default: []].append(args.strings)
            case .close(let id):
                openLinks.removeAll { $0.id == id }
                unanswered[id] = nil
            default:
                break
            }
        }
    }

    /// The open command and Pub/Sub links to an address (the core asks for the
    /// command link first).
    func links(to address: Address) -> (command: LinkID, pubsub: LinkID?)? {
        let ids = openLinks.filter { $0.address == address }.map(\.id)
        guard let first = ids.first else { return nil }
        return (first, ids.count > 1 ? ids[1] : nil)
    }

    @discardableResult
    func connect(_ id: LinkID, localHost: String = "127.0.0.1") -> [Effect] {
        feed(.connected(id, localHost: localHost))
    }

    /// Ticks so the links to `address` are asked for, and reports them up.
    @discardableResult
    func connectAll(to address: Address, localHost: String = "127.0.0.1") -> (command: LinkID, pubsub: LinkID?) {
        if links(to: address) == nil { tick(at: now + 100) }
        let l = links(to: address)!
        connect(l.command, localHost: localHost)
        if let p = l.pubsub { connect(p, localHost: localHost) }
        return l
    }

    /// Ticks every 10 ms until a PING goes out on `link`; returns when it did.
    func tickUntilPing(on link: LinkID) -> Millis {
        for _ in 0..<1_000 {
            if sentCommands(tick(at: now + 10), on: link).contains(["PING"]) { return now }
        }
        XCTFail("no PING sent on \(link)")
        return now
    }

    /// Answers every command waiting on the link, oldest first.
    @discardableResult
    func answer(_ id: LinkID, _ responder: ([String]) -> RESPValue) -> [Effect] {
        let waiting = unanswered[id] ?? []
        unanswered[id] = []
        var effects: [Effect] = []
        for args in waiting { effects += feed(.reply(id, responder(args))) }
        return effects
    }

    /// A healthy Redis: PONG, the given INFO text, 1 subscriber, OK for the rest.
    static func redis(info: String) -> ([String]) -> RESPValue {
        { args in
            switch args[0].uppercased() {
            case "PING": return .simpleString("PONG")
            case "INFO": return .bulk(info)
            case "PUBLISH": return .integer(1)
            default: return .ok
            }
        }
    }

    /// A master at 6379 with its links up and its first INFO (one replica) answered.
    @discardableResult
    func bringUpMaster(info: String = CapturedInfo.master) -> (command: LinkID, pubsub: LinkID?) {
        let l = connectAll(to: Self.masterAddress)
        tick(at: now + 100)
        answer(l.command, Self.redis(info: info))
        return l
    }

    /// The replica at 6380 discovered, connected, and its INFO answered.
    @discardableResult
    func bringUpReplica(info: String = CapturedInfo.replica) -> (command: LinkID, pubsub: LinkID?) {
        let l = connectAll(to: Self.replicaAddress)
        tick(at: now + 100)
        answer(l.command, Self.redis(info: info))
        return l
    }

    var master: Master { sentinel.master(named: "mymaster")! }
}

/// The events among the effects, as Redis logs them (`+sdown master mymaster ...`).
func eventLines(_ effects: [Effect]) -> [String] {
    effects.compactMap { if case .event(let e) = $0 { return e.description } else { return nil } }
}

/// The commands the effects send on one link, in order.
func sentCommands(_ effects: [Effect], on link: LinkID) -> [[String]] {
    effects.compactMap { if case .send(link, let args) = $0 { return args.strings } else { return nil } }
}

/// A hello from a peer sentinel at 127.0.0.1:`port` about mymaster.
func peerHello(from runID: String = CoreRig.peerID, port: Int = 26380, epoch: UInt64,
               master: Address = CoreRig.masterAddress, configEpoch: UInt64) -> String {
    "127.0.0.1,\(port),\(runID),\(epoch),mymaster,\(master.host),\(master.port),\(configEpoch)"
}

/// Monitoring with an injected clock: links and handshakes, discovery from INFO,
/// SDOWN timing, hellos and epochs, address switches, reboots, TILT, role changes.
final class MonitoringTests: XCTestCase {
    let master = CoreRig.masterAddress
    let replica = CoreRig.replicaAddress

    // MARK: - Links

    func testConnectsCommandAndPubSubLinksAndHandshakes() {
        let rig = CoreRig { $0.masters[0].authPass = "s3cret" }
        let e = rig.tick(at: rig.now + 100)
        let connects = e.compactMap { effect -> Address? in
            if case .connect(_, let a) = effect { return a } else { return nil }
        }
        XCTAssertEqual(connects, [master, master])
        let (cmd, pubsub) = rig.links(to: master)!
        XCTAssertTrue(rig.master.flags.contains(.disconnected))

        XCTAssertEqual(sentCommands(rig.connect(cmd), on: cmd), [
            ["AUTH", "s3cret"],
            ["CLIENT", "SETNAME", "sentinel-01234567-cmd"],
            ["PING"],
        ])
        XCTAssertTrue(rig.master.flags.contains(.disconnected), "Pub/Sub link still down")
        XCTAssertEqual(sentCommands(rig.connect(pubsub!), on: pubsub!), [
            ["AUTH", "s3cret"],
            ["CLIENT", "SETNAME", "sentinel-01234567-pubsub"],
            ["SUBSCRIBE", "__sentinel__:hello"],
        ])
        XCTAssertFalse(rig.master.flags.contains(.disconnected))
    }

    func testHandshakeWithoutPasswordAndWithUser() {
        let plain = CoreRig()
        plain.tick(at: plain.now + 100)
        let l = plain.links(to: master)!
        XCTAssertEqual(sentCommands(plain.connect(l.command), on: l.command),
                       [["CLIENT", "SETNAME", "sentinel-01234567-cmd"], ["PING"]])

        let acl = CoreRig {
            $0.masters[0].authUser = "sentinel"
            $0.masters[0].authPass = "pw"
        }
        acl.tick(at: acl.now + 100)
        let cmd = acl.links(to: master)!.command
        XCTAssertEqual(sentCommands(acl.connect(cmd), on: cmd).first, ["AUTH", "sentinel", "pw"])
    }

    func testRenamedCommandsAreSentUnderTheirNewNames() {
        let rig = CoreRig { $0.masters[0].renamedCommands = [(original: "ping", renamed: "SECRET-PING")] }
        rig.tick(at: rig.now + 100)
        let cmd = rig.links(to: master)!.command
        XCTAssertEqual(sentCommands(rig.connect(cmd), on: cmd).last, ["SECRET-PING"])
    }

    func testReconnectsAfterDisconnection() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        XCTAssertFalse(rig.master.flags.contains(.disconnected))

        XCTAssertEqual(rig.feed(.disconnected(l.command)), [])
        XCTAssertTrue(rig.master.flags.contains(.disconnected))
        // Not before a second has passed since the last attempt (the connect just
        // now), as in Redis.
        let early = rig.tick(at: rig.now + 100)
        XCTAssertFalse(early.contains { if case .connect(_, self.master) = $0 { true } else { false } })
        let e = rig.tick(at: rig.now + 1_000)
        let reopened = e.compactMap { effect -> LinkID? in
            if case .connect(let id, self.master) = effect { return id } else { return nil }
        }
        XCTAssertEqual(reopened.count, 1, "only the command link was lost")
        XCTAssertNotEqual(reopened.first, l.command)
        XCTAssertEqual(sentCommands(rig.connect(reopened[0]), on: reopened[0]),
                       [["CLIENT", "SETNAME", "sentinel-01234567-cmd"], ["PING"]])
        XCTAssertFalse(rig.master.flags.contains(.disconnected))
        // A reply on the dead link is ignored.
        XCTAssertEqual(rig.feed(.reply(l.command, .simpleString("PONG"))), [])
    }

    // MARK: - INFO

    func testReplicaDiscoveredFromInfo() {
        let rig = CoreRig()
        let l = rig.connectAll(to: master)
        let e1 = rig.tick(at: rig.now + 100)
        XCTAssertTrue(sentCommands(e1, on: l.command).contains(["INFO"]))
        let e = rig.answer(l.command, CoreRig.redis(info: CapturedInfo.master))
        XCTAssertEqual(eventLines(e), ["+slave slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379"])
        XCTAssertTrue(e.savesConfig)
        XCTAssertEqual(rig.master.runID, "810cd714efac6455ef5e64325ea404e23ffbedfc")
        XCTAssertEqual(rig.sentinel.configSnapshot().masters[0].knownReplicas, [replica])

        // The next tick opens links to the new replica; its INFO fills in its state.
        rig.bringUpReplica()
        let r = rig.master.replicas[0]
        XCTAssertEqual(r.replicaMasterHost, "127.0.0.1")
        XCTAssertEqual(r.replicaMasterPort, 6379)
        XCTAssertTrue(r.replicaMasterLinkUp)
        XCTAssertEqual(r.replicaReplOffset, 135)
        XCTAssertEqual(r.replicaPriority, 100)

        // The same INFO again adds nothing.
        rig.sentinel.timing.infoPeriod = 500
        rig.tick(at: rig.now + 600)
        XCTAssertEqual(eventLines(rig.answer(l.command, CoreRig.redis(info: CapturedInfo.master))), [])
    }

    func testRebootDetectedFromChangedRunID() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        rig.sentinel.timing.infoPeriod = 500
        rig.tick(at: rig.now + 600)
        let rebooted = CapturedInfo.master.replacingOccurrences(
            of: "run_id:810cd714efac6455ef5e64325ea404e23ffbedfc", with: "run_id:1111111111111111111111111111111111111111")
        let e = rig.answer(l.command, CoreRig.redis(info: rebooted))
        XCTAssertEqual(eventLines(e), ["+reboot master mymaster 127.0.0.1 6379"])
        XCTAssertEqual(rig.master.runID, "1111111111111111111111111111111111111111")
    }

    func testRoleChangeEvents() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        rig.sentinel.timing.infoPeriod = 500
        rig.tick(at: rig.now + 600)
        let demoted = CapturedInfo.master.replacingOccurrences(
            of: "role:master", with: "role:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:6380\r\nmaster_link_status:up")
        XCTAssertEqual(eventLines(rig.answer(l.command, CoreRig.redis(info: demoted))),
                       ["-role-change master mymaster 127.0.0.1 6379 new reported role is slave"])
        rig.tick(at: rig.now + 600)
        XCTAssertEqual(eventLines(rig.answer(l.command, CoreRig.redis(info: CapturedInfo.master))),
                       ["+role-change master mymaster 127.0.0.1 6379 new reported role is master"])

        // A replica's first INFO matches its configured role: no event.
        let r = rig.connectAll(to: replica)
        rig.tick(at: rig.now + 100)
        XCTAssertEqual(eventLines(rig.answer(r.command, CoreRig.redis(info: CapturedInfo.replica))), [])
        rig.sentinel.timing.replicaInfoPeriod = 500
        rig.tick(at: rig.now + 600)
        let promoted = CapturedInfo.replica.replacingOccurrences(of: "role:slave", with: "role:master")
        XCTAssertEqual(eventLines(rig.answer(r.command, CoreRig.redis(info: promoted))),
                       ["-role-change slave 127.0.0.1:6380 127.0.0.1 6380 @ mymaster 127.0.0.1 6379 new reported role is master"])
    }

    // MARK: - SDOWN

    func testSubjectivelyDownExactlyAfterDownAfterPeriod() throws {
        let rig = CoreRig()
        let l = rig.bringUpMaster(info: CapturedInfo.masterWithoutReplicas)
        // Everything answered; the next ping is never answered.
        let pingSent = rig.tickUntilPing(on: l.command)

        XCTAssertEqual(eventLines(rig.tick(until: pingSent + 5000, step: 500)), [])
        XCTAssertFalse(rig.master.flags.contains(.sDown))
        XCTAssertEqual(eventLines(rig.tick(at: pingSent + 5001)), ["+sdown master mymaster 127.0.0.1 6379"])
        XCTAssertTrue(rig.master.flags.contains(.sDown))
        XCTAssertEqual(eventLines(rig.tick(at: pingSent + 5100)), [], "+sdown is not repeated")

        // A valid reply (here LOADING, which counts) ends it at the next tick.
        rig.answer(l.command) { args in
            args[0] == "PING" ? .error("LOADING Redis is loading the dataset in memory") : .ok
        }
        XCTAssertEqual(eventLines(rig.tick(at: rig.now + 100)), ["-sdown master mymaster 127.0.0.1 6379"])
        XCTAssertFalse(rig.master.flags.contains(.sDown))
    }

    func testInvalidPingReplyDoesNotCount() {
        let rig = CoreRig()
        let l = rig.bringUpMaster(info: CapturedInfo.masterWithoutReplicas)
        let pingSent = rig.tickUntilPing(on: l.command)
        // Errors other than LOADING / MASTERDOWN are answers, but not valid ones.
        for t in stride(from: pingSent + 500, through: pingSent + 5000, by: 500) {
            rig.tick(at: t)
            rig.answer(l.command) { _ in .error("ERR something is wrong") }
        }
        XCTAssertEqual(eventLines(rig.tick(at: pingSent + 5001)), ["+sdown master mymaster 127.0.0.1 6379"])
    }

    func testNeverReachedMasterIsDownAfterThePeriod() {
        let rig = CoreRig()
        let start = rig.now
        XCTAssertEqual(eventLines(rig.tick(until: start + 5000, step: 1000)), [])
        XCTAssertEqual(eventLines(rig.tick(at: start + 5001)), ["+sdown master mymaster 127.0.0.1 6379"])
    }

    // MARK: - Hellos

    func testHelloAddsSentinelAndAdoptsEpoch() {
        let rig = CoreRig()
        let e = rig.feed(.hello(peerHello(epoch: 5, configEpoch: 0)))
        XCTAssertEqual(eventLines(e), [
            "+sentinel sentinel \(CoreRig.peerID) 127.0.0.1 26380 @ mymaster 127.0.0.1 6379",
            "+new-epoch 5",
        ])
        XCTAssertTrue(e.savesConfig)
        XCTAssertEqual(rig.sentinel.currentEpoch, 5)
        XCTAssertEqual(rig.master.sentinels.map(\.runID), [CoreRig.peerID])
        XCTAssertEqual(rig.sentinel.configSnapshot().masters[0].knownSentinels,
                       [KnownSentinel(address: Address("127.0.0.1", 26380), runID: CoreRig.peerID)])

        // The same hello again changes nothing; a lower epoch is not adopted.
        XCTAssertEqual(eventLines(rig.feed(.hello(peerHello(epoch: 5, configEpoch: 0)))), [])
        XCTAssertEqual(eventLines(rig.feed(.hello(peerHello(epoch: 2, configEpoch: 0)))), [])
        XCTAssertEqual(rig.sentinel.currentEpoch, 5)

        // Peer sentinels get a command link only.
        let opened = rig.tick(at: rig.now + 100).compactMap { effect -> Address? in
            if case .connect(_, let a) = effect, a.port == 26380 { return a } else { return nil }
        }
        XCTAssertEqual(opened, [Address("127.0.0.1", 26380)])
    }

    func testHelloWithNewerConfigSwitchesMaster() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        let message = RESPValue.push([
            .bulk("message"), .bulk("__sentinel__:hello"),
            .bulk(peerHello(epoch: 3, master: replica, configEpoch: 3)),
        ])
        let e = rig.feed(.reply(l.pubsub!, message))
        XCTAssertEqual(eventLines(e), [
            "+sentinel sentinel \(CoreRig.peerID) 127.0.0.1 26380 @ mymaster 127.0.0.1 6379",
            "+new-epoch 3",
            "+config-update-from sentinel \(CoreRig.peerID) 127.0.0.1 26380 @ mymaster 127.0.0.1 6379",
            "+switch-master mymaster 127.0.0.1 6379 127.0.0.1 6380",
            "+slave slave 127.0.0.1:6379 127.0.0.1 6379 @ mymaster 127.0.0.1 6380",
        ])
        XCTAssertTrue(e.savesConfig)
        XCTAssertTrue(e.contains(.close(l.command)), "links to the old address are dropped")
        XCTAssertEqual(rig.master.address, replica)
        XCTAssertEqual(rig.master.configEpoch, 3)
        XCTAssertEqual(rig.master.replicas.map(\.address), [master])
        XCTAssertEqual(rig.master.sentinels.count, 1, "the switch keeps the known sentinels")

        // An older config epoch for yet another address is ignored.
        let stale = rig.feed(.hello(peerHello(epoch: 3, master: master, configEpoch: 2)))
        XCTAssertEqual(eventLines(stale), [])
        XCTAssertEqual(rig.master.address, replica)
    }

    /// As redis-sentinel (whose hiredis drops a connection on an error reply to
    /// SUBSCRIBE): a refused SUBSCRIBE drops the Pub/Sub link, the master shows
    /// as disconnected until a retry a second later succeeds.
    func testRefusedSubscribeDropsThePubSubLink() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        XCTAssertEqual(rig.feed(.reply(l.pubsub!, .simpleString("OK"))), [], "CLIENT SETNAME")
        XCTAssertFalse(rig.master.flags.contains(.disconnected))
        let e = rig.feed(.reply(l.pubsub!, .error("NOAUTH Authentication required.")))
        XCTAssertTrue(e.contains(.close(l.pubsub!)))
        XCTAssertTrue(rig.master.flags.contains(.disconnected))
        let retry = rig.tick(at: rig.now + 1_000)
        XCTAssertTrue(retry.contains { if case .connect(_, self.master) = $0 { true } else { false } })

        // An error to CLIENT SETNAME alone (an ACL without +client) keeps the link.
        let again = rig.links(to: master)!.pubsub!
        rig.connect(again)
        XCTAssertEqual(rig.feed(.reply(again, .error("NOPERM this user has no permissions"))), [])
        XCTAssertEqual(rig.feed(.reply(again, .array([.bulk("subscribe"), .bulk("__sentinel__:hello"), .integer(1)]))), [])
        XCTAssertFalse(rig.master.flags.contains(.disconnected))
    }

    func testOwnHelloIsIgnored() {
        let rig = CoreRig()
        let l = rig.bringUpMaster()
        let own = peerHello(from: CoreRig.myID, epoch: 9, master: replica, configEpoch: 9)
        XCTAssertEqual(rig.feed(.hello(own)).withoutReplies, [])
        let message = RESPValue.array([.bulk("message"), .bulk("__sentinel__:hello"), .bulk(own)])
        XCTAssertEqual(rig.feed(.reply(l.pubsub!, message)), [])
        XCTAssertEqual(rig.sentinel.currentEpoch, 0)
        XCTAssertTrue(rig.master.sentinels.isEmpty)
        XCTAssertEqual(rig.master.address, master)
    }

    func testPublishesHelloOnConnectedLinks() {
        let rig = CoreRig()
        let l = rig.connectAll(to: master, localHost: "127.0.0.9")
        let e = rig.tick(at: rig.now + 100)
        XCTAssertTrue(sentCommands(e, on: l.command).contains(
            ["PUBLISH", "__sentinel__:hello", "127.0.0.9,26379,\(CoreRig.myID),0,mymaster,127.0.0.1,6379,0"]))
    }

    // MARK: - Probing schedule and agenda

    /// A healthy master and replica for `seconds` s of ticks every 100 ms, every
    /// command answered at once: PINGs sent to the master, and looks taken.
    private func steadyState(downAfter: Millis, seconds: Int) -> (pings: Int, looks: UInt64) {
        let rig = CoreRig { $0.masters[0].downAfter = downAfter }
        let m = rig.bringUpMaster()
        let r = rig.bringUpReplica()
        // Past min-link-reconnect-period (15 s), where the stuck-link checks begin.
        let start = rig.now + 20_000
        var pings = 0
        var looksAtStart: UInt64 = 0
        while rig.now < start + Millis(seconds) * 1000 {
            let e = rig.tick(at: rig.now + 100)
            if rig.now > start { pings += sentCommands(e, on: m.command).filter { $0 == ["PING"] }.count }
            if rig.now <= start { looksAtStart = rig.sentinel.looksTaken }
            rig.answer(m.command, CoreRig.redis(info: CapturedInfo.master))
            rig.answer(r.command, CoreRig.redis(info: CapturedInfo.replica))
            // The Pub/Sub links hear hellos (ours come back), so they are not silent.
            for p in [m.pubsub, r.pubsub].compactMap({ $0 }) {
                rig.answer(p, CoreRig.redis(info: ""))
                if rig.now % 1000 == 0 {
                    rig.feed(.reply(p, .array([.bulk("message"), .bulk(Timing.helloChannel),
                                               .bulk(peerHello(from: CoreRig.myID, port: 26379, epoch: 0, configEpoch: 0))])))
                }
            }
        }
        return (pings, rig.sentinel.looksTaken - looksAtStart)
    }

    func testHealthyInstancesArePingedAsDownAfterNeedsAndLookedAtOnlyWhenSomethingIsDue() {
        // down-after 30000: one PING a second, as Redis; down-after 5000: two.
        let slow = steadyState(downAfter: 30_000, seconds: 20)
        XCTAssertTrue((17...21).contains(slow.pings), "\(slow.pings) PINGs in 20 s")
        let fast = steadyState(downAfter: 5_000, seconds: 20)
        XCTAssertTrue((34...41).contains(fast.pings), "\(fast.pings) PINGs in 20 s")
        // A look per PING and per hello (every 2 s), an INFO every 10 s, each for two
        // instances: about 60 in 20 s, not one per instance per tick (400).
        XCTAssertLessThanOrEqual(slow.looks, 80)
        XCTAssertGreaterThanOrEqual(slow.looks, 40)
    }

    // MARK: - TILT

    func testTiltOnClockJumpSuppressesSDownUntilTiltPeriodEnds() {
        let rig = CoreRig()
        rig.bringUpMaster(info: CapturedInfo.masterWithoutReplicas)
        let jumped = rig.now + 3000
        XCTAssertEqual(eventLines(rig.tick(at: jumped)), ["+tilt #tilt mode entered"])
        XCTAssertTrue(rig.sentinel.tilt)
        XCTAssertTrue(rig.sentinel.infoSentinelSection(now: jumped + 4500).contains(
            "sentinel_tilt:1\r\nsentinel_tilt_since_seconds:4\r\n"))

        // The master stops answering; in TILT it is watched but never declared down.
        XCTAssertEqual(eventLines(rig.tick(until: jumped + 29_999, step: 1000)), [])
        XCTAssertFalse(rig.master.flags.contains(.sDown))
        // While in TILT, peers are told the master is fine.
        XCTAssertEqual(rig.command("SENTINEL", "is-master-down-by-addr", "127.0.0.1", "6379", "0", "*").reply,
                       .array([.integer(0), .bulk("*"), .integer(0)]))

        XCTAssertEqual(eventLines(rig.tick(at: jumped + 30_000)),
                       ["-tilt #tilt mode exited", "+sdown master mymaster 127.0.0.1 6379"])
        XCTAssertFalse(rig.sentinel.tilt)
    }

    func testBackwardsClockEntersTilt() {
        let rig = CoreRig()
        rig.tick(at: rig.now + 100)
        XCTAssertEqual(eventLines(rig.tick(at: rig.now - 50)), ["+tilt #tilt mode entered"])
    }
}

/// INFO replies captured from redis-server 7.0.15 (a master and its replica; the
/// ports renumbered to 6379 and 6380).
/// The INFO replies captured from redis-server 7.0.15 (InfoFixtures), renumbered to
/// the ports these tests use: master 6379, replica 6380.
enum CapturedInfo {
    private static func renumbered(_ info: String) -> String {
        info.replacingOccurrences(of: "17301", with: "6379").replacingOccurrences(of: "17302", with: "6380")
    }

    static let master = renumbered(InfoFixtures.masterInfo)
    static let replica = renumbered(InfoFixtures.replicaInfo)

    /// The master's INFO with no replica attached.
    static let masterWithoutReplicas = master.replacingOccurrences(
        of: "connected_slaves:1\r\nslave0:ip=127.0.0.1,port=6380,state=online,offset=56,lag=0\r\n",
        with: "connected_slaves:0\r\n")
}
