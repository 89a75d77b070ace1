import WardenCrypto

/// One line of the persisted webhook queue.
public enum WebhookQueueRecord: Equatable, Sendable {
    case delivery(endpointID: String, WebhookDelivery)
    /// The endpoint answered 410 while it had this URL.
    case disabled(endpointID: String, url: String, reason: String)
}

/// The file under `dir` that keeps pending webhook deliveries across restarts. The
/// daemon writes it atomically (temporary file, fsync, rename) whenever the queue
/// changes; this type only turns records into bytes and back.
///
/// Format, version 1: a header line, then one record per line, fields separated by
/// one space, the last field a checksum (16 hex digits of SHA-256 over the line up to
/// the space before it):
///
///     warden-webhook-queue 1
///     d <endpoint-id> <webhook-id> <event-type> <created-ms> <attempts> <next-ms> <base64 body> <checksum>
///     x <endpoint-id> <base64 url> <base64 reason> <checksum>
///
/// Reading tolerates damage: a line that is truncated, fails its checksum, or does not
/// parse is skipped and counted; a missing or unknown header discards the whole file
/// (counted as one). Limits: lines of `maxLineLength` bytes, `maxRecords` records.
public enum WebhookQueueFile {
    public static let header = "warden-webhook-queue 1"
    /// A 64 KiB body in base64 and the other fields.
    public static let maxLineLength = 96 * 1024
    public static let maxRecords = 100_000

    public static func encode(_ records: [WebhookQueueRecord]) -> [UInt8] {
        var out = Array((header + "\n").utf8)
        for record in records.prefix(maxRecords) {
            let fields: [String]
            switch record {
            case .delivery(let endpointID, let d):
                guard WebhookConfig.isValidID(endpointID), d.isWellFormed else { continue }
                fields = ["d", endpointID, d.id, d.eventType, String(d.createdAtMs), String(d.attempts),
                          String(d.nextAttemptAtMs), Base64.encode(d.body)]
            case .disabled(let endpointID, let url, let reason):
                guard WebhookConfig.isValidID(endpointID) else { continue }
                fields = ["x", endpointID, Base64.encode(Array(url.utf8)), Base64.encode(Array(reason.utf8))]
            }
            let line = fields.joined(separator: " ")
            guard line.utf8.count + 17 <= maxLineLength else { continue }
            out += Array(line.utf8)
            out.append(0x20)
            out += Array(checksum(line).utf8)
            out.append(0x0A)
        }
        return out
    }

    /// The records that survived, and how many lines were discarded. The entry point
    /// for fuzzing.
    public static func decode(_ bytes: [UInt8]) -> (records: [WebhookQueueRecord], discarded: Int) {
        var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
        // The last piece is what follows the final newline: empty, or a truncated line.
        let truncated = lines.last.map { !$0.isEmpty } ?? false
        lines.removeLast()
        var discarded = truncated ? 1 : 0
        guard let first = lines.first, String(decoding: first, as: UTF8.self) == header else {
            return ([], bytes.isEmpty ? 0 : 1)
        }
        var records: [WebhookQueueRecord] = []
        for line in lines.dropFirst() {
            guard records.count < maxRecords, line.count <= maxLineLength, let record = parse(line) else {
                discarded += 1
                continue
            }
            records.append(record)
        }
        return (records, discarded)
    }

    private static func parse(_ line: ArraySlice<UInt8>) -> WebhookQueueRecord? {
        guard let text = String(validating: line, as: UTF8.self), let cut = text.utf8.lastIndex(of: 0x20) else { return nil }
        let content = String(text[..<cut])
        guard String(text[text.index(after: cut)...]) == checksum(content) else { return nil }
        let fields = content.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        switch fields.first {
        case "d":
            guard fields.count == 8, WebhookConfig.isValidID(fields[1]),
                  let created = Int64(fields[4]), let attempts = Int(fields[5]), attempts >= 0,
                  let next = Int64(fields[6]), let body = Base64.decode(fields[7]) else { return nil }
            let delivery = WebhookDelivery(id: fields[2], eventType: fields[3], body: body, createdAtMs: created,
                                           attempts: attempts, nextAttemptAtMs: next)
            guard delivery.isWellFormed else { return nil }
            return .delivery(endpointID: fields[1], delivery)
        case "x":
            guard fields.count == 4, WebhookConfig.isValidID(fields[1]),
                  let url = Base64.decode(fields[2]).flatMap({ String(validating: $0, as: UTF8.self) }),
                  let reason = Base64.decode(fields[3]).flatMap({ String(validating: $0, as: UTF8.self) }) else { return nil }
            return .disabled(endpointID: fields[1], url: url, reason: reason)
        default:
            return nil
        }
    }

    static func checksum(_ text: String) -> String {
        let hex = Array("0123456789abcdef".utf8)
        return String(decoding: SHA256.hash(Array(text.utf8)).prefix(8).flatMap { [hex[Int($0 >> 4)], hex[Int($0 & 15)]] },
                      as: UTF8.self)
    }
}
