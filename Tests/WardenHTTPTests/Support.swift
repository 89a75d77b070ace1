import WardenHTTP
import WardenTestSupport

func utf8(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Feeds `stream` to a request parser in pieces of the given sizes (the rest in one
/// piece), draining requests after every piece. Returns the requests and the error.
func feedRequests(_ stream: [UInt8], pieces: [Int] = [], limits: HTTPLimits = .server)
    -> (requests: [HTTPRequest], error: HTTPParseError?) {
    var parser = HTTPRequestParser(limits: limits)
    var requests: [HTTPRequest] = []
    var offset = 0
    var sizes = pieces[...]
    repeat {
        let size = min(sizes.popFirst() ?? stream.count, stream.count - offset)
        parser.append(stream[offset..<offset + size])
        offset += size
        do {
            while let request = try parser.next() { requests.append(request) }
        } catch {
            return (requests, error)
        }
    } while offset < stream.count
    return (requests, nil)
}

/// Random piece sizes adding up to `total`.
func randomPieces(total: Int, maxPiece: Int, using random: inout TestRandom) -> [Int] {
    var pieces: [Int] = []
    var left = total
    while left > 0 {
        let n = Int.random(in: 1...max(1, min(maxPiece, left)), using: &random)
        pieces.append(n)
        left -= n
    }
    return pieces
}

/// Feeds a response in pieces, then signals the close.
func feedResponse(_ stream: [UInt8], pieces: [Int] = [], method: String = "POST", limits: HTTPLimits = .client,
                  close: Bool = true) -> Result<HTTPClientResponse?, HTTPParseError> {
    var parser = HTTPResponseParser(limits: limits, requestMethod: method)
    var offset = 0
    var sizes = pieces[...]
    var result: HTTPClientResponse?
    do {
        repeat {
            let size = min(sizes.popFirst() ?? stream.count, stream.count - offset)
            parser.append(stream[offset..<offset + size])
            offset += size
            if let response = try parser.next() { result = response }
        } while offset < stream.count
        if close {
            parser.finish()
            if let response = try parser.next() { result = response }
        }
    } catch {
        return .failure(error)
    }
    return .success(result)
}

