// Packed.swift: quantized weight matrices for the small-M (decode) products, and their kernels.
//
// Layout (repacked from GGUF blocks once at load; 32 values per block, nb = K/32 blocks per row,
// K a multiple of 64). Values are regrouped so the kernel never converts element types (Swift's
// SIMD conversions between element types compile to generic calls): a group of 64 values is
// 8 u32 lanes, and lane i holds value 8j+i in its j-th nibble (q4_1, j = 0..<8) or a group of 32
// values is 8 lanes holding value 8j+i in byte j (q8_0, j = 0..<4, stored as u = q+128). A field
// becomes a float in [1, 2) with three bit operations, its bits moved to the top of the mantissa:
// t = bits(0x3F800000 | u << 19) = 1 + u/16 (nibble) or bits(0x3F800000 | u << 15) = 1 + u/256
// (byte), exactly. The kernel sums t*x and corrects with the block sums of x:
//   q4_1: value = d*u + m = 16d*t + (m - 16d)        q8_0: value = d*(u - 128) = 256d*t - 384d
// so per block it needs the scale `mul` (16d or 256d) and the offset `add` (m - 16d or -384d).
//   q4_1: mul [N, nb] f32, add [N, nb] f32, lanes [N, nb/2, 8] u32.
//   q8_0: mul [N, nb] f32, add [N, nb] f32, lanes [N, nb, 8] u32.
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
  let mul: UnsafeMutablePointer<Float>  // [N, nb] kernel scale: 16d (q4_1) or 256d (q8_0)
  let add: UnsafeMutablePointer<Float>  // [N, nb] kernel offset: m - 16d (q4_1) or -384d (q8_0)
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
    mul = .allocate(capacity: max(1, rows * blocks))
    add = .allocate(capacity: max(1, rows * blocks))
    let qbytes = format == .q4_1 ? rows * blocks * 16 : rows * cols  // 4 or 8 bits per value
    quants = .allocate(byteCount: max(64, qbytes), alignment: 64)
  }

  deinit {
    scale.deallocate()
    minv.deallocate()
    mul.deallocate()
    add.deallocate()
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
    deriveKernelCoefficients()
  }

  /// mul/add from scale/min (see the file header): exact powers of two times f16 values.
  private func deriveKernelCoefficients() {
    for i in 0..<(rows * blocks) {
      switch format {
      case .q4_1:
        mul[i] = 16 * scale[i]
        add[i] = minv[i] - 16 * scale[i]
      case .q8_0:
        mul[i] = 256 * scale[i]
        add[i] = -384 * scale[i]
      }
    }
  }

  /// vals[0..<64] (0...15 each) -> 8 lanes, value 8j+i in nibble j of lane i.
  private func storeNibbles(_ vals: [UInt8], row: Int, group: Int) {
    let lanes = quants.assumingMemoryBound(to: UInt32.self) + (row * (blocks / 2) + group) * 8
    vals.withUnsafeBufferPointer { v in
      for i in 0..<8 {
        var u: UInt32 = 0
        for j in 0..<8 { u |= UInt32(v[8 * j + i]) << (4 * j) }
        lanes[i] = u
      }
    }
  }

  /// vals[0..<32] (biased bytes) -> 8 lanes, value 8j+i in byte j of lane i.
  private func storeBytes(_ vals: [UInt8], row: Int, block: Int) {
    let lanes = quants.assumingMemoryBound(to: UInt32.self) + (row * blocks + block) * 8
    vals.withUnsafeBufferPointer { v in
      for i in 0..<8 {
        var u: UInt32 = 0
        for j in 0..<4 { u |= UInt32(v[8 * j + i]) << (8 * j) }
        lanes[i] = u
      }
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
    deriveKernelCoefficients()
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
    packedRows(y, x, sumsPtr, w, M: M, rows: range)
  }
}

@inline(__always)
func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
}

/// Field bits already moved to bits 19... (nibble) or 15... (byte) -> 1 + u/16 or 1 + u/256.
@inline(__always)
private func unit(_ bits: SIMD8<UInt32>) -> SIMD8<Float> {
  unsafeBitCast(bits | 0x3F80_0000, to: SIMD8<Float>.self)
}

private let nibMask = SIMD8<UInt32>(repeating: 0xF << 19)
private let byteMask = SIMD8<UInt32>(repeating: 0xFF << 15)

// Both kernels handle rows in fours, pairs or alone with the same per-row arithmetic, so a row's result
// is bit-identical whatever M is: a sequence's sampled text must not depend on the batch.
// The inner loops are separate non-generic functions with plain SIMD8 code: nested closures
// made LLVM split the vectors into 128-bit pieces and spill.

typealias Fields = (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)

/// Nibble fields 0..<4 (values 8j..8j+7 of the group, j < 4) and 4..<8 of a q4_1 group as 1 + u/16.
@inline(__always)
private func lowNibbles(_ v: SIMD8<UInt32>) -> Fields {
  (unit((v &<< 19) & nibMask), unit((v &<< 15) & nibMask), unit((v &<< 11) & nibMask), unit((v &<< 7) & nibMask))
}
@inline(__always)
private func highNibbles(_ v: SIMD8<UInt32>) -> Fields {
  (unit((v &<< 3) & nibMask), unit((v &>> 1) & nibMask), unit((v &>> 5) & nibMask), unit((v &>> 9) & nibMask))
}

/// The four byte fields of a q8_0 block as 1 + u/256.
@inline(__always)
private func bytes(_ v: SIMD8<UInt32>) -> Fields {
  (unit((v &<< 15) & byteMask), unit((v &<< 7) & byteMask), unit((v &>> 1) & byteMask), unit((v &>> 9) & byteMask))
}

/// t.0 . x[0..<8] + t.1 . x[8..<16] + t.2 . x[16..<24] + t.3 . x[24..<32], lane-wise, in this
/// order: every kernel computes a row's 32-value piece through this one function, so the
/// per-row arithmetic is the same whether the row runs alone, in a pair or in a four.
@inline(__always)
private func fieldDot(_ t: Fields, _ x: UnsafePointer<Float>) -> SIMD8<Float> {
  var s = t.0 * load8(x)
  s.addProduct(t.1, load8(x + 8))
  s.addProduct(t.2, load8(x + 16))
  s.addProduct(t.3, load8(x + 24))
  return s
}

/// sum_g mul_A*(t[0..32].x[0..32]) + mul_B*(t[32..64].x[32..64]) for one row of x.
@inline(never)
private func q41Dot1(
  _ q: UnsafeRawPointer, _ sc: UnsafePointer<Float>, _ x: UnsafePointer<Float>, groups ng: Int
) -> SIMD8<Float> {
  var a = SIMD8<Float>(), b = SIMD8<Float>()
  for g in 0..<ng {
    let v = q.loadUnaligned(fromByteOffset: g * 32, as: SIMD8<UInt32>.self)
    let xb = x + g * 64
    a.addProduct(fieldDot(lowNibbles(v), xb), SIMD8(repeating: sc[2 * g]))
    b.addProduct(fieldDot(highNibbles(v), xb + 32), SIMD8(repeating: sc[2 * g + 1]))
  }
  return a + b
}

/// The same for two rows of x sharing each weight load.
@inline(never)
private func q41Dot2(
  _ q: UnsafeRawPointer, _ sc: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
  groups ng: Int
) -> (SIMD8<Float>, SIMD8<Float>) {
  var a0 = SIMD8<Float>(), b0 = SIMD8<Float>(), a1 = SIMD8<Float>(), b1 = SIMD8<Float>()
  for g in 0..<ng {
    let v = q.loadUnaligned(fromByteOffset: g * 32, as: SIMD8<UInt32>.self)
    let dA = SIMD8<Float>(repeating: sc[2 * g]), dB = SIMD8<Float>(repeating: sc[2 * g + 1])
    let xa = x0 + g * 64, xc = x1 + g * 64
    let lo = lowNibbles(v), hi = highNibbles(v)
    a0.addProduct(fieldDot(lo, xa), dA)
    b0.addProduct(fieldDot(hi, xa + 32), dB)
    a1.addProduct(fieldDot(lo, xc), dA)
    b1.addProduct(fieldDot(hi, xc + 32), dB)
  }
  return (a0 + b0, a1 + b1)
}

/// The same for four rows of x: the low half of the group for all rows, then the high half, so
/// 4 field vectors, 8 accumulators and a temporary fit in 16 registers.
@inline(never)
private func q41Dot4(
  _ q: UnsafeRawPointer, _ sc: UnsafePointer<Float>, _ x: UnsafePointer<Float>, stride K: Int,
  groups ng: Int
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
  var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
  var b0 = SIMD8<Float>(), b1 = SIMD8<Float>(), b2 = SIMD8<Float>(), b3 = SIMD8<Float>()
  for g in 0..<ng {
    let v = q.loadUnaligned(fromByteOffset: g * 32, as: SIMD8<UInt32>.self)
    let x0 = x + g * 64
    let lo = lowNibbles(v), dA = SIMD8<Float>(repeating: sc[2 * g])
    a0.addProduct(fieldDot(lo, x0), dA)
    a1.addProduct(fieldDot(lo, x0 + K), dA)
    a2.addProduct(fieldDot(lo, x0 + 2 * K), dA)
    a3.addProduct(fieldDot(lo, x0 + 3 * K), dA)
    let hi = highNibbles(v), dB = SIMD8<Float>(repeating: sc[2 * g + 1])
    b0.addProduct(fieldDot(hi, x0 + 32), dB)
    b1.addProduct(fieldDot(hi, x0 + K + 32), dB)
    b2.addProduct(fieldDot(hi, x0 + 2 * K + 32), dB)
    b3.addProduct(fieldDot(hi, x0 + 3 * K + 32), dB)
  }
  return (a0 + b0, a1 + b1, a2 + b2, a3 + b3)
}

@inline(never)
private func q80Dot1(
  _ q: UnsafeRawPointer, _ sc: UnsafePointer<Float>, _ x: UnsafePointer<Float>, blocks nb: Int
) -> SIMD8<Float> {
  var a = SIMD8<Float>()
  for b in 0..<nb {
    let t = bytes(q.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<UInt32>.self))
    a.addProduct(fieldDot(t, x + b * 32), SIMD8(repeating: sc[b]))
  }
  return a
}

@inline(never)
private func q80Dot2(
  _ q: UnsafeRawPointer, _ sc: UnsafePointer<Float>, _ x0: UnsafePointer<Float>, _ x1: UnsafePointer<Float>,
  blocks nb: Int
) -> (SIMD8<Float>, SIMD8<Float>) {
  var a0 = SIMD8<Float>(), a1 = SIMD8<Float>()
  for b in 0..<nb {
    let t = bytes(q.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<UInt32>.self))
    let d = SIMD8<Float>(repeating: sc[b])
    a0.addProduct(fieldDot(t, x0 + b * 32), d)
    a1.addProduct(fieldDot(t, x1 + b * 32), d)
  }
  return (a0, a1)
}

@inline(never)
private func q80Dot4(
  _ q: UnsafeRawPointer, _ sc: UnsafePointer<Float>, _ x: UnsafePointer<Float>, stride K: Int,
  blocks nb: Int
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
  var a0 = SIMD8<Float>(), a1 = SIMD8<Float>(), a2 = SIMD8<Float>(), a3 = SIMD8<Float>()
  for b in 0..<nb {
    let t = bytes(q.loadUnaligned(fromByteOffset: b * 32, as: SIMD8<UInt32>.self))
    let d = SIMD8<Float>(repeating: sc[b]), x0 = x + b * 32
    a0.addProduct(fieldDot(t, x0), d)
    a1.addProduct(fieldDot(t, x0 + K), d)
    a2.addProduct(fieldDot(t, x0 + 2 * K), d)
    a3.addProduct(fieldDot(t, x0 + 3 * K), d)
  }
  return (a0, a1, a2, a3)
}

/// a[0..<n] . b[0..<n] in SIMD8 steps plus a scalar tail (the same order for every row).
@inline(__always)
func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
  var acc = SIMD8<Float>()
  var i = 0
  while i + 8 <= n {
    acc.addProduct(load8(a + i), load8(b + i))
    i += 8
  }
  var s = acc.sum()
  while i < n {
    s += a[i] * b[i]
    i += 1
  }
  return s
}

/// Rows `rows` of y[M, N] for a packed matrix of either format.
private func packedRows(
  _ y: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, _ sums: UnsafePointer<Float>,
  _ w: PackedMatrix, M: Int, rows: Range<Int>
) {
  let K = w.cols, nb = w.blocks, N = w.rows
  let lanes = UnsafeRawPointer(w.quants)
  let rowBytes = w.format == .q4_1 ? nb * 16 : nb * 32
  for n in rows {
    let mul = UnsafePointer(w.mul + n * nb)
    let add = UnsafePointer(w.add + n * nb)
    let q = lanes + n * rowBytes
    var m0 = 0
    while m0 < M {
      let accs: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
      let count = M - m0 >= 4 ? 4 : M - m0 >= 2 ? 2 : 1
      let z = SIMD8<Float>()
      let xm = x + m0 * K
      switch (w.format, count) {
      case (.q4_1, 4): accs = q41Dot4(q, mul, xm, stride: K, groups: nb / 2)
      case (.q4_1, 2):
        let r = q41Dot2(q, mul, xm, xm + K, groups: nb / 2)
        accs = (r.0, r.1, z, z)
      case (.q4_1, _): accs = (q41Dot1(q, mul, xm, groups: nb / 2), z, z, z)
      case (.q8_0, 4): accs = q80Dot4(q, mul, xm, stride: K, blocks: nb)
      case (.q8_0, 2):
        let r = q80Dot2(q, mul, xm, xm + K, blocks: nb)
        accs = (r.0, r.1, z, z)
      case (.q8_0, _): accs = (q80Dot1(q, mul, xm, blocks: nb), z, z, z)
      }
      for i in 0..<count {
        let acc = i == 0 ? accs.0 : i == 1 ? accs.1 : i == 2 ? accs.2 : accs.3
        y[(m0 + i) * N + n] = acc.sum() + dot(add, sums + (m0 + i) * nb, nb)
      }
      m0 += count
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
