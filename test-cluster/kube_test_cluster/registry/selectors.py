"""Label and field selectors, parsed and matched as the apiserver does.

The grammar follows ``k8s.io/apimachinery/pkg/labels``: comma-separated
requirements ``key``, ``!key``, ``key=v``, ``key==v``, ``key!=v``,
``key in (a,b)``, ``key notin (a,b)`` (and ``key>n`` / ``key<n``). Note the two
negative operators also match objects that lack the key, exactly like the real
thing; code that relies on ``!=`` excluding unlabelled objects is wrong in
production too, and the emulator should not hide that.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


class SelectorError(ValueError):
    """A selector the apiserver would reject with 400 BadRequest."""


# A qualified name with an optional DNS-subdomain prefix, as labels allow.
_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_TOKEN = re.compile(r"\s*(\(|\)|,|!=|==|=|!|<|>|[^\s(),!=<>]+)")


@dataclass(frozen=True)
class Requirement:
    """One clause of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", "gt", "lt"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):
            return not present or value not in self.values
        # gt / lt: both sides must be integers, as in labels.Requirement.Matches
        try:
            number = int(value) if value is not None else None
        except ValueError:
            return False
        if number is None:
            return False
        bound = int(self.values[0])
        return number > bound if self.op == "gt" else number < bound


@dataclass(frozen=True)
class LabelSelector:
    """A parsed label selector; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(r.matches(labels) for r in self.requirements)

    def matches_object(self, obj: Obj) -> bool:
        return self.matches(obj.get("metadata", {}).get("labels"))


def parse_label_selector(text: str | None) -> LabelSelector:
    """Parse the ``labelSelector`` query parameter; raises :class:`SelectorError`."""
    if text is None or not text.strip():
        return LabelSelector()
    tokens = _tokenize(text)
    requirements: list[Requirement] = []
    pos = 0

    def peek() -> str | None:
        return tokens[pos] if pos < len(tokens) else None

    while pos < len(tokens):
        if tokens[pos] == "!":
            pos += 1
            key = _expect_key(tokens, pos, text)
            pos += 1
            requirements.append(Requirement(key, "!"))
        else:
            key = _expect_key(tokens, pos, text)
            pos += 1
            op = peek()
            if op is None or op == ",":
                requirements.append(Requirement(key, "exists"))
            elif op in ("=", "==", "!="):
                pos += 1
                value = peek()
                if value is None or value in (",", "(", ")", "=", "==", "!=", "!", "<", ">"):
                    value = ""
                else:
                    pos += 1
                _check_value(value, text)
                requirements.append(Requirement(key, "!=" if op == "!=" else "=", (value,)))
            elif op in ("in", "notin"):
                pos += 1
                if peek() != "(":
                    raise SelectorError(
                        f"unable to parse requirement: found '{peek()}', expected: '('"
                    )
                pos += 1
                values: list[str] = []
                while True:
                    tok = peek()
                    if tok is None:
                        raise SelectorError("unable to parse requirement: found '', expected: ')'")
                    if tok == ")":
                        pos += 1
                        break
                    if tok == ",":
                        pos += 1
                        continue
                    _check_value(tok, text)
                    values.append(tok)
                    pos += 1
                if not values:
                    raise SelectorError(
                        f"unable to parse requirement: values: Invalid value: {text!r}: "
                        "for 'in', 'notin' operators, values set can't be empty"
                    )
                requirements.append(Requirement(key, op, tuple(values)))
            elif op in ("<", ">"):
                pos += 1
                value = peek() or ""
                pos += 1
                if not re.fullmatch(r"-?\d+", value):
                    raise SelectorError(
                        f"unable to parse requirement: for 'Gt', 'Lt' operators, the value must "
                        f"be an integer: {value!r}"
                    )
                requirements.append(Requirement(key, "gt" if op == ">" else "lt", (value,)))
            else:
                raise SelectorError(
                    f"unable to parse requirement: found '{op}', expected: "
                    "in, notin, =, ==, !=, gt, lt"
                )
        if pos < len(tokens):
            if tokens[pos] != ",":
                raise SelectorError(f"found '{tokens[pos]}', expected: ',' or 'end of string'")
            pos += 1
            if pos == len(tokens):
                raise SelectorError("found '', expected: !, identifier, or 'end of string'")
    return LabelSelector(tuple(requirements))


def _tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:  # pragma: no cover - the pattern accepts every non-space char
            raise SelectorError(f"unable to parse selector {text!r}")
        tokens.append(match.group(1))
        pos = match.end()
    return tokens


def _expect_key(tokens: list[str], pos: int, text: str) -> str:
    key = tokens[pos] if pos < len(tokens) else ""
    if not _KEY.match(key) or len(key.rsplit("/", 1)[-1]) > 63:
        raise SelectorError(
            f"unable to parse requirement: key: Invalid value: {key!r}: name part must consist "
            "of alphanumeric characters, '-', '_' or '.', and must start and end with an "
            "alphanumeric character"
        )
    return key


def _check_value(value: str, text: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise SelectorError(
            f"unable to parse requirement: values[0]: Invalid value: {value!r}: a valid label "
            "must be an empty string or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )


def format_label_selector(spec_selector: Mapping[str, Any] | None) -> str:
    """Render a ``spec.selector`` (matchLabels + matchExpressions) as a selector string.

    This is what ``Scale.status.selector`` carries and what ``kubectl`` shows.
    """
    if not spec_selector:
        return ""
    parts = [f"{k}={v}" for k, v in sorted((spec_selector.get("matchLabels") or {}).items())]
    for expr in spec_selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], sorted(expr.get("values") or [])
        if op == "In":
            parts.append(f"{key} in ({','.join(values)})")
        elif op == "NotIn":
            parts.append(f"{key} notin ({','.join(values)})")
        elif op == "Exists":
            parts.append(key)
        elif op == "DoesNotExist":
            parts.append(f"!{key}")
    return ",".join(parts)


# -- field selectors -----------------------------------------------------------


def _path(*keys: str) -> Callable[[Obj], str]:
    def read(obj: Obj) -> str:
        node: Any = obj
        for key in keys:
            if not isinstance(node, dict):
                return ""
            node = node.get(key)
        if node is None:
            return ""
        if isinstance(node, bool):
            return "true" if node else "false"
        return str(node)

    return read


_COMMON: dict[str, Callable[[Obj], str]] = {
    "metadata.name": _path("metadata", "name"),
    "metadata.namespace": _path("metadata", "namespace"),
}

#: The field labels each resource supports, as registered in the real apiserver.
FIELDS: dict[str, dict[str, Callable[[Obj], str]]] = {
    "pods": {
        **_COMMON,
        "spec.nodeName": _path("spec", "nodeName"),
        "spec.restartPolicy": _path("spec", "restartPolicy"),
        "spec.schedulerName": _path("spec", "schedulerName"),
        "spec.serviceAccountName": _path("spec", "serviceAccountName"),
        "spec.hostNetwork": lambda o: "true" if o.get("spec", {}).get("hostNetwork") else "false",
        "status.phase": _path("status", "phase"),
        "status.podIP": _path("status", "podIP"),
        "status.nominatedNodeName": _path("status", "nominatedNodeName"),
    },
    "events": {
        **_COMMON,
        "involvedObject.kind": _path("involvedObject", "kind"),
        "involvedObject.namespace": _path("involvedObject", "namespace"),
        "involvedObject.name": _path("involvedObject", "name"),
        "involvedObject.uid": _path("involvedObject", "uid"),
        "involvedObject.apiVersion": _path("involvedObject", "apiVersion"),
        "involvedObject.resourceVersion": _path("involvedObject", "resourceVersion"),
        "involvedObject.fieldPath": _path("involvedObject", "fieldPath"),
        "reason": _path("reason"),
        "reportingComponent": _path("reportingComponent"),
        "source": lambda o: o.get("source", {}).get("component") or o.get("reportingComponent", ""),
        "type": _path("type"),
    },
    "namespaces": {**_COMMON, "status.phase": _path("status", "phase")},
    "nodes": {
        "metadata.name": _path("metadata", "name"),
        "spec.unschedulable": lambda o: (
            "true" if o.get("spec", {}).get("unschedulable") else "false"
        ),
    },
    "replicasets": {**_COMMON, "status.replicas": _path("status", "replicas")},
}


@dataclass(frozen=True)
class FieldSelector:
    """A parsed field selector: ``(field, negated, value)`` terms, all of which must hold."""

    terms: tuple[tuple[Callable[[Obj], str], bool, str], ...] = ()
    exact_name: str | None = None  # metadata.name=X, kept so lookups can skip a scan

    def matches(self, obj: Obj) -> bool:
        return all((read(obj) == value) != negated for read, negated, value in self.terms)


def parse_field_selector(text: str | None, resource: str) -> FieldSelector:
    """Parse ``fieldSelector`` for ``resource``; unknown fields are 400s, as in the apiserver."""
    if text is None or not text.strip():
        return FieldSelector()
    supported = FIELDS.get(resource, _COMMON)
    terms: list[tuple[Callable[[Obj], str], bool, str]] = []
    exact_name: str | None = None
    for raw_clause in _split_unescaped(text):
        clause = raw_clause.strip()
        if not clause:
            continue
        match = re.fullmatch(r"([^=!]+?)\s*(!=|==|=)\s*(.*)", clause)
        if match is None:
            raise SelectorError(f"invalid selector: '{text}'; can't understand '{clause}'")
        field, op, value = match.group(1).strip(), match.group(2), _unescape(match.group(3))
        if field not in supported:
            raise SelectorError(f"field label not supported: {field}")
        negated = op == "!="
        if field == "metadata.name" and not negated:
            exact_name = value
        terms.append((supported[field], negated, value))
    return FieldSelector(tuple(terms), exact_name)


def _split_unescaped(text: str) -> list[str]:
    parts, current, escaped = [], "", False
    for char in text:
        if escaped:
            current += "\\" + char
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return parts


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)
