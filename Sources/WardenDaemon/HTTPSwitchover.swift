import RESP
import SentinelCore
import WardenHTTP
import WardenHTTPIO

/// POST /v1/masters/{name}/switchover: a coordinated switchover, as
/// `SENTINEL FAILOVER <name> COORDINATED [TO <ip> <port>]` (see docs/switchover.md).
/// The body is optional; if there is one it is a JSON object with at most a `to`
/// member, `{"ip": "<address>", "port": <1-65535>}`, naming the replica to promote.
extension HTTPAPI {
    func switchover(_ request: HTTPRequest, _ parameters: [String: String], _ responder: HTTPResponder) {
        let name = parameters["name"] ?? ""
        var command = [Array("SENTINEL".utf8), Array("FAILOVER".utf8), Array(name.utf8), Array("COORDINATED".utf8)]
        guard bodyIsJSONIfAny(request, responder) else { return }
        if !request.body.isEmpty {
            switch Self.switchoverTarget(request.body) {
            case .failure(let reason):
                return responder.respond(Self.error(400, reason.message))
            case .success(let target?):
                command += [Array("TO".utf8), Array(target.host.utf8), Array(String(target.port).utf8)]
            case .success(nil):
                break
            }
        }
        submitFailover(command, name: name, what: "coordinated failover", responder, status: Self.switchoverStatus)
    }

    struct BadBody: Error {
        let message: String
    }

    /// The replica named by a body, nil when none is; or why the body is refused.
    static func switchoverTarget(_ body: [UInt8]) -> Result<Address?, BadBody> {
        guard let value = try? JSONParser.parse(body), let object = value.objectValue else {
            return .failure(BadBody(message: "the body must be a JSON object"))
        }
        if let unknown = object.keys.first(where: { $0 != "to" }) {
            return .failure(BadBody(message: "unknown member '\(Self.loggable(unknown))' (only 'to' is accepted)"))
        }
        guard let to = object["to"] else { return .success(nil) }
        guard let target = to.objectValue, Set(target.keys) == ["ip", "port"], target.count == 2,
              let ip = target["ip"]?.stringValue, !ip.isEmpty, ip.unicodeScalars.count <= 255,
              let port = target["port"]?.intValue, (1...65535).contains(port) else {
            return .failure(BadBody(message: "'to' must be {\"ip\": <address>, \"port\": <1-65535>}"))
        }
        return .success(Address(ip, Int(port)))
    }

    /// The HTTP status of an error reply of SENTINEL FAILOVER ... COORDINATED.
    static func switchoverStatus(_ text: String) -> Int {
        if text.hasPrefix("ERR No such master") { return 404 }
        if text.hasPrefix("ERR Invalid") { return 400 }
        // INPROG, NOGOODMASTER, NOGOODSLAVE, no such replica: refused in this state.
        return 409
    }
}
