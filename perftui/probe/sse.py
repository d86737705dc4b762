"""Server-sent events as OpenAI-compatible servers stream them, and what one chunk carries.

Each event is `data: <json>` lines ended by a blank line; `:` lines are comments (keep-alives);
the stream ends with `data: [DONE]`. A completions chunk has `choices[0].text`, a chat chunk
`choices[0].delta.content` (the first chat chunk may carry only the role: not content). With
`stream_options.include_usage` one chunk carries `usage.completion_tokens`. Pure: no I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

DONE = "[DONE]"


class MalformedStream(ValueError):
    """The body is not the SSE stream an OpenAI-compatible server sends (one line for the user)."""


class SseDecoder:
    """Feed raw lines (bytes, with or without the line ending); get each complete event's data."""

    def __init__(self) -> None:
        self._data: list[str] = []

    def feed_line(self, raw: bytes) -> str | None:
        """The event's data when `raw` ends one (a blank line), else None."""
        line = raw.rstrip(b"\r\n").decode("utf-8", "replace")
        if not line:
            return self.flush()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field not in ("event", "id", "retry"):
            raise MalformedStream(f"not an SSE line: {line[:60]!r}")
        return None

    def flush(self) -> str | None:
        """The pending event's data (at a blank line or at the end of the body), if any."""
        if not self._data:
            return None
        data = "\n".join(self._data)
        self._data = []
        return data


@dataclass(frozen=True)
class Chunk:
    """What one streamed event carries: content (text, may be empty), usage tokens, finish."""

    content: str
    completion_tokens: int | None
    finished: bool


def parse_chunk(data: str) -> Chunk:
    """One event's JSON; MalformedStream when it is not an OpenAI completion (or chat) chunk."""
    try:
        obj = json.loads(data)
    except json.JSONDecodeError:
        raise MalformedStream(f"event is not JSON: {data[:60]!r}") from None
    if not isinstance(obj, dict):
        raise MalformedStream(f"event is not a JSON object: {data[:60]!r}")
    if "error" in obj and "choices" not in obj:
        err = obj["error"]
        msg = err.get("message") if isinstance(err, dict) else err
        raise MalformedStream(f"server error in stream: {str(msg)[:80]}")
    choices = obj.get("choices")
    if not isinstance(choices, list):
        raise MalformedStream("chunk without a 'choices' list")
    content = ""
    finished = False
    for choice in choices:
        if not isinstance(choice, dict):
            raise MalformedStream("a choice is not a JSON object")
        text = choice.get("text")
        if text is None:
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(text, str):
            content += text
        if choice.get("finish_reason"):
            finished = True
    tokens: int | None = None
    usage = obj.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
        tokens = int(usage["completion_tokens"])
    return Chunk(content, tokens, finished)
