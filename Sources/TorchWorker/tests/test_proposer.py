"""The proposer's SFT update: TRL's truncation rules (unit), and on the installed model (skipped
when absent) a merged GGUF that the loader reads back with the adapter's effect (Q8_0 rounding
only: the merged file scores within 0.15 of the adapter forward, whose own effect is > 2), and
the copy with nothing to learn."""
import os

from seb_torch_worker import generate as G
from seb_torch_worker.engine import TorchEngine
from seb_torch_worker.model import load, sha256_file
from seb_torch_worker import proposer as P


class FakeLM:
    eos_id = 2

    @staticmethod
    def encode(text):
        return [ord(c) for c in text]


def test_sft_examples_truncate_as_trl():
    rows = [("ab", "cdef"), ("abcdefgh", "ij"), ("a", "")]
    ex = P.sft_examples(FakeLM, rows, max_length=5)
    # Row 0: the completion cut to fit (2 + 3); row 1: a prompt over budget keeps half, the
    # completion the rest (2 + 2); then EOS, and every row cut to the longest length measured
    # before EOS (5): row 0 loses its EOS, row 1 keeps it; row 2's EOS is its only completion token.
    assert ex == [([97, 98, 99, 100, 101], 2), ([97, 98, 105, 106, 2], 2), ([97, 2], 1)]
    # A row left with no completion token after the cut is dropped.
    assert P.sft_examples(FakeLM, [("abcdef", "")], max_length=4) == []


def test_merged_gguf_and_copy(real_model, tmp_path):
    engine = TorchEngine(real_model)
    rows = [("Another prompt\n", "Zed lives in town 7. Zed is blue."), ("Q: colour of Zed?\n", "Blue.")]
    spec = {"rank": 8, "alpha": 16, "learningRate": 3e-3, "epochs": 3, "gradientAccumulation": 1, "maxLength": 3600,
            "seed": 42}
    msgs = []
    out = str(tmp_path / "proposer.gguf")
    log = P.proposer_update(engine, rows, spec, out, msgs.append)
    assert log["steps"] == 6 and log["rows"] == 2 and log["checkpoint"] == "proposer.gguf"
    assert log["checkpointSHA256"] == sha256_file(out) and len(msgs) == 6
    assert log["losses"][-1] < log["losses"][0]
    # The same training again, kept as an adapter, against the merged file.
    ex = P.sft_examples(real_model, rows, 3600)
    adapter = P.train_sft(engine, ex, spec, lambda m: None).adapter
    ids = real_model.encode("Another prompt\nZed lives in town 7. Zed is blue.")
    with_adapter = G.score(real_model, [(ids[:3], ids[3:], 0)], [adapter])[0]
    base = G.score(real_model, [(ids[:3], ids[3:], None)], [])[0]
    merged = load(out, device="cpu")
    got = G.score(merged, [(ids[:3], ids[3:], None)], [])[0]
    assert max(abs(a - b) for a, b in zip(with_adapter, base)) > 2
    assert max(abs(a - b) for a, b in zip(with_adapter, got)) < 0.15
    # Nothing to learn: the model file copied byte for byte.
    same = str(tmp_path / "same.gguf")
    log0 = P.proposer_update(engine, [], spec, same, msgs.append)
    assert log0["steps"] == 0 and sha256_file(same) == sha256_file(real_model.path)
    assert oct(os.stat(same).st_mode & 0o777) != "0o600"
