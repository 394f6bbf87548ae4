"""Read a request's body within a size limit and turn it into fields; find the client.

Forms are parsed with the standard library (``application/x-www-form-urlencoded``, what
our pages post) and JSON bodies with ``json``; nothing is trusted: values are strings,
every field may repeat, and a body too large or badly encoded is refused with one line.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

Fields = dict[str, list[str]]
FORM = "application/x-www-form-urlencoded"
MAX_FIELDS = 200
DIGITS = re.compile(r"[0-9]+")  # ASCII only: "²".isdigit() is True and int("²") fails


class BadRequest(Exception):
    """A body that cannot be used; ``status`` is the answer and ``str()`` says why."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


async def read_body(request: Request, limit: int) -> bytes:
    """The raw body, or BadRequest(413) once it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "").strip()
    if DIGITS.fullmatch(declared) and (len(declared) > 18 or int(declared) > limit):
        raise BadRequest(f"request body over {limit} bytes", 413)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadRequest(f"request body over {limit} bytes", 413)
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").partition(";")[0].strip().lower()


def is_json(request: Request) -> bool:
    kind = media_type(request)
    return kind == "application/json" or kind.endswith("+json")


def form_fields(body: bytes) -> Fields:
    """Fields of a URL-encoded form; BadRequest when it is not UTF-8 or has too many."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"),
            keep_blank_values=True,
            strict_parsing=False,
            max_num_fields=MAX_FIELDS,
        )
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f"unreadable form: {e}") from None
    fields: Fields = {}
    for key, value in pairs:
        fields.setdefault(key, []).append(value)
    return fields


def json_fields(body: bytes) -> Fields:
    """A JSON object's members as fields: a list of strings stays a list, a string one item."""
    try:
        data: Any = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise BadRequest(f"body is not valid JSON: {e}") from None
    if not isinstance(data, dict):
        raise BadRequest('send a JSON object, e.g. {"email": "you@example.com"}')
    fields: Fields = {}
    for key, value in data.items():
        if isinstance(value, str):
            fields[key] = [value]
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            fields[key] = list(value)
        elif value is not None:
            raise BadRequest(f"field {key!r} must be a string or a list of strings")
    return fields


async def read_fields(request: Request, limit: int) -> Fields:
    """The fields of a form or JSON post; other media types get 415."""
    body = await read_body(request, limit)
    if is_json(request):
        return json_fields(body)
    if media_type(request) in (FORM, ""):
        return form_fields(body)
    raise BadRequest(f"send the form as {FORM} or application/json", 415)


def first(fields: Fields, key: str) -> str:
    values = fields.get(key) or [""]
    return values[0].strip()


def client_ip(request: Request) -> str:
    """The client's address (uvicorn has already applied trusted proxies' X-Forwarded-For)."""
    return request.client.host if request.client else "unknown"
