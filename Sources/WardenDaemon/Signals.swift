#if canImport(Glibc)
import Glibc
#endif
import Dispatch

extension Daemon {
    /// SIGTERM and SIGINT: persist, close links and leave the loop (exit 0).
    /// The handlers run on a Dispatch queue and hand the work to the loop thread.
    public func installShutdownSignals() {
        for (sig, name) in [(SIGTERM, "Received SIGTERM scheduling shutdown"),
                            (SIGINT, "Received SIGINT scheduling shutdown")] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { @Sendable [self] in
                self.loop.execute { self.shutdown(reason: name) }
            }
            source.resume()
            signalSources.append(source)
        }
    }
}
