// AdapterIO.swift: using an adapter with the inference runtime (unmerged delta, or merge/unmerge
// into the base weights in place) and saving/loading it as a PEFT adapter directory.
//
// PEFT layout: `adapter_model.safetensors` with tensors
// `base_model.model.model.layers.{l}.{self_attn|mlp}.{proj}.lora_{A|B}.weight` (A [r, in], B [out, r],
// float32) and `adapter_config.json`. Differs from our runtime: for llama GGUFs (RoPE style
// .normal) the rows of q/k are in llama.cpp's permuted order (model-facts 2.9), so B of q and k is
// un-permuted on save and re-permuted on load; A (input side) never is.
import Foundation
import LLM
import SafeTensors
import Tensor

/// GGUF row (head h, 2j + s) <-> HF row (head h, s * D/2 + j): llama.cpp's `permute` of Q/K.
public enum QKPermutation {
  /// HF row index of the GGUF row `row` (heads of width D).
  public static func hfRow(ofGGUFRow row: Int, D: Int) -> Int {
    let h = row / D, i = row % D
    return h * D + (i % 2) * (D / 2) + i / 2
  }
  /// Rows of a [nHeads*D, cols] matrix from GGUF order to HF order.
  public static func toHF(_ m: [Float], rows: Int, cols: Int, D: Int) -> [Float] {
    permuteRows(m, rows: rows, cols: cols, D: D, toHF: true)
  }
  /// Inverse of `toHF`.
  public static func toGGUF(_ m: [Float], rows: Int, cols: Int, D: Int) -> [Float] {
    permuteRows(m, rows: rows, cols: cols, D: D, toHF: false)
  }
  static func permuteRows(_ m: [Float], rows: Int, cols: Int, D: Int, toHF: Bool) -> [Float] {
    var out = m
    for r in 0..<rows {
      let hr = hfRow(ofGGUFRow: r, D: D)
      let (dst, src) = toHF ? (hr, r) : (r, hr)
      for c in 0..<cols { out[dst * cols + c] = m[src * cols + c] }
    }
    return out
  }
}

/// An adapter as an un-merged delta for `Transformer.forward(delta:)`: y += scale * (x A^T) B^T.
public final class LoRADelta: LinearDelta, @unchecked Sendable {
  let scale: Float
  var table: [[LoRAPair?]]  // (L, 7)
  public init(_ adapter: LoRAAdapter) {
    scale = Float(adapter.config.scale)
    table = [[LoRAPair?]](repeating: [LoRAPair?](repeating: nil, count: 7), count: adapter.shape.layers)
    for p in adapter.pairs where p.layer < adapter.shape.layers { table[p.layer][p.projection.index] = p }
  }
  public func affects(layer: Int, projection: Projection) -> Bool {
    layer >= 0 && layer < table.count && table[layer][projection.index] != nil
  }
  public func apply(layer: Int, projection: Projection, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>, M: Int)
  {
    guard layer >= 0, layer < table.count, let p = table[layer][projection.index] else { return }
    let h = FloatBuffer(count: M * p.R)  // (M, R)
    p.a.withUnsafeBufferPointer { a in
      matmulNT(h.pointer, x, a.baseAddress!, M: M, N: p.R, K: p.K)
    }
    p.b.withUnsafeBufferPointer { b in
      matmulNT(y, h.pointer, b.baseAddress!, M: M, N: p.N, K: p.R, alpha: scale, beta: 1)
    }
  }
}

/// A merge in progress: `unmerge()` subtracts the same delta and restores the packed copies.
public final class LoRAMerge: @unchecked Sendable {
  let adapter: LoRAAdapter
  let model: ModelWeights
  var savedPacked: [(Linear, PackedMatrix?)]
  public private(set) var isMerged = true
  init(adapter: LoRAAdapter, model: ModelWeights, savedPacked: [(Linear, PackedMatrix?)]) {
    self.adapter = adapter; self.model = model; self.savedPacked = savedPacked
  }
  /// W -= scale * B A (float32 rounding: W comes back to within ~1 ulp of its values).
  public func unmerge() {
    guard isMerged else { return }
    adapter.addDelta(to: model, sign: -1)
    for (l, p) in savedPacked { l.packed = p }
    isMerged = false
  }
}

extension LoRAAdapter {
  func linear(_ model: ModelWeights, _ p: LoRAPair) -> Linear? {
    model.layers[p.layer].projection(p.projection.rawValue)
  }

  /// Checks that every pair fits `model` (layer exists, A/B shapes match the projection).
  public func check(fits model: ModelWeights) throws {
    let c = model.config
    for p in pairs {
      let (n, k) = p.projection.shape(c)
      guard p.layer >= 0, p.layer < c.layers, p.N == n, p.K == k, p.a.count == p.R * k, p.b.count == n * p.R else {
        throw TrainingError.adapterMismatch(
          detail:
            "layer \(p.layer) \(p.projection.rawValue): model needs A [r, \(k)] and B [\(n), r], adapter has A \(p.a.count) values, B \(p.b.count) values"
        )
      }
    }
  }

  /// The adapter as a delta for the inference runtime (base weights untouched).
  public func apply(to model: ModelWeights) throws -> LoRADelta {
    try check(fits: model)
    return LoRADelta(self)
  }

  /// W += (alpha/r) B A in place for every pair. The packed quantized copies (decode kernels) are
  /// dropped while merged so decode reads the merged float32 weights; `unmerge()` restores them.
  public func merge(into model: ModelWeights) throws -> LoRAMerge {
    try check(fits: model)
    var saved: [(Linear, PackedMatrix?)] = []
    for p in pairs { if let l = linear(model, p) { saved.append((l, l.packed)); l.packed = nil } }
    addDelta(to: model, sign: 1)
    return LoRAMerge(adapter: self, model: model, savedPacked: saved)
  }

  func addDelta(to model: ModelWeights, sign: Float) {
    let s = sign * Float(config.scale)
    for p in pairs {
      guard let l = linear(model, p) else { continue }
      p.b.withUnsafeBufferPointer { b in
        p.a.withUnsafeBufferPointer { a in
          matmulNN(l.w.pointer, b.baseAddress!, a.baseAddress!, M: p.N, N: p.K, K: p.R, alpha: s, beta: 1)
        }
      }
    }
  }

  static func peftName(_ layer: Int, _ p: Projection, _ ab: String) -> String {
    "base_model.model.model.layers.\(layer).\(p.peftPath).lora_\(ab).weight"
  }

  /// Whether q/k rows of this shape are in llama.cpp's permuted order (llama GGUF, NORM rope).
  static func permuted(_ c: LlamaConfig) -> Bool { c.ropeStyle == .normal }

  /// Writes `adapter_model.safetensors` and `adapter_config.json` into `directory` (created).
  /// Writes the adapter into a new directory beside `directory` and renames it into place, so a
  /// failure or Ctrl-C leaves the old state or nothing. An existing, non-empty `directory` is refused
  /// unless `replace` (then it is swapped out whole: no stale file of the old adapter survives).
  public func saveAtomically(to directory: URL, replace: Bool = false) throws {
    let fm = FileManager.default
    let path = directory.standardizedFileURL.path
    let exists = fm.fileExists(atPath: path)
    if exists, !replace, !((try? fm.contentsOfDirectory(atPath: path))?.isEmpty ?? false) {
      throw TrainingError.badAdapterFile(
        path: path, detail: "already exists; choose another --out or pass --force to replace it")
    }
    let tmp = URL(fileURLWithPath: path + AtomicFile.Scratch.tmp.suffix)
    Interrupts.register(tmp.path)
    defer { Interrupts.unregister(tmp.path) }
    try? fm.removeItem(at: tmp)
    do { try save(to: tmp) } catch { try? fm.removeItem(at: tmp); throw error }
    // Exists: swapped in one step (renameat2), so a kill leaves the old adapter or the new one.
    do { try AtomicFile.replaceDirectory(path, with: tmp.path) } catch { try? fm.removeItem(at: tmp); throw error }
  }

  public func save(to directory: URL) throws {
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    var tensors: [String: SafeTensorsF32] = [:]
    for p in pairs {
      var b = p.b
      if Self.permuted(shape), p.projection == .q || p.projection == .k {
        b = QKPermutation.toHF(b, rows: p.N, cols: p.R, D: shape.headDim)
      }
      tensors[Self.peftName(p.layer, p.projection, "A")] = SafeTensorsF32(shape: [p.R, p.K], values: p.a)
      tensors[Self.peftName(p.layer, p.projection, "B")] = SafeTensorsF32(shape: [p.N, p.R], values: b)
    }
    try SafeTensorsWriter.write(
      tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("adapter_model.safetensors"))
    let layers = Set(pairs.map(\.layer)).sorted()
    var cfg: [String: Any] = [
      "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": config.rank, "lora_alpha": config.alpha,
      "lora_dropout": config.dropout, "bias": "none", "fan_in_fan_out": false, "use_rslora": false,
      "inference_mode": true, "init_lora_weights": true,
      "target_modules": config.targets.map(\.rawValue),
    ]
    if layers.count != shape.layers { cfg["layers_to_transform"] = layers }
    let json = try JSONSerialization.data(withJSONObject: cfg, options: [.prettyPrinted, .sortedKeys])
    try json.write(to: directory.appendingPathComponent("adapter_config.json"))
  }

  /// Reads a PEFT adapter directory written by `save` (or by PEFT, float32) for a model of `shape`.
  public static func load(from directory: URL, shape: LlamaConfig) throws -> LoRAAdapter {
    let cfgURL = directory.appendingPathComponent("adapter_config.json")
    let path = cfgURL.path
    guard let data = FileManager.default.contents(atPath: path),
      let obj = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { throw TrainingError.badAdapterFile(path: path, detail: "cannot read a JSON object") }
    guard let r = obj["r"] as? Int, r >= 1 else {
      throw TrainingError.badAdapterFile(path: path, detail: "key 'r': expected an integer >= 1")
    }
    guard let alpha = (obj["lora_alpha"] as? NSNumber)?.doubleValue else {
      throw TrainingError.badAdapterFile(path: path, detail: "key 'lora_alpha': expected a number")
    }
    if obj["use_rslora"] as? Bool == true {
      throw TrainingError.badAdapterFile(
        path: path, detail: "key 'use_rslora': expected false (rsLoRA scaling is not supported)")
    }
    let dropout = (obj["lora_dropout"] as? NSNumber)?.doubleValue ?? 0
    let stURL = directory.appendingPathComponent("adapter_model.safetensors")
    let file: SafeTensorsFile
    do { file = try SafeTensorsFile(contentsOf: stURL) } catch {
      throw TrainingError.badAdapterFile(path: stURL.path, detail: "\(error.localizedDescription)")
    }
    var pairs: [LoRAPair] = []
    var targets = Set<Projection>()
    for l in 0..<shape.layers {
      for p in Projection.allCases {
        let an = peftName(l, p, "A"), bn = peftName(l, p, "B")
        guard file.tensors[an] != nil || file.tensors[bn] != nil else { continue }
        let (n, k) = p.shape(shape)
        do {
          let ai = try file.info(an), bi = try file.info(bn)
          guard ai.shape == [r, k], bi.shape == [n, r] else {
            throw TrainingError.badAdapterFile(
              path: stURL.path,
              detail: "\(an)/\(bn): expected shapes [\(r), \(k)] and [\(n), \(r)], found \(ai.shape) and \(bi.shape)")
          }
          var b = try file.floats(bn)
          let a = try file.floats(an)
          // A NaN or infinity in an adapter would silently turn every answer into an end token.
          for (name, xs) in [(an, a), (bn, b)] where xs.contains(where: { !$0.isFinite }) {
            throw TrainingError.badAdapterFile(path: stURL.path, detail: "\(name): holds a NaN or infinite value")
          }
          if permuted(shape), p == .q || p == .k { b = QKPermutation.toGGUF(b, rows: n, cols: r, D: shape.headDim) }
          pairs.append(LoRAPair(layer: l, projection: p, R: r, N: n, K: k, a: a, b: b))
          targets.insert(p)
        } catch let e as TrainingError { throw e } catch {
          throw TrainingError.badAdapterFile(path: stURL.path, detail: "\(an): \(error.localizedDescription)")
        }
      }
    }
    guard !pairs.isEmpty else {
      throw TrainingError.badAdapterFile(
        path: stURL.path,
        detail: "no tensor named base_model.model.model.layers.N.<module>.lora_A.weight for this model")
    }
    let cfg = LoRAConfig(
      rank: r, alpha: alpha, dropout: dropout, targets: Array(targets),
      layers: Array(Set(pairs.map(\.layer))).sorted())
    return LoRAAdapter(config: cfg, shape: shape, pairs: pairs)
  }
}
