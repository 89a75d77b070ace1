/// Conversions between Unix time and calendar dates (proleptic Gregorian, UTC),
/// without Foundation: the HTTP-date of RFC 9110 §5.6.7 and RFC 3339 timestamps.
public enum UTCDateTime {
    /// Civil date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = Int(doy - (153 * mp + 2) / 5 + 1)
        let month = Int(mp < 10 ? mp + 3 : mp - 9)
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Days since 1970-01-01 of a civil date (month 1...12, day 1...31).
    static func days(year: Int64, month: Int, day: Int) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    static func daysInMonth(year: Int64, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Unix seconds are clamped to years 0...9999 before formatting, so every
    /// output has a four-digit year.
    static let minSeconds: Int64 = -62_167_219_200   // 0000-01-01T00:00:00Z
    static let maxSeconds: Int64 = 253_402_300_799   // 9999-12-31T23:59:59Z

    struct Parts {
        var year: Int64, month: Int, day: Int, hour: Int, minute: Int, second: Int, weekday: Int
    }

    static func parts(unixSeconds: Int64) -> Parts {
        let s = min(max(unixSeconds, minSeconds), maxSeconds)
        let days = s >= 0 ? s / 86400 : (s - 86399) / 86400
        let secondOfDay = Int(s - days * 86400)
        let (y, m, d) = civil(fromDays: days)
        // 1970-01-01 was a Thursday (weekday 4 with Sunday = 0).
        let weekday = Int(((days % 7) + 7 + 4) % 7)
        return Parts(year: y, month: m, day: d, hour: secondOfDay / 3600, minute: secondOfDay / 60 % 60,
                     second: secondOfDay % 60, weekday: weekday)
    }

    static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func pad(_ value: Int, _ width: Int) -> String { pad(Int64(value), width) }

    /// RFC 3339 in UTC with milliseconds: `2026-12-01T23:58:18.123Z`.
    public static func rfc3339(unixMs: Int64) -> String {
        var seconds = unixMs / 1000
        var millis = Int(unixMs % 1000)
        if millis < 0 {
            seconds -= 1
            millis += 1000
        }
        let p = parts(unixSeconds: seconds)
        if seconds < minSeconds { millis = 0 } else if seconds > maxSeconds { millis = 999 }
        return "\(pad(p.year, 4))-\(pad(p.month, 2))-\(pad(p.day, 2))T\(pad(p.hour, 2)):\(pad(p.minute, 2)):\(pad(p.second, 2)).\(pad(millis, 3))Z"
    }
}

/// The HTTP-date of RFC 9110 §5.6.7: written as IMF-fixdate, read in all three forms.
public enum HTTPDate {
    static let weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
    static let longWeekdays = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    /// `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func format(unixSeconds: Int64) -> String {
        let p = UTCDateTime.parts(unixSeconds: unixSeconds)
        return "\(weekdays[p.weekday]), \(UTCDateTime.pad(p.day, 2)) \(months[p.month - 1]) \(UTCDateTime.pad(p.year, 4)) "
            + "\(UTCDateTime.pad(p.hour, 2)):\(UTCDateTime.pad(p.minute, 2)):\(UTCDateTime.pad(p.second, 2)) GMT"
    }

    /// Unix seconds of an HTTP-date: IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the
    /// obsolete RFC 850 form (`Sunday, 06-Nov-94 08:49:37 GMT`; a two-digit year is read
    /// as 1970...2069) or asctime (`Sun Nov  6 08:49:37 1994`). Nil for anything else,
    /// including impossible dates. The weekday must be a weekday name but is not
    /// checked against the date.
    public static func parse(_ text: String) -> Int64? {
        let t = Array(text.utf8)
        if let comma = t.firstIndex(of: UInt8(ascii: ",")) {
            let name = String(decoding: t[..<comma], as: UTF8.self)
            let rest = Array(t[(comma + 1)...])
            if weekdays.contains(name) { return parseFixdate(rest) }
            if longWeekdays.contains(name) { return parseRFC850(rest) }
            return nil
        }
        return parseAsctime(t)
    }

    /// ` 06 Nov 1994 08:49:37 GMT`
    private static func parseFixdate(_ t: [UInt8]) -> Int64? {
        guard t.count == 25, t[0] == 0x20, t[3] == 0x20, t[7] == 0x20, t[12] == 0x20,
              t[21] == 0x20, t[22...] == Array("GMT".utf8)[...],
              let day = parseDecimal(t[1...2]), let month = month(t[4...6]),
              let year = parseDecimal(t[8...11]) else { return nil }
        return combine(year: Int64(year), month: month, day: day, time: t[13...20])
    }

    /// ` 06-Nov-94 08:49:37 GMT`
    private static func parseRFC850(_ t: [UInt8]) -> Int64? {
        guard t.count == 23, t[0] == 0x20, t[3] == UInt8(ascii: "-"), t[7] == UInt8(ascii: "-"),
              t[10] == 0x20, t[19] == 0x20, t[20...] == Array("GMT".utf8)[...],
              let day = parseDecimal(t[1...2]), let month = month(t[4...6]),
              let yy = parseDecimal(t[8...9]) else { return nil }
        return combine(year: Int64(yy < 70 ? 2000 + yy : 1900 + yy), month: month, day: day, time: t[11...18])
    }

    /// `Sun Nov  6 08:49:37 1994`
    private static func parseAsctime(_ t: [UInt8]) -> Int64? {
        guard t.count == 24, weekdays.contains(String(decoding: t[0...2], as: UTF8.self)),
              t[3] == 0x20, t[7] == 0x20, t[10] == 0x20, t[19] == 0x20,
              let month = month(t[4...6]), let year = parseDecimal(t[20...23]) else { return nil }
        let dayBytes = t[8] == 0x20 ? t[9...9] : t[8...9]
        guard let day = parseDecimal(dayBytes) else { return nil }
        return combine(year: Int64(year), month: month, day: day, time: t[11...18])
    }

    private static func month(_ bytes: ArraySlice<UInt8>) -> Int? {
        months.firstIndex(of: String(decoding: bytes, as: UTF8.self)).map { $0 + 1 }
    }

    /// `08:49:37` on the given date; nil if any part is out of range (a leap second 60
    /// is accepted and read as the next second).
    private static func combine(year: Int64, month: Int, day: Int, time t: ArraySlice<UInt8>) -> Int64? {
        let b = Array(t)
        guard b.count == 8, b[2] == ASCII.colon, b[5] == ASCII.colon,
              let hour = parseDecimal(b[0...1]), let minute = parseDecimal(b[3...4]),
              let second = parseDecimal(b[6...7]),
              hour < 24, minute < 60, second <= 60,
              day >= 1, day <= UTCDateTime.daysInMonth(year: year, month: month) else { return nil }
        return UTCDateTime.days(year: year, month: month, day: day) * 86400
            + Int64(hour * 3600 + minute * 60 + second)
    }
}

/// A Retry-After field (RFC 9110 §10.2.3): a number of seconds or an HTTP-date.
public enum RetryAfter: Equatable, Sendable {
    case seconds(Int64)
    /// Unix seconds.
    case date(Int64)

    /// Nil unless the value is a non-negative decimal (capped at 10^12 seconds) or a
    /// valid HTTP-date.
    public init?(fieldValue: String) {
        let value = trimOWS(fieldValue)
        if let first = value.utf8.first, first >= UInt8(ascii: "0") && first <= UInt8(ascii: "9") {
            guard value.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else { return nil }
            // Leading zeros and huge values are fine: saturate instead of failing.
            let digits = value.utf8.drop { $0 == UInt8(ascii: "0") }
            let cap: Int64 = 1_000_000_000_000
            self = .seconds(digits.isEmpty ? 0 : digits.count > 12 ? cap : min(Int64(parseDecimal(digits) ?? 0), cap))
            return
        }
        guard let date = HTTPDate.parse(value) else { return nil }
        self = .date(date)
    }

    /// Milliseconds to wait from `nowMs` (Unix milliseconds), never negative.
    public func delayMs(nowMs: Int64) -> Int64 {
        switch self {
        case .seconds(let s):
            return s.multipliedReportingOverflow(by: 1000).overflow ? Int64.max : s * 1000
        case .date(let unixSeconds):
            let (targetMs, overflow) = unixSeconds.multipliedReportingOverflow(by: 1000)
            if overflow { return unixSeconds > 0 ? Int64.max : 0 }
            let (delta, o2) = targetMs.subtractingReportingOverflow(nowMs)
            if o2 { return targetMs > nowMs ? Int64.max : 0 }
            return max(delta, 0)
        }
    }
}
