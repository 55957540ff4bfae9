/// Builds an MCAP file (https://mcap.dev/spec) in memory, piece by piece, for its owner to write
/// out: `takeOutput()` hands over the bytes made so far, which the owner appends to the file.
///
/// Schemas, channels, metadata and attachments go in the data section as they are added;
/// messages go into a chunk (uncompressed), which `closeChunk()` writes followed by one message
/// index per channel. A file cut after any `closeChunk()` holds every message of every chunk
/// closed before the cut (`MCAPReader` recovers it). `finish()` closes the last chunk and
/// writes the data end, the summary (schemas, channels, statistics, chunk, attachment and
/// metadata indexes, summary offsets) and the footer, so a reader can seek without scanning.
struct MCAPWriter {
    /// A chunk is closed by `addMessage` once its records reach this many bytes.
    let chunkBytes: Int

    private var output = MCAPBytes()
    /// Bytes handed over by `takeOutput()` so far.
    private var flushed: UInt64 = 0
    private var dataCRC = CRC32()
    private var finished = false

    private var schemaRecords: [[UInt8]] = []
    private var channelRecords: [[UInt8]] = []
    private var channelSequence: [UInt32] = []
    private var channelMessageCount: [UInt64] = []

    private var chunk = MCAPBytes()
    private var chunkStartTime: UInt64 = .max
    private var chunkEndTime: UInt64 = 0
    /// Per channel (index = id − 1): (log time, offset in the chunk's records) of its messages.
    private var chunkMessages: [[(UInt64, UInt64)]] = []

    private var chunkIndexes: [[UInt8]] = []
    private var attachmentIndexes: [[UInt8]] = []
    private var metadataIndexes: [[UInt8]] = []
    private var messageCount: UInt64 = 0
    private var messageStartTime: UInt64 = .max
    private var messageEndTime: UInt64 = 0

    /// Starts the file with the magic and the header record.
    init(chunkBytes: Int = 256 * 1024) {
        self.chunkBytes = chunkBytes
        output.bytes.reserveCapacity(chunkBytes + 4096)
        chunk.bytes.reserveCapacity(chunkBytes + 4096)
        output.bytes.append(contentsOf: MCAP.magic)
        output.record(.header) { $0.string(MCAP.profile); $0.string(MCAP.library) }
    }

    /// The file offset of the next byte.
    private var position: UInt64 { flushed + UInt64(output.bytes.count) }

    /// The bytes made since the last call; the data section's CRC covers them.
    mutating func takeOutput() -> [UInt8] {
        let out = output.bytes
        if !finished { dataCRC.update(out) }
        flushed += UInt64(out.count)
        output.bytes.removeAll(keepingCapacity: true)
        return out
    }

    /// Whether bytes wait for `takeOutput()`.
    var hasOutput: Bool { !output.bytes.isEmpty }

    /// Adds a schema; returns its id (from 1).
    mutating func addSchema(name: String, encoding: String, data: [UInt8]) -> UInt16 {
        let id = UInt16(schemaRecords.count + 1)
        var r = MCAPBytes()
        r.record(.schema) { $0.u16(id); $0.string(name); $0.string(encoding); $0.bytes32(data) }
        schemaRecords.append(r.bytes)
        output.bytes.append(contentsOf: r.bytes)
        return id
    }

    /// Adds a channel on `topic` whose messages follow schema `schema`; returns its id (from 1).
    mutating func addChannel(topic: String, schema: UInt16, messageEncoding: String, metadata: [(String, String)] = []) -> UInt16 {
        let id = UInt16(channelRecords.count + 1)
        var r = MCAPBytes()
        r.record(.channel) { $0.u16(id); $0.u16(schema); $0.string(topic); $0.string(messageEncoding); $0.stringMap(metadata) }
        channelRecords.append(r.bytes)
        channelSequence.append(0)
        channelMessageCount.append(0)
        chunkMessages.append([])
        output.bytes.append(contentsOf: r.bytes)
        return id
    }

    /// Adds a metadata record (between chunks).
    mutating func addMetadata(name: String, _ entries: [(String, String)]) {
        closeChunk()
        let offset = position
        output.record(.metadata) { $0.string(name); $0.stringMap(entries) }
        let length = position - offset
        var index = MCAPBytes()
        index.record(.metadataIndex) { $0.u64(offset); $0.u64(length); $0.string(name) }
        metadataIndexes.append(index.bytes)
    }

    /// Adds an attachment (between chunks). Times in ns.
    mutating func addAttachment(name: String, mediaType: String, data: [UInt8], logTime: UInt64, createTime: UInt64) {
        closeChunk()
        let offset = position
        var fields = MCAPBytes()
        fields.u64(logTime); fields.u64(createTime); fields.string(name); fields.string(mediaType)
        fields.u64(UInt64(data.count)); fields.bytes.append(contentsOf: data)
        let crc = CRC32.of(fields.bytes)
        output.record(.attachment) { $0.bytes.append(contentsOf: fields.bytes); $0.u32(crc) }
        let length = position - offset
        var index = MCAPBytes()
        index.record(.attachmentIndex) {
            $0.u64(offset); $0.u64(length); $0.u64(logTime); $0.u64(createTime); $0.u64(UInt64(data.count))
            $0.string(name); $0.string(mediaType)
        }
        attachmentIndexes.append(index.bytes)
    }

    /// Adds a message on `channel` to the open chunk. Times in ns. The chunk is closed once it
    /// is `chunkBytes` long.
    mutating func addMessage(channel: UInt16, logTime: UInt64, publishTime: UInt64, data: [UInt8]) {
        addMessage(channel: channel, logTime: logTime, publishTime: publishTime) { $0.append(contentsOf: data) }
    }

    /// Adds a message whose data `write` appends.
    mutating func addMessage(channel: UInt16, logTime: UInt64, publishTime: UInt64, _ write: (inout [UInt8]) -> Void) {
        let k = Int(channel) - 1
        let offset = UInt64(chunk.bytes.count)
        let sequence = channelSequence[k]
        channelSequence[k] &+= 1
        chunk.record(.message) {
            $0.u16(channel); $0.u32(sequence); $0.u64(logTime); $0.u64(publishTime)
            write(&$0.bytes)
        }
        chunkMessages[k].append((logTime, offset))
        channelMessageCount[k] += 1
        messageCount += 1
        chunkStartTime = min(chunkStartTime, logTime)
        chunkEndTime = max(chunkEndTime, logTime)
        messageStartTime = min(messageStartTime, logTime)
        messageEndTime = max(messageEndTime, logTime)
    }

    /// Messages added so far.
    var messagesAdded: Int { Int(messageCount) }

    /// Whether the open chunk has reached `chunkBytes`.
    var chunkIsFull: Bool { chunk.bytes.count >= chunkBytes }

    /// Writes the open chunk, if it holds anything, and its message indexes.
    mutating func closeChunk() {
        guard !chunk.bytes.isEmpty else { return }
        let chunkStart = position
        let records = chunk.bytes
        let crc = CRC32.of(records)
        output.record(.chunk) {
            $0.u64(chunkStartTime); $0.u64(chunkEndTime); $0.u64(UInt64(records.count)); $0.u32(crc)
            $0.string("")
            $0.u64(UInt64(records.count)); $0.bytes.append(contentsOf: records)
        }
        let chunkLength = position - chunkStart
        var indexOffsets: [(UInt16, UInt64)] = []
        let indexesStart = position
        for k in chunkMessages.indices where !chunkMessages[k].isEmpty {
            indexOffsets.append((UInt16(k + 1), position))
            let entries = chunkMessages[k]
            output.record(.messageIndex) {
                $0.u16(UInt16(k + 1))
                $0.u32(UInt32(entries.count * 16))
                for (time, offset) in entries { $0.u64(time); $0.u64(offset) }
            }
            chunkMessages[k].removeAll(keepingCapacity: true)
        }
        let indexesLength = position - indexesStart
        var index = MCAPBytes()
        let (start, end) = (chunkStartTime, chunkEndTime)
        index.record(.chunkIndex) {
            $0.u64(start); $0.u64(end); $0.u64(chunkStart); $0.u64(chunkLength)
            $0.map(indexOffsets) { $0.u16($1.0); $0.u64($1.1) }
            $0.u64(indexesLength); $0.string(""); $0.u64(UInt64(records.count)); $0.u64(UInt64(records.count))
        }
        chunkIndexes.append(index.bytes)
        chunk.bytes.removeAll(keepingCapacity: true)
        chunkStartTime = .max
        chunkEndTime = 0
    }

    /// Closes the last chunk and writes the data end, the summary and the footer. Take the
    /// rest with `takeOutput()`.
    mutating func finish() {
        guard !finished else { return }
        closeChunk()
        dataCRC.update(output.bytes)
        finished = true
        let crc = dataCRC.value
        output.record(.dataEnd) { $0.u32(crc) }
        let summaryStart = position
        let summaryFrom = output.bytes.count
        var groups: [(MCAP.Opcode, UInt64, UInt64)] = []
        func group(_ opcode: MCAP.Opcode, _ records: [[UInt8]]) {
            guard !records.isEmpty else { return }
            let start = position
            for r in records { output.bytes.append(contentsOf: r) }
            groups.append((opcode, start, position - start))
        }
        group(.schema, schemaRecords)
        group(.channel, channelRecords)
        var statistics = MCAPBytes()
        let counts = channelMessageCount.enumerated().map { (UInt16($0.offset + 1), $0.element) }
        let (count, first, last) = (messageCount, messageCount == 0 ? 0 : messageStartTime, messageEndTime)
        statistics.record(.statistics) {
            $0.u64(count); $0.u16(UInt16(schemaRecords.count)); $0.u32(UInt32(channelRecords.count))
            $0.u32(UInt32(attachmentIndexes.count)); $0.u32(UInt32(metadataIndexes.count)); $0.u32(UInt32(chunkIndexes.count))
            $0.u64(first); $0.u64(last)
            $0.map(counts) { $0.u16($1.0); $0.u64($1.1) }
        }
        group(.statistics, [statistics.bytes])
        group(.chunkIndex, chunkIndexes)
        group(.attachmentIndex, attachmentIndexes)
        group(.metadataIndex, metadataIndexes)
        let summaryOffsetStart = position
        for (opcode, start, length) in groups {
            output.record(.summaryOffset) { $0.u8(opcode.rawValue); $0.u64(start); $0.u64(length) }
        }
        // The footer's CRC covers the summary and the footer up to the CRC field.
        var footerHead = MCAPBytes()
        footerHead.u8(MCAP.Opcode.footer.rawValue); footerHead.u64(20); footerHead.u64(summaryStart); footerHead.u64(summaryOffsetStart)
        var summaryCRC = CRC32()
        summaryCRC.update(output.bytes[summaryFrom...])
        summaryCRC.update(footerHead.bytes)
        output.bytes.append(contentsOf: footerHead.bytes)
        output.u32(summaryCRC.value)
        output.bytes.append(contentsOf: MCAP.magic)
    }
}
