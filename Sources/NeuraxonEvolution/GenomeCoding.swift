// NeuraxonEvolution — Aigarth-style evolution of Neuraxon networks.
// Licence: MIT with the Aigarth licence restrictions (no military or dual-use applications);
// see Sources/NeuraxonEvolution/NOTICE.

import Neuraxon

/// Genomes in checkpoints: `{"parameters": {file key: value, …}, "genes": [{"pre", "post",
/// "fast", "slow", "meta", "silent", "modulatory"}, …]}`, parameters under the network file's
/// keys. Doubles are written in their shortest round-trip form, so a genome reads back
/// bit-identical. Decoding checks every genome rule.
extension Genome: Codable {
    enum CodingKeys: String, CodingKey { case parameters, genes }

    struct ParameterKey: CodingKey {
        let stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var p = container.nestedContainer(keyedBy: ParameterKey.self, forKey: .parameters)
        for field in NetworkParameters.fields {
            let key = ParameterKey(stringValue: field.key)
            switch field.kind {
            case .text(let path): try p.encode(parameters[keyPath: path], forKey: key)
            case .integer(let path): try p.encode(parameters[keyPath: path], forKey: key)
            case .real(let path): try p.encode(parameters[keyPath: path], forKey: key)
            }
        }
        try container.encode(genes, forKey: .genes)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let p = try container.nestedContainer(keyedBy: ParameterKey.self, forKey: .parameters)
        var parameters = NetworkParameters()
        for field in NetworkParameters.fields {
            let key = ParameterKey(stringValue: field.key)
            switch field.kind {
            case .text(let path): parameters[keyPath: path] = try p.decode(String.self, forKey: key)
            case .integer(let path): parameters[keyPath: path] = try p.decode(Int.self, forKey: key)
            case .real(let path): parameters[keyPath: path] = try p.decode(Double.self, forKey: key)
            }
        }
        let genes = try container.decode([Gene].self, forKey: .genes)
        self.init(unchecked: parameters, genes: genes)
        if let problem = violations().first {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: problem))
        }
    }
}
