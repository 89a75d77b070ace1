import XCTest
import Glibc
@testable import WardenDaemon

/// The tests run as root in CI, where permission bits do not stop writes, so the
/// failure paths are provoked by other means: a missing directory, a temporary
/// path taken by a directory, a file-size limit, a directory as the target.
final class ConfigFileTests: XCTestCase {
    private var directory = ""

    override func setUpWithError() throws {
        var template = Array("/tmp/warden-configfile-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw XCTSkip("mkdtemp failed") }
        directory = String(cString: made)
    }

    override func tearDownWithError() throws {
        removeTree(directory)
    }

    private func removeTree(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if info.st_mode & S_IFMT == S_IFDIR {
            for name in names(in: path) { removeTree(path + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    private func names(in path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    private func write(_ path: String, _ text: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd) }
        let bytes = Array(text.utf8)
        XCTAssertEqual(Glibc.write(fd, bytes, bytes.count), bytes.count)
    }

    private func contents(_ path: String) throws -> String { try ConfigFile(path: path).read() }

    private func fileInfo(_ path: String) -> stat {
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0, "lstat \(path)")
        return info
    }

    private func entries() -> [String] { names(in: directory) }

    // MARK: - Reading and checking

    func testReadReturnsTheText() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "port 26379\n# é\n")
        XCTAssertEqual(try contents(path), "port 26379\n# é\n")
        XCTAssertThrowsError(try ConfigFile(path: directory + "/missing.conf").read()) { error in
            XCTAssertTrue("\(error)".contains("No such file or directory"), "\(error)")
        }
    }

    func testCheckWritable() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "")
        XCTAssertNoThrow(try ConfigFile.checkWritable(path: path))
        let missing = directory + "/nope/sentinel.conf"
        XCTAssertThrowsError(try ConfigFile.checkWritable(path: missing)) { error in
            XCTAssertEqual((error as? ConfigSaveError)?.message,
                           "Sentinel config file \(missing) is not writable: No such file or directory. Exiting...")
            XCTAssertEqual((error as? ConfigSaveError)?.errno, ENOENT)
        }
    }

    // MARK: - Saving

    func testSaveReplacesAtomicallyAndKeepsPermissions() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "old content that is longer than the new one\n")
        XCTAssertEqual(chmod(path, 0o640), 0)
        let before = fileInfo(path)

        try ConfigFile(path: path).save("port 26380\n")

        XCTAssertEqual(try contents(path), "port 26380\n")
        let after = fileInfo(path)
        XCTAssertEqual(after.st_mode & 0o7777, 0o640)
        XCTAssertNotEqual(after.st_ino, before.st_ino, "a new file was renamed into place")
        XCTAssertEqual(entries(), ["sentinel.conf"], "no temporary file left")
    }

    func testSaveCreatesAMissingFile() throws {
        let path = directory + "/new.conf"
        try ConfigFile(path: path).save("sentinel myid x\n")
        XCTAssertEqual(try contents(path), "sentinel myid x\n")
        XCTAssertEqual(fileInfo(path).st_mode & 0o7777, 0o644)
    }

    func testSaveFollowsASymbolicLink() throws {
        let real = directory + "/real.conf"
        let link = directory + "/link.conf"
        try write(real, "old\n")
        XCTAssertEqual(symlink(real, link), 0)
        try ConfigFile(path: link).save("new\n")
        XCTAssertEqual(fileInfo(link).st_mode & S_IFMT, S_IFLNK, "the link is still a link")
        XCTAssertEqual(try contents(real), "new\n")
        XCTAssertEqual(entries(), ["link.conf", "real.conf"])
    }

    func testStaleTemporaryFileIsReplaced() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "old\n")
        try write("\(path).tmp-\(getpid())", "leftover from a crash\n")
        try ConfigFile(path: path).save("new\n")
        XCTAssertEqual(try contents(path), "new\n")
        XCTAssertEqual(entries(), ["sentinel.conf"])
    }

    func testMissingDirectoryFails() throws {
        let path = directory + "/missing/sentinel.conf"
        XCTAssertThrowsError(try ConfigFile(path: path).save("new\n")) { error in
            let error = error as? ConfigSaveError
            XCTAssertEqual(error?.errno, ENOENT)
            XCTAssertEqual(error?.message, "Could not create the temporary config file "
                           + "'\(path).tmp-\(getpid())': No such file or directory")
        }
        XCTAssertEqual(entries(), [])
    }

    func testBlockedTemporaryPathLeavesTheOldFileIntact() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "old\n")
        let temp = "\(path).tmp-\(getpid())"
        XCTAssertEqual(mkdir(temp, 0o755), 0)
        try write(temp + "/occupied", "")

        XCTAssertThrowsError(try ConfigFile(path: path).save("new\n")) { error in
            XCTAssertTrue((error as? ConfigSaveError)?.message
                .hasPrefix("Could not replace the stale temporary config file") ?? false, "\(error)")
        }
        XCTAssertEqual(try contents(path), "old\n")
    }

    func testWriteFailureRemovesTheTemporaryFileAndKeepsTheOldOne() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "old\n")
        let before = fileInfo(path)

        // Limit this process's file size so that writing the temporary file fails
        // with EFBIG half-way (SIGXFSZ ignored so the write returns the error).
        var saved = rlimit()
        XCTAssertEqual(getrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
        let previousHandler = signal(SIGXFSZ, SIG_IGN)
        var small = saved
        small.rlim_cur = 100
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &small), 0)
        var thrown: Error?
        do {
            try ConfigFile(path: path).save(String(repeating: "x", count: 1000))
        } catch {
            thrown = error
        }
        XCTAssertEqual(setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &saved), 0)
        signal(SIGXFSZ, previousHandler)

        let error = try XCTUnwrap(thrown as? ConfigSaveError)
        XCTAssertEqual(error.errno, EFBIG)
        XCTAssertTrue(error.message.hasPrefix("Failed after writing 100 bytes to the temporary config file"),
                      error.message)
        XCTAssertEqual(try contents(path), "old\n")
        XCTAssertEqual(fileInfo(path).st_ino, before.st_ino)
        XCTAssertEqual(entries(), ["sentinel.conf"], "the temporary file was removed")
    }

    func testRenameFailureRemovesTheTemporaryFile() throws {
        // A directory where the file should be: rename(file, dir) fails with EISDIR.
        let path = directory + "/sentinel.conf"
        XCTAssertEqual(mkdir(path, 0o755), 0)
        XCTAssertThrowsError(try ConfigFile(path: path).save("new\n")) { error in
            XCTAssertEqual((error as? ConfigSaveError)?.errno, EISDIR)
        }
        XCTAssertEqual(entries(), ["sentinel.conf"])
    }

    func testInPlaceRewriteTruncates() throws {
        let path = directory + "/sentinel.conf"
        try write(path, "a much longer old content\n")
        let before = fileInfo(path)
        try ConfigFile.overwriteInPlace(path, Array("short\n".utf8))
        XCTAssertEqual(try contents(path), "short\n")
        XCTAssertEqual(fileInfo(path).st_ino, before.st_ino)
    }

    /// A file bind-mounted over another cannot be renamed over (EBUSY), the case of
    /// `docker run -v ./sentinel.conf:/etc/sentinel.conf`. Needs CAP_SYS_ADMIN.
    func testBindMountedFileFallsBackToInPlaceRewrite() throws {
        let source = directory + "/host.conf"
        let target = directory + "/sentinel.conf"
        try write(source, "port 26379\n")
        try write(target, "")
        guard mount(source, target, nil, UInt(MS_BIND), nil) == 0 else {
            throw XCTSkip("bind mounts are not permitted here (errno \(errno))")
        }
        defer { umount2(target, Int32(MNT_DETACH)) }

        try ConfigFile(path: target).save("port 26380\n")

        XCTAssertEqual(try contents(target), "port 26380\n")
        XCTAssertEqual(try contents(source), "port 26380\n", "the mounted file itself was rewritten")
        XCTAssertFalse(entries().contains { $0.contains(".tmp-") })
    }
}
