import Dispatch
import EventLoop
import Foundation
import XCTest

/// Runs an `EventLoop` on a background thread for one test, and hands work to it.
final class LoopRunner: @unchecked Sendable {
    let loop: EventLoop
    private let finished = DispatchSemaphore(value: 0)
    private var stopped = false

    init() throws {
        loop = try EventLoop()
        let loop = self.loop
        let finished = self.finished
        Thread {
            loop.run()
            finished.signal()
        }.start()
    }

    /// Runs `body` on the loop thread and returns its result (or rethrows its error).
    func sync<T>(_ body: @escaping () throws -> T) throws -> T {
        let task = Unchecked(body)
        let result = Unchecked<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        loop.execute {
            result.value = Result { try task.value() }
            done.signal()
        }
        guard done.wait(timeout: .now() + 10) == .success else {
            throw LoopTimeout()
        }
        return try result.value!.get()
    }

    /// Stops the loop and waits for `run()` to return.
    func stop(file: StaticString = #filePath, line: UInt = #line) {
        guard !stopped else { return }
        stopped = true
        loop.stop()
        XCTAssertEqual(finished.wait(timeout: .now() + 10), .success, "run() did not return after stop()",
                       file: file, line: line)
    }
}

struct LoopTimeout: Error {}

/// Moves a value across threads where the test knows access is ordered (loop thread vs. a wait).
final class Unchecked<Value>: @unchecked Sendable {
    var value: Value
    init(_ value: Value) { self.value = value }
}

/// Mutable state shared between loop callbacks and the test thread.
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }

    func with<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }

    var current: Value { with { $0 } }
}

/// A plain blocking IPv4 socket for the peer that must misbehave (never read, never accept).
enum RawSocket {
    static func loopbackAddress(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = in_addr_t(UInt32(0x7f00_0001).bigEndian)
        return address
    }

    /// Listens on 127.0.0.1 with the given backlog and never accepts. Returns (fd, port).
    static func listen(backlog: Int32) throws -> (Int32, Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError.system(call: "socket", errno: errno) }
        var address = loopbackAddress(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, Glibc.listen(fd, backlog) == 0 else {
            Glibc.close(fd)
            throw SocketError.system(call: "bind/listen", errno: errno)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }

    /// Connects to 127.0.0.1:port (blocking). Returns the fd.
    static func connect(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw SocketError.system(call: "socket", errno: errno) }
        var address = loopbackAddress(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard connected == 0 else {
            let code = errno
            Glibc.close(fd)
            throw SocketError.system(call: "connect", errno: code)
        }
        return fd
    }

    /// Reads exactly `count` bytes (blocking; each recv waits at most 10 s).
    static func receive(_ fd: Int32, count: Int) throws -> [UInt8] {
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var received = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let got = received.withUnsafeMutableBytes { recv(fd, $0.baseAddress! + filled, count - filled, 0) }
            if got < 0 && errno == EINTR { continue }
            guard got > 0 else { throw SocketError.system(call: "recv", errno: got == 0 ? ECONNRESET : errno) }
            filled += got
        }
        return received
    }
}

extension XCTestCase {
    /// Polls `condition` until it holds (or fails the test after `timeout` seconds).
    func waitUntil(_ what: String, timeout: Double = 10, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(timeout)
        while try !condition() {
            guard Date() < deadline else {
                XCTFail("timed out waiting until \(what)")
                return
            }
            usleep(1000)
        }
    }
}
