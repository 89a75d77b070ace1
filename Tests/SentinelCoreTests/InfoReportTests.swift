import XCTest
import SentinelCore

final class InfoReportTests: XCTestCase {
    func testRealMasterReply() {
        var expected = InfoReport()
        expected.runID = "810cd714efac6455ef5e64325ea404e23ffbedfc"
        expected.role = .master
        expected.replicas = [.init(ip: "127.0.0.1", port: 17302, state: "online", offset: 56)]
        expected.masterReplOffset = 135
        expected.masterFailoverState = "no-failover"
        expected.redisVersion = "7.0.15"
        expected.loading = false
        XCTAssertEqual(InfoReport.parse(InfoFixtures.masterInfo), expected)
    }

    func testRealReplicaReply() {
        var expected = InfoReport()
        expected.runID = "12c007556c49d2d51e97c2c3fb4a7df1ef2f17cd"
        expected.role = .replica
        expected.masterHost = "127.0.0.1"
        expected.masterPort = 17301
        expected.masterLinkUp = true
        expected.replicaPriority = 100
        expected.replicaReplOffset = 135
        expected.replicaAnnounced = true
        expected.masterReplOffset = 135
        expected.masterFailoverState = "no-failover"
        expected.redisVersion = "7.0.15"
        expected.loading = false
        XCTAssertEqual(InfoReport.parse(InfoFixtures.replicaInfo), expected)
    }

    func testRealReplicaWithItsMasterGone() {
        let report = InfoReport.parse(InfoFixtures.replicaLinkDownInfo)
        XCTAssertEqual(report.role, .replica)
        XCTAssertEqual(report.masterLinkUp, false)
        XCTAssertEqual(report.masterLinkDownSinceSeconds, 1)
        XCTAssertEqual(report.masterHost, "127.0.0.1")
        XCTAssertEqual(report.masterPort, 17301)
        XCTAssertEqual(report.replicaReplOffset, 135)
        XCTAssertEqual(report.replicas, [])
    }

    func testBytesAndBareNewlinesGiveTheSameReport() {
        for text in [InfoFixtures.masterInfo, InfoFixtures.replicaInfo, InfoFixtures.replicaLinkDownInfo] {
            let report = InfoReport.parse(text)
            XCTAssertNotNil(report.role)
            XCTAssertEqual(InfoReport.parse(Array(text.utf8)), report)
            let lf = text.split(separator: "\r\n", omittingEmptySubsequences: false).joined(separator: "\n")
            XCTAssertFalse(lf.utf8.contains(UInt8(ascii: "\r")))
            XCTAssertEqual(InfoReport.parse(lf), report)
        }
    }

    func testLinkDownSinceMinusOneIsNil() {
        let report = InfoReport.parse("role:slave\r\nmaster_link_status:down\r\nmaster_link_down_since_seconds:-1\r\n")
        XCTAssertEqual(report.masterLinkUp, false)
        XCTAssertNil(report.masterLinkDownSinceSeconds)
        XCTAssertEqual(InfoReport.parse("master_link_down_since_seconds:42").masterLinkDownSinceSeconds, 42)
    }

    func testLinkStatusFollowsRedis() {
        XCTAssertEqual(InfoReport.parse("master_link_status:UP\n").masterLinkUp, true)
        XCTAssertEqual(InfoReport.parse("master_link_status:upx\n").masterLinkUp, false)
        XCTAssertNil(InfoReport.parse("role:slave\n").masterLinkUp)
    }

    func testSeveralReplicasInBothForms() {
        let text = """
            # Replication
            role:master
            connected_slaves:4
            slave0:ip=10.0.0.2,port=6379,state=online,offset=1000,lag=1
            slave1:ip=::1,port=6380,state=wait_bgsave,offset=0,lag=0
            slave2:10.0.0.4,6381,online
            slave10:port=6382,ip=10.0.0.5,state=send_bulk
            master_repl_offset:1000
            """
        let report = InfoReport.parse(text)
        XCTAssertEqual(report.role, .master)
        XCTAssertEqual(report.masterReplOffset, 1000)
        XCTAssertEqual(report.replicas, [
            .init(ip: "10.0.0.2", port: 6379, state: "online", offset: 1000),
            .init(ip: "::1", port: 6380, state: "wait_bgsave", offset: 0),
            .init(ip: "10.0.0.4", port: 6381, state: "online", offset: nil),
            .init(ip: "10.0.0.5", port: 6382, state: "send_bulk", offset: nil),
        ])
    }

    func testBrokenReplicaLinesAreDropped() {
        let text = """
            slave0:10.0.0.4,6381
            slave1:ip=10.0.0.2,state=online
            slave2:ip=10.0.0.2,port=70000,state=online
            slave3:ip=,port=6379,state=online
            slave4:10.0.0.9,x,online
            slavex:ip=10.0.0.2,port=6379
            slave_priority:7
            slave5:ip=10.0.0.3,port=6390
            """
        let report = InfoReport.parse(text)
        XCTAssertEqual(report.replicas, [.init(ip: "10.0.0.3", port: 6390)])
        XCTAssertEqual(report.replicaPriority, 7)
    }

    func testNewerAndOlderSpellings() {
        let report = InfoReport.parse("replica_priority:0\nreplica-announced:0\nloading:1\n")
        XCTAssertEqual(report.replicaPriority, 0)
        XCTAssertEqual(report.replicaAnnounced, false)
        XCTAssertEqual(report.loading, true)
    }

    func testRunIDTakesFortyCharacters() {
        let id = String(repeating: "ab", count: 20)
        XCTAssertEqual(InfoReport.parse("run_id:\(id)\r\n").runID, id)
        XCTAssertEqual(InfoReport.parse("run_id:\(id)ffff\r\n").runID, id)
        XCTAssertNil(InfoReport.parse("run_id:\(id.dropLast())\r\n").runID)
    }

    func testGarbageYieldsAnEmptyReport() {
        let inputs = [
            "", "\r\n", "\n\n\n", ":::", "role", "role:", "role:sentinel", "role:masterx",
            "master_port:abc", "master_port:", "slave_repl_offset:12x", "master_repl_offset:99999999999999999999",
            "loading:yes", "# Replication", "\u{0}\u{1}\u{2}:\u{3}", "ключ:значение\r\n",
        ]
        for text in inputs {
            XCTAssertEqual(InfoReport.parse(text), InfoReport(), "input \(text.debugDescription)")
        }
        let bytes: [UInt8] = [0xff, 0xfe, 0x3a, 0x0d, 0x0a, 0x80, 0x3a, 0x0d]
        XCTAssertEqual(InfoReport.parse(bytes), InfoReport())
    }

    func testLastLineNeedsNoTerminatorAndLaterLinesWin() {
        let report = InfoReport.parse("role:master\r\nrole:slave")
        XCTAssertEqual(report.role, .replica)
        XCTAssertEqual(InfoReport.parse("master_port:-5\nmaster_host:h\r").masterHost, "h")
    }
}
