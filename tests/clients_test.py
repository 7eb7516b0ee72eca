"""Consumers' own clients against cairn's gateway: OpenAI's `openai` package
(completions, chat completions, models, every error class) and Triton's
`tritonclient.http` (KServe v2 with binary and JSON tensors, metadata,
configuration, versions, BYTES text, concurrent async inference), exactly as
published on PyPI. tests/clients_test.cc starts the cluster and runs this;
it writes what the clients were told they used (usage, requests) to
--report, which the C++ side checks against the ledger's charges.

Each check prints PASS or FAIL with its name; the exit status is the number
of failures (0: all passed)."""
import argparse
import concurrent.futures
import json
import re
import sys
import traceback
import urllib.error
import urllib.request

import numpy as np
import openai
import tritonclient.http as triton
from tritonclient.utils import InferenceServerException

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--gateway", required=True, help="host:port of the coordinator's gateway")
parser.add_argument("--key", required=True, help="an API key with credits")
parser.add_argument("--broke-key", required=True, help="an API key whose account has no credits")
parser.add_argument("--text-model", required=True)
parser.add_argument("--image-model", required=True)
parser.add_argument("--images", required=True, help="Fashion-MNIST test records: label byte then 784 pixels each")
parser.add_argument("--report", required=True, help="where to write the usage the clients were told")
args = parser.parse_args()

TEXT, IMAGE = args.text_model, args.image_model


def auth():
    # A new dict each call: tritonclient writes Inference-Header-Content-Length
    # into the headers it is given, and a shared dict would carry it on.
    return {"Authorization": "Bearer " + args.key}


client = openai.OpenAI(base_url=f"http://{args.gateway}/v1", api_key=args.key, max_retries=0, timeout=120)
records = np.fromfile(args.images, dtype=np.uint8).reshape(-1, 785)
labels = records[:, 0].astype(np.int64)
images = (records[:, 1:].astype(np.float32) / 255.0).reshape(-1, 1, 28, 28)

# What every successful billed request was told it used.
report = {"text_requests": 0, "tokens": 0, "image_requests": 0}
failures = []


def billed_text(usage):
    report["text_requests"] += 1
    report["tokens"] += usage.total_tokens if hasattr(usage, "total_tokens") else usage


def check(fn):
    try:
        fn()
        print("PASS", fn.__name__, flush=True)
    except Exception:  # noqa: BLE001 - every failure is reported, then counted
        failures.append(fn.__name__)
        print("FAIL", fn.__name__, flush=True)
        traceback.print_exc()
    return fn


def expect_raises(kind, call):
    try:
        call()
    except kind as e:
        return e
    raise AssertionError(f"expected {kind.__name__}")


def metric(name_and_labels):
    body = urllib.request.urlopen(f"http://{args.gateway}/metrics", timeout=30).read().decode()
    m = re.search(re.escape(name_and_labels) + r" (\d+)", body)
    return int(m.group(1)) if m else 0


# ---------------------------------------------------------------- OpenAI ---


@check
def models_list_and_retrieve():
    ids = {m.id for m in client.models.list()}
    assert {TEXT, IMAGE} <= ids, ids
    m = client.models.retrieve(TEXT)
    assert m.id == TEXT and m.object == "model" and m.owned_by, m
    e = expect_raises(openai.NotFoundError, lambda: client.models.retrieve("no-such-model"))
    assert e.status_code == 404


def complete(**kw):
    r = client.completions.create(model=TEXT, **kw)
    billed_text(r.usage)
    return r


@check
def completion_plain():
    r = complete(prompt="ROMEO:", max_tokens=20, seed=1)
    assert r.object == "text_completion" and r.model == TEXT and r.id, r
    assert len(r.choices) == 1 and r.choices[0].index == 0
    assert r.choices[0].finish_reason == "length"
    assert r.usage.prompt_tokens == 6 and r.usage.completion_tokens == 20, r.usage
    assert r.usage.total_tokens == 26
    # The same seed, the same text; token ids are the same prompt.
    again = complete(prompt=[ord(c) for c in "ROMEO:"], max_tokens=20, seed=1)
    assert again.choices[0].text == r.choices[0].text, (again.choices[0].text, r.choices[0].text)


@check
def completion_prompts_and_n():
    r = complete(prompt=["ROMEO:", "JULIET:"], n=2, max_tokens=8, seed=3, user="consumer-42")
    assert [c.index for c in r.choices] == [0, 1, 2, 3], r.choices
    assert r.usage.completion_tokens == 32, r.usage
    # Choices 0 and 1 answer the first prompt: a second draw, not a copy.
    assert r.choices[0].text != r.choices[1].text or r.choices[2].text != r.choices[3].text
    ids = complete(prompt=[[ord(c) for c in "ROMEO:"], [ord(c) for c in "JULIET:"]], max_tokens=4, seed=3)
    assert len(ids.choices) == 2 and ids.usage.prompt_tokens == 13, ids.usage


@check
def completion_logprobs_and_echo():
    r = complete(prompt="ROMEO:", max_tokens=5, logprobs=2, echo=True, seed=7)
    c = r.choices[0]
    assert c.text.startswith("ROMEO:") and len(c.text.encode()) == 11, repr(c.text)
    lp = c.logprobs
    assert len(lp.tokens) == 11 and len(lp.token_logprobs) == 11 and len(lp.text_offset) == 11, lp
    assert lp.token_logprobs[0] is None, "the first prompt token has nothing before it"
    assert all(x <= 0 for x in lp.token_logprobs[1:]), lp.token_logprobs
    assert lp.text_offset == sorted(lp.text_offset) and lp.text_offset[0] == 0
    assert all(len(t) == 2 for t in lp.top_logprobs[1:]), lp.top_logprobs
    # The sampled token's logprob is at most the best alternative's.
    for tok, p, top in zip(lp.tokens[6:], lp.token_logprobs[6:], lp.top_logprobs[6:]):
        assert p <= max(top.values()) + 1e-5, (tok, p, top)


@check
def completion_logit_bias_and_penalties():
    banned = complete(prompt="ROMEO:", max_tokens=40, seed=2, logit_bias={str(ord("e")): -100, str(ord(" ")): -100})
    assert "e" not in banned.choices[0].text and " " not in banned.choices[0].text, banned.choices[0].text
    forced = complete(prompt="ROMEO:", max_tokens=10, seed=2, logit_bias={str(ord("z")): 100})
    assert forced.choices[0].text == "z" * 10, forced.choices[0].text
    greedy = complete(prompt="ROMEO:", max_tokens=60, temperature=0)
    penalized = complete(prompt="ROMEO:", max_tokens=60, temperature=0, presence_penalty=2.0, frequency_penalty=2.0)

    def most_common(t):
        return max(t.count(ch) for ch in set(t))

    g, p = greedy.choices[0].text, penalized.choices[0].text
    assert most_common(p) < most_common(g), (g, p)
    e = expect_raises(openai.BadRequestError, lambda: client.completions.create(model=TEXT, prompt="x", logit_bias={"300": 1}))
    assert e.body["param"] == "logit_bias", e.body


@check
def completion_streaming_with_stop():
    plain = complete(prompt="ROMEO:", max_tokens=40, seed=5)
    text = plain.choices[0].text
    stop = text[12:15]
    cut = text[: text.find(stop)]
    stopped = complete(prompt="ROMEO:", max_tokens=40, seed=5, stop=[stop])
    assert stopped.choices[0].text == cut and stopped.choices[0].finish_reason == "stop", stopped
    pieces, finish, usage = [], None, None
    for chunk in client.completions.create(model=TEXT, prompt="ROMEO:", max_tokens=40, seed=5, stop=[stop], stream=True,
                                           stream_options={"include_usage": True}):
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            pieces.append(c.text)
            finish = c.finish_reason or finish
    assert "".join(pieces) == cut and finish == "stop", (pieces, cut, finish)
    assert usage and usage.total_tokens == stopped.usage.total_tokens, usage
    billed_text(usage)
    # Without include_usage there is no usage chunk; it is billed all the same.
    chunks = list(client.completions.create(model=TEXT, prompt="ROMEO:", max_tokens=40, seed=5, stream=True))
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == text
    billed_text(plain.usage)


def chat(**kw):
    r = client.chat.completions.create(model=TEXT, **kw)
    billed_text(r.usage)
    return r


DIALOGUE = [{"role": "system", "content": "You speak as a player."}, {"role": "user", "content": "Who goes there?"}]


@check
def chat_plain_and_streamed():
    r = chat(messages=DIALOGUE, max_tokens=30, seed=2)
    assert r.object == "chat.completion" and r.model == TEXT, r
    m = r.choices[0].message
    assert m.role == "assistant" and isinstance(m.content, str) and m.content, m
    assert r.choices[0].finish_reason in ("stop", "length")
    assert r.usage.prompt_tokens == len("System: You speak as a player.\nUser: Who goes there?\nAssistant:"), r.usage
    roles, pieces, finish, usage = [], [], None, None
    for chunk in client.chat.completions.create(model=TEXT, messages=DIALOGUE, max_tokens=30, seed=2, stream=True,
                                                stream_options={"include_usage": True}):
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage:
            usage = chunk.usage
        for c in chunk.choices:
            if c.delta.role:
                roles.append(c.delta.role)
            pieces.append(c.delta.content or "")
            finish = c.finish_reason or finish
    assert roles == ["assistant"] and "".join(pieces) == m.content and finish == r.choices[0].finish_reason, pieces
    assert usage.total_tokens == r.usage.total_tokens
    billed_text(usage)
    # A list of text parts is the same message.
    parts = [DIALOGUE[0], {"role": "user", "content": [{"type": "text", "text": "Who goes "}, {"type": "text", "text": "there?"}]}]
    assert chat(messages=parts, max_tokens=30, seed=2).choices[0].message.content == m.content


@check
def chat_n_and_logprobs():
    r = chat(messages=DIALOGUE, max_tokens=6, seed=4, n=2, logprobs=True, top_logprobs=3, presence_penalty=0.5,
             logit_bias={str(ord("\n")): -100}, user="consumer-42")
    assert [c.index for c in r.choices] == [0, 1]
    for c in r.choices:
        content = c.logprobs.content
        assert "".join(t.token for t in content) == c.message.content, (content, c.message.content)
        assert all(len(t.top_logprobs) == 3 and t.logprob <= 0 for t in content)
    assert r.usage.completion_tokens == sum(len(c.logprobs.content) for c in r.choices)


@check
def bad_requests_name_the_field():
    cases = [
        ("temperature", lambda: client.completions.create(model=TEXT, prompt="x", temperature=5)),
        ("max_tokens", lambda: client.completions.create(model=TEXT, prompt="x", max_tokens=-1)),
        ("n", lambda: client.completions.create(model=TEXT, prompt="x", n=1000)),
        ("best_of", lambda: client.completions.create(model=TEXT, prompt="x", best_of=3)),
        ("suffix", lambda: client.completions.create(model=TEXT, prompt="x", suffix="!")),
        ("messages", lambda: client.chat.completions.create(model=TEXT, messages=[])),
        ("tools", lambda: client.chat.completions.create(
            model=TEXT, messages=DIALOGUE,
            tools=[{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}])),
        ("messages[0].role", lambda: client.chat.completions.create(model=TEXT, messages=[{"role": "robot", "content": "x"}])),
    ]
    for param, call in cases:
        e = expect_raises(openai.BadRequestError, call)
        assert e.status_code == 400 and e.body["param"] == param and e.body["type"] == "invalid_request_error", (param, e.body)
        assert param.split("[")[0] in e.body["message"], e.body


@check
def auth_quota_and_not_found():
    bad = openai.OpenAI(base_url=f"http://{args.gateway}/v1", api_key="cairn-sk-" + "0" * 48, max_retries=0)
    e = expect_raises(openai.AuthenticationError, lambda: bad.completions.create(model=TEXT, prompt="x"))
    assert e.status_code == 401
    # Out of credits: 429 insufficient_quota, which OpenAI's client does not
    # retry (x-should-retry: false), even when allowed three retries.
    broke = openai.OpenAI(base_url=f"http://{args.gateway}/v1", api_key=args.broke_key, max_retries=3)
    before = metric('cairn_inference_requests_total{api="openai",code="4xx"}')
    e = expect_raises(openai.RateLimitError, lambda: broke.chat.completions.create(model=TEXT, messages=DIALOGUE))
    assert e.status_code == 429 and e.code == "insufficient_quota", e.body
    assert metric('cairn_inference_requests_total{api="openai",code="4xx"}') == before + 1, "the client retried"
    e = expect_raises(openai.NotFoundError, lambda: client.completions.create(model="gpt-4", prompt="x"))
    assert e.body["param"] == "model" and e.code == "model_not_found", e.body


@check
def openai_concurrency():
    seeds = list(range(100, 124))
    alone = {s: complete(prompt="KING:", max_tokens=12, seed=s).choices[0].text for s in seeds[:4]}
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda s: client.completions.create(model=TEXT, prompt="KING:", max_tokens=12, seed=s), seeds))
    for s, r in zip(seeds, results):
        billed_text(r.usage)
        assert r.usage.completion_tokens == 12
        if s in alone:
            assert r.choices[0].text == alone[s], "concurrency changed a seeded answer"


# ---------------------------------------------------------------- Triton ---

tc = triton.InferenceServerClient(args.gateway, concurrency=32)


def infer_image(batch, binary_in=True, binary_out=True, datatype="FP32", version=""):
    data = batch.astype(np.float16 if datatype == "FP16" else np.float32)
    inp = triton.InferInput("input", list(data.shape), datatype)
    inp.set_data_from_numpy(data, binary_data=binary_in)
    out = triton.InferRequestedOutput("logits", binary_data=binary_out)
    r = tc.infer(IMAGE, [inp], outputs=[out], headers=auth(), model_version=version)
    report["image_requests"] += 1
    return r


@check
def triton_metadata_and_config():
    assert tc.is_server_live() and tc.is_server_ready()
    meta = tc.get_server_metadata(headers=auth())
    assert meta["name"] == "cairn" and "binary_tensor_data" in meta["extensions"], meta
    assert tc.is_model_ready(IMAGE, headers=auth()) and tc.is_model_ready(IMAGE, "1", headers=auth())
    m = tc.get_model_metadata(IMAGE, headers=auth())
    assert m["inputs"][0]["name"] == "input" and m["outputs"][0]["name"] == "logits", m
    cfg = tc.get_model_config(IMAGE, headers=auth())
    assert cfg["name"] == IMAGE and cfg["max_batch_size"] > 0, cfg
    assert cfg["input"][0]["name"] == "input" and cfg["input"][0]["data_type"] == "TYPE_FP32", cfg
    text_cfg = tc.get_model_config(TEXT, "1", headers=auth())
    assert text_cfg["input"][0]["data_type"] == "TYPE_STRING", text_cfg
    e = expect_raises(InferenceServerException, lambda: tc.get_model_metadata(IMAGE, "7", headers=auth()))
    assert e.status() == "404" or "version" in e.message(), e


@check
def triton_binary_and_json_agree():
    batch = images[:8]
    binary = infer_image(batch).as_numpy("logits")
    assert binary.shape == (8, 10) and binary.dtype == np.float32, binary.shape
    as_json = infer_image(batch, binary_in=False, binary_out=False).as_numpy("logits")
    mixed = infer_image(batch, binary_in=True, binary_out=False, version="1").as_numpy("logits")
    assert np.allclose(binary, as_json, atol=1e-5) and np.allclose(binary, mixed, atol=1e-5)
    half = infer_image(batch, datatype="FP16").as_numpy("logits")
    assert np.allclose(binary, half, atol=0.05), np.abs(binary - half).max()
    right = int((infer_image(images).as_numpy("logits").argmax(1) == labels).sum())
    assert right >= 0.6 * len(labels), f"{right} of {len(labels)} right"


@check
def triton_bytes_text():
    inp = triton.InferInput("text_input", [2], "BYTES")
    inp.set_data_from_numpy(np.array([b"ROMEO:", b"JULIET:"], dtype=np.object_), binary_data=True)
    r = tc.infer(TEXT, [inp], outputs=[triton.InferRequestedOutput("text_output", binary_data=True)], headers=auth(),
                 parameters={"max_tokens": 12, "seed": 4, "temperature": 0.8})
    out = r.as_numpy("text_output")
    assert out.shape == (2,) and all(isinstance(x, bytes) and len(x) == 12 for x in out), out
    params = r.get_response()["parameters"]
    assert params["prompt_tokens"] == 13 and params["completion_tokens"] == 24, params
    billed_text(params["prompt_tokens"] + params["completion_tokens"])
    as_json = triton.InferInput("text_input", [1], "BYTES")
    as_json.set_data_from_numpy(np.array([b"ROMEO:"], dtype=np.object_), binary_data=False)
    j = tc.infer(TEXT, [as_json], headers=auth(), parameters={"max_tokens": 12, "seed": 4, "temperature": 0.8})
    assert j.as_numpy("text_output")[0] == out[0], (j.as_numpy("text_output"), out)
    p = j.get_response()["parameters"]
    billed_text(p["prompt_tokens"] + p["completion_tokens"])
    e = expect_raises(InferenceServerException, lambda: tc.infer(TEXT, [as_json], headers=auth(), parameters={"beam_width": 4}))
    assert e.status() == "400" and "beam_width" in e.message(), e


@check
def triton_async_concurrency():
    expected = infer_image(images[:32]).as_numpy("logits")
    pending = []
    for i in range(32):
        inp = triton.InferInput("input", [1, 1, 28, 28], "FP32")
        inp.set_data_from_numpy(images[i : i + 1], binary_data=True)
        pending.append(tc.async_infer(IMAGE, [inp], outputs=[triton.InferRequestedOutput("logits", binary_data=True)],
                                      headers=auth()))
    for i, p in enumerate(pending):
        got = p.get_result().as_numpy("logits")
        report["image_requests"] += 1
        assert np.allclose(got[0], expected[i], atol=1e-4), i


@check
def triton_errors():
    inp = triton.InferInput("input", [1, 1, 28, 28], "FP32")
    inp.set_data_from_numpy(images[:1], binary_data=True)
    e = expect_raises(InferenceServerException, lambda: tc.infer(IMAGE, [inp]))
    assert e.status() == "401", (e.status(), e.message())
    e = expect_raises(InferenceServerException,
                      lambda: tc.infer(IMAGE, [inp], headers={"Authorization": "Bearer " + args.broke_key}))
    assert e.status() == "402" and "credit" in e.message(), (e.status(), e.message())
    e = expect_raises(InferenceServerException, lambda: tc.infer("no-such-model", [inp], headers=auth()))
    assert e.status() == "404", (e.status(), e.message())
    wrong = triton.InferInput("input", [1, 1, 27, 28], "FP32")
    wrong.set_data_from_numpy(np.zeros((1, 1, 27, 28), np.float32), binary_data=True)
    e = expect_raises(InferenceServerException, lambda: tc.infer(IMAGE, [wrong], headers=auth()))
    assert e.status() == "400" and "shape" in e.message(), (e.status(), e.message())


@check
def malformed_binary_is_a_400():
    # Raw HTTP: no client sends these. Each gets a 400 naming the problem,
    # from the gateway (text models: it reads the prompts) or the replica,
    # and both keep serving.
    def post(model, header, binary, length=None):
        body = header.encode() + binary
        req = urllib.request.Request(f"http://{args.gateway}/v2/models/{model}/infer", data=body, method="POST")
        req.add_header("Authorization", "Bearer " + args.key)
        req.add_header("Content-Type", "application/octet-stream")
        req.add_header("Inference-Header-Content-Length", str(len(header) if length is None else length))
        try:
            urllib.request.urlopen(req, timeout=30)
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())["error"]
        return 200, ""

    image = json.dumps({"inputs": [{"name": "input", "shape": [1, 1, 28, 28], "datatype": "FP32",
                                    "parameters": {"binary_data_size": 3136}}]})
    text = json.dumps({"inputs": [{"name": "text_input", "shape": [1], "datatype": "BYTES",
                                   "parameters": {"binary_data_size": 10}}]})
    pixels = images[0].tobytes()
    cases = [
        (IMAGE, image, pixels, len(image) + 5000, "Inference-Header-Content-Length"),  # header length past the body
        (IMAGE, image, pixels, "12ab", "Inference-Header-Content-Length"),  # not a number
        (IMAGE, image, pixels[:3000], None, "binary_data_size"),  # truncated body
        (IMAGE, image.replace("3136", "3132"), pixels[:3132], None, "binary_data_size"),  # size vs shape x datatype
        (IMAGE, image[:-3], pixels, None, "JSON"),  # a header cut short
        (TEXT, text, b"\x06\x00\x00\x00ROM", None, "binary_data_size"),  # truncated BYTES
        (TEXT, text, b"\xff\x00\x00\x00ROMEO:", None, ""),  # a BYTES length past the data
    ]
    for model, header, binary, length, says in cases:
        status, message = post(model, header, binary, length)
        assert status == 400 and says in message, (model, header[:60], length, status, message)
    ok = infer_image(images[:1]).as_numpy("logits")
    assert ok.shape == (1, 10)


tc.close()
with open(args.report, "w") as f:
    json.dump(report, f)
print(json.dumps(report))
print(f"{len(failures)} failed: {failures}" if failures else "all passed", flush=True)
sys.exit(min(len(failures), 100))
