"""Request bodies for OpenAI-compatible streaming: synthetic prompts or a JSONL file.

Every prompt is made different (a request number leads it) and `cache_prompt` is false, so a
server's prompt cache (llama.cpp's, vLLM's prefix cache) cannot flatter the time to first token.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Api = Literal["completions", "chat"]
PATHS: dict[Api, str] = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}

# Common English words: most tokenizers give one token each, so N words ≈ N prompt tokens.
_WORDS = (  # noqa: SIM905
    "the of and to in is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there one all we their can has been if more when will "
    "would who so no time out up about into than them only other new some could these two may "
    "first then do any like my now over such our man me even most made after also did many "
    "before must through"
).split()


class PromptError(ValueError):
    """A prompts file that cannot be used (one line for the user)."""


@dataclass(frozen=True)
class Prompt:
    """One request's input: plain text, or chat messages; its own output cap if the file gave one."""

    text: str | None = None
    messages: tuple[dict[str, Any], ...] = ()
    max_tokens: int | None = None


def synthetic_text(n_tokens: int, salt: int) -> str:
    """About `n_tokens` words, led by a number unique to the request."""
    words = [f"{salt}"]
    start = (salt * 7919) % len(_WORDS)
    words.extend(_WORDS[(start + i) % len(_WORDS)] for i in range(max(0, n_tokens - 1)))
    return " ".join(words)


def load_prompts(path: str | Path) -> list[Prompt]:
    """JSONL: each line a string, or an object with `prompt` (text) or `messages` (chat), and an
    optional `max_tokens`. PromptError (one line) for an unreadable or empty file, or a bad line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise PromptError(f"cannot read prompts file {path}: {reason}") from None
    out: list[Prompt] = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            raise PromptError(f"{path}:{n}: not JSON") from None
        if isinstance(obj, str):
            out.append(Prompt(text=obj))
            continue
        if not isinstance(obj, dict):
            raise PromptError(f"{path}:{n}: expected a string or an object with 'prompt' or 'messages'")
        mt = obj.get("max_tokens")
        if mt is not None and (not isinstance(mt, int) or mt <= 0):
            raise PromptError(f"{path}:{n}: max_tokens must be a positive integer")
        if isinstance(obj.get("prompt"), str):
            out.append(Prompt(text=obj["prompt"], max_tokens=mt))
        elif isinstance(obj.get("messages"), list) and all(isinstance(m, dict) for m in obj["messages"]):
            out.append(Prompt(messages=tuple(obj["messages"]), max_tokens=mt))
        else:
            raise PromptError(f"{path}:{n}: expected a string or an object with 'prompt' or 'messages'")
    if not out:
        raise PromptError(f"prompts file {path} has no prompts")
    return out


@dataclass
class BodyMaker:
    """Makes each request's JSON body, in order; thread-unsafe by design (one event loop)."""

    api: Api
    model: str = "default"
    input_tokens: int = 32
    output_tokens: int = 64
    prompts: list[Prompt] | None = None
    _n: Iterator[int] = field(default_factory=itertools.count)

    def next_body(self) -> bytes:
        n = next(self._n)
        if self.prompts:
            p = self.prompts[n % len(self.prompts)]
        else:
            p = Prompt(text=synthetic_text(self.input_tokens, n))
        body: dict[str, Any] = {
            "model": self.model,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_tokens": p.max_tokens or self.output_tokens,
            "cache_prompt": False,
        }
        if self.api == "chat":
            body["messages"] = list(p.messages) or [{"role": "user", "content": p.text or ""}]
        elif p.text is not None:
            body["prompt"] = p.text
        else:  # chat messages sent to /v1/completions: their text joined
            body["prompt"] = "\n".join(str(m.get("content", "")) for m in p.messages)
        return json.dumps(body).encode()
