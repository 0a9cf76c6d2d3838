// SearchCommand.swift: `seb search` (and `seb run` on a search config). Argument parsing and
// printing only: the loop is module SearchLoop, the config module Search.
import ArgumentParser
import Experiment
import Foundation
import Search
import SearchLoop
import SelfEdit
import Workspace

struct SearchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "search",
    abstract:
      "Run (or resume) a self-edit strategy search: templates, ReST-EM or a fixed-prompt baseline over iterations.",
    discussion: """
      Writes a run directory: config.json, manifest.json, iter-NN/ per iteration (train- and val- proposals, completions, evaluations, results; archive.json; sft-rows.jsonl, sft-log.json and proposer.gguf, the next iteration's proposer) and summary.json. Running again with the same --out resumes at the stage, or the evaluation, where it stopped. With --shard i/n only the evaluation stages are split: run every shard, then any of them again (or without --shard) to continue.
      Variants: \(SearchVariant.allCases.map(\.rawValue).joined(separator: ", ")).
      Example: seb search Data/configs/search-smoke.json --variant search-archive --out runs/smoke-archive && seb check runs/smoke-archive --expect Data/configs/search-smoke.expect.json
      """)
  @Argument(help: "Search config JSON (Data/configs/search-*.json).") var config: String
  @Option(help: "Override the config's variant (the run is then named <config name>-<variant without search->).")
  var variant: String?
  @Option(help: "Run directory (created; the same directory again resumes).") var out: String
  @Option(help: "Data root (default: $SEB_DATA_ROOT, else ../shared/data beside the package).") var data: String?
  @Option(
    help: "Evaluate only shard i of n of each evaluation stage (blocks of --block-size passages b with b % n == i - 1)."
  ) var shard: String?
  @Option(help: "Override the config's seed.") var seed: UInt64?
  @Option(
    help:
      "Passages whose adapters train together (fixes the float32 rounding with --adapters-per-step: keep both across shards and resumes)."
  )
  var blockSize = 8
  @Option(help: "Adapters trained together through the frozen base.") var adaptersPerStep = RunOptions
    .defaultAdaptersPerStep
  @OptionGroup var model: ModelOptions
  @OptionGroup var engine: EngineOptions

  func validate() throws {
    if let v = variant, SearchVariant(rawValue: v) == nil {
      throw ValidationError(
        "--variant must be one of \(SearchVariant.allCases.map(\.rawValue).joined(separator: ", ")), found \(v)")
    }
    if let s = shard { do { _ = try Shard.parse(s) } catch { throw ValidationError(AtomicFile.describe(error)) } }
    if blockSize < 1 { throw ValidationError("--block-size must be >= 1, found \(blockSize)") }
    if adaptersPerStep < 1 || adaptersPerStep > 64 {
      throw ValidationError("--adapters-per-step must be in 1...64, found \(adaptersPerStep)")
    }
  }

  func run() throws {
    let override = variant.flatMap(SearchVariant.init(rawValue:))
    var c = try SearchConfig.load(path: config, variant: override)
    // The run is named after the config and the variant: search-small + search-qd -> search-small-qd.
    if let v = override {
      c.name += "-" + (v.rawValue.hasPrefix("search-") ? String(v.rawValue.dropFirst("search-".count)) : v.rawValue)
    }
    try runExperiment(
      .search(c),
      RunSettings(
        out: out, data: data, shard: shard, seed: seed, blockSize: blockSize, adaptersPerStep: adaptersPerStep),
      model: model, engine: engine)
  }
}
