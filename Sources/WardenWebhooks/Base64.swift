/// Base64 with the standard alphabet and padding (RFC 4648 §4), for webhook secrets,
/// signatures and the persisted queue.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)

    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, c) in alphabet.enumerated() { table[Int(c)] = UInt8(index) }
        return table
    }()

    public static func encode<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count + 2) / 3 * 4)
        var iterator = bytes.makeIterator()
        while let a = iterator.next() {
            let b = iterator.next()
            let c = iterator.next()
            out.append(alphabet[Int(a >> 2)])
            out.append(alphabet[Int((a & 0x03) << 4 | (b ?? 0) >> 4)])
            out.append(b.map { alphabet[Int(($0 & 0x0F) << 2 | (c ?? 0) >> 6)] } ?? UInt8(ascii: "="))
            out.append(c.map { alphabet[Int($0 & 0x3F)] } ?? UInt8(ascii: "="))
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The bytes of `text`, or nil unless it is canonical base64: characters of the
    /// alphabet only (no whitespace), a length that is a multiple of 4 with `=`
    /// padding (or, with `requirePadding: false`, the same without the padding), and
    /// zero bits in what the last character leaves unused.
    public static func decode(_ text: String, requirePadding: Bool = true) -> [UInt8]? {
        var input = Array(text.utf8)
        if !requirePadding && input.count % 4 != 0 {
            input += [UInt8](repeating: UInt8(ascii: "="), count: 4 - input.count % 4)
        }
        guard input.count % 4 == 0 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(input.count / 4 * 3)
        var index = 0
        while index < input.count {
            let isLast = index + 4 == input.count
            let quad = input[index..<index + 4]
            index += 4
            let padding = quad.reversed().prefix { $0 == UInt8(ascii: "=") }.count
            guard padding <= 2, padding == 0 || isLast else { return nil }
            var v: [UInt8] = []
            for c in quad.prefix(4 - padding) {
                let value = values[Int(c)]
                guard value != 0xFF else { return nil }
                v.append(value)
            }
            out.append(v[0] << 2 | v[1] >> 4)
            if v.count == 2 {
                guard v[1] & 0x0F == 0 else { return nil }
            } else {
                out.append((v[1] & 0x0F) << 4 | v[2] >> 2)
                if v.count == 3 {
                    guard v[2] & 0x03 == 0 else { return nil }
                } else {
                    out.append((v[2] & 0x03) << 6 | v[3])
                }
            }
        }
        return out
    }
}
