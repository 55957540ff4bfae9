import NeuraxonProtocol

/// The version of the `neuraxon` command and its libraries: the one place it is written.
enum NeuraxonVersion {
    /// Semantic version of the package.
    static let number = "0.1.0"

    /// What `neuraxon --version` prints: the package version and the protocol it speaks.
    static var description: String { "neuraxon \(number) (protocol version \(ProtocolLimits.version))" }
}
