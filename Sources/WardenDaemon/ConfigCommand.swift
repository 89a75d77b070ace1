import EventLoop
import RESP
import SentinelCore

/// `CONFIG GET` / `CONFIG SET` for the `tls-*` parameters: how certificates are reloaded
/// at run time. redis-server reloads its TLS material on `CONFIG SET tls-...`;
/// redis-sentinel 7.0 has no CONFIG command, so Warden accepts redis-server's spelling,
/// for these parameters only, with its replies and error texts.
///
/// SET checks every pair, builds new OpenSSL contexts from the resulting settings (reading
/// every file again, also when a path is unchanged, as Redis does), then opens the new
/// `tls-port` if it changed, and only then swaps anything in. Connections accepted or made
/// afterwards use the new material; open ones keep theirs. The new values are persisted
/// like every other change (the config rewrite).
extension ClientServer {
    func configCommand(_ s: ClientSession, _ args: [String]) {
        switch args[1].lowercased() {
        case "get" where args.count >= 3:
            configGet(s, Array(args.dropFirst(2)))
        case "set" where args.count >= 4:
            guard args.count % 2 == 0 else {
                s.reply(.error("ERR syntax error"))
                return
            }
            configSet(s, Array(args.dropFirst(2)))
        case "help" where args.count == 2:
            s.reply(.array([
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>", "    Return parameters matching the glob-like <pattern> and their values.",
                "    Warden knows the tls-* parameters only.",
                "SET <directive> <value>", "    Set the configuration <directive> to <value>; tls-* only: reloads TLS material.",
                "HELP", "    Print this help.",
            ].map { .simpleString($0) }))
        case "get", "set", "help":
            s.reply(.error("ERR wrong number of arguments for 'config|\(args[1].lowercased())' command"))
        default:
            s.reply(.error("ERR unknown subcommand '\(args[1])'. Try CONFIG HELP."))
        }
    }

    private func configGet(_ s: ClientSession, _ patterns: [String]) {
        let current = daemon.tls.config
        var shown: [TLSConfig.Parameter] = []
        for pattern in patterns {
            for parameter in TLSConfig.Parameter.allCases
            where !shown.contains(parameter) && Glob.match(pattern, parameter.rawValue, caseInsensitive: true) {
                shown.append(parameter)
            }
        }
        s.reply(.bulkMap(shown.map { ($0.rawValue, current.value(of: $0)) }))
    }

    private func configSet(_ s: ClientSession, _ pairs: [String]) {
        func failed(_ name: String, _ reason: String) {
            s.reply(.error("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)"))
        }
        var candidate = daemon.tls.config
        var names: [TLSConfig.Parameter] = []
        for index in stride(from: 0, to: pairs.count, by: 2) {
            guard let parameter = TLSConfig.Parameter(rawValue: pairs[index].lowercased()) else {
                s.reply(.error("ERR Unknown option or number of arguments for CONFIG SET - '\(pairs[index])'"))
                return
            }
            guard !names.contains(parameter) else {
                failed(parameter.rawValue, "duplicate parameter")
                return
            }
            names.append(parameter)
            if let reason = candidate.set(parameter, to: pairs[index + 1]) {
                failed(parameter.rawValue, reason)
                return
            }
        }
        let blamed = (names.first { $0 != .port } ?? names[0]).rawValue

        let built: TLSMaterial.Built
        do {
            built = try TLSMaterial.build(candidate)
        } catch {
            daemon.logger.log(.warning, error.message)
            daemon.logger.log(.warning, "Failed applying new configuration. Possibly related to new \(blamed) setting. Restoring previous settings.")
            failed(blamed, "Unable to update TLS configuration. Check server logs.")
            return
        }

        let oldPort = daemon.tls.config.port
        var replacement: [Listener]?
        if candidate.port != oldPort {
            if candidate.port == 0 && settings.port == 0 {
                failed("tls-port", "Unable to listen on this port. Check server logs.")
                daemon.logger.log(.warning, "tls-port 0 with port 0 would leave nothing to listen on")
                return
            }
            do {
                replacement = candidate.port == 0 ? [] : try openListeners(port: candidate.port, tls: built.serverSettings)
            } catch {
                daemon.logger.log(.warning, error.message)
                failed("tls-port", "Unable to listen on this port. Check server logs.")
                return
            }
        }

        daemon.tls.commit(built)
        if let replacement {
            for listener in tlsListeners { listener.close() }
            tlsListeners = replacement
        } else {
            let serverSettings = built.serverSettings
            for listener in tlsListeners { listener.tls = serverSettings }
        }
        daemon.logger.log(.notice, "TLS configuration updated by CONFIG SET: "
            + names.map(\.rawValue).joined(separator: ", "))
        // The core keeps the settings (hello port, tls-replication) and saves them;
        // it answers once they are on disk.
        daemon.submit(s, [Array("CONFIG".utf8), Array("SET".utf8)] + pairs.map { Array($0.utf8) })
    }
}
