"""Text out of the message shapes LLM logs use: OTel GenAI parts, OpenAI chat, Anthropic and
Bedrock Converse content blocks, plain strings. Roles are kept as a prefix so a prompt shows who said
what ("system: You are Jane…\\nuser: Write…"), which the prompt-template signal relies on."""

from __future__ import annotations

import json
from typing import Any


def content_text(content: Any) -> str:
    """Text of one message's content: a string, or a list of parts/blocks."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        for key in ("content", "text", "value"):
            if isinstance(content.get(key), str):
                return content[key]
        if isinstance(content.get("parts"), list):
            return content_text(content["parts"])
        if isinstance(content.get("content"), list):
            return content_text(content["content"])
        return ""
    if isinstance(content, list):
        return "\n".join(t for t in (content_text(p) for p in content) if t)
    return str(content)


def messages_text(messages: Any) -> str | None:
    """'role: text' lines for a list of messages (or a JSON string of one)."""
    if messages in (None, "", {}, []):
        return None
    if isinstance(messages, str):
        stripped = messages.strip()
        if stripped in ("", "{}", "[]"):
            return None
        if stripped[:1] in "[{":
            try:
                return messages_text(json.loads(stripped))
            except ValueError:
                return stripped
        return stripped
    if isinstance(messages, dict):
        if isinstance(messages.get("messages"), list):
            return messages_text(messages["messages"])
        return content_text(messages) or None
    if not isinstance(messages, list):
        return str(messages)
    lines = []
    for message in messages:
        if isinstance(message, dict):
            body = message.get("parts", message.get("content", message.get("text")))
            if body is None and isinstance(message.get("message"), dict):  # gen_ai.choice
                body = message["message"].get("content")
            said = content_text(body)
            role = message.get("role") or message.get("type")
            if said:
                lines.append(f"{role}: {said}" if role else said)
        elif isinstance(message, str):
            lines.append(message)
    return "\n".join(lines) or None
