// Packed.swift: quantized weight matrices for the small-M (decode) products, and their kernels.
//
// Layout (repacked from GGUF blocks once at load; 32 values per block, nb = K/32 blocks per row,
// K a multiple of 64). Values are regrouped so the kernel never converts element types (Swift's
// SIMD conversions between element types compile to generic calls): a group of 64 values is
// 8 u32 lanes, and lane i holds value 8j+i in its j-th nibble (q4_1, j = 0..<8) or a group of 32
// values is 8 lanes holding value 8j+i in byte j (q8_0, j = 0..<4, stored as q+128). A nibble or
// byte becomes a float exactly with the 2^23 trick: bits(0x4B000000 | u) - 8388608 = u.
//   q4_1: scale [N, nb] f32, min [N, nb] f32, lanes [N, nb/2, 8] u32; value = q*scale + min.
//   q8_0: scale [N, nb] f32, lanes [N, nb, 8] u32; value = (u - 128)*scale.
// The scales are widened to f32 at load (the file stores f16), so the values are exactly the
// dequantized float32 weights: the packed and sgemm paths compute the same products and differ
// only in summation order.
// Kernel: y[m, n] = sum_b scale[n,b] * (q[n,b,:] . x[m,b,:]) + min[n,b] * sum(x[m,b,:]); the
// per-block sums of x are computed once per call and shared by all N rows.
import Tensor

public enum PackedFormat: String, Sendable {
  case q4_1
  case q8_0
}

public final class PackedMatrix: @unchecked Sendable {
  public let format: PackedFormat
  public let rows: Int  // N
  public let cols: Int  // K (multiple of 32)
  let blocks: Int  // nb = K/32
  let scale: UnsafeMutablePointer<Float>  // [N, nb]
  let minv: UnsafeMutablePointer<Float>  // [N, nb] (q4_1 only)
  let quants: UnsafeMutableRawPointer  // q4_1: [N, nb, 16] u8; q8_0: [N, K] i8

  /// Bytes the kernel streams per full product (the memory-bound cost of one decode step).
  public var streamedBytes: Int {
    rows * blocks * (format == .q4_1 ? 16 + 8 : 32 + 4)
  }

  init(format: PackedFormat, rows: Int, cols: Int) {
    precondition(cols % 64 == 0, "packed matrices need K % 64 == 0")  // checked by callers
    self.format = format
    self.rows = rows
    self.cols = cols
    blocks = cols / 32
    scale = .allocate(capacity: max(1, rows * blocks))
    minv = .allocate(capacity: max(1, rows * blocks))
    minv.initialize(repeating: 0, count: max(1, rows * blocks))
    let qbytes = format == .q4_1 ? rows * blocks * 16 : rows * cols  // 4 or 8 bits per value
    quants = .allocate(byteCount: max(64, qbytes), alignment: 64)
  }

  deinit {
    scale.deallocate()
    minv.deallocate()
    quants.deallocate()
  }

  public static func canPack(cols: Int) -> Bool { cols % 64 == 0 && cols > 0 }

  /// Packs GGUF block bytes (`block_q4_1` = f16 d, f16 m, u8 qs[16] with value j in the low
  /// nibble of qs[j] and value j+16 in its high nibble; `block_q8_0` = f16 d, i8 qs[32]) of a
  /// [rows, cols] tensor.
  public convenience init(ggmlBlocks src: UnsafeRawPointer, format: PackedFormat, rows: Int, cols: Int) {
    self.init(format: format, rows: rows, cols: cols)
    let nb = blocks
    var vals = [UInt8](repeating: 0, count: 64)
    for r in 0..<rows {
      for b in 0..<nb {
        let i = r * nb + b
        switch format {
        case .q4_1:
          let blk = src + i * 20
          scale[i] = Float(Float16(bitPattern: blk.loadUnaligned(as: UInt16.self)))
          minv[i] = Float(Float16(bitPattern: blk.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
          let o = (b % 2) * 32
          for j in 0..<16 {
            let byte = blk.load(fromByteOffset: 4 + j, as: UInt8.self)
            vals[o + j] = byte & 0xF
            vals[o + j + 16] = byte >> 4
          }
          if b % 2 == 1 { storeNibbles(vals, row: r, group: b / 2) }
        case .q8_0:
          let blk = src + i * 34
          scale[i] = Float(Float16(bitPattern: blk.loadUnaligned(as: UInt16.self)))
          for j in 0..<32 { vals[j] = UInt8(Int(blk.load(fromByteOffset: 2 + j, as: Int8.self)) + 128) }
          storeBytes(vals, row: r, block: b)
        }
      }
    }
  }

  /// vals[0..<64] (0...15 each) -> 8 lanes, value 8j+i in nibble j of lane i.
  private func storeNibbles(_ vals: [UInt8], row: Int, group: Int) {
    let lanes = quants.assumingMemoryBound(to: UInt32.self) + (row * (blocks / 2) + group) * 8
    for i in 0..<8 {
      var u: UInt32 = 0
      for j in 0..<8 { u |= UInt32(vals[8 * j + i]) << (4 * j) }
      lanes[i] = u
    }
  }

  /// vals[0..<32] (biased bytes) -> 8 lanes, value 8j+i in byte j of lane i.
  private func storeBytes(_ vals: [UInt8], row: Int, block: Int) {
    let lanes = quants.assumingMemoryBound(to: UInt32.self) + (row * blocks + block) * 8
    for i in 0..<8 {
      var u: UInt32 = 0
      for j in 0..<4 { u |= UInt32(vals[8 * j + i]) << (8 * j) }
      lanes[i] = u
    }
  }

  /// Quantizes float values (round to nearest, ggml's reference rules) and writes the
  /// dequantized values back into `w`, so the float and packed paths hold the same weights.
  public convenience init(quantizing w: FloatBuffer, rows: Int, cols: Int, format: PackedFormat) {
    self.init(format: format, rows: rows, cols: cols)
    let nb = blocks
    var vals = [UInt8](repeating: 0, count: 64)
    for r in 0..<rows {
      for b in 0..<nb {
        let x = w.pointer + r * cols + b * 32
        let i = r * nb + b
        switch format {
        case .q4_1:
          var lo = Float.infinity, hi = -Float.infinity
          for j in 0..<32 { lo = min(lo, x[j]); hi = max(hi, x[j]) }
          let d = Float(Float16((hi - lo) / 15))
          let m = Float(Float16(lo))
          let id: Float = d != 0 ? 1 / d : 0
          scale[i] = d
          minv[i] = m
          let o = (b % 2) * 32
          for j in 0..<32 {
            let q = UInt8(max(0, min(15, ((x[j] - m) * id).rounded())))
            vals[o + j] = q
            x[j] = Float(q) * d + m
          }
          if b % 2 == 1 { storeNibbles(vals, row: r, group: b / 2) }
        case .q8_0:
          var amax: Float = 0
          for j in 0..<32 { amax = max(amax, abs(x[j])) }
          let d = Float(Float16(amax / 127))
          let id: Float = d != 0 ? 1 / d : 0
          scale[i] = d
          for j in 0..<32 {
            let q = Int(max(-127, min(127, (x[j] * id).rounded())))
            vals[j] = UInt8(q + 128)
            x[j] = Float(q) * d
          }
          storeBytes(vals, row: r, block: b)
        }
      }
    }
  }

  /// Row r dequantized to float32 (reference for tests).
  public func dequantizeRow(_ r: Int, into out: UnsafeMutablePointer<Float>) {
    let lanes = UnsafePointer(quants.assumingMemoryBound(to: UInt32.self))
    for b in 0..<blocks {
      let i = r * blocks + b
      for k in 0..<32 {
        switch format {
        case .q4_1:
          let v = b * 32 + k, g = v / 64, e = v % 64  // element e of group g: lane e%8, nibble e/8
          let u = (lanes[(r * (blocks / 2) + g) * 8 + e % 8] >> (4 * UInt32(e / 8))) & 0xF
          out[v] = Float(u) * scale[i] + minv[i]
        case .q8_0:
          let u = (lanes[i * 8 + k % 8] >> (8 * UInt32(k / 8))) & 0xFF
          out[b * 32 + k] = Float(Int(u) - 128) * scale[i]
        }
      }
    }
  }
}

// MARK: - Kernels

/// y[M, N] = x[M, K] . W^T for a packed W, split over the pool's threads by rows of W.
/// `scratch` must hold M*K/32 floats (the block sums of x).
public func packedMatmul(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: PackedMatrix, M: Int,
  pool: ThreadPool = .shared
) {
  let N = w.rows, K = w.cols, nb = w.blocks
  let sums = UnsafeMutablePointer<Float>.allocate(capacity: max(1, M * nb))  // [M, nb]
  defer { sums.deallocate() }
  for m in 0..<M {
    for b in 0..<nb {
      let v = x + m * K + b * 32
      sums[m * nb + b] = ((load8(v) + load8(v + 8)) + (load8(v + 16) + load8(v + 24))).sum()
    }
  }
  let threads = pool.threads
  let sumsPtr = UnsafePointer(sums)
  pool.run { part in
    let range = partition(N, parts: threads, index: part, align: 4)
    if range.isEmpty { return }
    switch w.format {
    case .q4_1: q41Kernel(y, x, sumsPtr, w, M: M, rows: range)
    case .q8_0: q80Kernel(y, x, sumsPtr, w, M: M, rows: range)
    }
  }
}

@inline(__always)
private func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Exact u -> Float for 0 <= u < 2^23 using only same-width bit operations.
@inline(__always)
private func toFloat(_ u: SIMD8<UInt32>) -> SIMD8<Float> {
  unsafeBitCast(u | 0x4B00_0000, to: SIMD8<Float>.self) - 8_388_608
}

// Both kernels handle rows in pairs or alone with the same per-row arithmetic, so a row's result
// is bit-identical whatever M is: a sequence's sampled text must not depend on the batch.

private func q41Kernel(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
  _ w: PackedMatrix, M: Int, rows: Range<Int>
) {
  let K = w.cols, nb = w.blocks, N = w.rows, ng = nb / 2
  let lanes = UnsafeRawPointer(w.quants)
  for n in rows {
    let sc = w.scale + n * nb
    let mn = w.minv + n * nb
    let q = lanes + n * ng * 32
    @inline(__always) func finish(_ a: SIMD8<Float>, _ m: Int) {
      var s = a.sum()
      let sm = sums + m * nb
      for b in 0..<nb { s += mn[b] * sm[b] }
      y[m * N + n] = s
    }
    @inline(__always) func block(_ t0: SIMD8<Float>, _ t1: SIMD8<Float>, _ t2: SIMD8<Float>, _ t3: SIMD8<Float>,
                                 _ xb: UnsafePointer<Float>) -> SIMD8<Float> {
      (t0 * load8(xb)).addingProduct(t1, load8(xb + 8)) + (t2 * load8(xb + 16)).addingProduct(t3, load8(xb + 24))
    }
    var m0 = 0
    while m0 < M {
      let pair = M - m0 >= 2
      var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
      let x0 = x + m0 * K, x1 = x0 + K
      for g in 0..<ng {
        let v = q.loadUnaligned(fromByteOffset: g * 32, as: SIMD8<UInt32>.self)
        let dA = SIMD8<Float>(repeating: sc[2 * g]), dB = SIMD8<Float>(repeating: sc[2 * g + 1])
        let t0 = toFloat(v & 0xF), t1 = toFloat((v &>> 4) & 0xF)
        let t2 = toFloat((v &>> 8) & 0xF), t3 = toFloat((v &>> 12) & 0xF)
        let t4 = toFloat((v &>> 16) & 0xF), t5 = toFloat((v &>> 20) & 0xF)
        let t6 = toFloat((v &>> 24) & 0xF), t7 = toFloat(v &>> 28)
        let o = g * 64
        a0.addProduct(block(t0, t1, t2, t3, x0 + o), dA)
        a0.addProduct(block(t4, t5, t6, t7, x0 + o + 32), dB)
        if pair {
          a1.addProduct(block(t0, t1, t2, t3, x1 + o), dA)
          a1.addProduct(block(t4, t5, t6, t7, x1 + o + 32), dB)
        }
      }
      finish(a0, m0)
      if pair { finish(a1, m0 + 1) }
      m0 += pair ? 2 : 1
    }
  }
}

private func q80Kernel(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
  _ w: PackedMatrix, M: Int, rows: Range<Int>
) {
  let K = w.cols, nb = w.blocks, N = w.rows
  let lanes = UnsafeRawPointer(w.quants)
  for n in rows {
    let sc = w.scale + n * nb
    let q = lanes + n * nb * 32
    @inline(__always) func finish(_ a: SIMD8<Float>, _ m: Int) {
      // sum((u - 128) * d * x) = sum(u * d * x) - 128 * sum_b d_b * sum(x_b)
      var s = a.sum()
      let sm = sums + m * nb
      for b in 0..<nb { s -= 128 * sc[b] * sm[b] }
      y[m * N + n] = s
    }
    var m0 = 0
    while m0 < M {
      let pair = M - m0 >= 2
      var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
      let x0 = x + m0 * K, x1 = x0 + K
      for b in 0..<nb {
        let v = q.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<UInt32>.self)
        let d = SIMD8<Float>(repeating: sc[b])
        let t0 = toFloat(v & 0xFF), t1 = toFloat((v &>> 8) & 0xFF)
        let t2 = toFloat((v &>> 16) & 0xFF), t3 = toFloat(v &>> 24)
        let o = b * 32
        let x0b = x0 + o
        a0.addProduct((t0 * load8(x0b)).addingProduct(t1, load8(x0b + 8)) + (t2 * load8(x0b + 16)).addingProduct(t3, load8(x0b + 24)), d)
        if pair {
          let x1b = x1 + o
          a1.addProduct((t0 * load8(x1b)).addingProduct(t1, load8(x1b + 8)) + (t2 * load8(x1b + 16)).addingProduct(t3, load8(x1b + 24)), d)
        }
      }
      finish(a0, m0)
      if pair { finish(a1, m0 + 1) }
      m0 += pair ? 2 : 1
    }
  }
}

/// Naive reference for `packedMatmul`: dequantize each row, accumulate in Double.
public func packedMatmulNaive(_ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ w: PackedMatrix, M: Int) {
  let row = UnsafeMutablePointer<Float>.allocate(capacity: w.cols)
  defer { row.deallocate() }
  for n in 0..<w.rows {
    w.dequantizeRow(n, into: row)
    for m in 0..<M {
      var s = 0.0
      for k in 0..<w.cols { s += Double(row[k]) * Double(x[m * w.cols + k]) }
      y[m * w.rows + n] = Float(s)
    }
  }
}
