// Dequantize.swift: quantized rows -> fp32, one fast kernel and one naive reference per type.
//
// `dequantizeRow` is the fast path used by the runtime; `dequantizeRowReference` is a literal port
// of ggml's `dequantize_row_*` (src/ggml-quants.c), kept for tests, which check the two against
// each other and against hand-computed blocks. Input: `count / blockSize` packed blocks (layouts
// in Layout.swift), little-endian, no alignment assumed. Output: `count` floats (N).
//
// Why the fast kernels look scalar: with -Ounchecked and -target-cpu haswell, LLVM vectorizes a
// per-block loop over contiguous outputs with the block's scale hoisted (F16C + AVX2) better than
// hand-written Swift SIMD16/SIMD32 code (measured on Q8_0/Q4_1: 17 ms vs 22-26 ms for 28M values).
// So the fast kernels keep the per-block structure simple and branch-free, hoist scales and
// precompute Q5 high bits and K-quant sub-block scales; the reference kernels keep ggml's indexing.

/// Dequantizes `count` elements of `type` from `src` to `dst` (N).
/// Contract (checked by callers such as `GGUFFile.dequantize`, which validate file data first):
/// `type.canDequantize` and `count % type.blockSize == 0`; `src` holds the blocks, `dst` `count` floats.
public func dequantizeRow(_ type: GGUFType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count: Int) {
  precondition(type.canDequantize && count >= 0 && count % type.blockSize == 0, "dequantizeRow: bad type/count")
  let nb = count / type.blockSize
  switch type {
  case .f32: UnsafeMutableRawPointer(dst).copyMemory(from: src, byteCount: count * 4)
  case .f16:
    for i in 0..<count { dst[i] = halfToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
  case .bf16:
    for i in 0..<count { dst[i] = bfloat16ToFloat(src.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)) }
  case .q8_0: dequantizeQ8_0(src, dst, nb)
  case .q4_0: dequantizeQ4_0(src, dst, nb)
  case .q4_1: dequantizeQ4_1(src, dst, nb)
  case .q5_0: dequantizeQ5(src, dst, nb, hasMin: false)
  case .q5_1: dequantizeQ5(src, dst, nb, hasMin: true)
  case .q4_K: dequantizeQ4_K(src, dst, nb)
  case .q6_K: dequantizeQ6_K(src, dst, nb)
  case .q8_1, .q2_K, .q3_K, .q5_K, .q8_K: dst.update(repeating: 0, count: count)  // excluded above
  }
}

@inline(__always) private func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
  halfToFloat(p.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
}

private func dequantizeQ8_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ nb: Int) {
  for i in 0..<nb {
    let b = src + i * BlockQ8_0.byteSize
    let d = half(b, BlockQ8_0.dOffset)
    let q = (b + BlockQ8_0.qsOffset).assumingMemoryBound(to: Int8.self)
    let y = dst + i * 32
    for j in 0..<32 { y[j] = Float(q[j]) * d }
  }
}

private func dequantizeQ4_0(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ nb: Int) {
  for i in 0..<nb {
    let b = src + i * BlockQ4_0.byteSize
    let d = half(b, BlockQ4_0.dOffset)
    let q = (b + BlockQ4_0.qsOffset).assumingMemoryBound(to: UInt8.self)
    let y = dst + i * 32
    for j in 0..<16 {
      y[j] = Float(Int32(q[j] & 0x0F) - 8) * d
      y[j + 16] = Float(Int32(q[j] >> 4) - 8) * d
    }
  }
}

private func dequantizeQ4_1(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ nb: Int) {
  for i in 0..<nb {
    let b = src + i * BlockQ4_1.byteSize
    let d = half(b, BlockQ4_1.dOffset), m = half(b, BlockQ4_1.mOffset)
    let q = (b + BlockQ4_1.qsOffset).assumingMemoryBound(to: UInt8.self)
    let y = dst + i * 32
    for j in 0..<16 {
      y[j] = Float(q[j] & 0x0F) * d + m
      y[j + 16] = Float(q[j] >> 4) * d + m
    }
  }
}

private func dequantizeQ5(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ nb: Int, hasMin: Bool) {
  let size = hasMin ? BlockQ5_1.byteSize : BlockQ5_0.byteSize
  let qhOffset = hasMin ? BlockQ5_1.qhOffset : BlockQ5_0.qhOffset
  let qsOffset = hasMin ? BlockQ5_1.qsOffset : BlockQ5_0.qsOffset
  let bias: Int32 = hasMin ? 0 : 16
  for i in 0..<nb {
    let b = src + i * size
    let d = half(b, 0)
    let m: Float = hasMin ? half(b, BlockQ5_1.mOffset) : 0
    let qh = UInt32(littleEndian: b.loadUnaligned(fromByteOffset: qhOffset, as: UInt32.self))
    let q = (b + qsOffset).assumingMemoryBound(to: UInt8.self)
    let y = dst + i * 32
    for j in 0..<16 {
      let h0 = Int32(truncatingIfNeeded: (qh >> UInt32(j)) & 1) << 4
      let h1 = Int32(truncatingIfNeeded: (qh >> UInt32(j + 16)) & 1) << 4
      y[j] = Float((Int32(q[j] & 0x0F) | h0) - bias) * d + m
      y[j + 16] = Float((Int32(q[j] >> 4) | h1) - bias) * d + m
    }
  }
}

/// ggml's `get_scale_min_k4`: the 6-bit scale and min of sub-block `j` (0..<8) from `scales[12]`.
@inline(__always)
public func scaleMinK4(_ j: Int, _ q: UnsafePointer<UInt8>) -> (scale: UInt8, min: UInt8) {
  if j < 4 { return (q[j] & 63, q[j + 4] & 63) }
  return ((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4), (q[j + 4] >> 4) | ((q[j] >> 6) << 4))
}

private func dequantizeQ4_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ nb: Int) {
  for i in 0..<nb {
    let b = src + i * BlockQ4_K.byteSize
    let d = half(b, BlockQ4_K.dOffset), dmin = half(b, BlockQ4_K.dminOffset)
    let sc = (b + BlockQ4_K.scalesOffset).assumingMemoryBound(to: UInt8.self)
    let qs = (b + BlockQ4_K.qsOffset).assumingMemoryBound(to: UInt8.self)
    for c in 0..<4 {  // 64-element chunks: low nibbles -> first 32, high nibbles -> next 32
      let (s1, m1) = scaleMinK4(2 * c, sc), (s2, m2) = scaleMinK4(2 * c + 1, sc)
      let d1 = d * Float(s1), o1 = dmin * Float(m1), d2 = d * Float(s2), o2 = dmin * Float(m2)
      let q = qs + 32 * c
      let y = dst + i * QK_K + 64 * c
      for l in 0..<32 {
        y[l] = d1 * Float(q[l] & 0xF) - o1
        y[l + 32] = d2 * Float(q[l] >> 4) - o2
      }
    }
  }
}

private func dequantizeQ6_K(_ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, _ nb: Int) {
  for i in 0..<nb {
    let b = src + i * BlockQ6_K.byteSize
    let d = half(b, BlockQ6_K.dOffset)
    for h in 0..<2 {  // two 128-element halves
      let ql = (b + BlockQ6_K.qlOffset + 64 * h).assumingMemoryBound(to: UInt8.self)
      let qh = (b + BlockQ6_K.qhOffset + 32 * h).assumingMemoryBound(to: UInt8.self)
      let sc = (b + BlockQ6_K.scalesOffset + 8 * h).assumingMemoryBound(to: Int8.self)
      let y = dst + i * QK_K + 128 * h
      for half16 in 0..<2 {  // l in 0..<16 uses sc[0,2,4,6], l in 16..<32 uses sc[1,3,5,7]
        let s0 = d * Float(sc[half16]), s1 = d * Float(sc[half16 + 2])
        let s2 = d * Float(sc[half16 + 4]), s3 = d * Float(sc[half16 + 6])
        for l in (16 * half16)..<(16 * half16 + 16) {
          let a = ql[l], c = ql[l + 32], hb = qh[l]
          y[l] = s0 * Float(Int32((a & 0xF) | ((hb & 3) << 4)) - 32)
          y[l + 32] = s1 * Float(Int32((c & 0xF) | (((hb >> 2) & 3) << 4)) - 32)
          y[l + 64] = s2 * Float(Int32((a >> 4) | (((hb >> 4) & 3) << 4)) - 32)
          y[l + 96] = s3 * Float(Int32((c >> 4) | (((hb >> 6) & 3) << 4)) - 32)
        }
      }
    }
  }
}

// MARK: - Naive references (literal ports of ggml's dequantize_row_*; keep them boring)

/// Same contract as `dequantizeRow`; slow and obviously correct. Tests compare the two.
public func dequantizeRowReference(
  _ type: GGUFType, _ src: UnsafeRawPointer, _ dst: UnsafeMutablePointer<Float>, count k: Int
) {
  precondition(type.canDequantize && k >= 0 && k % type.blockSize == 0, "dequantizeRowReference: bad type/count")
  let bytes = src.assumingMemoryBound(to: UInt8.self)
  func u8(_ o: Int) -> UInt8 { bytes[o] }
  func f16(_ o: Int) -> Float { halfToFloat(UInt16(bytes[o]) | UInt16(bytes[o + 1]) << 8) }
  switch type {
  case .f32:
    // ggml: memcpy
    for i in 0..<k {
      let bits =
        UInt32(u8(4 * i)) | UInt32(u8(4 * i + 1)) << 8 | UInt32(u8(4 * i + 2)) << 16 | UInt32(u8(4 * i + 3)) << 24
      dst[i] = Float(bitPattern: bits)
    }
  case .f16:
    // ggml_fp16_to_fp32_row
    for i in 0..<k { dst[i] = f16(2 * i) }
  case .bf16:
    // ggml_bf16_to_fp32_row
    for i in 0..<k { dst[i] = bfloat16ToFloat(UInt16(u8(2 * i)) | UInt16(u8(2 * i + 1)) << 8) }
  case .q8_0:
    // dequantize_row_q8_0: y[i*qk + j] = x[i].qs[j]*d
    let qk = 32, bs = 34
    for i in 0..<(k / qk) {
      let d = f16(i * bs)
      for j in 0..<qk { dst[i * qk + j] = Float(Int8(bitPattern: u8(i * bs + 2 + j))) * d }
    }
  case .q4_0:
    // dequantize_row_q4_0: x0 = (qs[j] & 0x0F) - 8; x1 = (qs[j] >> 4) - 8; y[j] = x0*d; y[j+qk/2] = x1*d
    let qk = 32, bs = 18
    for i in 0..<(k / qk) {
      let d = f16(i * bs)
      for j in 0..<(qk / 2) {
        let q = u8(i * bs + 2 + j)
        let x0 = Int(q & 0x0F) - 8, x1 = Int(q >> 4) - 8
        dst[i * qk + j] = Float(x0) * d
        dst[i * qk + j + qk / 2] = Float(x1) * d
      }
    }
  case .q4_1:
    // dequantize_row_q4_1: y[j] = x0*d + m; y[j+qk/2] = x1*d + m
    let qk = 32, bs = 20
    for i in 0..<(k / qk) {
      let d = f16(i * bs), m = f16(i * bs + 2)
      for j in 0..<(qk / 2) {
        let q = u8(i * bs + 4 + j)
        dst[i * qk + j] = Float(q & 0x0F) * d + m
        dst[i * qk + j + qk / 2] = Float(q >> 4) * d + m
      }
    }
  case .q5_0, .q5_1:
    // dequantize_row_q5_0 / dequantize_row_q5_1:
    //   xh_0 = ((qh >> (j + 0)) << 4) & 0x10;  xh_1 = ((qh >> (j + 12))) & 0x10;
    //   q5_0: x = ((qs & 0x0F) | xh) - 16, y = x*d.   q5_1: x = (qs & 0x0F) | xh, y = x*d + m.
    let q51 = type == .q5_1
    let qk = 32, bs = q51 ? 24 : 22, qhAt = q51 ? 4 : 2, qsAt = q51 ? 8 : 6
    for i in 0..<(k / qk) {
      let base = i * bs
      let d = f16(base), m: Float = q51 ? f16(base + 2) : 0
      let qh =
        UInt32(u8(base + qhAt)) | UInt32(u8(base + qhAt + 1)) << 8
        | UInt32(u8(base + qhAt + 2)) << 16 | UInt32(u8(base + qhAt + 3)) << 24
      for j in 0..<(qk / 2) {
        let xh0 = Int(((qh >> UInt32(j)) << 4) & 0x10)
        let xh1 = Int((qh >> UInt32(j + 12)) & 0x10)
        let q = u8(base + qsAt + j)
        if q51 {
          dst[i * qk + j] = Float(Int(q & 0x0F) | xh0) * d + m
          dst[i * qk + j + qk / 2] = Float(Int(q >> 4) | xh1) * d + m
        } else {
          dst[i * qk + j] = Float((Int(q & 0x0F) | xh0) - 16) * d
          dst[i * qk + j + qk / 2] = Float((Int(q >> 4) | xh1) - 16) * d
        }
      }
    }
  case .q4_K:
    // dequantize_row_q4_K
    let bs = 144
    var yi = 0
    for i in 0..<(k / QK_K) {
      let base = i * bs
      let d = f16(base), dmin = f16(base + 2)
      var q = base + 16
      var isub = 0
      var j = 0
      while j < QK_K {
        let (sc1, m1) = scaleMinK4(isub, bytes + base + 4)
        let (sc2, m2) = scaleMinK4(isub + 1, bytes + base + 4)
        let d1 = d * Float(sc1), mm1 = dmin * Float(m1)
        let d2 = d * Float(sc2), mm2 = dmin * Float(m2)
        for l in 0..<32 { dst[yi] = d1 * Float(u8(q + l) & 0xF) - mm1; yi += 1 }
        for l in 0..<32 { dst[yi] = d2 * Float(u8(q + l) >> 4) - mm2; yi += 1 }
        q += 32
        isub += 2
        j += 64
      }
    }
  case .q6_K:
    // dequantize_row_q6_K
    let bs = 210
    for i in 0..<(k / QK_K) {
      let base = i * bs
      let d = f16(base + 208)
      var ql = base, qh = base + 128, sc = base + 192, y = i * QK_K
      for _ in stride(from: 0, to: QK_K, by: 128) {
        for l in 0..<32 {
          let isub = l / 16
          let q1 = Int((u8(ql + l) & 0xF) | (((u8(qh + l) >> 0) & 3) << 4)) - 32
          let q2 = Int((u8(ql + l + 32) & 0xF) | (((u8(qh + l) >> 2) & 3) << 4)) - 32
          let q3 = Int((u8(ql + l) >> 4) | (((u8(qh + l) >> 4) & 3) << 4)) - 32
          let q4 = Int((u8(ql + l + 32) >> 4) | (((u8(qh + l) >> 6) & 3) << 4)) - 32
          func s(_ n: Int) -> Float { Float(Int8(bitPattern: u8(sc + n))) }
          dst[y + l + 0] = d * s(isub + 0) * Float(q1)
          dst[y + l + 32] = d * s(isub + 2) * Float(q2)
          dst[y + l + 64] = d * s(isub + 4) * Float(q3)
          dst[y + l + 96] = d * s(isub + 6) * Float(q4)
        }
        y += 128
        ql += 64
        qh += 32
        sc += 8
      }
    }
  case .q8_1, .q2_K, .q3_K, .q5_K, .q8_K: dst.update(repeating: 0, count: k)  // excluded above
  }
}

/// Dequantizes packed bytes (convenience for tests and tools). Throws for unsupported types and
/// for byte counts that do not match `count`.
public func dequantize(_ bytes: [UInt8], type: GGUFType, count: Int) throws -> [Float] {
  guard type.canDequantize else {
    throw GGUFError.unsupportedTensorType(
      file: "<bytes>", tensor: "<bytes>", type: type.name, operation: "dequantization")
  }
  guard let need = type.byteCount(elements: count), need == bytes.count else {
    throw GGUFError.invalidTensorShape(
      file: "<bytes>", tensor: "<bytes>",
      reason:
        "\(count) \(type.name) values need \(type.byteCount(elements: count).map(String.init) ?? "a multiple of \(type.blockSize)") bytes, found \(bytes.count)"
    )
  }
  var out = [Float](repeating: 0, count: count)
  bytes.withUnsafeBytes { src in
    out.withUnsafeMutableBufferPointer { dst in
      if let s = src.baseAddress, let d = dst.baseAddress { dequantizeRow(type, s, d, count: count) }
    }
  }
  return out
}
