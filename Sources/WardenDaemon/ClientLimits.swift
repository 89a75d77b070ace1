import Configuration
import EventLoop
import SentinelCore
import WardenACL

/// The per-client limits of redis-server that apply on the sentinel port:
/// client-output-buffer-limit (normal and pubsub classes) and the idle `timeout`.
extension ClientServer {
    /// The class whose output limits apply to a client now.
    func outputClass(_ s: ClientSession) -> ClientClass {
        s.subscriptionCount > 0 ? .pubsub : .normal
    }

    /// Sets the connection's hard limit for the client's class (the connection closes
    /// itself when its unsent output passes it). Nothing changes while the class stays.
    func applyOutputLimit(_ s: ClientSession) {
        let cls = outputClass(s)
        guard cls != s.limitClass else { return }
        s.limitClass = cls
        let hard = server.outputBufferLimits[cls]?.hard ?? 0
        if hard > 0 {
            s.connection.outputLimit = Int(clamping: hard)
        } else {
            s.connection.outputLimit = cls == .normal ? Self.normalOutputSafetyLimit : 0
        }
        s.softLimitSince = 0
    }

    /// The soft limit: a client whose unsent output stays above it for more than its
    /// seconds is closed, as redis-server's `checkClientOutputBufferLimits` does.
    /// Checked whenever output is queued for the client.
    func checkSoftOutputLimit(_ s: ClientSession) {
        guard let limit = server.outputBufferLimits[outputClass(s)], limit.soft > 0 else { return }
        let pending = UInt64(s.connection.pendingOutputBytes)
        guard pending > limit.soft else {
            s.softLimitSince = 0
            return
        }
        let now = wallClock()
        if s.softLimitSince == 0 {
            s.softLimitSince = now
        } else if now -| s.softLimitSince > limit.softSeconds.multipliedReportingOverflow(by: 1000).partialValue {
            daemon.logger.log(.warning, "Client \(clientLine(s)) scheduled to be closed ASAP for overcoming of output buffer limits.")
            s.connection.close()
        }
    }

    /// `timeout`: once a second, closes clients idle for longer (Pub/Sub clients are
    /// exempt, as in Redis).
    func startIdleTimer() {
        guard server.timeout > 0, let loop else { return }
        idleTimer = loop.schedule(afterMs: 1000) { [unowned self] in
            let now = wallClock()
            let limit = Int64(server.timeout) * 1000
            for s in sessions.values where s.subscriptionCount == 0 && now -| s.lastCommandAt > limit {
                daemon.logger.log(.verbose, "Closing idle client")
                s.connection.close()
            }
            startIdleTimer()
        }
    }

    // MARK: - Users

    /// Redis's `authRequired`: the client did not authenticate and the default user
    /// does not let everyone in.
    func authRequired(_ s: ClientSession) -> Bool {
        !s.authenticated && defaultUserRequiresAuth
    }

    /// The client's user as the ACL rules stand now.
    func currentUser(_ s: ClientSession) -> ACLUser {
        if s.aclGeneration != aclGeneration {
            s.aclGeneration = aclGeneration
            if let user = acl[s.userName] {
                s.user = user
            } else {
                s.userName = "default"
                s.user = acl.defaultUser
                s.authenticated = false
            }
        }
        return s.user
    }

    /// Call after any change of the ACL users.
    func aclChanged() {
        aclGeneration += 1
        let defaultUser = acl.defaultUser
        defaultUserRequiresAuth = !defaultUser.nopass || defaultUser.disabled
    }
}
