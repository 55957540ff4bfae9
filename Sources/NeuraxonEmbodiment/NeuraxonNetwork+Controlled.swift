import Neuraxon

extension NeuraxonNetwork: ControlledNetwork {}

extension NetworkIdentity {
    /// The identity of the network file `bytes` read from `path` and loaded as `network`.
    public init(path: String, bytes: [UInt8], network: NeuraxonNetwork) {
        self.init(path: path, digest: SHA256.hex(of: bytes), seed: network.seed)
    }
}
