// Arithmetic that cannot trap.
//
// Every number that reaches the core from outside is range-checked where it
// enters (see docs/security.md), but settings may legitimately be huge (a
// down-after-milliseconds of 10^18 means "never"), so the time arithmetic built
// on them saturates instead of trapping: `a +| b`, `a -| b`, `a *| b` clamp to the
// type's bounds, as Zig's operators of the same spelling do.

infix operator +| : AdditionPrecedence
infix operator -| : AdditionPrecedence
infix operator *| : MultiplicationPrecedence

extension FixedWidthInteger {
    /// Saturating addition.
    @inlinable
    public static func +| (a: Self, b: Self) -> Self {
        let (sum, overflow) = a.addingReportingOverflow(b)
        guard overflow else { return sum }
        return b > 0 ? .max : .min
    }

    /// Saturating subtraction.
    @inlinable
    public static func -| (a: Self, b: Self) -> Self {
        let (difference, overflow) = a.subtractingReportingOverflow(b)
        guard overflow else { return difference }
        return b > 0 ? .min : .max
    }

    /// Saturating multiplication.
    @inlinable
    public static func *| (a: Self, b: Self) -> Self {
        let (product, overflow) = a.multipliedReportingOverflow(by: b)
        guard overflow else { return product }
        return (a < 0) == (b < 0) ? .max : .min
    }
}

/// The range of epochs (current epoch, config epochs, vote epochs).
///
/// Epochs are unsigned 64-bit numbers in Redis, but every reply that carries one
/// (IS-MASTER-DOWN-BY-ADDR's leader epoch, SENTINEL MASTER's config-epoch) prints
/// it as a signed 64-bit integer, so Warden holds at most `Int64.max`.
///
/// An epoch learned from someone else (a hello on a Redis channel, which anyone who
/// can PUBLISH on the monitored master can forge, or a vote request) is adopted
/// freely up to `freeRange` (2^62), and beyond it only when it is at most `maxStep`
/// ahead of ours. A forged epoch can therefore push a sentinel to about 2^62 in one
/// message, but from there only a million at a time: using up the 2^62 epochs left
/// takes over 4 * 10^12 forged messages, while legitimate peers (whose epochs move
/// together, one failover attempt at a time) are always accepted. So a poisoned
/// epoch can neither crash a sentinel nor stop its failovers. Messages with an epoch
/// beyond the rule are ignored (hellos) or answered without a vote (vote requests),
/// and logged.
public enum Epoch {
    /// The largest epoch Warden holds, and the largest sentinel.conf may state.
    public static let max: UInt64 = UInt64(Int64.max)
    /// Epochs up to this are adopted from peers without question.
    public static let freeRange: UInt64 = 1 << 62
    /// Beyond `freeRange`, how far ahead of ours an adopted epoch may be.
    public static let maxStep: UInt64 = 1_000_000

    /// The largest epoch adopted from outside when ours is `current`.
    public static func adoptionLimit(current: UInt64) -> UInt64 {
        Swift.min(max, Swift.max(current, freeRange) +| maxStep)
    }
}
