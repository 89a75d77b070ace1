/// Formats doubles the way redis-server 7.2+ replies with them: the shortest
/// digits that read back as the same double, `inf`, `-inf`, `nan`, `0`, `-0`;
/// integral values up to 2^62 as plain integers; otherwise plain decimal notation
/// near 1 and `%g`-like scientific notation (`1.5e+300`, `1e-7`) far from it.
enum DoubleFormat {
    static func append(_ value: Double, into out: inout [UInt8]) {
        if value.isNaN {
            RESPEncoder.appendStatic("nan", into: &out)
        } else if value.isInfinite {
            RESPEncoder.appendStatic(value < 0 ? "-inf" : "inf", into: &out)
        } else if value == 0 {
            RESPEncoder.appendStatic(value.sign == .minus ? "-0" : "0", into: &out)
        } else if value.magnitude <= Double(Int64.max / 2), value == value.rounded(.towardZero) {
            RESPEncoder.appendDecimal(Int64(value), into: &out)
        } else {
            appendShortest(value, into: &out)
        }
    }

    /// Lays out the shortest round-trip digits of a finite, non-zero value.
    private static func appendShortest(_ value: Double, into out: inout [UInt8]) {
        // Swift's description holds the shortest round-trip digits; take them
        // apart into digits D and exponent K with value = ±D × 10^K.
        var digits: [UInt8] = []
        digits.reserveCapacity(17)
        var exponent = 0
        var fractionDigits = 0
        var afterPoint = false
        var negative = false
        var text = value.description.utf8[...]
        if text.first == ASCII.minus {
            negative = true
            text = text.dropFirst()
        }
        while let byte = text.first {
            text = text.dropFirst()
            if byte == ASCII.dot {
                afterPoint = true
            } else if byte == UInt8(ascii: "e") {
                exponent = Int(Substring(text)) ?? 0
                break
            } else {
                if !(digits.isEmpty && byte == ASCII.zero) { digits.append(byte) }
                if afterPoint { fractionDigits += 1 }
            }
        }
        exponent -= fractionDigits
        while digits.last == ASCII.zero {
            digits.removeLast()
            exponent += 1
        }

        if negative { out.append(ASCII.minus) }
        let count = digits.count
        let decimalExponent = exponent + count - 1  // of the first digit
        let magnitude = abs(decimalExponent)
        if exponent >= 0 && magnitude < count + 7 {
            out.append(contentsOf: digits)
            out.append(contentsOf: repeatElement(ASCII.zero, count: exponent))
        } else if exponent < 0 && (exponent > -7 || magnitude < 4) {
            let integerDigits = count + exponent
            if integerDigits <= 0 {
                out.append(ASCII.zero)
                out.append(ASCII.dot)
                out.append(contentsOf: repeatElement(ASCII.zero, count: -integerDigits))
                out.append(contentsOf: digits)
            } else {
                out.append(contentsOf: digits[..<integerDigits])
                out.append(ASCII.dot)
                out.append(contentsOf: digits[integerDigits...])
            }
        } else {
            out.append(digits[0])
            if count > 1 {
                out.append(ASCII.dot)
                out.append(contentsOf: digits[1...])
            }
            out.append(UInt8(ascii: "e"))
            out.append(decimalExponent < 0 ? ASCII.minus : ASCII.plus)
            RESPEncoder.appendDecimal(Int64(magnitude), into: &out)
        }
    }
}
