"""The OpenAI-compatible client against a real HTTP server on 127.0.0.1 (no patching)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from merlib import llm


class FakeServer:
    """A chat-completions server whose next answers are scripted: each is (status, body,
    delay); the last one repeats. Records every request body and header."""

    def __init__(self):
        self.script: list[tuple[int, bytes, float]] = []
        self.requests: list[dict] = []
        self.headers: list[dict] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append(json.loads(body))
                outer.headers.append(dict(self.headers))
                i = min(len(outer.requests), len(outer.script)) - 1
                status, reply, delay = outer.script[i]
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply)))
                    self.end_headers()
                    self.wfile.write(reply)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.base_url = f"http://127.0.0.1:{self.httpd.server_port}/v1"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def completion(text: str) -> bytes:
    return json.dumps({"choices": [{"message": {"role": "assistant", "content": text}}]}).encode()


@pytest.fixture
def server():
    s = FakeServer()
    yield s
    s.close()


def client(server, tmp_path, **kw) -> llm.ChatClient:
    cfg = {"base_url": server.base_url, "model": "m", "timeout": 2.0, "retries": 2, "backoff": 0.01}
    cfg.update(kw)
    return llm.ChatClient(llm.LLMConfig(cache_dir=str(tmp_path / "cache"), **cfg))


def test_success_sends_the_chat_request_with_the_key_from_the_environment(
    server, tmp_path, monkeypatch
):
    monkeypatch.setenv("MERFLOW_TEST_KEY", "sk-test")
    server.script = [(200, completion("[['happy', 'joyful']]"), 0)]
    c = client(server, tmp_path, api_key_env="MERFLOW_TEST_KEY")
    assert llm.llm_grouping(c, ["happy", "joyful"]) == [["happy", "joyful"]]
    request = server.requests[0]
    assert request["model"] == "m" and request["temperature"] == 0
    assert "['happy', 'joyful']" in request["messages"][0]["content"]
    assert server.headers[0]["Authorization"] == "Bearer sk-test"


def test_cached_reply_costs_no_request_on_rerun(server, tmp_path):
    server.script = [(200, completion("hello"), 0)]
    messages = llm.user_message("hi")
    assert client(server, tmp_path).chat(messages) == "hello"
    again = client(server, tmp_path)
    assert again.chat(messages) == "hello"
    assert len(server.requests) == 1 and again.requests_sent == 0
    assert len(list((tmp_path / "cache").rglob("*.json"))) == 1


def test_malformed_reply_fails_at_once_naming_the_endpoint(server, tmp_path):
    server.script = [(200, b"<html>not json</html>", 0)]
    with pytest.raises(llm.LLMReplyError, match=r"/v1/chat/completions: not a chat completion"):
        client(server, tmp_path).chat(llm.user_message("hi"))
    server.script = [(200, b'{"choices": []}', 0)]
    with pytest.raises(llm.LLMReplyError):
        client(server, tmp_path).chat(llm.user_message("hi again"))
    assert len(server.requests) == 2
    assert not (tmp_path / "cache").exists()


def test_server_errors_are_retried_with_backoff_then_succeed(server, tmp_path):
    server.script = [(503, b"busy", 0), (429, b"slow down", 0), (200, completion("ok"), 0)]
    sleeps = []
    c = client(server, tmp_path)
    c._sleep = sleeps.append
    assert c.chat(llm.user_message("hi")) == "ok"
    assert len(server.requests) == 3 and sleeps == [0.01, 0.02]


def test_client_error_is_not_retried(server, tmp_path):
    server.script = [(401, b'{"error": "bad key"}', 0)]
    with pytest.raises(llm.LLMHTTPError, match="HTTP 401.*attempt 1 of 3"):
        client(server, tmp_path).chat(llm.user_message("hi"))
    assert len(server.requests) == 1


def test_timeout_is_retried_and_then_reported(server, tmp_path):
    server.script = [(200, completion("late"), 1.0)]
    c = client(server, tmp_path, timeout=0.2, retries=1)
    t0 = time.monotonic()
    with pytest.raises(llm.LLMTimeoutError, match=r"no answer within 0.2 s \(attempt 2 of 2\)"):
        c.chat(llm.user_message("hi"))
    assert len(server.requests) == 2 and time.monotonic() - t0 < 5


def test_timeout_then_success(server, tmp_path):
    server.script = [(200, completion("late"), 1.0), (200, completion("fast"), 0)]
    assert client(server, tmp_path, timeout=0.3).chat(llm.user_message("hi")) == "fast"


def test_unreachable_server_is_an_error_after_retries(tmp_path):
    cfg = llm.LLMConfig(base_url="http://127.0.0.1:9/v1", model="m", retries=1, backoff=0)
    with pytest.raises(llm.LLMHTTPError, match="cannot connect"):
        llm.ChatClient(cfg).chat(llm.user_message("hi"))


def test_two_step_prediction_describes_then_extracts(server, tmp_path, clip_dir):
    server.script = [
        (200, completion("The speaker smiles and laughs; she seems happy."), 0),
        (200, completion("Output: ['Happy', 'joyful']"), 0),
    ]
    c = client(server, tmp_path)
    description, words = llm.describe_and_extract(c, "audio_video", clip_dir / "face.mp4", "你好")
    assert "happy" in description and words == ["happy", "joyful"]
    parts = server.requests[0]["messages"][0]["content"]
    kinds = [p["type"] for p in parts]
    assert kinds == ["text", "video_url", "input_audio"]
    assert "你好" in parts[0]["text"] and "facial expressions" in parts[0]["text"]
    assert parts[1]["video_url"]["url"].startswith("data:video/mp4;base64,")
    assert "clues" in server.requests[1]["messages"][0]["content"]


def test_extract_openset_accepts_a_list_or_comma_separated_words():
    assert llm.extract_openset("['Sad', 'lonely']") == ["sad", "lonely"]
    assert llm.extract_openset("Output: sad, lonely，worried") == ["sad", "lonely", "worried"]
    assert llm.extract_openset("[]") == []


def test_config_without_a_model_is_refused():
    with pytest.raises(llm.LLMError, match="ov.llm.model is not set"):
        llm.LLMConfig.from_config({"base_url": "http://x/v1", "model": None})


def test_llm_prediction_rejects_a_failing_clip_and_stops_when_all_fail(server, tmp_path, clip_dir):
    server.script = [(200, completion("['sad']"), 0)]
    c = client(server, tmp_path)
    clips = [("good", clip_dir / "face.mp4", "你好"), ("bad", clip_dir / "text.mp4", "")]
    words, descriptions, rejects = llm.predict_openset_llm(clips, c, "audio", threads=2)
    assert words == {"good": ["sad"], "bad": []}
    assert set(descriptions) == {"good"}
    assert [r["name"] for r in rejects] == ["bad"] and "text.mp4" in rejects[0]["reason"]
    with pytest.raises(llm.MediaError, match="text.mp4"):
        llm.predict_openset_llm(clips[1:], c, "audio")
