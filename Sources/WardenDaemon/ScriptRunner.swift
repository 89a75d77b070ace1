#if canImport(Glibc)
import Glibc
#endif
import SentinelCore

/// Runs user scripts as child processes (posix_spawn) and reaps them. The queue,
/// limits and retries are SentinelCore's; this only starts, kills and waits.
final class ScriptRunner {
    private var running: [ScriptID: pid_t] = [:]

    /// Starts the script; nil when it could not be started at all.
    func spawn(_ id: ScriptID, path: String, args: [String]) -> Int32? {
        var pid: pid_t = 0
        let argv = ([path] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let rc = posix_spawn(&pid, path, nil, nil, argv, environ)
        guard rc == 0 else { return nil }
        running[id] = pid
        return pid
    }

    func kill(_ id: ScriptID) {
        if let pid = running[id] { _ = Glibc.kill(pid, SIGKILL) }
    }

    /// Collects every finished child: `(id, exit status, terminating signal)`.
    func reap(_ finished: (ScriptID, Int32, Int32) -> Void) {
        guard !running.isEmpty else { return }
        for (id, pid) in running {
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            guard r == pid else { continue }
            running[id] = nil
            let signal = status & 0x7f
            let exitCode = (status >> 8) & 0xff
            finished(id, signal == 0 ? exitCode : 0, signal)
        }
    }
}
