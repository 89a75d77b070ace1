#if canImport(Glibc)
import Glibc
#endif

/// Why the config file could not be read, checked or saved; `message` is a full
/// sentence for the log, `errno` the system error behind it.
public struct ConfigSaveError: Error, Equatable, CustomStringConvertible {
    public var message: String
    public var errno: Int32
    public init(message: String, errno: Int32) {
        self.message = message
        self.errno = errno
    }
    public var description: String { message }
}

/// The sentinel.conf on disk: read it at start-up, replace it when state changes.
///
/// `save` is atomic: the new text goes to `<file>.tmp-<pid>` in the same directory,
/// is fsynced, given the old file's permission bits (and owner, when running as
/// root), renamed over the file, and the directory is fsynced. If any step before
/// the rename fails, the temporary file is removed and the old file is untouched.
///
/// A symbolic link is followed: the file it points to is replaced and the link
/// stays a link.
///
/// A config file that is a bind mount of its own (`docker run -v
/// ./sentinel.conf:/etc/sentinel.conf`) cannot be renamed over: `rename` fails with
/// EBUSY. Then, and only then, the file is rewritten in place (write from offset 0,
/// truncate to the new length, fsync). That is not atomic: a crash in the middle
/// can leave a partly written file, which is why it is only the fallback.
public struct ConfigFile: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The whole file as text (invalid UTF-8 is replaced, not refused).
    public func read() throws -> String {
        switch SystemFiles.read(path) {
        case .success(let text):
            return text
        case .failure(let failure):
            let what = failure.opening ? "Can't open" : "Can't read"
            throw ConfigSaveError(message: "\(what) config file '\(path)': \(failure.reason)", errno: failure.errno)
        }
    }

    /// Replaces the file's content with `text`; see the type's documentation.
    public func save(_ text: String) throws(ConfigSaveError) {
        let target = try resolvedTarget()
        var info = stat()
        let exists = stat(target, &info) == 0
        let mode = exists ? info.st_mode & 0o7777 : 0o644
        let temp = "\(target).tmp-\(getpid())"
        let bytes = Array(text.utf8)

        var fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        if fd < 0 && errno == EEXIST {
            // Left behind by a crashed process that had our pid: not ours to keep.
            if unlink(temp) == 0 {
                fd = open(temp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
            } else {
                throw Self.failure("Could not replace the stale temporary config file '\(temp)'")
            }
        }
        guard fd >= 0 else {
            throw Self.failure("Could not create the temporary config file '\(temp)'")
        }

        do throws(ConfigSaveError) {
            try Self.writeAll(fd, bytes, what: "the temporary config file '\(temp)'")
            guard fsync(fd) == 0 else {
                throw Self.failure("Could not sync the temporary config file '\(temp)'")
            }
            // open() applied the umask; give the file exactly the old bits.
            guard fchmod(fd, mode) == 0 else {
                throw Self.failure("Could not set the permissions of '\(temp)'")
            }
            if exists && getuid() == 0 && (info.st_uid != 0 || info.st_gid != 0) {
                guard fchown(fd, info.st_uid, info.st_gid) == 0 else {
                    throw Self.failure("Could not set the owner of '\(temp)'")
                }
            }
            let closed = close(fd)
            fd = -1
            guard closed == 0 else {
                throw Self.failure("Could not close the temporary config file '\(temp)'")
            }
            if rename(temp, target) != 0 {
                guard errno == EBUSY else {
                    throw Self.failure("Could not rename '\(temp)' to '\(target)'")
                }
                unlink(temp)
                try Self.overwriteInPlace(target, bytes)
                return
            }
        } catch {
            if fd >= 0 { close(fd) }
            unlink(temp)
            throw error
        }
        try Self.syncDirectory(of: target)
    }

    /// Fails with Redis's start-up message when the file cannot be written
    /// (`access(path, W_OK)`), as redis-sentinel refuses to start in that case.
    public static func checkWritable(path: String) throws(ConfigSaveError) {
        guard access(path, W_OK) == 0 else {
            let code = errno
            throw ConfigSaveError(
                message: "Sentinel config file \(path) is not writable: \(errorText(code)). Exiting...",
                errno: code)
        }
    }

    // MARK: - Steps

    /// The path to write: `path`, or the file a symbolic link at `path` points to.
    func resolvedTarget() throws(ConfigSaveError) -> String {
        var info = stat()
        guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK else { return path }
        guard let resolved = realpath(path, nil) else {
            throw Self.failure("Could not resolve the symbolic link '\(path)'")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The bind-mount fallback: rewrite `target` itself from offset 0.
    static func overwriteInPlace(_ target: String, _ bytes: [UInt8]) throws(ConfigSaveError) {
        let fd = open(target, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure("Could not open '\(target)' to rewrite it in place") }
        defer { close(fd) }
        try writeAll(fd, bytes, what: "'\(target)' (rewriting in place)")
        guard ftruncate(fd, off_t(bytes.count)) == 0 else {
            throw failure("Could not truncate '\(target)' (rewriting in place)")
        }
        guard fsync(fd) == 0 else { throw failure("Could not sync '\(target)' (rewriting in place)") }
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], what: String) throws(ConfigSaveError) {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { buffer in
                pwrite(fd, buffer.baseAddress! + offset, buffer.count - offset, off_t(offset))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("Failed after writing \(offset) bytes to \(what)")
            }
            offset += n
        }
    }

    /// Makes the rename durable.
    static func syncDirectory(of file: String) throws(ConfigSaveError) {
        let directory: String
        if let slash = file.lastIndex(of: "/") {
            directory = slash == file.startIndex ? "/" : String(file[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw failure("Config file written, but could not open its directory '\(directory)' to sync it")
        }
        defer { close(fd) }
        guard fsync(fd) == 0 else {
            throw failure("Config file written, but could not sync its directory '\(directory)'")
        }
    }

    /// An error for the failed call that just set `errno`.
    static func failure(_ what: String) -> ConfigSaveError {
        let code = errno
        return ConfigSaveError(message: "\(what): \(errorText(code))", errno: code)
    }

    static func errorText(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}
