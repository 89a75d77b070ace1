/// Hellos: every sentinel PUBLISHes one every 2 s on each instance's
/// `__sentinel__:hello` channel (and to each peer). A hello teaches us the sender
/// (`+sentinel`, moves and replacements), a newer current epoch, and a newer
/// configuration of the master (a higher config epoch with another address:
/// `+config-update-from`, `+switch-master`). Epochs beyond `Epoch.adoptionLimit`
/// make the whole hello ignored.
extension Sentinel {
    /// A hello from another sentinel, via a master's or replica's Pub/Sub channel
    /// or PUBLISHed to us directly: learn the sender, adopt a newer epoch, and
    /// follow a master address with a newer config epoch.
    func processHello(_ payload: String) {
        // With resolve-hostnames off, a hello naming a host is of no use (Redis cannot
        // create the address either); IP literals come back in canonical form.
        guard let hello = Hello.parse(payload, acceptHostnames: settings.resolveHostnames), hello.runID != myID,
              let m = master(named: hello.masterName), !isForgotten(m, runID: hello.runID) else { return }
        let epoch = max(hello.currentEpoch, hello.masterConfigEpoch)
        guard epoch <= Epoch.adoptionLimit(current: currentEpoch) else {
            refusedEpoch("a hello from \(hello.runID) at \(hello.sentinelAddress)", epoch: String(epoch))
            return
        }

        requestResolution(hello.sentinelAddress.host)
        requestResolution(hello.masterAddress.host)
        var si = m.sentinels.first { sameAddress($0.address, hello.sentinelAddress) && $0.runID == hello.runID }
        if si == nil {
            // Same runid at a new address: the sentinel moved.
            let moved = removeSentinels(from: m, runID: hello.runID)
            if moved {
                emit(.notice, "+sentinel-address-switch", m,
                     extra: " ip \(hello.sentinelAddress.host) port \(hello.sentinelAddress.port) for \(hello.runID)")
            } else if let other = m.sentinels.first(where: { sameAddress($0.address, hello.sentinelAddress) }) {
                // Another runid at this address: the old one is gone, everywhere.
                emit(.notice, "+sentinel-invalid-addr", other)
                let obsolete = other.runID
                for master in masters { _ = removeSentinels(from: master, runID: obsolete) }
            }
            si = addSentinel(to: m, runID: hello.runID, address: hello.sentinelAddress)
            if let si {
                if !moved { emit(.notice, "+sentinel", si) }
                if moved { updateSentinelAddressEverywhere(runID: hello.runID, address: hello.sentinelAddress) }
                changed()
            }
        }

        if hello.currentEpoch > currentEpoch {
            currentEpoch = hello.currentEpoch
            changed()
            emit(.warning, "+new-epoch", payload: "\(currentEpoch)", master: m)
        }

        if let si, m.configEpoch < hello.masterConfigEpoch {
            m.configEpoch = hello.masterConfigEpoch
            // A failover of ours from an older epoch (say one frozen by TILT) is
            // superseded: left running it would later switch to its own promoted
            // replica under this newer config epoch, and the sentinels would
            // disagree for good when the newer config kept the same address.
            if m.flags.contains(.failoverInProgress), m.failoverEpoch < hello.masterConfigEpoch {
                log(.warning, "Failover of \(m.name) in epoch \(m.failoverEpoch) superseded by config epoch \(hello.masterConfigEpoch)")
                abortFailover(m)
            }
            if !sameAddress(hello.masterAddress, m.address) {
                emit(.warning, "+config-update-from", si)
                let old = m.address
                emit(.warning, "+switch-master",
                     payload: "\(m.name) \(announced(old.host)) \(old.port) \(announced(hello.masterAddress.host)) \(hello.masterAddress.port)",
                     master: m)
                resetMasterAndChangeAddress(m, to: hello.masterAddress)
                callClientReconfigScript(m, role: "observer", state: "start", from: old, to: m.address)
            }
            changed()
        }
        si?.lastHelloReceivedTime = now
    }

    /// A message carried an epoch beyond `Epoch.adoptionLimit`: it is ignored (a
    /// hello) or answered without a vote. Logged at most once per 10 s, with the
    /// count, since a forged stream of them would otherwise flood the log.
    func refusedEpoch(_ what: String, epoch: String) {
        refusedEpochs.count += 1
        guard refusedEpochs.lastLog == 0 || elapsed(since: refusedEpochs.lastLog) >= 10_000 else { return }
        log(.warning, "Ignored \(refusedEpochs.count) message(s) with an epoch above \(Epoch.adoptionLimit(current: currentEpoch)), the largest this sentinel adopts now; the last one: \(what) with epoch \(epoch)")
        refusedEpochs = (0, now)
    }

}
