import EventLoop
import Foundation
import XCTest

/// `listenUnix`: a Unix domain socket listener (redis-server's `unixsocket`).
final class UnixListenerTests: XCTestCase {
    func testEchoOverUnixSocketWithModeAndCleanup() throws {
        let runner = try LoopRunner()
        defer { runner.stop() }
        let path = NSTemporaryDirectory() + "warden-test-\(getpid()).sock"
        // A stale socket file is replaced, as Redis does.
        XCTAssertTrue(FileManager.default.createFile(atPath: path, contents: Data()))
        let remote = Locked<(String, Int)?>(nil)
        let listener = try runner.sync {
            try runner.loop.listenUnix(path: path, permissions: 0o700) { connection in
                remote.with { $0 = (connection.remoteHost, connection.remotePort) }
                connection.onRead = { bytes in connection.write(bytes) }
            }
        }
        var info = stat()
        XCTAssertEqual(stat(path, &info), 0)
        XCTAssertEqual(info.st_mode & 0o777, 0o700)
        XCTAssertEqual(info.st_mode & S_IFMT, S_IFSOCK)

        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (i, byte) in path.utf8.enumerated() { raw[i] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        XCTAssertEqual(connected, 0)
        let message = Array("PING\r\n".utf8)
        XCTAssertEqual(message.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }, message.count)
        var buffer = [UInt8](repeating: 0, count: 64)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        XCTAssertEqual(Array(buffer.prefix(max(n, 0))), message)
        let (host, port) = try XCTUnwrap(remote.current)
        XCTAssertEqual(host, path)
        XCTAssertEqual(port, 0)

        try runner.sync { listener.close() }
        XCTAssertFalse(FileManager.default.fileExists(atPath: path), "closing removes the socket file")
    }

    func testPathTooLongIsRefused() throws {
        let runner = try LoopRunner()
        defer { runner.stop() }
        let path = "/tmp/" + String(repeating: "x", count: 200)
        XCTAssertThrowsError(try runner.sync { try runner.loop.listenUnix(path: path, permissions: 0) { _ in } })
    }
}
