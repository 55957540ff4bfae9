// swift-tools-version:6.0
//
// Neuraxon for robots: a trinary, continuous-time neural network in Swift that drives a
// serial-attached robot through a small C firmware.
//
// Targets follow the layers of Docs/ARCHITECTURE.md; dependencies point down only:
//
//   neuraxon (command line) ── NeuraxonView (browser view server)
//     └─ NeuraxonEmbodiment ── NeuraxonSimulation
//          ├─ NeuraxonTransport ── NeuraxonProtocol, CNeuraxonSerial, CUdev
//          └─ Neuraxon (the model)
import PackageDescription

let package = Package(
    name: "Neuraxon",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Neuraxon", targets: ["Neuraxon"]),
        .library(name: "NeuraxonChannels", targets: ["NeuraxonChannels"]),
        .library(name: "NeuraxonProtocol", targets: ["NeuraxonProtocol"]),
        .library(name: "NeuraxonTransport", targets: ["NeuraxonTransport"]),
        .library(name: "NeuraxonSimulation", targets: ["NeuraxonSimulation"]),
        .library(name: "NeuraxonEmbodiment", targets: ["NeuraxonEmbodiment"]),
        .executable(name: "neuraxon", targets: ["neuraxon"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        // The live view's HTTP and WebSocket server (NeuraxonView and the command line only).
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.0.0"),
    ],
    targets: [
        // Model layer: the network, its parameters, its RNG and its file format; the step's
        // synapse update is one C loop built for SSE2 and AVX2.
        .target(name: "CNeuraxonKernels"),
        .target(name: "Neuraxon", dependencies: ["CNeuraxonKernels"]),

        // The channel contract: what channels a robot has (from its description file or its
        // board's DEVICE_INFO), shared by protocol, simulation, embodiment and the command line.
        .target(name: "NeuraxonChannels", dependencies: [.product(name: "Yams", package: "Yams")]),

        // Protocol layer: frame codec and message types, pure functions over bytes.
        .target(name: "NeuraxonProtocol", dependencies: ["NeuraxonChannels"]),

        // Transport layer: termios serial port, libudev discovery and hot-plug, the session.
        .target(name: "CNeuraxonSerial"),
        .systemLibrary(
            name: "CUdev",
            pkgConfig: "libudev",
            providers: [.apt(["libudev-dev"])]
        ),
        .target(
            name: "NeuraxonTransport",
            dependencies: ["NeuraxonChannels", "NeuraxonProtocol", "CNeuraxonSerial", "CUdev"]
        ),

        // Simulation layer: a 2D world with a differential-drive robot.
        .target(
            name: "NeuraxonSimulation",
            dependencies: ["NeuraxonChannels", .product(name: "Yams", package: "Yams")]
        ),

        // Executors: runs independent items of work on this machine's cores or as a Slurm job
        // array (the worker is `neuraxon evaluate`); used by batches and evolution.
        .target(name: "NeuraxonExecutors", dependencies: ["Neuraxon"]),

        // Embodiment layer: the control loop, bodies, mapping, recorder and replay; batches of
        // simulated runs.
        .target(
            name: "NeuraxonEmbodiment",
            dependencies: [
                "Neuraxon", "NeuraxonChannels", "NeuraxonProtocol", "NeuraxonTransport", "NeuraxonSimulation", "NeuraxonExecutors",
                .product(name: "Yams", package: "Yams"),
            ]
        ),

        // Evolution layer: Aigarth-style mutation and selection of networks. Its own licence
        // terms (see Sources/NeuraxonEvolution/NOTICE); nothing else in the package depends on it
        // but the command line.
        .target(name: "NeuraxonEvolution", dependencies: ["Neuraxon"], exclude: ["NOTICE"]),
        // Fitness tasks that evaluate genomes in the simulator (same licence terms as evolution).
        .target(name: "NeuraxonEvolutionTasks", dependencies: ["NeuraxonEvolution", "NeuraxonEmbodiment", "NeuraxonSimulation"]),

        // View layer: the browser view's server (HTTP + WebSocket on 127.0.0.1), the snapshot
        // hand-off from the tick thread, recording playback, and the page's own code as resources.
        // Nothing imports it but the command line.
        .target(
            name: "NeuraxonView",
            dependencies: [
                "Neuraxon", "NeuraxonChannels", "NeuraxonSimulation", "NeuraxonEmbodiment",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
            ],
            resources: [.copy("Page")]
        ),

        // Command line.
        .executableTarget(
            name: "neuraxon",
            dependencies: [
                "Neuraxon", "NeuraxonChannels", "NeuraxonProtocol", "NeuraxonTransport", "NeuraxonSimulation",
                "NeuraxonEmbodiment", "NeuraxonEvolution", "NeuraxonEvolutionTasks", "NeuraxonExecutors", "NeuraxonView",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),

        // Tests.
        // Counts heap allocations in tests (interposes malloc); linked only into the tests.
        .target(name: "CAllocationCounter"),
        .testTarget(
            name: "NeuraxonTests",
            dependencies: ["Neuraxon", "CAllocationCounter"],
            resources: [.copy("Golden")]
        ),
        .testTarget(name: "NeuraxonChannelsTests", dependencies: ["NeuraxonChannels"]),
        .testTarget(name: "NeuraxonProtocolTests", dependencies: ["NeuraxonChannels", "NeuraxonProtocol"]),
        .testTarget(name: "NeuraxonTransportTests", dependencies: ["NeuraxonChannels", "NeuraxonTransport", "CAllocationCounter"]),
        .testTarget(name: "NeuraxonSimulationTests", dependencies: ["NeuraxonChannels", "NeuraxonSimulation", "CAllocationCounter"]),
        .testTarget(name: "NeuraxonEmbodimentTests", dependencies: ["NeuraxonChannels", "NeuraxonEmbodiment", "NeuraxonExecutors", "CAllocationCounter"]),
        .testTarget(name: "NeuraxonEvolutionTests", dependencies: ["NeuraxonEvolution"]),
        .testTarget(name: "NeuraxonEvolutionTasksTests", dependencies: ["NeuraxonEvolutionTasks"]),
        // The view's server, hand-off and security checks, and the page in headless Chromium.
        .testTarget(name: "NeuraxonViewTests", dependencies: ["NeuraxonView", "NeuraxonEmbodiment", "CAllocationCounter"]),
        // Runs the built `neuraxon` command as a user does.
        .testTarget(name: "NeuraxonCLITests", dependencies: ["Neuraxon", "NeuraxonTransport"]),
        // Starts a real single-node Slurm cluster on 127.0.0.1 and runs batches and evolution
        // through it (needs Debian's slurmctld, slurmd, slurm-client and munge: scripts/install-deps.sh).
        .testTarget(name: "NeuraxonSlurmTests", dependencies: ["Neuraxon"]),
    ]
)

// `NEURAXON_MODEL_CHECKS=1` declares only the model and its tests. scripts/test.sh builds them
// optimised for the checks whose vectorised code exists only in an optimised build (bit-exactness
// against the reference, allocations and the step budget), without building the rest of the
// package, the view's server above all, optimised as well.
if Context.environment["NEURAXON_MODEL_CHECKS"] == "1" {
    let modelTargets: Set<String> = ["CNeuraxonKernels", "Neuraxon", "CAllocationCounter", "NeuraxonTests"]
    package.targets.removeAll { !modelTargets.contains($0.name) }
    package.products = [.library(name: "Neuraxon", targets: ["Neuraxon"])]
    package.dependencies = []
}
