/// TILT: the clock moved backwards or the process stalled (two timer ticks more
/// than `tilt-trigger` apart), so nothing this sentinel measured about time can be
/// trusted for a while. For `tilt-period` it keeps watching (links, PING, INFO,
/// hellos) but never acts: no SDOWN or ODOWN, no failover, no reconfiguration of
/// instances (INFO is recorded but not acted on), and IS-MASTER-DOWN-BY-ADDR
/// answers "not down" (the vote itself is still given: it is not an action on
/// Redis). Every place that acts asks `mayAct`.
extension Sentinel {
    /// At the start of every tick: enters TILT on a jump.
    func checkTilt() {
        let delta = elapsed(since: previousTickTime)
        if delta < 0 || delta > timing.tiltTrigger {
            tilt = true
            tiltStartTime = now
            emitGlobal(.warning, "+tilt", "#tilt mode entered")
        }
        previousTickTime = now
    }

    /// At every tick: leaves TILT once the period is over.
    func leaveTiltIfOver() {
        guard tilt, elapsed(since: tiltStartTime) >= timing.tiltPeriod else { return }
        tilt = false
        emitGlobal(.warning, "-tilt", "#tilt mode exited")
    }

    /// Whether this sentinel may act on what it observes now.
    var mayAct: Bool { !tilt }
}
