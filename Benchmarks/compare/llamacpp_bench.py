#!/usr/bin/env python3
# llamacpp_bench.py: what a user of llama-cpp-python (llama.cpp compiled from source by pip) gets on
# this CPU from the same Q4_1 GGUF file, for comparison with `seb-bench prefill decode`. llama.cpp
# runs the packed Q4_1 weights directly (as the Swift runtime does). Rows match seb-bench:
#   prefill  T = 128 / 512            llm.reset(); llm.eval(first T prompt ids); last-position logits
#   decode   batch 1                  64 greedy tokens after a 64-token prompt (prompt not timed)
#   decode   8 sequences (aggregate)  the same with 8 sequences in one llama_batch per step, through
#                                     the low-level binding (the high-level Llama API keeps one
#                                     sequence, seq_id 0: it cannot decode 8 sequences in parallel)
#   memory   peak resident set        getrusage ru_maxrss
# Every figure is the median of --repeats runs (default 5).
#
#   python3 Benchmarks/compare/llamacpp_bench.py --model Data/models/SmolLM2-135M-Instruct.Q4_1.gguf \
#     --threads 2 --json
import argparse
import ctypes
import json
import os
import platform
import resource
import statistics
import sys
import time

PROMPT_TEXT = ("Super Bowl 50 was an American football game to determine the champion of the "
               "National Football League. ") * 40


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="Data/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--extra-bufts", action="store_true",
                    help="keep llama.cpp's extra CPU buffer types (AMX, repack). Off by default: on "
                         "this VM the -march=native build picks the AMX-INT8 path for Q4_1, whose "
                         "first tileloadd dies with SIGILL although cpuid and XCR0 report AMX")
    args = ap.parse_args()

    import numpy as np
    import llama_cpp
    from llama_cpp import Llama
    from llama_cpp import _internals as internals

    rows = []

    def report(suite, name, value, unit, note=""):
        rows.append({"suite": suite, "name": name, "value": value, "unit": unit, "note": note})
        if not args.json:
            print(f"{suite:<10} {name:<44} {value:12.2f} {unit} {note}", flush=True)

    def median(f):
        return statistics.median(f() for _ in range(args.repeats))

    if not args.extra_bufts:
        # Same as llama.cpp's --no-repack: model_params.use_extra_bufts = false. For Q4_1 this only
        # drops the AMX buffer type (the CPU repack covers Q4_0/Q4_K/IQ4_NL/Q8_0, not Q4_1).
        import llama_cpp.llama_cpp as lc
        default_params = lc.llama_model_default_params

        def no_extra_bufts():
            p = default_params()
            p.use_extra_bufts = False
            return p
        lc.llama_model_default_params = no_extra_bufts

    path = os.path.abspath(args.model)
    t0 = time.perf_counter()
    llm = Llama(model_path=path, n_ctx=2048, n_batch=512, n_ubatch=512, n_threads=args.threads,
                n_threads_batch=args.threads, logits_all=False, verbose=False)
    load_s = time.perf_counter() - t0
    system_info = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
    if not args.json:
        print(f"llamacpp_bench: {args.threads} threads, llama-cpp-python {llama_cpp.__version__}, "
              f"median of {args.repeats}\n  {system_info}", flush=True)
    report("load", "GGUF mmap + context", load_s, "s")

    prompt = llm.tokenize(PROMPT_TEXT.encode(), add_bos=False, special=False)
    assert len(prompt) >= 512, len(prompt)
    ctx = llm._ctx.ctx
    n_vocab = llm.n_vocab()

    def last_logits_argmax(i=-1):
        p = llama_cpp.llama_get_logits_ith(ctx, i)
        return int(np.argmax(np.ctypeslib.as_array(p, shape=(n_vocab,))))

    for T in [128, 512]:
        ids = prompt[:T]

        def run():
            llm.reset()  # n_tokens = 0: eval() then drops the cache from position 0 on
            t = time.perf_counter()
            llm.eval(ids)
            return time.perf_counter() - t
        run()  # warm-up (weight repack, page faults of the mmap)
        report("prefill", f"T = {T}", T / median(run), "tokens/s")

    steps = 64

    def decode1():
        llm.reset()
        llm.eval(prompt[:64])
        t = time.perf_counter()
        tok = last_logits_argmax()
        for _ in range(steps):
            llm.eval([tok])
            tok = last_logits_argmax()
        return time.perf_counter() - t
    decode1()
    report("decode", "batch 1 (64 tokens after a 64-token prompt)", steps / median(decode1), "tokens/s",
           "greedy argmax, Llama.eval per token")

    # 8 sequences: a second context with n_seq_max = 8 on the same model, driven with llama_batch.
    B = 8
    cparams = llama_cpp.llama_context_default_params()
    cparams.n_ctx = 2048
    cparams.n_batch = 512
    cparams.n_ubatch = 512
    cparams.n_seq_max = B
    cparams.n_threads = args.threads
    cparams.n_threads_batch = args.threads
    ctx8 = internals.LlamaContext(model=llm._model, params=cparams, verbose=False)
    batch = internals.LlamaBatch(n_tokens=512, embd=0, n_seq_max=B, verbose=False)
    bt = batch.batch
    mem = llama_cpp.llama_get_memory(ctx8.ctx)

    def decode8():
        llama_cpp.llama_memory_clear(mem, True)
        batch.reset()
        for b in range(B):  # the same windows as seb-bench: offset 3 per sequence
            batch.add_sequence(prompt[b * 3: b * 3 + 64], b, False)
        if llama_cpp.llama_decode(ctx8.ctx, bt) != 0:
            raise RuntimeError("llama_decode failed on the 8-sequence prompt")
        # llama_get_logits_ith takes the token's index in the batch: the last token of sequence b.
        toks = [int(np.argmax(np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx8.ctx, b * 64 + 63),
                                                    shape=(n_vocab,)))) for b in range(B)]
        t = time.perf_counter()
        for s in range(steps):
            bt.n_tokens = B
            for b in range(B):
                bt.token[b] = toks[b]
                bt.pos[b] = 64 + s
                bt.seq_id[b][0] = b
                bt.n_seq_id[b] = 1
                bt.logits[b] = True
            if llama_cpp.llama_decode(ctx8.ctx, bt) != 0:
                raise RuntimeError("llama_decode failed on a decode step")
            for b in range(B):
                p = llama_cpp.llama_get_logits_ith(ctx8.ctx, b)
                toks[b] = int(np.argmax(np.ctypeslib.as_array(p, shape=(n_vocab,))))
        return time.perf_counter() - t
    decode8()
    report("decode", f"{B} sequences (aggregate)", B * steps / median(decode8), "tokens/s",
           "low-level llama_batch, n_seq_max 8 (not possible through the high-level Llama API)")

    report("memory", "peak resident set", peak_rss_mib(), "MiB")

    if args.json:
        print(json.dumps({
            "program": "llamacpp_bench.py",
            "threads": args.threads,
            "repeats": args.repeats,
            "python": platform.python_version(),
            "llama_cpp_python": llama_cpp.__version__,
            "llama_cpp_system_info": system_info,
            "use_extra_bufts": args.extra_bufts,
            "model": path,
            "model_bytes": os.path.getsize(path),
            "rows": rows,
        }, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
