"""JSON Schema (as pydantic and FastAPI write it) rendered as short Markdown.

Types read like `string or null`, `array of [ToolCall](#toolcall)`; constraints
like `≥ 1, ≤ 1000`. Every page of the reference renders models through here,
so they all describe a field the same way.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Schema = Mapping[str, Any]
Linker = Callable[[str], str]

ANY_JSON = "any JSON"
_CONSTRAINTS = (
    ("exclusiveMinimum", "> {}"),
    ("minimum", "≥ {}"),
    ("exclusiveMaximum", "< {}"),
    ("maximum", "≤ {}"),
    ("minLength", "at least {} characters"),
    ("maxLength", "at most {} characters"),
    ("minItems", "at least {} items"),
    ("maxItems", "at most {} items"),
    ("pattern", "matches `{}`"),
)


def plain_link(name: str) -> str:
    """A type name with no anchor to point at."""
    return f"`{name}`"


def anchor_link(name: str) -> str:
    """A type name linking to its `### Name` heading on the same page."""
    return f"[`{name}`](#{name.lower()})"


def ref_name(ref: str) -> str:
    """`#/components/schemas/Health` → `Health`."""
    return ref.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class TypeNamer:
    """Names schema types; `empty` holds the definitions that accept any JSON value."""

    link: Linker = plain_link
    empty: frozenset[str] = frozenset()

    @classmethod
    def for_definitions(cls, definitions: Schema, link: Linker = plain_link) -> TypeNamer:
        return cls(link, frozenset(name for name, schema in definitions.items() if not schema))

    def __call__(self, prop: Schema) -> str:
        if "$ref" in prop:
            name = ref_name(prop["$ref"])
            return ANY_JSON if name in self.empty else self.link(name)
        if "const" in prop:
            return f"`{json.dumps(prop['const'])}`"
        if "enum" in prop:
            return "one of " + ", ".join(f"`{json.dumps(value)}`" for value in prop["enum"])
        for combinator in ("anyOf", "oneOf", "allOf"):
            if combinator in prop:
                return " or ".join(self(option) for option in prop[combinator])
        return self._simple(prop)

    def _simple(self, prop: Schema) -> str:
        kind = prop.get("type")
        if kind is None:
            return ANY_JSON
        if kind == "array":
            return f"array of {self(prop.get('items', {}))}"
        if kind == "object":
            values = prop.get("additionalProperties")
            return f"object of {self(values)}" if isinstance(values, dict) else "object"
        if "format" in prop:
            return f"{kind} ({prop['format']})"
        return str(kind)


def describe_constraints(prop: Schema) -> str:
    """`> 0, ≤ 3600`, found on the field itself or on its non-null alternative."""
    if prop.get("minLength") == 1:
        prop = {key: value for key, value in prop.items() if key != "minLength"}
        return ", ".join(filter(None, ["not empty", describe_constraints(prop)]))
    found = [template.format(_number(prop[key])) for key, template in _CONSTRAINTS if key in prop]
    for option in prop.get("anyOf", []):
        nested = describe_constraints(option)
        if nested:
            found.append(nested)
    return ", ".join(found)


def _number(value: object) -> object:
    """`1.0` → `1`: OpenAPI documents write integer bounds as floats."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def format_value(value: object) -> str:
    """A default value as JSON in backticks (TOML and JSON agree on these)."""
    return f"`{json.dumps(value, ensure_ascii=False)}`"


def cell(text: str) -> str:
    """Text made safe for one Markdown table cell."""
    return " ".join(text.split()).replace("|", "\\|")


@dataclass(frozen=True)
class FieldRow:
    """One field of an object schema, ready to render."""

    name: str
    type: str
    is_required: bool
    default: str
    description: str


def field_rows(schema: Schema, namer: TypeNamer) -> list[FieldRow]:
    """The object's properties in declaration order."""
    required = set(schema.get("required", []))
    rows = []
    for name, prop in schema.get("properties", {}).items():
        limits = describe_constraints(prop)
        description = prop.get("description", "")
        if limits:
            description = f"{description} ({limits})" if description else limits
        rows.append(
            FieldRow(
                name=name,
                type=namer(prop),
                is_required=name in required,
                default=format_value(prop["default"]) if "default" in prop else "",
                description=description,
            )
        )
    return rows


def render_fields(rows: Sequence[FieldRow]) -> str:
    """A `field | type | required | default | description` table."""
    if not rows:
        return "No fields.\n"
    lines = [
        "| field | type | required | default | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    lines += [
        f"| `{row.name}` | {cell(row.type)} | {'yes' if row.is_required else 'no'} "
        f"| {cell(row.default)} | {cell(row.description)} |"
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def render_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def first_paragraph(text: str | None) -> str:
    """A docstring's first paragraph on one line."""
    if not text:
        return ""
    return " ".join(text.strip().split("\n\n", 1)[0].split())


def render_named_type(name: str, schema: Schema, namer: TypeNamer) -> str:
    """A `### name` section for one named schema: its description, then its fields or values."""
    parts = [f"\n### {name}\n"]
    description = first_paragraph(schema.get("description"))
    if description:
        parts.append(f"\n{description}\n")
    if "enum" in schema:
        parts.append(f"\n{namer(schema)}\n")
    else:
        parts.append("\n" + render_fields(field_rows(schema, namer)))
    return "".join(parts)
