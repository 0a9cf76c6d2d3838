// Quantize.swift: fp32 -> packed blocks, ports of ggml's reference quantizers.
//
// Used by GGUFWriter to build tiny quantized test models, so these favour fidelity to ggml's
// `quantize_row_*_ref` (src/ggml-quants.c) over speed: same scale choice, same rounding
// (C float->int8 casts truncate toward zero; roundf rounds half away from zero). Input: `count`
// finite floats (N), `count % 32 == 0` for the block types. Output: `count / 32 * bytesPerBlock`
// bytes. Non-finite input is rejected by the public entry point, since ggml's casts would be
// undefined behaviour and Swift's would trap.

/// C's `(int8_t)x` for the ranges the quantizers produce, made total: truncates toward zero and
/// clamps (NaN becomes 0) so a stray value cannot trap.
@inline(__always)
private func truncatingInt(_ x: Float) -> Int {
  guard x.isFinite else { return 0 }
  return Int(max(-1e9, min(1e9, x)).rounded(.towardZero))
}

/// Quantizes `count` floats from `src` into packed `type` blocks at `dst`.
/// Contract: `type.canQuantize`, `count % type.blockSize == 0`, `dst` holds `type.byteCount(count)`.
public func quantizeRowReference(
  _ type: GGUFType, _ src: UnsafePointer<Float>, _ dst: UnsafeMutableRawPointer, count k: Int
) {
  precondition(type.canQuantize && k >= 0 && k % type.blockSize == 0, "quantizeRowReference: bad type/count")
  let out = dst.assumingMemoryBound(to: UInt8.self)
  func putHalf(_ o: Int, _ x: Float) {
    let h = floatToHalf(x)
    out[o] = UInt8(h & 0xFF)
    out[o + 1] = UInt8(h >> 8)
  }
  let qk = 32
  switch type {
  case .f32:
    for i in 0..<k {
      let b = src[i].bitPattern
      for s in 0..<4 { out[4 * i + s] = UInt8(truncatingIfNeeded: b >> UInt32(8 * s)) }
    }
  case .f16:
    for i in 0..<k { putHalf(2 * i, src[i]) }
  case .bf16:
    for i in 0..<k {
      let h = floatToBFloat16(src[i])
      out[2 * i] = UInt8(h & 0xFF)
      out[2 * i + 1] = UInt8(h >> 8)
    }
  case .q8_0:
    // quantize_row_q8_0_ref: d = amax/127; qs = roundf(x/d)
    for i in 0..<(k / qk) {
      var amax: Float = 0
      for j in 0..<qk { amax = max(amax, abs(src[i * qk + j])) }
      let d = amax / 127
      let id: Float = d != 0 ? 1 / d : 0
      let o = i * BlockQ8_0.byteSize
      putHalf(o, d)
      for j in 0..<qk {
        let q = max(-128, min(127, Int((src[i * qk + j] * id).rounded())))
        out[o + 2 + j] = UInt8(bitPattern: Int8(q))
      }
    }
  case .q4_0:
    // quantize_row_q4_0_ref: d = max/-8 (max = the signed value of largest magnitude);
    // q = MIN(15, (int8_t)(x/d + 8.5))
    for i in 0..<(k / qk) {
      var amax: Float = 0, mx: Float = 0
      for j in 0..<qk {
        let v = src[i * qk + j]
        if amax < abs(v) { amax = abs(v); mx = v }
      }
      let d = mx / -8
      let id: Float = d != 0 ? 1 / d : 0
      let o = i * BlockQ4_0.byteSize
      putHalf(o, d)
      for j in 0..<(qk / 2) {
        let x0 = src[i * qk + j] * id, x1 = src[i * qk + qk / 2 + j] * id
        let xi0 = min(15, truncatingInt(x0 + 8.5)), xi1 = min(15, truncatingInt(x1 + 8.5))
        out[o + 2 + j] = UInt8(truncatingIfNeeded: xi0 | (xi1 << 4))
      }
    }
  case .q4_1:
    // quantize_row_q4_1_ref: d = (max-min)/15, m = min; q = MIN(15, (int8_t)((x-min)/d + 0.5))
    for i in 0..<(k / qk) {
      var lo = Float.greatestFiniteMagnitude, hi = -Float.greatestFiniteMagnitude
      for j in 0..<qk {
        let v = src[i * qk + j]
        if v < lo { lo = v }
        if v > hi { hi = v }
      }
      let d = (hi - lo) / 15
      let id: Float = d != 0 ? 1 / d : 0
      let o = i * BlockQ4_1.byteSize
      putHalf(o, d)
      putHalf(o + 2, lo)
      for j in 0..<(qk / 2) {
        let x0 = (src[i * qk + j] - lo) * id, x1 = (src[i * qk + qk / 2 + j] - lo) * id
        let xi0 = min(15, truncatingInt(x0 + 0.5)), xi1 = min(15, truncatingInt(x1 + 0.5))
        out[o + 4 + j] = UInt8(truncatingIfNeeded: xi0 | (xi1 << 4))
      }
    }
  case .q5_0, .q5_1:
    // quantize_row_q5_0_ref: d = max/-16, q = MIN(31, (int8_t)(x/d + 16.5))
    // quantize_row_q5_1_ref: d = (max-min)/31, m = min, q = (uint8_t)((x-min)/d + 0.5)
    // Bit 4 of element j goes to qh bit j (j < 16) or bit j (16..31 for the second half).
    let q51 = type == .q5_1
    let bs = q51 ? BlockQ5_1.byteSize : BlockQ5_0.byteSize
    let qhAt = q51 ? BlockQ5_1.qhOffset : BlockQ5_0.qhOffset
    let qsAt = q51 ? BlockQ5_1.qsOffset : BlockQ5_0.qsOffset
    for i in 0..<(k / qk) {
      let x = src + i * qk
      let o = i * bs
      var d: Float, id: Float, lo: Float = 0
      if q51 {
        lo = .greatestFiniteMagnitude
        var hi = -Float.greatestFiniteMagnitude
        for j in 0..<qk {
          if x[j] < lo { lo = x[j] }
          if x[j] > hi { hi = x[j] }
        }
        d = (hi - lo) / 31
        id = d != 0 ? 1 / d : 0
        putHalf(o, d)
        putHalf(o + 2, lo)
      } else {
        var amax: Float = 0, mx: Float = 0
        for j in 0..<qk where amax < abs(x[j]) { amax = abs(x[j]); mx = x[j] }
        d = mx / -16
        id = d != 0 ? 1 / d : 0
        putHalf(o, d)
      }
      var qh: UInt32 = 0
      for j in 0..<(qk / 2) {
        let xi0: Int, xi1: Int
        if q51 {
          // (uint8_t) cast; values are in [0.5, 31.5] so truncation equals the C cast.
          xi0 = min(31, max(0, truncatingInt((x[j] - lo) * id + 0.5)))
          xi1 = min(31, max(0, truncatingInt((x[qk / 2 + j] - lo) * id + 0.5)))
        } else {
          xi0 = min(31, truncatingInt(x[j] * id + 16.5))
          xi1 = min(31, truncatingInt(x[qk / 2 + j] * id + 16.5))
        }
        out[o + qsAt + j] = UInt8(truncatingIfNeeded: (xi0 & 0x0F) | ((xi1 & 0x0F) << 4))
        qh |= UInt32((xi0 & 0x10) >> 4) << UInt32(j)
        qh |= UInt32((xi1 & 0x10) >> 4) << UInt32(j + qk / 2)
      }
      for s in 0..<4 { out[o + qhAt + s] = UInt8(truncatingIfNeeded: qh >> UInt32(8 * s)) }
    }
  default:
    break  // excluded by the precondition
  }
}

/// Quantizes `values` to packed `type` bytes. Throws for types without a quantizer, counts that are
/// not whole blocks, and non-finite values in block types.
public func quantize(_ values: [Float], to type: GGUFType, name: String = "<values>") throws -> [UInt8] {
  guard type.canQuantize else {
    throw GGUFError.unsupportedTensorType(file: "GGUFWriter", tensor: name, type: type.name, operation: "quantization")
  }
  guard let n = type.byteCount(elements: values.count) else {
    throw GGUFError.rowNotBlockAligned(
      file: "GGUFWriter", tensor: name, type: type.name, ne0: values.count, blockSize: type.blockSize)
  }
  if type.isQuantized, let bad = values.firstIndex(where: { !$0.isFinite }) {
    throw GGUFError.nonFiniteValue(file: "GGUFWriter", tensor: name, index: bad)
  }
  var out = [UInt8](repeating: 0, count: n)
  values.withUnsafeBufferPointer { src in
    out.withUnsafeMutableBytes { dst in
      if let s = src.baseAddress, let d = dst.baseAddress { quantizeRowReference(type, s, d, count: values.count) }
    }
  }
  return out
}
