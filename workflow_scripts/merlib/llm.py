"""A small client for OpenAI-compatible chat endpoints, and the MER-OV prompts.

Any server that speaks ``POST <base_url>/chat/completions`` works: vLLM, Ollama, llama.cpp
server, a hosted API. Written on the standard library (``urllib``) rather than the
``openai`` package: one JSON POST is all that is needed, and owning it keeps the timeout,
retry and cache behaviour explicit and testable against a local HTTP server, with no
extra dependency tree in the workflow's environments.

* The API key is read from the environment variable the config names (never from the
  config); when it is unset, no ``Authorization`` header is sent (local servers).
* Timeouts, connection errors, HTTP 408/409/429 and 5xx are retried with exponential
  backoff (``backoff * 2**attempt`` seconds); other HTTP errors and malformed replies
  fail at once with :class:`LLMError` subclasses naming the endpoint and the cause.
* Replies are cached on disk, keyed by the SHA-256 of the request (endpoint, model,
  messages, sampling settings), written atomically: a rerun costs no request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_text_atomic
from .errors import MediaError
from .ov.openset import Grouping, parse_grouping, parse_openset

RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}


class LLMError(RuntimeError):
    """A chat request failed; the message names the endpoint and the cause."""


class LLMTimeoutError(LLMError):
    """The server did not answer within the timeout."""


class LLMHTTPError(LLMError):
    """The server answered with an HTTP error status (or could not be reached)."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class LLMReplyError(LLMError):
    """The server answered 200, but not with a chat completion."""


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key_env: str = "OPENAI_API_KEY"
    timeout: float = 120.0
    retries: int = 4
    backoff: float = 2.0
    temperature: float = 0.0
    max_tokens: int = 1000
    cache_dir: str | None = None

    @classmethod
    def from_config(cls, cfg: dict) -> LLMConfig:
        if not cfg.get("model"):
            raise LLMError(
                "ov.llm.model is not set: name the model your OpenAI-compatible server "
                "serves (e.g. --config ov.llm.model=Qwen2.5-Omni-7B)"
            )
        keys = cls.__dataclass_fields__
        return cls(**{k: v for k, v in cfg.items() if k in keys})


def _is_timeout(exc: BaseException) -> bool:
    reason = getattr(exc, "reason", exc)
    return isinstance(exc, TimeoutError | socket.timeout) or isinstance(
        reason, TimeoutError | socket.timeout
    )


def chat_reply_text(body: bytes, where: str) -> str:
    """The assistant's text of a chat-completion response body; LLMReplyError otherwise."""
    try:
        data = json.loads(body)
        content = data["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError) as exc:
        snippet = body[:200].decode("utf-8", "replace")
        raise LLMReplyError(f"{where}: not a chat completion ({exc!r}); got {snippet!r}") from None
    if isinstance(content, list):  # content parts
        content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
    if not isinstance(content, str):
        raise LLMReplyError(f"{where}: message content is {type(content).__name__}, not text")
    return content


class ChatClient:
    """``chat(messages) -> str`` against an OpenAI-compatible endpoint, cached and retried."""

    def __init__(self, config: LLMConfig, sleep: Callable[[float], None] = time.sleep):
        self.config = config
        self.endpoint = config.base_url.rstrip("/") + "/chat/completions"
        self._sleep = sleep
        self.requests_sent = 0

    def _key(self, payload: dict) -> str:
        blob = json.dumps({"endpoint": self.endpoint, **payload}, sort_keys=True)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def _cache_path(self, key: str) -> Path | None:
        if not self.config.cache_dir:
            return None
        return Path(self.config.cache_dir) / key[:2] / f"{key}.json"

    def _post(self, payload: dict) -> bytes:
        headers = {"Content-Type": "application/json"}
        key = os.environ.get(self.config.api_key_env or "", "")
        if key:
            headers["Authorization"] = f"Bearer {key}"
        request = urllib.request.Request(
            self.endpoint, data=json.dumps(payload).encode("utf-8"), headers=headers
        )
        self.requests_sent += 1
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout) as response:
                return response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:200].decode("utf-8", "replace")
            raise LLMHTTPError(
                f"{self.endpoint}: HTTP {exc.code} {exc.reason}: {detail!r}", exc.code
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            if _is_timeout(exc):
                raise LLMTimeoutError(
                    f"{self.endpoint}: no answer within {self.config.timeout} s"
                ) from None
            raise LLMHTTPError(f"{self.endpoint}: cannot connect ({exc})") from None

    def chat(self, messages: list[dict]) -> str:
        """The assistant's reply to ``messages`` (from the cache when asked before)."""
        payload = {
            "model": self.config.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "max_tokens": self.config.max_tokens,
        }
        cache = self._cache_path(self._key(payload))
        if cache is not None and cache.is_file():
            return json.loads(cache.read_text(encoding="utf-8"))["reply"]
        attempts = max(0, int(self.config.retries)) + 1
        for attempt in range(attempts):
            try:
                reply = chat_reply_text(self._post(payload), self.endpoint)
                break
            except (LLMTimeoutError, LLMHTTPError) as exc:
                transient = isinstance(exc, LLMTimeoutError) or exc.status in (
                    None,
                    *RETRY_STATUS,
                )
                if not transient or attempt == attempts - 1:
                    raise type(exc)(f"{exc} (attempt {attempt + 1} of {attempts})") from None
                self._sleep(self.config.backoff * 2**attempt)
        if cache is not None:
            record = {"model": self.config.model, "reply": reply}
            write_text_atomic(json.dumps(record, ensure_ascii=False), cache)
        return reply


def user_message(text: str, parts: list[dict] | None = None) -> list[dict]:
    content = [{"type": "text", "text": text}] + list(parts or [])
    return [{"role": "user", "content": content if parts else text}]


# ---------------------------------------------------------------------------------------
# The MER2024 prompts (paper, Table 2 and section 2.3; MERTools' grouping prompt)
# ---------------------------------------------------------------------------------------

GROUPING_PROMPT = (
    "Please assume the role of an expert in the field of emotions. We provide a set of "
    "emotions. Please group the emotions, with each group containing emotions with the "
    "same meaning. Directly output the results. The output format should be a list "
    "containing multiple lists. Input: ['Agree', 'agreement', 'Relaxed', 'acceptance', "
    "'pleasant', 'relaxed', 'Accept', 'positive', 'Happy'] Output: [['Agree', 'agreement', "
    "'Accept', 'acceptance'], ['Relaxed', 'relaxed'],['pleasant', 'positive', 'Happy']] "
    "Input: {words} Output:"
)

DESCRIBE_PROMPTS = {
    "audio": (
        "As an expert in the field of emotions, please focus on the acoustic information "
        "and subtitle content in the audio to discern clues related to the emotions of the "
        "individual. Please provide a detailed description and ultimately predict the "
        "emotional state of the individual in the audio."
    ),
    "video": (
        "As an expert in the field of emotions, please focus on the facial expressions, "
        "body movements, environment, subtitle content, etc., in the video to discern clues "
        "related to the emotions of the individual. Please provide a detailed description "
        "and ultimately predict the emotional state of the individual in the video."
    ),
    "audio_video": (
        "As an expert in the field of emotions, please focus on the facial expressions, "
        "body movements, environment, acoustic information, subtitle content, etc., in the "
        "video to discern clues related to the emotions of the individual. Please provide a "
        "detailed description and ultimately predict the emotional state of the individual "
        "in the video."
    ),
}
SUBTITLE_PROMPT = "The subtitle of this clip is: <{subtitle}>."

EXTRACT_PROMPT = (
    "Please assume the role of an expert in the field of emotions. We provide clues that "
    "may be related to the emotions of the characters. Based on the provided clues, please "
    "identify the emotional states of the main characters. Please separate different "
    "emotional categories with commas and output only the clearly identifiable emotional "
    "categories in a list format. If none are identified, please output an empty list. "
    "Input: {description} Output:"
)


def clean_reply(text: str) -> str:
    """Strip an ``Output:``-style prefix and line breaks, as the reference's post-processing."""
    text = text.strip()
    for prefix in ("输出", "Output", "output"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    return text.lstrip(":：").replace("\n", "").strip()


def llm_grouping(client: ChatClient, words: list[str]) -> Grouping:
    """Group a clip's words with the paper's prompt; the reply is parsed leniently."""
    if not words:
        return []
    reply = client.chat(user_message(GROUPING_PROMPT.format(words=list(words))))
    return parse_grouping(clean_reply(reply))


def _wav_base64(pcm, sample_rate: int) -> str:
    from .av.wav import wav_bytes

    return base64.b64encode(wav_bytes(pcm, sample_rate)).decode("ascii")


def media_parts(modality: str, video: Path, sample_rate: int = 16000) -> list[dict]:
    """The clip as OpenAI-style content parts: ``input_audio`` (16 kHz WAV), ``video_url``
    (the mp4 as a data URL), or both for ``audio_video``."""
    from .av.decode import decode_audio

    if modality not in DESCRIBE_PROMPTS:
        raise ValueError(f"unknown modality {modality!r}: one of {', '.join(DESCRIBE_PROMPTS)}")
    parts = []
    if modality in ("video", "audio_video"):
        data = base64.b64encode(Path(video).read_bytes()).decode("ascii")
        parts.append({"type": "video_url", "video_url": {"url": f"data:video/mp4;base64,{data}"}})
    if modality in ("audio", "audio_video"):
        pcm = decode_audio(video, sample_rate)
        parts.append(
            {
                "type": "input_audio",
                "input_audio": {"data": _wav_base64(pcm, sample_rate), "format": "wav"},
            }
        )
    return parts


def extract_openset(reply: str) -> list[str]:
    """Labels from the extraction reply: a list literal, else comma-separated words."""
    text = clean_reply(reply)
    if "[" in text:
        words = parse_openset(text)
    else:
        words = [w for w in text.replace("，", ",").replace("、", ",").split(",")]
    return [w.strip().lower() for w in words if w.strip()]


def describe_and_extract(
    client: ChatClient, modality: str, video: Path, subtitle: str | None
) -> tuple[str, list[str]]:
    """The paper's two steps for one clip: describe (Table 2 prompt with the subtitle),
    then extract the labels (section 2.3 prompt). Returns (description, words)."""
    prompt = DESCRIBE_PROMPTS.get(modality)
    if prompt is None:
        raise ValueError(f"unknown modality {modality!r}: one of {', '.join(DESCRIBE_PROMPTS)}")
    text = SUBTITLE_PROMPT.format(subtitle=subtitle or "") + " " + prompt
    description = client.chat(user_message(text, media_parts(modality, video)))
    reply = client.chat(user_message(EXTRACT_PROMPT.format(description=description)))
    return description, extract_openset(reply)


def predict_openset_llm(
    clips: Sequence[tuple[str, Path, str | None]],
    client: ChatClient,
    modality: str,
    threads: int = 1,
) -> tuple[dict[str, list[str]], dict[str, str], list[dict]]:
    """The two-step baseline over ``(name, video, subtitle)`` clips, ``threads`` requests
    at a time. Returns (words per clip, description per clip, rejects). A clip whose
    request fails after its retries, or whose media does not decode, gets an empty set
    and a reject row with the reason; when every clip fails, the first failure is raised
    (the server is down or misconfigured: better stop than write an empty prediction)."""

    def one(clip):
        name, video, subtitle = clip
        try:
            return name, describe_and_extract(client, modality, video, subtitle), None
        except (LLMError, MediaError) as exc:
            return name, None, exc

    words: dict[str, list[str]] = {}
    descriptions: dict[str, str] = {}
    rejects: list[dict] = []
    errors = []
    with ThreadPoolExecutor(max_workers=max(1, threads)) as pool:
        for name, result, exc in pool.map(one, clips):
            if exc is None:
                descriptions[name], words[name] = result
            else:
                words[name] = []
                rejects.append({"name": name, "reason": str(exc)})
                errors.append(exc)
    if clips and len(errors) == len(clips):
        raise errors[0]
    return words, descriptions, rejects


__all__ = [
    "ChatClient",
    "DESCRIBE_PROMPTS",
    "EXTRACT_PROMPT",
    "GROUPING_PROMPT",
    "LLMConfig",
    "LLMError",
    "LLMHTTPError",
    "LLMReplyError",
    "LLMTimeoutError",
    "chat_reply_text",
    "clean_reply",
    "describe_and_extract",
    "extract_openset",
    "llm_grouping",
    "media_parts",
    "predict_openset_llm",
]
