"""Structured (JSON-schema) chat completions shared by the OpenAI analyser and writer."""

from __future__ import annotations

import copy
from typing import Any

import openai
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared_params import ResponseFormatJSONSchema
from pydantic import BaseModel

from core.ai.errors import AIError

# Keywords OpenAI's strict structured outputs reject; validation happens locally with pydantic anyway.
_UNSUPPORTED_KEYWORDS = ("default", "examples")


def strict_json_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON schema made 'strict': every object closed and every property required."""
    schema = copy.deepcopy(model.model_json_schema())

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for key in _UNSUPPORTED_KEYWORDS:
                node.pop(key, None)
            properties = node.get("properties")
            if node.get("type") == "object" and isinstance(properties, dict):
                node["additionalProperties"] = False
                node["required"] = list(properties)
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(schema)
    return schema


def json_schema_format(name: str, model: type[BaseModel]) -> ResponseFormatJSONSchema:
    """The `response_format` argument for a strict JSON-schema answer shaped like `model`."""
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": strict_json_schema(model), "strict": True},
    }


async def complete_json(
    client: openai.AsyncOpenAI,
    *,
    model: str,
    system: str,
    user: str,
    schema_name: str,
    schema_model: type[BaseModel],
    error: type[AIError],
) -> str:
    """Run one chat completion that must answer with JSON for `schema_model`; returns the raw JSON text."""
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": system},
        {"role": "user", "content": user},
    ]
    try:
        completion = await client.chat.completions.create(
            model=model,
            messages=messages,
            response_format=json_schema_format(schema_name, schema_model),
            temperature=0,
        )
    except openai.OpenAIError as exc:
        raise error(f"OpenAI request failed: {exc}") from exc
    if not completion.choices:
        raise error("OpenAI returned no choices")
    message = completion.choices[0].message
    if message.refusal:
        raise error(f"OpenAI refused the request: {message.refusal}")
    if not message.content:
        raise error("OpenAI returned an empty message")
    return message.content
