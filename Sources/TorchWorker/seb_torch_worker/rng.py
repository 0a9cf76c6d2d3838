"""The Swift package's random streams, reproduced bit for bit.

SplitMix64 (Workspace/Random.swift) drives every random choice of the Swift engine: the LoRA
initialisation, the per-epoch shuffle, the dropout masks and the sampler. SplitMix64's output
n is a pure function of seed + n * GAMMA, so a stream can be evaluated at any offset, which is
what makes the dropout stream cheap on a GPU (a counter, no sequential state) and independent of
how adapters are packed.

Invariants: every function here returns exactly what the Swift code returns for the same seed
(tests/test_rng.py holds the published SplitMix64 vectors; tools/cross_check_seb.py compares
whole training runs with the `seb` binary).
"""
from __future__ import annotations

import math

import numpy as np
import torch

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB
# The dropout stream's seed is the adapter's seed xor this (Training/Engine.swift AttachedAdapter).
DROPOUT_SEED_XOR = 0xD1B54A32D192ED03


def mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


class SplitMix64:
    """Workspace.SplitMix64: same seed, same stream."""

    def __init__(self, seed: int):
        self.state = seed & MASK64

    def next(self) -> int:
        self.state = (self.state + GAMMA) & MASK64
        return mix64(self.state)

    def next_double(self) -> float:
        """Uniform in [0, 1) with 53 random bits."""
        return (self.next() >> 11) * 2.0**-53

    def next_float(self) -> float:
        """Uniform in [0, 1) with 24 random bits (a float32 value, held in a Python float)."""
        return (self.next() >> 40) * 2.0**-24

    def next_below(self, n: int) -> int:
        """Swift's RandomNumberGenerator.next(upperBound:) (Lemire's nearly divisionless method),
        which Int.random(in: 0..<n, using:) and Array.shuffle(using:) call."""
        assert n > 0
        m = self.next() * n
        if (m & MASK64) < n:
            t = ((1 << 64) - n) % n
            while (m & MASK64) < t:
                m = self.next() * n
        return m >> 64


def swift_shuffle(items: list, rng: SplitMix64) -> None:
    """In place, as Swift's MutableCollection.shuffle(using:): a Fisher-Yates pass from the front."""
    amount = len(items)
    i = 0
    while amount > 1:
        j = i + rng.next_below(amount)
        amount -= 1
        items[i], items[j] = items[j], items[i]
        i += 1


def sample_seed(seed: int, i: int) -> int:
    """LLM/Generator.swift sampleSeed: the seed of sample i of a request."""
    return SplitMix64((seed ^ ((i * GAMMA) & MASK64)) & MASK64).next()


def unit_floats(seed: int, start: int, count: int) -> np.ndarray:
    """Outputs start+1 ... start+count of SplitMix64(seed) as nextFloat() values (float64 array
    holding float32-exact numbers). numpy's uint64 arithmetic wraps, as Swift's &+ and &*."""
    n = np.arange(start + 1, start + 1 + count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        z = np.uint64(seed & MASK64) + n * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(40)).astype(np.float64) * 2.0**-24


def kaiming_uniform(seed: int, shapes: list[tuple[int, int]]) -> list[np.ndarray]:
    """LoRAAdapter(config:shape:) with .kaimingUniform: A [R, K] ~ U(-1/sqrt(K), 1/sqrt(K)),
    drawn pair after pair from one SplitMix64(seed) in (layer, projection) order; float32.
    (PEFT draws the same distribution from torch's generator; this is the Swift engine's stream.)"""
    out, offset = [], 0
    for r, k in shapes:
        u = unit_floats(seed, offset, r * k)
        offset += r * k
        bound = 1.0 / math.sqrt(float(k))
        out.append(((2.0 * u - 1.0) * bound).astype(np.float32).reshape(r, k))
    return out


def _s64(x: int) -> int:
    x &= MASK64
    return x - (1 << 64) if x >= 1 << 63 else x


def _srl(z: torch.Tensor, k: int) -> torch.Tensor:
    # torch's >> on int64 is arithmetic; SplitMix64 needs the logical shift.
    return (z >> k) & ((1 << (64 - k)) - 1)


def unit24(seed: int, start: int, count: int, device) -> torch.Tensor:
    """The same outputs as 24-bit integers (nextFloat() * 2^24), computed on `device` with int64
    arithmetic that wraps like uint64 (two's complement), so a GPU draws dropout masks without
    a sequential state."""
    n = torch.arange(start + 1, start + 1 + count, dtype=torch.int64, device=device)
    z = n * _s64(GAMMA) + _s64(seed)
    z = (z ^ _srl(z, 30)) * _s64(MIX1)
    z = (z ^ _srl(z, 27)) * _s64(MIX2)
    z = z ^ _srl(z, 31)
    return _srl(z, 40)


def dropout_threshold(p: float) -> int:
    """Swift drops an element when Double(nextUnitFloat()) < p, i.e. when the 24-bit integer u
    satisfies u < p * 2^24, i.e. u < ceil(p * 2^24)."""
    return math.ceil(p * (1 << 24))
