// swift-tools-version: 6.0
// SelfEditBench: self-edit experiments (SEAL, self-edit strategy search) in one Swift process on the CPU.
// Data flow of the folders: Workspace (plumbing) -> COpenBLAS -> Tensor -> GGUF -> Tokenizer -> Decoding -> LLM
//   -> Training -> CPUEngine (LocalEngine). Experiment (configs, records, splits, graders) -> EngineAPI (the
//   Engine protocol, in text) -> SelfEdit (the harness) -> Search/SearchLoop (the strategy search) -> Embedding
//   -> Analysis -> Reporting -> seb (thin CLI). Only engines (CPUEngine) and executables import the runtime
//   (Tensor .. Training); the harness and the search reach a model through EngineAPI alone.
import PackageDescription

// Numeric modules are built -Ounchecked in release (bounds checks are done once at the API edge,
// not per element) and for haswell (AVX2 + FMA + F16C), which every CI machine of this kind has.
let fast: [SwiftSetting] = [
  .unsafeFlags(["-Ounchecked", "-target-cpu", "haswell"], .when(configuration: .release)),
  .unsafeFlags(["-target-cpu", "haswell"], .when(configuration: .debug)),
]

let package = Package(
  name: "SelfEditBench",
  platforms: [.macOS(.v14)],
  products: [
    .executable(name: "seb", targets: ["seb"]),
    .library(name: "LLM", targets: ["LLM"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    // The worker's HTTP stack (seb worker, seb serve): a maintained server on SwiftNIO.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
  ],
  targets: [
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

    .target(name: "Workspace", dependencies: ["CArchive"], exclude: ["README.md"]),
    .target(name: "Tensor", dependencies: ["COpenBLAS", "Workspace"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "GGUF", dependencies: ["Tensor", "Workspace"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "ModelStore", dependencies: ["CArchive", "Workspace"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "Tokenizer", dependencies: [], exclude: ["README.md"], swiftSettings: fast),
    // What a caller asks of decoding (sampling options, byte automata for constrained output): a leaf,
    // so the engine interface and the search state them without importing the runtime.
    .target(name: "Decoding", dependencies: [], exclude: ["README.md"], swiftSettings: fast),
    .target(
      name: "LLM", dependencies: ["Tensor", "GGUF", "Tokenizer", "Decoding"], exclude: ["README.md"],
      swiftSettings: fast),
    .target(
      name: "Training", dependencies: ["LLM", "Tensor", "GGUF", "SafeTensors"], exclude: ["README.md"],
      swiftSettings: fast),
    .target(name: "SafeTensors", dependencies: ["Workspace"], exclude: ["README.md"]),
    // The experiment as data: configs, records, splits, prompts, graders, aggregation. No runtime.
    .target(name: "Experiment", dependencies: ["Workspace"], exclude: ["README.md"]),
    // The seam: what the harness and the search ask of a model, in text (a protocol and its messages).
    .target(name: "EngineAPI", dependencies: ["Experiment", "Decoding"], exclude: ["README.md", "PROTOCOL.md"]),
    // The engine over the in-process CPU runtime.
    .target(
      name: "CPUEngine", dependencies: ["EngineAPI", "Experiment", "Workspace", "LLM", "Training", "GGUF", "Tensor"],
      exclude: ["README.md"], swiftSettings: fast),
    // The engine protocol over HTTP: the worker side (any Engine behind it) and the client side.
    .target(
      name: "EngineServer",
      dependencies: [
        "EngineAPI", "Experiment", "Workspace", "Decoding", .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "Logging", package: "swift-log"),
      ], exclude: ["README.md"]),
    .target(name: "RemoteEngine", dependencies: ["EngineAPI", "Experiment", "Workspace"], exclude: ["README.md"]),
    // The knowledge-incorporation harness: self-edits, the inner loop, run directories. Runtime-free.
    .target(
      name: "SelfEdit", dependencies: ["EngineAPI", "Decoding", "Experiment", "Workspace"], exclude: ["README.md"]),
    // The self-edit strategy search: templates, meta prompts, metrics, archives, selection.
    .target(
      name: "Search", dependencies: ["Experiment", "Workspace", "EngineAPI", "Decoding"], exclude: ["README.md"]),
    .target(
      name: "SearchLoop", dependencies: ["Search", "SelfEdit", "EngineAPI", "Decoding", "Experiment", "Workspace"],
      exclude: ["README.md"]),
    .target(
      name: "Embedding", dependencies: ["Tensor", "SafeTensors", "ModelStore"], exclude: ["README.md"],
      swiftSettings: fast),
    // Analysis takes text embeddings through a protocol; seb plugs the Embedding model in.
    .target(name: "Analysis", dependencies: ["Search", "Experiment", "Workspace"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "Reporting", dependencies: ["Analysis", "Experiment", "Workspace"], exclude: ["README.md"]),
    .executableTarget(
      name: "seb",
      dependencies: [
        "Workspace", "Tensor", "GGUF", "ModelStore", "Tokenizer", "LLM", "Training", "SafeTensors", "Embedding",
        "Experiment", "EngineAPI", "CPUEngine", "EngineServer", "RemoteEngine", "SelfEdit", "Search", "SearchLoop",
        "Analysis", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Speed and memory suites: `swift run -c release seb-bench --help` (see Benchmarks/README.md).
    .executableTarget(
      name: "seb-bench",
      dependencies: [
        "Workspace", "Tensor", "GGUF", "ModelStore", "Tokenizer", "LLM", "Training", "Experiment", "EngineAPI",
        "CPUEngine", "SelfEdit", "Search",
      ],
      path: "Benchmarks/SebBench", swiftSettings: fast),

    .target(
      name: "TestSupport", dependencies: ["GGUF", "Tensor", "LLM", "Experiment", "Workspace"], path: "Tests/TestSupport"
    ),
    // Fuzzing: every parser of untrusted bytes as a target; seb-fuzz is libFuzzer's entry when built
    // with -sanitize=fuzzer -DSEB_FUZZ (Tests/Fuzz/run.sh), a corpus replayer otherwise.
    .target(
      name: "SebFuzzTargets",
      dependencies: ["GGUF", "SafeTensors", "Tokenizer", "LLM", "Training", "Experiment", "Analysis", "TestSupport"],
      path: "Tests/Fuzz/Targets"),
    .executableTarget(name: "seb-fuzz", dependencies: ["SebFuzzTargets"], path: "Tests/Fuzz/Main"),
    .testTarget(name: "WorkspaceTests", dependencies: ["Workspace"]),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
    .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "CArchive", "Workspace"]),
    .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer"]),
    .testTarget(name: "LLMTests", dependencies: ["LLM", "Decoding", "GGUF", "Tokenizer", "Tensor", "TestSupport"]),
    .testTarget(
      name: "TrainingTests", dependencies: ["Training", "LLM", "GGUF", "Tensor", "SafeTensors", "TestSupport"]),
    .testTarget(
      name: "EmbeddingTests", dependencies: ["Embedding", "SafeTensors", "ModelStore"], exclude: ["Fixtures"]),
    .testTarget(name: "ExperimentTests", dependencies: ["Experiment", "Workspace"]),
    .testTarget(
      name: "SelfEditTests",
      dependencies: [
        "SelfEdit", "EngineAPI", "CPUEngine", "Experiment", "Workspace", "LLM", "GGUF", "Tokenizer", "Training",
        "TestSupport",
      ]),
    .testTarget(
      name: "EngineServerTests",
      dependencies: [
        "EngineServer", "RemoteEngine", "EngineAPI", "CPUEngine", "Search", "SelfEdit", "Experiment", "LLM", "GGUF",
        "TestSupport", "Workspace",
      ]),
    .testTarget(
      name: "SearchLoopTests",
      dependencies: [
        "SearchLoop", "EngineAPI", "CPUEngine", "Search", "SelfEdit", "Analysis", "Reporting", "Experiment", "LLM",
        "GGUF", "Training", "TestSupport", "Workspace",
      ]),
    .testTarget(
      name: "SearchTests",
      dependencies: [
        "Search", "Decoding", "EngineAPI", "Experiment", "LLM", "GGUF", "Tokenizer", "TestSupport", "Workspace",
      ]),
    .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Reporting", "Search", "Experiment", "Workspace"]),
    // Runs the built `seb` on tiny models written by the test.
    .testTarget(
      name: "SebTests", dependencies: ["GGUF", "LLM", "TestSupport", "Experiment", "Workspace", "SebFuzzTargets"]),
    // Needs the installed model; enabled by SEB_REAL_MODEL=1 and run optimised in CI (.ci/test).
    .testTarget(
      name: "RealModelTests",
      dependencies: [
        "LLM", "GGUF", "Tokenizer", "Training", "ModelStore", "Tensor", "SearchLoop", "CPUEngine", "EngineAPI",
        "Experiment",
      ]),
  ],
  swiftLanguageModes: [.v5]
)
