"""The engine protocol (Sources/EngineAPI/PROTOCOL.md, version 1) over HTTP/1.1 + JSON, on the
standard library's ThreadingHTTPServer.

Every operation is a job on one worker thread (one model on one device computes one thing at a
time), in arrival order. `POST /v1/<op>?wait=S` waits up to S seconds (default 20, at most 60)
and answers 200 done / 202 running (poll `GET /v1/jobs/<id>?wait=S`) / an error status with the
failure. A second post under a known `X-Request-Id` attaches to that job instead of running it
again; the last 64 finished jobs are kept. Failures are `{"kind", "message", "field"?,
"adapter"?}` and name the JSON path of the offending field. Non-finite floats travel as the
strings "NaN", "Infinity", "-Infinity" (Python's json would write them bare).
"""
from __future__ import annotations

import json
import math
import os
import signal
import sys
import threading
import time
import uuid
from collections import OrderedDict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from . import model as M
from .engine import EngineRequestError, TorchEngine, UnknownAdapter
from .spec import SpecError, TrainingSpec

PROTOCOL = 1
OPS = ("count", "chat_prompt", "check_fits", "generate", "train", "score", "save_adapter", "release",
       "proposer_update", "load")


class Refusal(Exception):
    """A failure to reply with: HTTP status + the protocol's failure object."""

    def __init__(self, status: int, kind: str, message: str, field: str | None = None, adapter: int | None = None):
        self.status = status
        self.failure = {"kind": kind, "message": message}
        if field is not None:
            self.failure["field"] = field
        if adapter is not None:
            self.failure["adapter"] = adapter
        super().__init__(message)


def bad(field: str, message: str) -> Refusal:
    return Refusal(400, "bad_request", f"{field}: {message}", field=field)


# MARK: JSON in and out

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _clean(v):
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    if isinstance(v, dict):
        return {k: _clean(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_clean(x) for x in v]
    return v


def dumps(obj) -> bytes:
    return json.dumps(_clean(obj), sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


class Fields:
    """Strict reading of one JSON object, every error naming its path (`requests[2].seed`)."""

    def __init__(self, obj, path: str = ""):
        if not isinstance(obj, dict):
            raise bad(path or "body", "expected a JSON object")
        self.obj, self.path = obj, path

    def key(self, k: str) -> str:
        return f"{self.path}.{k}" if self.path else k

    def has(self, k: str) -> bool:
        return self.obj.get(k) is not None

    def raw(self, k: str, optional: bool = False):
        if self.obj.get(k) is None:
            if optional:
                return None
            raise bad(self.key(k), "missing" if k not in self.obj else "expected a value, found null")
        return self.obj[k]

    def int(self, k: str, optional: bool = False, lo: int | None = None):
        v = self.raw(k, optional)
        if v is None:
            return None
        if isinstance(v, bool) or not isinstance(v, (int, float)) or (isinstance(v, float) and not v.is_integer()):
            raise bad(self.key(k), f"expected an integer, found {json.dumps(v)[:60]}")
        v = int(v)
        if lo is not None and v < lo:
            raise bad(self.key(k), f"expected an integer >= {lo}, found {v}")
        return v

    def uint64(self, k: str, optional: bool = False):
        v = self.int(k, optional)
        if v is not None and not 0 <= v < 1 << 64:
            raise bad(self.key(k), f"expected an unsigned 64-bit integer, found {v}")
        return v

    def num(self, k: str, optional: bool = False):
        v = self.raw(k, optional)
        if v is None:
            return None
        if isinstance(v, str) and v in _NONFINITE:
            return _NONFINITE[v]
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise bad(self.key(k), f"expected a number, found {json.dumps(v)[:60]}")
        return float(v)

    def str(self, k: str, optional: bool = False):
        v = self.raw(k, optional)
        if v is not None and not isinstance(v, str):
            raise bad(self.key(k), f"expected a string, found {json.dumps(v)[:60]}")
        return v

    def bool(self, k: str, optional: bool = False):
        v = self.raw(k, optional)
        if v is not None and not isinstance(v, bool):
            raise bad(self.key(k), f"expected true or false, found {json.dumps(v)[:60]}")
        return v

    def list(self, k: str, optional: bool = False):
        v = self.raw(k, optional)
        if v is not None and not isinstance(v, list):
            raise bad(self.key(k), f"expected an array, found {json.dumps(v)[:60]}")
        return v

    def strings(self, k: str):
        v = self.list(k)
        for i, x in enumerate(v):
            if not isinstance(x, str):
                raise bad(f"{self.key(k)}[{i}]", f"expected a string, found {json.dumps(x)[:60]}")
        return v

    def obj_at(self, k: str, optional: bool = False):
        v = self.raw(k, optional)
        return None if v is None else Fields(v, self.key(k))

    def items(self, k: str):
        return [Fields(x, f"{self.key(k)}[{i}]") for i, x in enumerate(self.list(k))]


def read_spec(f: Fields) -> TrainingSpec:
    """A TrainingSpec as Swift's Codable decodes it: every key required but maxGradNorm; the
    ranges are checked per job by the trainer (a job with bad settings fails alone)."""
    s = TrainingSpec(
        rank=f.int("rank"), alpha=f.num("alpha"), dropout=f.num("dropout"), targets=f.strings("targets"),
        learningRate=f.num("learningRate"), epochs=f.int("epochs"), batchSize=f.int("batchSize"),
        gradientAccumulation=f.int("gradientAccumulation"), maxGradNorm=f.num("maxGradNorm", optional=True),
        lossMask=f.str("lossMask"), padLength=f.int("padLength"), appendEOS=f.bool("appendEOS"),
        maxLength=f.int("maxLength"))
    return s


# MARK: the operations

class Service:
    """The protocol's operations over the worker's own engine and the models `load` loaded (the
    most recent `keep_models`); adapter handles are worker-wide, so a handle names its model."""

    def __init__(self, engine: TorchEngine, device=None, bf16: bool = False, keep_models: int = 2):
        self.engine = engine
        self.device, self.bf16, self.keep_models = device, bf16, keep_models
        self.models: OrderedDict = OrderedDict()  # abs path -> TorchEngine

    def health(self) -> dict:
        return {"protocol": PROTOCOL, "identity": self.engine.identity(), "loaded": list(self.models)}

    def model(self, f: Fields) -> TorchEngine:
        path = f.str("model", optional=True)
        if path is None or os.path.abspath(path) == os.path.abspath(self.engine.lm.path):
            return self.engine
        e = self.models.get(os.path.abspath(path))
        if e is None:
            raise Refusal(404, "unknown_model", f"model {path} is not loaded here (send load first)", field="model")
        return e

    def run(self, op: str, body: bytes, progress) -> dict:
        try:
            obj = json.loads(body.decode("utf-8") if body else "")
        except (UnicodeDecodeError, ValueError) as e:
            raise bad("body", f"expected a JSON object: {e}")
        f = Fields(obj)
        try:
            return getattr(self, "op_" + op)(f, progress)
        except Refusal:
            raise
        except UnknownAdapter as e:
            raise Refusal(404, "unknown_adapter", str(e), adapter=e.handle)
        except EngineRequestError as e:
            raise Refusal(400 if e.kind == "bad_request" else 422, e.kind, str(e), field=e.field)
        except SpecError as e:
            raise bad(e.key, f"expected {e.expected}, found {e.found}")
        except Exception as e:  # anything else the worker hit: the job fails, the worker stays
            raise Refusal(422, "failed", f"{type(e).__name__}: {e}")

    def op_count(self, f, progress):
        e = self.model(f)
        return {"counts": e.count_tokens(f.strings("texts"))}

    def op_chat_prompt(self, f, progress):
        e = self.model(f)
        return {"prompt": e.chat_prompt(f.str("system", optional=True), f.str("user"))}

    def op_check_fits(self, f, progress):
        e = self.model(f)
        spec = read_spec(f.obj_at("spec"))
        try:
            e.check_fits(spec)
        except EngineRequestError as err:
            raise Refusal(422, "model", f"hyperparameter {err}")
        return {}

    def op_generate(self, f, progress):
        e = self.model(f)
        batch = f.int("batchSize")
        if batch < 1:
            raise bad("batchSize", f"expected >= 1, found {batch}")
        reqs = []
        for r in f.items("requests"):
            s = r.obj_at("sampling")
            g = r.obj_at("grammar", optional=True)
            reqs.append({
                "prompt": r.str("prompt"), "maxTokens": r.int("maxTokens"), "samples": r.int("samples"),
                "seed": r.uint64("seed"), "stop": r.strings("stop"), "adapter": r.int("adapter", optional=True),
                "jsonSchema": None if g is None else (g.str("name"), g.str("jsonSchema"))[1],
                "sampling": {"temperature": s.num("temperature"), "topP": s.num("topP"), "topK": s.int("topK"),
                             "minP": s.num("minP"), "presencePenalty": s.num("presencePenalty")},
            })
        return {"generations": e.generate(reqs, batch_size=batch, progress=progress)}

    def op_train(self, f, progress):
        e = self.model(f)
        k = f.int("adaptersPerStep")
        if not 1 <= k <= 64:
            raise bad("adaptersPerStep", f"expected 1...64, found {k}")
        jobs = [(j.strings("sequences"), read_spec(j.obj_at("spec")), j.uint64("seed")) for j in f.items("jobs")]
        out = []
        for r in e.train(jobs, adapters_per_step=k, progress=progress):
            out.append({"failure": r["error"]} if "error" in r else {"adapter": r["adapter"], "summary": r["summary"]})
        return {"results": out}

    def op_score(self, f, progress):
        e = self.model(f)
        items = [{"prompt": it.str("prompt"), "continuation": it.str("continuation"),
                  "adapter": it.int("adapter", optional=True)} for it in f.items("items")]
        return {"logprobs": e.score(items)}

    def _owner(self, handle: int) -> TorchEngine:
        for e in [self.engine, *self.models.values()]:
            if handle in e.adapters:
                return e
        raise UnknownAdapter(handle)

    def op_save_adapter(self, f, progress):
        h = f.int("adapter")
        self._owner(h).save_adapter(h, f.str("directory"))
        return {}

    def op_release(self, f, progress):
        for i, x in enumerate(f.list("adapters")):
            if isinstance(x, bool) or not isinstance(x, int):
                raise bad(f"adapters[{i}]", f"expected an integer, found {json.dumps(x)[:60]}")
        for e in [self.engine, *self.models.values()]:
            e.release(f.list("adapters"))
        return {}

    def op_load(self, f, progress):
        path = f.str("path")
        ap = os.path.abspath(path)
        if ap == os.path.abspath(self.engine.lm.path):
            return {"identity": self.engine.identity()}
        if ap in self.models:
            self.models.move_to_end(ap)
            return {"identity": self.models[ap].identity()}
        if not os.path.exists(path):
            raise Refusal(422, "failed", f"model {path} not found (a .gguf file or a Hugging Face model directory)",
                          field="path")
        lm = M.load(path, device=str(self.engine.lm.device), bf16=self.bf16)
        self.models[ap] = TorchEngine(lm, handles=self.engine.handles)
        while len(self.models) > self.keep_models:
            self.models.popitem(last=False)  # its adapters go with it
            _free_device_memory()
        return {"identity": self.models[ap].identity()}

    def op_proposer_update(self, f, progress):
        from .proposer import proposer_update
        e = self.model(f)
        s = f.obj_at("spec")
        spec = {"rank": s.int("rank"), "alpha": s.num("alpha"), "learningRate": s.num("learningRate"),
                "epochs": s.int("epochs"), "gradientAccumulation": s.int("gradientAccumulation"),
                "maxLength": s.int("maxLength"), "seed": s.uint64("seed")}
        rows = [(r.str("prompt"), r.str("completion")) for r in f.items("rows")]
        messages = []
        log = proposer_update(e, rows, spec, f.str("out"), messages.append)
        return {"log": log, "messages": messages}

    def chat_completion(self, body: bytes) -> tuple:
        """OpenAI's /v1/chat/completions (ChatCompletions.swift): the last system and user
        messages, temperature (default 0), top_p, max_tokens (default 512), seed."""
        try:
            obj = json.loads(body.decode("utf-8"))
            msgs = obj["messages"]
            assert isinstance(msgs, list) and msgs
        except Exception:
            return 400, {"error": {"message": 'expected {"messages": [{"role", "content"}, ...]}'}}
        system, user = None, ""
        for m in msgs:
            content = m.get("content") or ""
            if m.get("role") == "system":
                system = content
            else:
                user = content
        e = self.engine
        try:
            max_tokens = min(int(obj.get("max_tokens") or 512), e.lm.context_length // 2)
            req = {"prompt": e.chat_prompt(system, user), "maxTokens": max_tokens, "seed": int(obj.get("seed") or 0),
                   "sampling": {"temperature": float(obj.get("temperature") or 0), "topP": float(obj.get("top_p") or 1)}}
            g = e.generate([req], batch_size=8)[0]
        except Exception as err:
            return 400, {"error": {"message": str(err)}}
        return 200, {"object": "chat.completion", "model": self.name,
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": g["text"]},
                                  "finish_reason": "length" if g["finish"] == "length" else "stop"}],
                     "usage": {"prompt_tokens": g["promptTokens"], "completion_tokens": g["tokens"]}}

    name = "torch"


def _free_device_memory():
    import gc
    import torch
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


# MARK: jobs

class Job:
    def __init__(self, id: str):
        self.id = id
        self.state = "queued"
        self.progress = [0, 0]
        self.result = None  # bytes of the result message
        self.refusal: Refusal | None = None
        self.done = threading.Event()

    def reply(self) -> tuple:
        head = {"job": self.id}
        if self.state == "done":
            return 200, b'{"job":' + json.dumps(self.id).encode() + b',"result":' + self.result + b',"state":"done"}'
        if self.state == "failed":
            return self.refusal.status, dumps({**head, "state": "failed", "error": self.refusal.failure})
        return 202, dumps({**head, "state": "running", "progress": self.progress})


class Jobs:
    """One worker thread runs the jobs in arrival order; finished jobs are kept (the last `keep`)
    for clients that poll or re-post after a lost connection."""

    def __init__(self, service: Service, keep: int = 64):
        self.service, self.keep = service, keep
        self.lock = threading.Lock()
        self.jobs: OrderedDict = OrderedDict()
        self.queue: deque = deque()
        self.wake = threading.Condition(self.lock)
        self.stopping = False
        self.idle = threading.Event()
        self.idle.set()
        self.thread = threading.Thread(target=self._loop, name="engine", daemon=True)
        self.thread.start()

    def submit(self, id: str, work) -> Job:
        with self.lock:
            if id in self.jobs:
                return self.jobs[id]
            job = Job(id)
            job.work = work
            self.jobs[id] = job
            # Forget the oldest finished jobs beyond the bound (queued and running ones stay).
            while len(self.jobs) > self.keep:
                old = next(iter(self.jobs.values()))
                if not old.done.is_set():
                    break
                self.jobs.popitem(last=False)
            if self.stopping:
                self._fail(job, Refusal(503, "unavailable", "the worker is stopping"))
            else:
                self.queue.append(job)
                self.wake.notify()
            return job

    def get(self, id: str):
        with self.lock:
            return self.jobs.get(id)

    def _fail(self, job: Job, r: Refusal) -> None:
        job.refusal, job.state = r, "failed"
        job.done.set()

    def _loop(self):
        while True:
            with self.lock:
                while not self.queue:
                    self.wake.wait()
                job = self.queue.popleft()
                job.state = "running"
                self.idle.clear()

            def progress(done, total, job=job):
                job.progress = [int(done), int(total)]
            try:
                job.result = dumps(job.work(progress))
                job.state = "done"
            except Refusal as r:
                job.refusal, job.state = r, "failed"
            except BaseException as e:  # never a dead worker thread
                job.refusal, job.state = Refusal(422, "failed", f"{type(e).__name__}: {e}"), "failed"
            job.work = None
            job.done.set()
            with self.lock:
                if not self.queue:
                    self.idle.set()

    def run(self, work):
        """Runs `work` on the engine thread after every job before it; returns its value."""
        box = {}

        def call(progress):
            box["v"] = work()
            return {}
        job = self.submit("internal-" + uuid.uuid4().hex, call)
        job.done.wait()
        if job.state == "failed":
            raise job.refusal
        return box.get("v")

    def drain(self):
        """Lets the running job finish; queued jobs fail with 503 (their clients resend them)."""
        with self.lock:
            self.stopping = True
            while self.queue:
                self._fail(self.queue.popleft(), Refusal(503, "unavailable", "the worker is stopping"))
        self.idle.wait()


# MARK: HTTP

def make_handler(jobs: Jobs, token: str | None, max_bytes: int, log):
    service = jobs.service

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive
        server_version = "seb-torch-worker"

        def log_message(self, fmt, *args):
            log(fmt % args)

        def _send(self, status: int, body: bytes):
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _failure(self, r: Refusal):
            self._send(r.status, dumps({"state": "failed", "error": r.failure}))

        def _authorized(self) -> bool:
            if not token:
                return True
            if self.headers.get("Authorization") == f"Bearer {token}":
                return True
            self._failure(Refusal(401, "unauthorized", "a bearer token is required"))
            return False

        def _wait_seconds(self) -> float:
            q = parse_qs(urlparse(self.path).query)
            try:
                return min(60.0, max(0.0, float(q.get("wait", ["20"])[0])))
            except ValueError:
                return 20.0

        def _body(self):
            n = int(self.headers.get("Content-Length") or 0)
            if n > max_bytes:
                self.close_connection = True
                self._failure(Refusal(413, "too_large", f"request body above {max_bytes} bytes (--max-request-mb)"))
                return None
            return self.rfile.read(n)

        def do_GET(self):
            path = urlparse(self.path).path
            if path == "/v1/health":
                return self._send(200, dumps(service.health()))
            if not self._authorized():
                return
            if path.startswith("/v1/jobs/"):
                job = jobs.get(path[len("/v1/jobs/"):])
                if job is None:
                    return self._failure(Refusal(404, "not_found", f"no job {path[9:]} (finished and forgotten, or never sent)"))
                job.done.wait(self._wait_seconds())
                return self._send(*job.reply())
            self._failure(Refusal(404, "not_found", f"no route GET {path}"))

        def do_POST(self):
            path = urlparse(self.path).path
            if not self._authorized():
                return
            body = self._body()
            if body is None:
                return
            if path == "/v1/chat/completions":
                box = {}
                jobs.run(lambda: box.update(r=service.chat_completion(body)))
                status, obj = box["r"]
                return self._send(status, dumps(obj))
            op = path[len("/v1/"):] if path.startswith("/v1/") else ""
            if op not in OPS:
                return self._failure(Refusal(404, "not_found", f"no operation {op or path}"))
            id = self.headers.get("X-Request-Id") or str(uuid.uuid4())
            job = jobs.submit(id, lambda progress: service.run(op, body, progress))
            job.done.wait(self._wait_seconds())
            self._send(*job.reply())

    return Handler


def serve(args) -> int:
    log = (lambda m: print(m, file=sys.stderr, flush=True)) if args.log else (lambda m: None)
    token = None
    if args.token_env:
        token = os.environ.get(args.token_env)
        if not token:
            print(f"--token-env {args.token_env}: the environment variable is not set or empty", file=sys.stderr)
            return 64
    if args.host not in ("127.0.0.1", "localhost", "::1") and not token:
        print(f"--host {args.host} is reachable from other machines: give a bearer token with --token-env NAME",
              file=sys.stderr)
        return 64
    t0 = time.perf_counter()
    try:
        lm = M.load(args.model, device=args.device, bf16=args.bf16, threads=args.threads)
    except (OSError, ValueError) as e:
        print(f"{args.model}: {e}", file=sys.stderr)
        return 66 if isinstance(e, FileNotFoundError) else 65
    service = Service(TorchEngine(lm), device=args.device, bf16=args.bf16)
    service.name = args.name
    jobs = Jobs(service)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(jobs, token, args.max_request_mb << 20, log))
    server.daemon_threads = True
    ident = lm.identity()
    print(f"seb torch worker on http://{args.host}:{server.server_address[1]} ({ident['model']}, {ident['dtype']}, "
          f"{ident['device']}, loaded in {time.perf_counter() - t0:.1f} s)", file=sys.stderr, flush=True)
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as fh:
            fh.write(str(server.server_address[1]))
        os.replace(args.port_file + ".tmp", args.port_file)
    stops = []

    def stop(signum, frame):
        stops.append(signum)
        if len(stops) > 1:
            os._exit(130)
        print("stopping: letting the running job finish (interrupt again to quit now)", file=sys.stderr, flush=True)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    server.serve_forever()
    jobs.drain()
    server.server_close()
    return 0
