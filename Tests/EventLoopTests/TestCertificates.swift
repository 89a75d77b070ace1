import Foundation

/// Certificates for the TLS tests, made with the `openssl` command line in a fresh
/// temporary directory: two unrelated CAs, each with a server certificate (for
/// 127.0.0.1) and a client certificate, and an encrypted copy of one key.
struct TestCertificates {
    let directory: URL

    /// One CA and the leaf certificates it signed.
    struct Authority {
        let ca: String
        let serverCert: String
        let serverKey: String
        let clientCert: String
        let clientKey: String
    }

    let first: Authority
    let second: Authority
    /// `first.serverKey`, encrypted with `keyPassword`.
    let encryptedServerKey: String
    let keyPassword = "s3cret pass"

    init() throws {
        directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("warden-tls-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.path
        func authority(_ name: String) throws -> Authority {
            try Self.openssl(in: path, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                        "-nodes", "-keyout", "\(name)-ca.key", "-out", "\(name)-ca.crt", "-days", "2",
                                        "-subj", "/CN=Warden test CA \(name)"])
            for leaf in ["server", "client"] {
                let base = "\(name)-\(leaf)"
                try Self.openssl(in: path, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                                            "-keyout", "\(base).key", "-out", "\(base).csr", "-subj", "/CN=\(base)"])
                try "subjectAltName=IP:127.0.0.1\n".write(toFile: "\(path)/\(base).ext", atomically: true, encoding: .utf8)
                try Self.openssl(in: path, ["x509", "-req", "-in", "\(base).csr", "-CA", "\(name)-ca.crt",
                                            "-CAkey", "\(name)-ca.key", "-CAcreateserial", "-out", "\(base).crt",
                                            "-days", "2", "-extfile", "\(base).ext"])
            }
            return Authority(ca: "\(path)/\(name)-ca.crt",
                             serverCert: "\(path)/\(name)-server.crt", serverKey: "\(path)/\(name)-server.key",
                             clientCert: "\(path)/\(name)-client.crt", clientKey: "\(path)/\(name)-client.key")
        }
        first = try authority("one")
        second = try authority("two")
        encryptedServerKey = "\(path)/one-server-encrypted.key"
        try Self.openssl(in: path, ["pkey", "-in", first.serverKey, "-aes256", "-passout", "pass:\(keyPassword)",
                                    "-out", encryptedServerKey])
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    private static func openssl(in directory: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw CommandFailed(text: "openssl \(arguments.joined(separator: " ")): \(String(decoding: text, as: UTF8.self))")
        }
    }
}

struct CommandFailed: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}
