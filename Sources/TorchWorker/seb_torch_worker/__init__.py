"""The PyTorch engine worker of SelfEditBench: the Swift engine interface (EngineAPI) over a
Hugging Face model, with K LoRA adapters trained in lockstep. See ../README.md."""
import os

# A local model file or directory is all the worker reads: never the hub, no progress bars on
# stderr (tqdm reads this when it is first imported).
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TQDM_DISABLE", "1")
