import Decoding
// Engine.swift: everything the harness and the search ask of a model, in text. Prompts,
// training sequences, answers and continuations cross this seam as strings; token ids, weights
// and adapters stay behind it (adapters as opaque handles). `LocalEngine` (module CPUEngine)
// implements it over the in-process runtime; a remote engine implements it over HTTP.
//
// Determinism contract: for the same engine, model and inputs, every method returns the same
// values whatever the process, and sample i of a generation request depends only on its prompt,
// sampling, grammar and seed, never on batching. Packing adapters into one training step
// (`adaptersPerStep`) and batching scores may change float32 summation order, so callers that
// need the same bytes pass the same packs and batches again (the harness resumes whole blocks).
import Experiment
import Foundation

/// An output schema for constrained decoding: its JSON Schema (what a remote engine's
/// constrained decoder takes) and the byte automaton the local engine runs. `name` keys the
/// engine's cache of the automaton lifted to its vocabulary, so one name means one schema.
public struct OutputGrammar: Sendable {
  public let name: String
  public let jsonSchema: String
  public let automaton: @Sendable () -> ByteDFA
  public init(name: String, jsonSchema: String, automaton: @escaping @Sendable () -> ByteDFA) {
    self.name = name; self.jsonSchema = jsonSchema; self.automaton = automaton
  }
}

/// A trained adapter held by the engine until released.
public struct AdapterHandle: Hashable, Codable, Sendable {
  public let id: Int
  public init(id: Int) { self.id = id }
}

/// One prompt to continue, `samples` times. The engine's end-of-generation tokens always stop a
/// sequence; a `stop` string ends it too, and stays at the end of the text (as the runtime's
/// generator leaves it; callers that want it gone cut it).
public struct GenerateRequest: Sendable {
  /// The whole prompt text (use `Engine.chatPrompt` for a chat model's template).
  public var prompt: String
  public var sampling: SamplingOptions
  public var maxTokens: Int
  public var samples: Int
  /// Sample i draws from a stream derived from (seed, i).
  public var seed: UInt64
  public var stop: [String]
  /// Only outputs of this schema may be sampled; the sequence ends when it is complete.
  public var grammar: OutputGrammar?
  /// Decode with this adapter (nil: the base model).
  public var adapter: AdapterHandle?
  public init(
    prompt: String, sampling: SamplingOptions = .greedy, maxTokens: Int, samples: Int = 1, seed: UInt64 = 0,
    stop: [String] = [],
    grammar: OutputGrammar? = nil, adapter: AdapterHandle? = nil
  ) {
    self.prompt = prompt; self.sampling = sampling; self.maxTokens = maxTokens; self.samples = samples; self.seed = seed
    self.stop = stop; self.grammar = grammar; self.adapter = adapter
  }
}

/// One sample of one request.
public struct Generation: Codable, Equatable, Sendable {
  /// Index of its request.
  public var request: Int
  public var sample: Int
  /// The completion, a final end-of-generation token dropped (not stripped).
  public var text: String
  /// Completion tokens generated (the stop token included).
  public var tokens: Int
  public var promptTokens: Int
  /// "stop_token", "stop_string", "length" or "complete" (the grammar accepted).
  public var finish: String
  public init(request: Int, sample: Int, text: String, tokens: Int, promptTokens: Int, finish: String) {
    self.request = request; self.sample = sample; self.text = text; self.tokens = tokens;
    self.promptTokens = promptTokens
    self.finish = finish
  }
}

/// One fresh adapter to train on the frozen base: sequences (EOS and truncation as `spec` says),
/// the adapter's and the optimiser's settings, and the seed of its initialisation, dropout and order.
public struct TrainJob: Sendable {
  public var sequences: [String]
  public var spec: TrainingSpec
  public var seed: UInt64
  public init(sequences: [String], spec: TrainingSpec, seed: UInt64) {
    self.sequences = sequences; self.spec = spec; self.seed = seed
  }
}

public struct TrainedAdapter: Sendable {
  public var adapter: AdapterHandle
  public var summary: TrainingSummary
  public init(adapter: AdapterHandle, summary: TrainingSummary) { self.adapter = adapter; self.summary = summary }
}

/// The log-likelihood of `continuation` right after `prompt` (the continuation tokenised alone,
/// as SEAL scores gold answers).
public struct ScoreRequest: Sendable {
  public var prompt: String
  public var continuation: String
  public var adapter: AdapterHandle?
  public init(prompt: String, continuation: String, adapter: AdapterHandle? = nil) {
    self.prompt = prompt; self.continuation = continuation; self.adapter = adapter
  }
}

/// A job the engine could not do, for the caller to record (one self-edit's failure, never the run's).
public struct EngineFailure: Error, LocalizedError, Equatable, Sendable {
  public var message: String
  public init(_ message: String) { self.message = message }
  public var errorDescription: String? { message }
}

public enum EngineError: Error, LocalizedError, Equatable, Sendable {
  /// The model could not do what was asked (a context overflow, a non-finite value): `message` names it.
  case model(message: String)
  /// An adapter handle the engine does not hold (released, or from another engine).
  case unknownAdapter(Int)
  /// A remote engine did not answer (after retries with backoff).
  case unavailable(url: String, message: String)
  /// A remote engine refused a request (a protocol mismatch: `message` names the field).
  case rejected(url: String, message: String)
  public var errorDescription: String? {
    switch self {
    case .model(let m): return m
    case .unknownAdapter(let id):
      return "adapter \(id) is not held by this engine (released, or made by another engine)"
    case .unavailable(let url, let m): return "engine at \(url) unavailable: \(m)"
    case .rejected(let url, let m): return "engine at \(url) refused the request: \(m)"
    }
  }
}

/// What the harness and the search ask of a model.
public protocol Engine: AnyObject {
  var identity: EngineIdentity { get }

  /// Tokens of `text` as the engine encodes training sequences.
  func countTokens(_ text: String) throws -> Int

  /// The model's own chat template around one user turn (and a system turn), ready to generate.
  func chatPrompt(system: String?, user: String) throws -> String

  /// Refuses training settings this model cannot take, before any work (rank above the narrowest
  /// adapted projection, a padded length beyond the context).
  func checkFits(_ spec: TrainingSpec) throws

  /// Every sample of every request, in request order then sample order; `batchSize` sequences
  /// decode together. `progress(done, total)` as sequences finish.
  func generate(_ requests: [GenerateRequest], batchSize: Int, progress: ((Int, Int) -> Void)?) throws -> [Generation]

  /// One fresh adapter per job, `adaptersPerStep` packed through the frozen base at a time; a job
  /// that cannot train fails alone. `progress(done, total)` as adapters finish.
  func train(
    _ jobs: [TrainJob], adaptersPerStep: Int, progress: ((Int, Int) -> Void)?
  ) throws -> [Result<TrainedAdapter, EngineFailure>]

  /// Per-token log-probabilities of each continuation (empty for a continuation without tokens).
  func score(_ items: [ScoreRequest]) throws -> [[Double]]

  /// Writes a held adapter as a PEFT adapter directory (whole or not at all).
  func saveAdapter(_ adapter: AdapterHandle, to directory: String) throws

  /// Frees held adapters (unknown handles are ignored).
  func release(_ adapters: [AdapterHandle])

  /// The proposer's SFT update (prompt + completion rows, loss on the completion, LoRA on every
  /// projection, merged) written as a model file at `out`; with nothing to learn, the model's file
  /// copied unchanged. This engine's model is not changed.
  func proposerUpdate(rows: [SFTRow], spec: SFTSpec, out: String, log: @escaping (String) -> Void) throws -> SFTLog

  /// An engine of the same kind and settings on another model file (an updated proposer).
  func loading(modelAt path: String) throws -> Engine
}
