// swift-tools-version: 6.0
// SelfEditBench: self-edit experiments (SEAL, self-edit strategy search) in one Swift process on the CPU.
// Data flow of the folders: COpenBLAS/CArchive -> Tensor -> GGUF -> Tokenizer -> LLM -> Training
//                           -> Embedding -> Analysis -> Reporting -> seb (thin CLI).
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
  ],
  targets: [
    .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
    .systemLibrary(name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),

    .target(name: "Tensor", dependencies: ["COpenBLAS"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "GGUF", dependencies: ["Tensor"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "ModelStore", dependencies: ["CArchive"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "Tokenizer", dependencies: ["GGUF"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "LLM", dependencies: ["Tensor", "GGUF", "Tokenizer"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "Training", dependencies: ["LLM", "Tensor", "GGUF", "SafeTensors"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "SafeTensors", dependencies: [], exclude: ["README.md"]),
    .target(name: "Embedding", dependencies: ["Tensor", "SafeTensors", "ModelStore"], exclude: ["README.md"], swiftSettings: fast),
    // Analysis takes text embeddings through a protocol; seb plugs the Embedding model in.
    .target(name: "Analysis", dependencies: ["Tensor"], exclude: ["README.md"], swiftSettings: fast),
    .target(name: "Reporting", dependencies: ["Analysis"], exclude: ["README.md"]),
    .executableTarget(
      name: "seb",
      dependencies: [
        "Tensor", "GGUF", "ModelStore", "Tokenizer", "LLM", "Training", "SafeTensors", "Embedding",
        "Analysis", "Reporting", .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    // Speed and memory suites: `swift run -c release seb-bench --help` (see Benchmarks/README.md).
    .executableTarget(
      name: "seb-bench", dependencies: ["Tensor", "GGUF", "ModelStore", "Tokenizer", "LLM", "Training"],
      path: "Benchmarks/SebBench", swiftSettings: fast),

    .target(name: "TestSupport", dependencies: ["GGUF", "Tensor", "LLM"], path: "Tests/TestSupport"),
    .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
    .testTarget(name: "GGUFTests", dependencies: ["GGUF"]),
    .testTarget(name: "ModelStoreTests", dependencies: ["ModelStore", "CArchive"]),
    .testTarget(name: "TokenizerTests", dependencies: ["Tokenizer", "GGUF"]),
    .testTarget(name: "LLMTests", dependencies: ["LLM", "GGUF", "Tokenizer", "Tensor", "TestSupport"]),
    .testTarget(name: "TrainingTests", dependencies: ["Training", "LLM", "GGUF", "Tensor", "SafeTensors", "TestSupport"]),
    .testTarget(name: "EmbeddingTests", dependencies: ["Embedding", "SafeTensors", "ModelStore"], exclude: ["Fixtures"]),
    .testTarget(name: "AnalysisTests", dependencies: ["Analysis", "Reporting", "Tensor"]),
    // Runs the built `seb` on tiny models written by the test.
    .testTarget(name: "SebTests", dependencies: ["GGUF", "LLM", "TestSupport"]),
    // Needs the installed model; enabled by SEB_REAL_MODEL=1 and run optimised in CI (.ci/test).
    .testTarget(name: "RealModelTests", dependencies: ["LLM", "GGUF", "Tokenizer", "Training", "ModelStore", "Tensor"]),
  ],
  swiftLanguageModes: [.v5]
)
