/// Events, as Redis formats and publishes them. Warnings also go to the master's
/// notification script, as in Redis.
extension Sentinel {
    /// `%@` in Redis's event formats: `<type> <name> <ip> <port>`, plus
    /// ` @ <master> <ip> <port>` for replicas and sentinels.
    func describe(_ ri: Instance) -> String {
        var s = "\(ri.typeName) \(ri.name) \(announced(ri.address.host)) \(ri.address.port)"
        if !(ri is Master) {
            let m = ri.owningMaster
            s += " @ \(m.name) \(announced(m.address.host)) \(m.address.port)"
        }
        return s
    }

    /// An event about an instance (`%@` followed by `extra`).
    func emit(_ level: LogLevel, _ name: String, _ ri: Instance, extra: String = "") {
        publish(Event(level: level, name: name, payload: describe(ri) + extra), master: ri.owningMaster)
    }

    /// An event with a free-form payload, about a master (for its notification script).
    func emit(_ level: LogLevel, _ name: String, payload: String, master: Master) {
        publish(Event(level: level, name: name, payload: payload), master: master)
    }

    /// An event about no instance (+tilt, -tilt).
    func emitGlobal(_ level: LogLevel, _ name: String, _ payload: String) {
        out.append(.event(Event(level: level, name: name, payload: payload)))
    }

    private func publish(_ event: Event, master: Master) {
        out.append(.event(event))
        if event.level == .warning, let script = master.settings.notificationScript {
            scheduleScript(path: script, args: [event.name, event.payload])
        }
    }
}
