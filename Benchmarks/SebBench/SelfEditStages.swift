// SelfEditStages.swift: one self-edit evaluation of SEAL's inner loop, split into its stages, on
// fixed inputs that Benchmarks/compare/selfedit_bench.py replays with HF transformers + PEFT:
// passage 0 of val200, the implications prompt; generation of exactly 512 tokens (EOS ignored,
// so both programs do the same work); training on the SEAL sequences of the first released GPT-4.1
// self-edit of that passage (10 epochs, q,v r32 alpha 64, lr 1e-3, batch 1, linear decay, clip 1.0);
// answering every question with exactly 64 greedy tokens (EOS ignored) plus one scoring pass of
// the gold answer.
import CPUEngine
import Experiment
import Foundation
import LLM
import SelfEdit
import Training

struct SelfEditInputs: Codable {
  var generatePrompt: String
  var generateTokens: Int
  var sequences: [String]
  var epochs: Int
  var learningRate: Double
  var rank: Int
  var alpha: Double
  var questions: [String]
  var golds: [String]
  var answerTokens: Int
}

final class SelfEditStageBench {
  let model: LanguageModel
  let inputs: SelfEditInputs
  let loop: InnerLoop
  let engine: LocalEngine
  var trainedTokens = 0

  init(model: LanguageModel, dataRoot: String) throws {
    self.model = model
    engine = LocalEngine(model: model)
    var config = RunConfig()
    config.methods = [.prompt("implications")]
    let (_, passages) = try Harness.passages(config: config, dataRoot: dataRoot)
    let p = passages[0]
    let released = try Datasets.loadReleased(
      path: try Datasets.file(Datasets.releasedDir + "/gpt4_1_val.json", dataRoot: dataRoot))
    let completion = Datasets.firstNonEmpty(released[0].completions)[0]
    let prompts = PromptLibrary()
    let loop = try InnerLoop(engine: engine, config: config, prompts: prompts)
    self.loop = loop
    inputs = SelfEditInputs(
      generatePrompt: PromptLibrary.fill(try prompts.text("implications"), ["title": p.title, "context": p.context]),
      generateTokens: 512,
      sequences: TrainingSequences.seal(completion: completion, context: p.context, title: p.title),
      epochs: config.training.epochs, learningRate: config.training.learningRate, rank: config.training.rank,
      alpha: config.training.alpha, questions: try p.questions.map { try loop.answerPrompt($0, title: p.title) },
      golds: p.questions.map(\.answer), answerTokens: config.evaluation.maxTokens)
  }

  /// Seconds per stage for one evaluation.
  func runOnce() throws -> [String: Double] {
    func time(_ body: () throws -> Void) rethrows -> Double {
      let t0 = DispatchTime.now().uptimeNanoseconds
      try body()
      return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
    }
    let gen = try time {
      let req = GenerationRequest(
        promptTokens: model.encode(inputs.generatePrompt), options: SamplingOptions(temperature: 1, topP: 0.95),
        maxNewTokens: inputs.generateTokens, stopTokens: [], seed: 1)
      _ = try model.generator().generate([req])
    }
    var adapter: LoRAAdapter?
    let train = try time {
      let t = try loop.trainMany([(inputs.sequences, 1)], adaptersPerStep: 1)[0].get()
      adapter = engine.adapter(t.adapter)
      engine.release([t.adapter])
      trainedTokens = t.summary.tokens
    }
    let answer = try time {
      let delta = try adapter!.apply(to: model.weights)
      let ids = inputs.questions.map { model.encode($0) }
      let reqs = ids.map { GenerationRequest(promptTokens: $0, maxNewTokens: inputs.answerTokens, stopTokens: []) }
      _ = try model.generator(delta: delta).generate(reqs, batchSize: 8)
      for (q, gold) in zip(ids, inputs.golds) {
        _ = try model.continuationLogProbs(prompt: q, continuation: model.encode(gold), delta: delta)
      }
    }
    return ["generate": gen, "train": train, "answer": answer, "total": gen + train + answer]
  }
}
