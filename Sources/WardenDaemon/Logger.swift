#if canImport(Glibc)
import Glibc
#endif
import SentinelCore

/// Writes log lines the way redis-sentinel does:
/// `1234:X 22 Nov 2026 14:33:10.123 # +sdown master mymaster 127.0.0.1 6379`
/// to the logfile (appending) or, when none is set, to standard output.
public final class Logger: @unchecked Sendable {
    public var level: LogLevel
    private var fd: Int32
    private let pid = getpid()

    public init(level: LogLevel, path: String) {
        self.level = level
        if path.isEmpty {
            fd = STDOUT_FILENO
        } else {
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
            if fd < 0 { fd = STDOUT_FILENO }
        }
    }

    public func log(_ lineLevel: LogLevel, _ message: String) {
        guard lineLevel >= level, level != .nothing else { return }
        var line = "\(pid):X \(Self.timestamp()) \(Self.mark(lineLevel)) \(message)\n"
        line.withUTF8 { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n < 0 { if errno == EINTR { continue }; return }
                off += n
            }
        }
    }

    /// Redis's level marks: `.` debug, `-` verbose, `*` notice, `#` warning.
    static func mark(_ l: LogLevel) -> Character {
        switch l {
        case .debug: return "."
        case .verbose: return "-"
        case .notice: return "*"
        case .warning, .nothing: return "#"
        }
    }

    /// `22 Nov 2026 14:33:10.123` in local time.
    static func timestamp() -> String {
        var tv = timeval()
        gettimeofday(&tv, nil)
        var secs = tv.tv_sec
        var tmv = tm()
        localtime_r(&secs, &tmv)
        var buf = [CChar](repeating: 0, count: 64)
        let n = strftime(&buf, buf.count, "%d %b %Y %H:%M:%S", &tmv)
        let ms = Int(tv.tv_usec / 1000)
        let msText = ms < 10 ? "00\(ms)" : ms < 100 ? "0\(ms)" : "\(ms)"
        let bytes = buf[0..<n].map { UInt8(bitPattern: $0) }
        return String(decoding: bytes, as: UTF8.self) + "." + msText
    }
}
