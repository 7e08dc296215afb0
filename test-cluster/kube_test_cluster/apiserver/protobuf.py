"""Just enough Kubernetes protobuf to read what ``kubectl create namespace`` sends.

kubectl's typed-client commands (``create namespace``, ``create deployment``...)
send ``application/vnd.kubernetes.protobuf`` bodies. Decoding arbitrary kinds
needs every generated schema; the emulator reads only the envelope and the
object metadata (name, generateName, labels, annotations), which is all a
Namespace carries. Other protobuf bodies are answered 415, and kubectl users
fall back to ``create -f`` / ``apply -f`` manifests, which are JSON on the wire.
"""

from __future__ import annotations

from typing import Any

PROTOBUF = "application/vnd.kubernetes.protobuf"
_MAGIC = b"k8s\x00"

Obj = dict[str, Any]
Fields = list[tuple[int, int | bytes]]


class ProtobufError(ValueError):
    """Bytes that are not the protobuf the emulator can read."""


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    value, shift = 0, 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
        shift += 7


def _fields(data: bytes) -> Fields:
    """Top-level (field number, value) pairs; LEN values stay bytes, fixed sizes are skipped."""
    fields: Fields = []
    pos = 0
    while pos < len(data):
        tag, pos = _varint(data, pos)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = _varint(data, pos)
            fields.append((number, value))
        elif wire == 2:
            size, pos = _varint(data, pos)
            if pos + size > len(data):
                raise ProtobufError("truncated field")
            fields.append((number, data[pos : pos + size]))
            pos += size
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
    return fields


def _text(value: int | bytes) -> str:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a string")
    return value.decode()


def _message(value: int | bytes) -> Fields:
    if not isinstance(value, bytes):
        raise ProtobufError("expected a message")
    return _fields(value)


def _object_meta(fields: Fields) -> Obj:
    meta: Obj = {}
    names = {1: "name", 2: "generateName", 3: "namespace"}
    for number, value in fields:
        if number in names:
            meta[names[number]] = _text(value)
        elif number in (11, 12):
            entry = dict(_message(value))
            key = "labels" if number == 11 else "annotations"
            meta.setdefault(key, {})[_text(entry.get(1, b""))] = _text(entry.get(2, b""))
    return meta


def decode(body: bytes, expected_kind: str) -> Obj:
    """Decode a protobuf request body into the JSON shape; only Namespaces are supported."""
    if not body.startswith(_MAGIC):
        raise ProtobufError("missing the k8s protobuf envelope")
    envelope = dict(_fields(body[len(_MAGIC) :]))
    type_meta = dict(_message(envelope.get(1, b"")))
    kind = _text(type_meta.get(2, b""))
    if kind != "Namespace" or expected_kind != "Namespace":
        raise ProtobufError(f"protobuf bodies of kind {kind or expected_kind} are not supported")
    obj: Obj = {"apiVersion": _text(type_meta.get(1, b"v1")), "kind": kind, "metadata": {}}
    for number, value in _fields(envelope.get(2, b"") or b""):  # type: ignore[arg-type]
        if number == 1:
            obj["metadata"] = _object_meta(_message(value))
        elif number == 2:
            finalizers = [_text(v) for n, v in _message(value) if n == 1]
            obj["spec"] = {"finalizers": finalizers} if finalizers else {}
    return obj
