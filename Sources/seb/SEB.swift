// SEB.swift: the `seb` command line. Argument parsing and printing only; every verb calls a library.
import Analysis
import ArgumentParser
import Embedding
import Foundation
import Tensor
import Tokenizer

@main
struct SEB: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seb",
    abstract: "SelfEditBench: self-edit experiments (SEAL, self-edit strategy search) on the CPU.",
    discussion: """
      Typical first steps:
        seb model install                      # SmolLM2-135M-Instruct + all-MiniLM-L6-v2 into Data/models/
        seb generate --chat "What is the capital of France?"
        seb verify logits --reference ../shared/reference/logits.json
        seb run Data/configs/smoke.json --out runs/smoke   # an experiment (resumable run directory)
        seb report runs/smoke                  # its Markdown report with intervals and charts
        seb report paper                       # regenerate the papers' numbers into runs/reports/paper/
      Every verb has --help; most have --json for scripts.
      """,
    version: "0.1.0",
    subcommands: [
      ModelCommand.self, TokenizeCommand.self, GenerateCommand.self, ScoreCommand.self, VerifyCommand.self,
      TrainCommand.self, EmbedCommand.self, RunCommand.self, SearchCommand.self, BaselineCommand.self,
      MergeCommand.self, CheckCommand.self,
      JudgeCommand.self, SplitCommand.self, ServeCommand.self, WorkerCommand.self, ReportCommand.self,
      AnalyzeCommand.self,
    ])

  static func main() {
    BLAS.preferAVX512KernelsByReexec()
    Interrupts.installCleanup()
    runWithExitCodes()
  }
}

/// Where text embeddings come from: an OpenAI-compatible endpoint (the paper's own measure), or
/// the installed MiniLM (offline; its scores are never flagged with the paper's 0.92).
struct EmbeddingOptions: ParsableArguments {
  @Option(
    help: "OpenAI-compatible base URL for text embeddings (e.g. https://api.openai.com/v1); default: the local MiniLM.")
  var embeddingsURL: String?
  @Option(
    help:
      "Embedding model at --embeddings-url (the paper's: text-embedding-3-large; only its scores are flagged with 0.92)."
  )
  var embeddingsModel = CollapseThresholds.paperTextModel
  @Option(help: "Environment variable holding the embeddings endpoint's API key.") var embeddingsKeyEnv: String?
}

extension Runtime {
  /// The text embedder: the endpoint when `--embeddings-url` is given, else the installed MiniLM
  /// (nil when not installed: reports then say "not computed"). Built on demand, never stored.
  static func embedder(_ o: EmbeddingOptions) throws -> TextEmbedder? {
    if let url = o.embeddingsURL {
      return EndpointEmbedder(url: url, model: o.embeddingsModel, apiKeyEnv: o.embeddingsKeyEnv)
    }
    return try embedder()
  }

  /// The installed MiniLM as Analysis's text embedder (nil when not installed).
  static func embedder() throws -> TextEmbedder? {
    let dir = SentenceEmbedder.defaultModelDirectory(flag: nil)
    guard SentenceEmbedder.isMiniLMInstalled(modelDir: dir) else { return nil }
    return try MiniLMTextEmbedder(SentenceEmbedder.installedMiniLM(modelDir: dir))
  }

  /// Token counts with the default model's tokenizer (nil when it is not installed).
  static func tokenCounter() throws -> ((String) -> Int)? {
    let path = defaultModelPath()
    guard FileManager.default.fileExists(atPath: path) else { return nil }
    let tok = try loadTokenizer(path: path)
    return { tok.encode($0).count }
  }
}

/// Adapts the MiniLM sentence embedder to Analysis's TextEmbedder protocol.
struct MiniLMTextEmbedder: TextEmbedder {
  let model: SentenceEmbedder
  init(_ model: SentenceEmbedder) { self.model = model }
  var name: String { "all-MiniLM-L6-v2 (local, mean pooling)" }
  func embed(_ texts: [String]) throws -> [[Float]] { try model.embed(texts) }
}
