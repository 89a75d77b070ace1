import EventLoop
import Foundation
import WardenHTTP
import WardenHTTPIO
import XCTest

/// A TLS receiver on Python's ssl module: two ports, one with a certificate for
/// `localhost` and 127.0.0.1, one for `other.test` only. It answers each request with the
/// server name the client sent (SNI), or `-` for none. Prints the two ports.
private let pythonTLSReceiver = """
import http.server, socketserver, ssl, sys, threading
ca_dir = sys.argv[1]
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        name = getattr(self.server, "sni", None) or "-"
        body = name.encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_GET
    def log_message(self, *args): pass
def serve(cert):
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(f"{ca_dir}/{cert}.crt", f"{ca_dir}/{cert}.key")
    def remember(sock, name, ctx): server.sni = name
    context.sni_callback = remember
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]
print(serve("good"))
print(serve("other"))
threading.Event().wait()
"""

final class HTTPSClientTests: XCTestCase {
    var loop: EventLoop!
    var receiver: Subprocess!
    var directory: URL!
    var goodPort = 0
    var otherPort = 0

    static func openssl(_ directory: URL, _ arguments: [String]) throws {
        let process = try Subprocess("/usr/bin/env", ["openssl"] + arguments.map {
            $0.hasPrefix("@") ? directory.appendingPathComponent(String($0.dropFirst())).path : $0
        })
        while !process.isFinished { usleep(10_000) }
        guard process.status == 0 else { throw XCTSkip("openssl failed: \(process.stderr)") }
    }

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("warden-https-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try Self.openssl(directory, ["req", "-x509"] + ec + ["-keyout", "@ca.key", "-out", "@ca.crt", "-days", "2",
                                                              "-subj", "/CN=Warden HTTPS test CA"])
        for (name, san) in [("good", "DNS:localhost,IP:127.0.0.1"), ("other", "DNS:other.test")] {
            try "subjectAltName=\(san)\n".write(to: directory.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
            try Self.openssl(directory, ["req"] + ec + ["-keyout", "@\(name).key", "-out", "@\(name).csr", "-subj", "/CN=\(name)"])
            try Self.openssl(directory, ["x509", "-req", "-in", "@\(name).csr", "-CA", "@ca.crt", "-CAkey", "@ca.key",
                                         "-CAcreateserial", "-out", "@\(name).crt", "-days", "2", "-extfile", "@\(name).ext"])
        }
        loop = try EventLoop()
        receiver = try Subprocess.python(pythonTLSReceiver, [directory.path])
        runLoop(loop, until: { self.receiver.lines.count >= 2 || self.receiver.isFinished })
        goodPort = try XCTUnwrap(Int(receiver.lines.first ?? ""), receiver.stderr)
        otherPort = try XCTUnwrap(Int(receiver.lines.dropFirst().first ?? ""), receiver.stderr)
    }

    override func tearDown() {
        receiver?.kill()
        if let loop, let receiver { runLoop(loop, limitMs: 5000, untilExited: receiver) }
        loop = nil
        if let directory { try? FileManager.default.removeItem(at: directory) }
    }

    func send(_ client: HTTPClient, _ url: String) throws -> Result<HTTPClientResponse, HTTPClientError> {
        var result: Result<HTTPClientResponse, HTTPClientError>?
        client.send(HTTPClientRequest(method: "GET", url: try HTTPURL(parsing: url), timeoutMs: 5000)) { result = $0 }
        runLoop(loop, until: { result != nil })
        return result ?? .failure(.cancelled)
    }

    func client(trusting ca: Bool) throws -> HTTPClient {
        let context = try TLSContext(verifyingServersWithCAFile: ca ? directory.appendingPathComponent("ca.crt").path : nil)
        return HTTPClient(loop: loop, connector: HTTPClient.tlsConnector(context))
    }

    func testServerNameIsSentAndChecked() throws {
        let client = try client(trusting: true)
        let byName = try send(client, "https://localhost:\(goodPort)/hook").get()
        XCTAssertEqual(byName.status, 200)
        XCTAssertEqual(String(decoding: byName.body, as: UTF8.self), "localhost", "SNI carries the host name")
        // An IP literal is checked against the certificate's IP addresses, and not sent as SNI.
        let byAddress = try send(client, "https://127.0.0.1:\(goodPort)/hook").get()
        XCTAssertEqual(String(decoding: byAddress.body, as: UTF8.self), "-")
    }

    func testWrongNameIsRefused() throws {
        let client = try client(trusting: true)
        guard case .failure(.connect(let reason)) = try send(client, "https://localhost:\(otherPort)/") else {
            return XCTFail("a certificate for other.test must not pass for localhost")
        }
        XCTAssertTrue(reason.contains("certificate verify failed"), reason)
        XCTAssertTrue(reason.lowercased().contains("hostname mismatch"), reason)
        guard case .failure(.connect(let ipReason)) = try send(client, "https://127.0.0.1:\(otherPort)/") else {
            return XCTFail("a certificate without the IP address must not pass for it")
        }
        XCTAssertTrue(ipReason.contains("certificate verify failed"), ipReason)
    }

    func testUntrustedCAIsRefused() throws {
        // The system's CA store alone does not know the test CA.
        let client = try client(trusting: false)
        guard case .failure(.connect(let reason)) = try send(client, "https://localhost:\(goodPort)/") else {
            return XCTFail("an unknown CA must be refused")
        }
        XCTAssertTrue(reason.contains("certificate verify failed"), reason)
    }
}
