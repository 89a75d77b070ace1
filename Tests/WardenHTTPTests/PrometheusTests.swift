import WardenHTTP
import WardenTestSupport
import XCTest

final class PrometheusTests: XCTestCase {
    private func sample() throws -> PrometheusText {
        var text = PrometheusText()
        try text.gauge("redis_sentinel_masters", help: "Number of masters this sentinel is watching", [.init(2)])
        try text.gauge("redis_sentinel_master_status", help: "Master status on Sentinel", [
            .init(1, labels: ["master_name": "mymaster", "master_address": "127.0.0.1:6379", "master_status": "ok"]),
            .init(0, labels: ["master_name": "we\"ird\\name\nx", "master_address": "[::1]:6380", "master_status": "odown"]),
        ])
        try text.counter("warden_failovers_total", help: "Failovers led by this sentinel,\nby result \\ outcome", [
            .init(3, labels: ["master_name": "mymaster", "result": "ok"]),
        ])
        var histogram = try XCTUnwrap(PrometheusHistogram(upperBounds: [0.5, 1, 2.5]))
        for value in [0.2, 0.5, 0.7, 3.0, .nan] { histogram.observe(value) }
        try text.histogram("warden_failover_duration_seconds", help: "Failover duration", [
            (labels: [("master_name", "mymaster")], histogram: histogram),
        ])
        try text.gauge("warden_webhook_queue_depth", help: "", [])
        return text
    }

    func testExposition() throws {
        XCTAssertEqual(try sample().text, #"""
            # HELP redis_sentinel_masters Number of masters this sentinel is watching
            # TYPE redis_sentinel_masters gauge
            redis_sentinel_masters 2
            # HELP redis_sentinel_master_status Master status on Sentinel
            # TYPE redis_sentinel_master_status gauge
            redis_sentinel_master_status{master_name="mymaster",master_address="127.0.0.1:6379",master_status="ok"} 1
            redis_sentinel_master_status{master_name="we\"ird\\name\nx",master_address="[::1]:6380",master_status="odown"} 0
            # HELP warden_failovers_total Failovers led by this sentinel,\nby result \\ outcome
            # TYPE warden_failovers_total counter
            warden_failovers_total{master_name="mymaster",result="ok"} 3
            # HELP warden_failover_duration_seconds Failover duration
            # TYPE warden_failover_duration_seconds histogram
            warden_failover_duration_seconds_bucket{master_name="mymaster",le="0.5"} 2
            warden_failover_duration_seconds_bucket{master_name="mymaster",le="1"} 3
            warden_failover_duration_seconds_bucket{master_name="mymaster",le="2.5"} 3
            warden_failover_duration_seconds_bucket{master_name="mymaster",le="+Inf"} 4
            warden_failover_duration_seconds_sum{master_name="mymaster"} 4.4
            warden_failover_duration_seconds_count{master_name="mymaster"} 4
            # HELP warden_webhook_queue_depth 
            # TYPE warden_webhook_queue_depth gauge

            """#)
    }

    func testRulesAreEnforced() {
        var text = PrometheusText()
        XCTAssertThrowsError(try text.gauge("1abc", help: "", [])) { XCTAssertEqual($0 as? PrometheusError, .invalidMetricName("1abc")) }
        XCTAssertThrowsError(try text.gauge("a-b", help: "", []))
        XCTAssertThrowsError(try text.gauge("", help: "", []))
        XCTAssertNoThrow(try text.gauge("ns:sub_name", help: "", []))
        XCTAssertThrowsError(try text.gauge("ns:sub_name", help: "", [])) { XCTAssertEqual($0 as? PrometheusError, .duplicateFamily("ns:sub_name")) }
        XCTAssertThrowsError(try text.counter("requests", help: "", [])) {
            XCTAssertEqual($0 as? PrometheusError, .counterWithoutTotalSuffix("requests"))
        }
        XCTAssertThrowsError(try text.gauge("g1", help: "", [.init(1, labels: ["__x": "v"])]))
        XCTAssertThrowsError(try text.gauge("g2", help: "", [.init(1, labels: ["a:b": "v"])]))
        XCTAssertThrowsError(try text.gauge("g3", help: "", [.init(1, labels: ["a": "v", "a": "w"])])) {
            XCTAssertEqual($0 as? PrometheusError, .duplicateLabel("a"))
        }
        XCTAssertThrowsError(try text.histogram("h", help: "", [(labels: [("le", "1")], histogram: .failoverSeconds)]))
        XCTAssertNil(PrometheusHistogram(upperBounds: []))
        XCTAssertNil(PrometheusHistogram(upperBounds: [1, 1]))
        XCTAssertNil(PrometheusHistogram(upperBounds: [1, .infinity]))
    }

    func testValueFormatting() {
        XCTAssertEqual(PrometheusText.format(3.0), "3")
        XCTAssertEqual(PrometheusText.format(-2.0), "-2")
        XCTAssertEqual(PrometheusText.format(0.005), "0.005")
        XCTAssertEqual(PrometheusText.format(1e300), "1e+300")
        XCTAssertEqual(PrometheusText.format(.infinity), "+Inf")
        XCTAssertEqual(PrometheusText.format(-.infinity), "-Inf")
        XCTAssertEqual(PrometheusText.format(.nan), "NaN")
        XCTAssertEqual(PrometheusText.format(UInt64.max), "18446744073709551615")
        XCTAssertTrue(try sample().text.hasSuffix("\n"))
    }

    /// The official Python client's text parser reads it back: names, types, labels
    /// (unescaped), values and the histogram.
    func testPrometheusClientParsesIt() throws {
        guard pythonHas("prometheus_client") else {
            throw XCTSkip("prometheus_client is not installed (Tests/run.sh installs it)")
        }
        let script = """
            import sys
            from prometheus_client.parser import text_string_to_metric_families
            for family in text_string_to_metric_families(sys.stdin.read()):
                print("family", family.name, family.type)
                for s in family.samples:
                    print("sample", s.name, sorted(s.labels.items()), float(s.value))
            """
        let (status, output) = try runPython(script, input: try sample().bytes)
        XCTAssertEqual(status, 0)
        XCTAssertEqual(output, """
            family redis_sentinel_masters gauge
            sample redis_sentinel_masters [] 2.0
            family redis_sentinel_master_status gauge
            sample redis_sentinel_master_status [('master_address', '127.0.0.1:6379'), ('master_name', 'mymaster'), ('master_status', 'ok')] 1.0
            sample redis_sentinel_master_status [('master_address', '[::1]:6380'), ('master_name', 'we"ird\\\\name\\nx'), ('master_status', 'odown')] 0.0
            family warden_failovers counter
            sample warden_failovers_total [('master_name', 'mymaster'), ('result', 'ok')] 3.0
            family warden_failover_duration_seconds histogram
            sample warden_failover_duration_seconds_bucket [('le', '0.5'), ('master_name', 'mymaster')] 2.0
            sample warden_failover_duration_seconds_bucket [('le', '1'), ('master_name', 'mymaster')] 3.0
            sample warden_failover_duration_seconds_bucket [('le', '2.5'), ('master_name', 'mymaster')] 3.0
            sample warden_failover_duration_seconds_bucket [('le', '+Inf'), ('master_name', 'mymaster')] 4.0
            sample warden_failover_duration_seconds_sum [('master_name', 'mymaster')] 4.4
            sample warden_failover_duration_seconds_count [('master_name', 'mymaster')] 4.0
            family warden_webhook_queue_depth gauge

            """)
    }
}
