"""python -m seb_torch_worker --model PATH --port N: the engine protocol over a PyTorch model."""
import argparse
import sys


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m seb_torch_worker",
        description="Serve a model over SelfEditBench's engine protocol (Sources/EngineAPI/PROTOCOL.md): "
                    "batched generation, scoring and many LoRA adapters trained in lockstep, on PyTorch.",
        epilog="example: python -m seb_torch_worker --model Data/models/SmolLM2-135M-Instruct.Q4_1.gguf --port 8765")
    ap.add_argument("--model", required=True, help="a .gguf file or a Hugging Face model directory")
    ap.add_argument("--port", type=int, default=8765, help="TCP port (0: any free port; see --port-file)")
    ap.add_argument("--host", default="127.0.0.1", help="bind address; beyond loopback needs --token-env")
    ap.add_argument("--token-env", default=None, help="environment variable holding the bearer token")
    ap.add_argument("--max-request-mb", type=int, default=256, help="largest request body (default 256)")
    ap.add_argument("--device", default=None, help="torch device (default: cuda if available, else cpu)")
    ap.add_argument("--bf16", action="store_true", help="bfloat16 autocast (recorded as the identity's dtype)")
    ap.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's)")
    ap.add_argument("--name", default="torch", help="the model name in chat completion replies")
    ap.add_argument("--port-file", default=None, help="write the bound port here once listening")
    ap.add_argument("--log", action="store_true", help="log every HTTP request on stderr")
    args = ap.parse_args(argv)
    from .server import serve
    return serve(args)


if __name__ == "__main__":
    sys.exit(main())
