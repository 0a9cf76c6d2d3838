"""The engine protocol over HTTP (PROTOCOL.md), against the installed model (skipped when absent):
every operation once, the job rules (wait / poll / X-Request-Id), and the failures naming their
field."""
import json
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest

from seb_torch_worker.engine import TorchEngine
from seb_torch_worker.server import Jobs, Service, make_handler

SPEC = {"rank": 4, "alpha": 8, "dropout": 0, "targets": ["q", "v"], "learningRate": 0.001, "epochs": 2,
        "batchSize": 1, "gradientAccumulation": 1, "maxGradNorm": 1, "lossMask": "unpadded", "padLength": 2048,
        "appendEOS": False, "maxLength": 2048}
GREEDY = {"temperature": 0, "topP": 1, "topK": 0, "minP": 0, "presencePenalty": 0}


@pytest.fixture(scope="module")
def worker(real_model):
    jobs = Jobs(Service(TorchEngine(real_model)))
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(jobs, "sekret", 1 << 20, lambda m: None))
    server.daemon_threads = True
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def call(base, path, body=None, token="sekret", headers=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_health_count_chat_prompt(worker):
    s, h = call(worker, "/v1/health", token=None)
    assert s == 200 and h["protocol"] == 1 and h["loaded"] == []
    ident = h["identity"]
    assert ident["engine"] == "torch" and ident["contextLength"] == 8192 and len(ident["modelSHA256"]) == 64
    s, r = call(worker, "/v1/count", {"texts": ["Zed lives in town 7."]})
    assert (s, r["state"], r["result"]) == (200, "done", {"counts": [8]})
    s, r = call(worker, "/v1/chat_prompt", {"system": None, "user": "Where does Zed live?"})
    assert r["result"]["prompt"] == ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by "
                                     "Hugging Face<|im_end|>\n<|im_start|>user\nWhere does Zed live?<|im_end|>\n"
                                     "<|im_start|>assistant\n")


def test_check_fits_and_bad_requests(worker):
    s, r = call(worker, "/v1/check_fits", {"spec": {**SPEC, "rank": 1024}})
    assert s == 422 and r["error"]["kind"] == "model"
    assert r["error"]["message"] == "hyperparameter training.rank: expected <= 192 (the narrowest adapted projection), found 1024"
    s, r = call(worker, "/v1/generate", {"requests": [{"prompt": "x", "sampling": GREEDY, "samples": 1, "seed": 0,
                                                       "stop": []}], "batchSize": 8})
    assert s == 400 and r["error"] == {"kind": "bad_request", "field": "requests[0].maxTokens",
                                       "message": "requests[0].maxTokens: missing"}
    s, r = call(worker, "/v1/generate", {"requests": [{"prompt": "x", "sampling": {**GREEDY, "topP": 0}, "maxTokens": 4,
                                                       "samples": 1, "seed": 0, "stop": []}], "batchSize": 8})
    assert s == 400 and r["error"]["field"] == "requests[0].sampling.topP"
    s, r = call(worker, "/v1/generate", {"requests": [{"prompt": "x", "sampling": GREEDY, "maxTokens": 9000,
                                                       "samples": 1, "seed": 0, "stop": []}], "batchSize": 8})
    assert s == 422 and r["error"]["kind"] == "model" and r["error"]["field"] == "requests[0].maxTokens"
    s, r = call(worker, "/v1/train", {"jobs": [], "adaptersPerStep": 0})
    assert s == 400 and r["error"]["field"] == "adaptersPerStep"
    s, r = call(worker, "/v1/nope", {})
    assert s == 404 and r["error"]["kind"] == "not_found"
    s, r = call(worker, "/v1/count", raw=b"{not json")
    assert s == 400 and r["error"]["field"] == "body"


def test_auth_and_size(worker):
    s, r = call(worker, "/v1/count", {"texts": []}, token=None)
    assert s == 401 and r["error"]["kind"] == "unauthorized"
    s, r = call(worker, "/v1/count", raw=b" " * (2 << 20))
    assert s == 413 and r["error"]["kind"] == "too_large"


def test_train_generate_score_save_release(worker, tmp_path):
    body = {"jobs": [{"sequences": ["Zed lives in town 7.", "Zed is blue."], "seed": 1, "spec": SPEC},
                     {"sequences": ["   "], "seed": 2, "spec": SPEC},
                     {"sequences": ["Zed lives in town 7."], "seed": 3, "spec": {**SPEC, "epochs": 0}}],
            "adaptersPerStep": 16}
    s, r = call(worker, "/v1/train", body, headers={"X-Request-Id": "train-1"})
    assert s == 200 and r["job"] == "train-1"
    res = r["result"]["results"]
    a = res[0]["adapter"]
    assert res[0]["summary"]["steps"] == 4 and res[0]["summary"]["sequences"] == 2 and len(res[0]["summary"]["losses"]) == 4
    assert "no training sequence" in res[1]["failure"]
    assert "epochs" in res[2]["failure"]
    # The same request id attaches to the finished job: nothing is trained twice.
    s2, r2 = call(worker, "/v1/train", body, headers={"X-Request-Id": "train-1"})
    assert r2["result"] == r["result"]

    gen = {"requests": [{"prompt": "Topic: Zed\nWhere does Zed live?\nAnswer:", "sampling": GREEDY, "maxTokens": 8,
                         "samples": 1, "seed": 0, "stop": ["\n"], "adapter": a},
                        {"prompt": "Where does Zed live?", "sampling": {**GREEDY, "temperature": 1.0}, "maxTokens": 5,
                         "samples": 2, "seed": 7, "stop": []}], "batchSize": 8}
    s, r = call(worker, "/v1/generate?wait=0", gen, headers={"X-Request-Id": "gen-1"})
    if s == 202:
        assert r["state"] == "running"
        s, r = call(worker, "/v1/jobs/gen-1?wait=60")
    assert s == 200
    g = r["result"]["generations"]
    assert [(x["request"], x["sample"]) for x in g] == [(0, 0), (1, 0), (1, 1)]
    assert g[0]["finish"] in ("stop_string", "stop_token", "length")
    if g[0]["finish"] == "stop_string":
        assert g[0]["text"].endswith("\n")

    s, r = call(worker, "/v1/score", {"items": [{"prompt": "Where does Zed live? Answer:", "continuation": " town 7",
                                                 "adapter": a},
                                                {"prompt": "Where does Zed live? Answer:", "continuation": " town 7"},
                                                {"prompt": "x", "continuation": ""}]})
    lp = r["result"]["logprobs"]
    assert len(lp[0]) == len(lp[1]) == 3 and lp[0] != lp[1] and lp[2] == []

    s, r = call(worker, "/v1/save_adapter", {"adapter": a, "directory": str(tmp_path / "ad")})
    assert s == 200 and (tmp_path / "ad" / "adapter_model.safetensors").exists()
    s, r = call(worker, "/v1/release", {"adapters": [a, 999]})
    assert s == 200
    s, r = call(worker, "/v1/score", {"items": [{"prompt": "x", "continuation": "y", "adapter": a}]})
    assert s == 404 and r["error"]["kind"] == "unknown_adapter" and r["error"]["adapter"] == a
    s, r = call(worker, "/v1/jobs/never-sent")
    assert s == 404 and r["error"]["kind"] == "not_found"


def test_chat_completions(worker):
    s, r = call(worker, "/v1/chat/completions", {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 6})
    assert s == 200 and r["object"] == "chat.completion" and r["choices"][0]["message"]["role"] == "assistant"
    assert r["usage"]["completion_tokens"] <= 6


def test_models(worker):
    s, r = call(worker, "/v1/count", {"model": "/nowhere/proposer.gguf", "texts": ["a"]})
    assert s == 404 and r["error"]["kind"] == "unknown_model" and r["error"]["field"] == "model"
    s, r = call(worker, "/v1/load", {"path": "/nowhere/proposer.gguf"})
    assert s == 422 and r["error"]["field"] == "path"
    s, h = call(worker, "/v1/health", token=None)
    own = h["identity"]["modelPath"]
    s, r = call(worker, "/v1/load", {"path": own})
    assert s == 200 and r["result"]["identity"]["modelPath"] == own
    s, r = call(worker, "/v1/count", {"model": own, "texts": ["a b"]})
    assert s == 200
