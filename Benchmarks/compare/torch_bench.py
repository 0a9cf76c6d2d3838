#!/usr/bin/env python3
# torch_bench.py: what a user of HF transformers + PEFT would get on this CPU, for comparison with
# `seb-bench prefill decode train`. The model is loaded from the same Q4_1 GGUF file; transformers
# dequantizes every tensor to float32 on load, so this measures a float32 model (the Swift runtime
# streams the packed Q4_1 weights instead). Rows match seb-bench's suites and names:
#   prefill  T = 512                  one no-grad forward of 512 tokens, last-position logits only
#   decode   batch 1 / 8 sequences    HF generate, greedy, 64 new tokens after a 64-token prompt
#   train    q,v r32 / all7 r64 T=N   PEFT LoRA, AdamW lr 1e-4, one full step (fwd + bwd + step)
#   memory   peak resident set        getrusage ru_maxrss (monotone: also reported per phase)
# Every figure is the median of --repeats runs (default 5). Prompt text, token windows and the
# random training ids are the same on every run (fixed text; torch.manual_seed(0)).
#
#   python3 Benchmarks/compare/torch_bench.py --model Data/models/SmolLM2-135M-Instruct.Q4_1.gguf \
#     --threads 2 --json
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
import warnings

PROMPT_TEXT = ("Super Bowl 50 was an American football game to determine the champion of the "
               "National Football League. ") * 40


def peak_rss_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", default="Data/models/SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--suites", default="prefill,decode,train",
                    help="comma-separated subset of prefill,decode,train")
    ap.add_argument("--train-lengths", default="64,256,1024", help="sequence lengths for train")
    args = ap.parse_args()
    suites = set(args.suites.split(","))

    warnings.filterwarnings("ignore")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is a local file; never reach the hub
    os.environ.setdefault("TQDM_DISABLE", "1")
    import torch
    import transformers
    import peft
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    rows = []

    def report(suite, name, value, unit, note=""):
        rows.append({"suite": suite, "name": name, "value": value, "unit": unit, "note": note})
        if not args.json:
            print(f"{suite:<10} {name:<44} {value:12.2f} {unit} {note}", flush=True)

    def median(f):
        return statistics.median(f() for _ in range(args.repeats))

    path = os.path.abspath(args.model)
    d, name = os.path.dirname(path), os.path.basename(path)
    t0 = time.perf_counter()
    tok = AutoTokenizer.from_pretrained(d, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(d, gguf_file=name, dtype=torch.float32)
    model.eval()
    load_s = time.perf_counter() - t0
    attn = getattr(model.config, "_attn_implementation", "?")
    if not args.json:
        print(f"torch_bench: {args.threads} threads, torch {torch.__version__}, transformers "
              f"{transformers.__version__}, peft {peft.__version__}, float32, attention {attn}, "
              f"median of {args.repeats}", flush=True)
    report("load", "GGUF -> float32 model + tokenizer", load_s, "s")
    report("memory", "resident set after load", peak_rss_mib(), "MiB")

    prompt = tok(PROMPT_TEXT, add_special_tokens=False)["input_ids"]
    assert len(prompt) >= 512, len(prompt)

    if "prefill" in suites:
        for T in [128, 512]:
            ids = torch.tensor([prompt[:T]])

            def run():
                with torch.inference_mode():
                    t = time.perf_counter()
                    # logits_to_keep=1: last-position logits only, as generate's prefill and seb's .last
                    model(input_ids=ids, use_cache=False, logits_to_keep=1)
                    return time.perf_counter() - t
            run()  # warm-up (allocator, oneDNN primitive caches)
            report("prefill", f"T = {T}", T / median(run), "tokens/s")

    if "decode" in suites:
        gen_cfg = dict(do_sample=False, num_beams=1, pad_token_id=tok.pad_token_id or 2)
        for B in [1, 8]:
            # B different 64-token windows of the prompt (offset 3 per sequence, as seb-bench): equal
            # lengths, so no padding and an all-ones attention mask.
            ids = torch.tensor([prompt[b * 3: b * 3 + 64] for b in range(B)])
            mask = torch.ones_like(ids)

            def gen(n):
                with torch.inference_mode():
                    t = time.perf_counter()
                    out = model.generate(input_ids=ids, attention_mask=mask, max_new_tokens=n,
                                         min_new_tokens=n, **gen_cfg)
                    dt = time.perf_counter() - t
                assert out.shape[1] == 64 + n, out.shape
                return dt
            gen(4)  # warm-up
            t64 = median(lambda: gen(64))
            t1 = median(lambda: gen(1))  # prefill of the 64-token prompt + first token
            label = "batch 1 (64 tokens after a 64-token prompt)" if B == 1 else f"{B} sequences (aggregate)"
            # Decode-only rate (what seb-bench times): the 63 steps after the first token.
            report("decode", label, B * 63 / (t64 - t1), "tokens/s",
                   f"generate end-to-end incl. prefill: {B * 64 / t64:.2f} tokens/s")
        report("memory", "peak resident set after inference", peak_rss_mib(), "MiB")

    if "train" in suites:
        from peft import LoraConfig, get_peft_model
        all7 = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]
        V = model.config.vocab_size
        for cfg_name, targets, r in [("q,v r32", ["q_proj", "v_proj"], 32), ("all7 r64", all7, 64)]:
            for T in [int(x) for x in args.train_lengths.split(",")]:
                # A fresh LoRA on the same base for each shape (peft wraps the base in place, so
                # unload() restores it before the next configuration).
                lcfg = LoraConfig(r=r, lora_alpha=2 * r, target_modules=targets, lora_dropout=0.0,
                                  bias="none", task_type="CAUSAL_LM")
                pm = get_peft_model(model, lcfg)
                pm.train()
                params = [p for p in pm.parameters() if p.requires_grad]
                n_trainable = sum(p.numel() for p in params)
                opt = torch.optim.AdamW(params, lr=1e-4)
                g = torch.Generator().manual_seed(T)
                ids = torch.randint(0, V, (1, T), generator=g)

                def step():
                    t = time.perf_counter()
                    opt.zero_grad(set_to_none=True)
                    out = pm(input_ids=ids, labels=ids, use_cache=False)
                    out.loss.backward()
                    opt.step()
                    return time.perf_counter() - t
                step()  # warm-up (also allocates AdamW state)
                dt = median(step)
                report("train", f"{cfg_name} T = {T}", T / dt, "tokens/s",
                       f"{dt * 1000:.0f} ms/step, {n_trainable / 1e6:.2f}M trainable")
                del opt
                model = pm.unload()  # drop the adapter, keep the float32 base
                del pm
        report("memory", "peak resident set after training", peak_rss_mib(), "MiB")

    report("memory", "peak resident set", peak_rss_mib(), "MiB")

    if args.json:
        print(json.dumps({
            "program": "torch_bench.py",
            "threads": args.threads,
            "repeats": args.repeats,
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
            "dtype": "float32",
            "attention": attn,
            "torch_parallel": torch.__config__.parallel_info().splitlines()[:4],
            "model": path,
            "model_bytes": os.path.getsize(path),
            "rows": rows,
        }, indent=2, sort_keys=True))


if __name__ == "__main__":
    sys.exit(main())
