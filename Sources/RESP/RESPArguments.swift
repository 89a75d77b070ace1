/// The arguments of one client command, as `RESPRequestParser.nextArguments()`
/// returns them: each an `ArraySlice` of the parser's buffer for a multibulk (no
/// copy, no allocation), or of its own storage for an inline command.
public struct RESPArguments: RandomAccessCollection, Sendable {
    private let storage: [UInt8]
    private let origin: Int
    private let spans: [Range<Int>]

    /// Arguments at `spans` (relative to `origin`) of `storage`.
    init(storage: [UInt8], origin: Int, spans: [Range<Int>]) {
        self.storage = storage
        self.origin = origin
        self.spans = spans
    }

    /// Arguments that are arrays of their own (an inline command after unquoting).
    public init(_ arguments: [[UInt8]]) {
        var storage: [UInt8] = []
        var spans: [Range<Int>] = []
        for argument in arguments {
            spans.append(storage.count..<storage.count + argument.count)
            storage.append(contentsOf: argument)
        }
        self.init(storage: storage, origin: 0, spans: spans)
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { spans.count }

    /// Argument `index`. Its own indices are positions in the shared storage:
    /// use `first`, `count`, iteration or `elementsEqual`, not `argument[0]`.
    public subscript(index: Int) -> ArraySlice<UInt8> {
        let span = spans[index]
        return storage[origin + span.lowerBound..<origin + span.upperBound]
    }

    /// Every argument copied into an array of its own.
    public var arrays: [[UInt8]] { map { Array($0) } }

    /// Whether argument `index` is `word` (given in lower case), ignoring ASCII case.
    public func argument(_ index: Int, equalsLowercased word: [UInt8]) -> Bool {
        let span = spans[index]
        guard span.count == word.count else { return false }
        if word.isEmpty { return true }
        return storage.withUnsafeBufferPointer { bytes in
            word.withUnsafeBufferPointer { word in
                let argument = bytes.baseAddress! + origin + span.lowerBound
                for i in 0..<word.count {
                    var b = argument[i]
                    if b >= 65 && b <= 90 { b += 32 }
                    if b != word[i] { return false }
                }
                return true
            }
        }
    }
}
