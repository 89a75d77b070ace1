import WardenCrypto

/// A Standard Webhooks signing secret: `whsec_` and the base64 of 24 to 64 random
/// bytes. Kept as a `Secret`, so it is never printed (`description` is `whsec_******`).
public struct WebhookSecret: Equatable, Sendable, CustomStringConvertible {
    public static let prefix = "whsec_"
    public static let minKeyBytes = 24
    public static let maxKeyBytes = 64

    /// The decoded key, the HMAC key.
    public let key: Secret
    /// The text as configured, for CONFIG REWRITE.
    public let text: Secret

    public init(parsing text: String) throws(WebhookConfigError) {
        guard text.hasPrefix(Self.prefix) else {
            throw .init("secret must start with '\(Self.prefix)' followed by base64")
        }
        guard let key = Base64.decode(String(text.dropFirst(Self.prefix.count))) else {
            throw .init("secret is not valid base64 after '\(Self.prefix)'")
        }
        guard (Self.minKeyBytes...Self.maxKeyBytes).contains(key.count) else {
            throw .init("secret must decode to \(Self.minKeyBytes)-\(Self.maxKeyBytes) bytes, not \(key.count)")
        }
        self.key = Secret(key)
        self.text = Secret(text)
    }

    /// A secret for `key` (for tests and for generating one).
    public init(key: [UInt8]) {
        self.key = Secret(key)
        self.text = Secret(Self.prefix + Base64.encode(key))
    }

    /// The configured text, to write back into the config file (never log it).
    public var revealedText: String { String(decoding: text.bytes, as: UTF8.self) }

    public var description: String { "\(Self.prefix)******" }
}

/// Signing per Standard Webhooks 1.0: the signed content is `<id>.<timestamp>.<body>`,
/// the signature `v1,<base64 of HMAC-SHA256(key, content)>`, one per secret,
/// separated by spaces (several during a key rotation).
public enum StandardWebhooks {
    public static let idHeader = "webhook-id"
    public static let timestampHeader = "webhook-timestamp"
    public static let signatureHeader = "webhook-signature"
    /// How far a receiver lets the timestamp be from its clock (the spec's 5 minutes).
    public static let toleranceSeconds: Int64 = 300

    /// `v1,<base64>` for each secret, in order, separated by spaces.
    public static func signature(id: String, timestampSeconds: Int64, body: [UInt8], secrets: [WebhookSecret]) -> String {
        let content = Array("\(id).\(timestampSeconds).".utf8) + body
        return secrets.map { "v1," + Base64.encode(HMACSHA256.authenticationCode(key: $0.key.bytes, message: content)) }
            .joined(separator: " ")
    }

    /// The three headers of one attempt (no signature header without secrets).
    public static func headers(id: String, timestampSeconds: Int64, body: [UInt8], secrets: [WebhookSecret]) -> [(String, String)] {
        var headers = [(idHeader, id), (timestampHeader, String(timestampSeconds))]
        if !secrets.isEmpty {
            headers.append((signatureHeader, signature(id: id, timestampSeconds: timestampSeconds, body: body, secrets: secrets)))
        }
        return headers
    }

    /// What a receiver does: true if the timestamp is within the tolerance of `nowSeconds`
    /// and one of the `v1` signatures matches one of the secrets (compared in constant time).
    public static func verify(id: String, timestamp: String, signatureHeader: String, body: [UInt8],
                              secrets: [WebhookSecret], nowSeconds: Int64) -> Bool {
        guard let t = Int64(timestamp), t.subtractingReportingOverflow(nowSeconds).partialValue.magnitude
                <= UInt64(toleranceSeconds), !t.subtractingReportingOverflow(nowSeconds).overflow else { return false }
        let content = Array("\(id).\(timestamp).".utf8) + body
        var matched = false
        for entry in signatureHeader.split(separator: " ") {
            guard entry.hasPrefix("v1,"), let signature = Base64.decode(String(entry.dropFirst(3))) else { continue }
            for secret in secrets where constantTimeEqual(HMACSHA256.authenticationCode(key: secret.key.bytes, message: content), signature) {
                matched = true
            }
        }
        return matched
    }
}
