#if canImport(Glibc)
import Glibc
#endif
import Configuration
import SentinelCore
import WardenACL

extension ConfigEnvironment {
    /// The real file system: `include` reads files (relative to the working
    /// directory), `dir` calls chdir(2) at once, as redis-server does while it reads
    /// its config, so that later relative paths (includes, scripts, the log file,
    /// the ACL file) resolve from the new directory.
    public static var system: ConfigEnvironment {
        ConfigEnvironment(
            isExecutable: { access($0, X_OK) == 0 },
            readFile: { path in
                switch SystemFiles.read(path) {
                case .success(let text): return .success(text)
                case .failure(let error): return .failure(ConfigFileFailure(error.reason))
                }
            },
            glob: SystemFiles.glob,
            changeDirectory: { path in chdir(path) == 0 ? nil : SystemFiles.errnoText() })
    }
}

/// Small file helpers on Glibc, for config includes and the ACL file.
enum SystemFiles {
    struct Failure: Error {
        var errno: Int32
        /// open(2) failed (otherwise read(2), or the file is too large).
        var opening: Bool
        var reason: String { String(cString: strerror(errno)) }
    }

    /// Files larger than this are refused (config and ACL files are a few kilobytes).
    static let maxFileSize = 64 * 1024 * 1024

    static func errnoText() -> String { String(cString: strerror(errno)) }

    /// The whole file as text.
    static func read(_ path: String) -> Result<String, Failure> {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(Failure(errno: errno, opening: true)) }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                return .failure(Failure(errno: errno, opening: false))
            }
            if n == 0 { break }
            bytes += chunk[0..<n]
            if bytes.count > maxFileSize { return .failure(Failure(errno: EFBIG, opening: false)) }
        }
        return .success(String(decoding: bytes, as: UTF8.self))
    }

    /// glob(3) matches of `pattern`, sorted as glob sorts them; none when nothing matches.
    static func glob(_ pattern: String) -> [String] {
        var result = glob_t()
        defer { globfree(&result) }
        guard Glibc.glob(pattern, 0, nil, &result) == 0 else { return [] }
        return (0..<Int(result.gl_pathc)).compactMap { i in
            result.gl_pathv[i].map { String(cString: $0) }
        }
    }

    /// Writes `text` to a temporary file next to `path` and renames it over `path`
    /// (ACL SAVE). The error is logged by the caller.
    static func replace(_ path: String, with text: String, now: Int64) -> String? {
        let temp = "\(path).tmp-\(getpid())-\(now)"
        let fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return "Opening temp ACL file for ACL SAVE: \(errnoText())" }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                let reason = errnoText()
                close(fd)
                unlink(temp)
                return "Writing ACL file for ACL SAVE: \(reason)"
            }
            written += n
        }
        close(fd)
        guard rename(temp, path) == 0 else {
            let reason = errnoText()
            unlink(temp)
            return "Renaming ACL file for ACL SAVE: \(reason)"
        }
        return nil
    }
}
