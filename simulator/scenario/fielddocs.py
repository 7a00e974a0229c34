"""Field descriptions of input models, read from their attribute docstrings when asked for.

Every input model documents a field with a string right below it (an attribute docstring).
pydantic can copy these into each field's description as it builds the class
(``use_attribute_docstrings``), but it finds a class's source by walking the stack and scanning
every loaded module per class: about 0.05 s of every command on a 2-core machine, paid for
the two that show descriptions (`dcsim schema` and the Markdown reference).  Here the docstrings
are read only then, with one parse per source file, by the same rule pydantic applies: a
string statement directly after an annotated assignment of a name in the class body, cleaned
with ``inspect.cleandoc``; a ``Field(description=...)`` wins; an inherited field keeps the
docstring of the class that declares it.
"""

from __future__ import annotations

import ast
import functools
import inspect
import sys
from typing import Any

from pydantic import BaseModel


def field_descriptions(model: type[BaseModel]) -> dict[str, str | None]:
    """Each field's description by field name (None where it has none)."""
    return {name: field.description if field.description is not None
            else _declared_doc(model, name)
            for name, field in model.model_fields.items()}


def add_descriptions(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Put the field descriptions into a model's JSON schema (a pydantic
    ``json_schema_extra`` hook): each property keyed by its alias gets its description."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return
    for name, doc in field_descriptions(model).items():
        field = model.model_fields[name]
        key = field.validation_alias if isinstance(field.validation_alias, str) \
            else field.alias or name
        prop = properties.get(key)
        if doc is not None and isinstance(prop, dict) and "description" not in prop:
            prop["description"] = doc


def _declared_doc(model: type, name: str) -> str | None:
    """The docstring of `name` in the class of the MRO whose body declares it."""
    for cls in model.__mro__:
        if name in cls.__dict__.get("__annotations__", {}):
            return class_docstrings(cls).get(name)
    return None


def class_docstrings(cls: type) -> dict[str, str]:
    """Attribute docstrings in the body of `cls` ({} when its source is not a file)."""
    module = sys.modules.get(cls.__module__)
    path = getattr(module, "__file__", None)
    if not path or "<locals>" in cls.__qualname__:
        return {}
    return _module_docstrings(path).get(cls.__qualname__, {})


@functools.cache
def _module_docstrings(path: str) -> dict[str, dict[str, str]]:
    """Attribute docstrings of every class in a source file, by qualified name."""
    try:
        with open(path, encoding="utf-8") as source:
            tree = ast.parse(source.read(), filename=path)
    except (OSError, SyntaxError, UnicodeDecodeError, ValueError):
        return {}
    found: dict[str, dict[str, str]] = {}

    def visit(body: list[ast.stmt], prefix: str) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                found[prefix + node.name] = _body_docstrings(node.body)
                visit(node.body, f"{prefix}{node.name}.")

    visit(tree.body, "")
    return found


def _body_docstrings(body: list[ast.stmt]) -> dict[str, str]:
    docs = {}
    for before, node in zip(body, body[1:], strict=False):
        if (isinstance(before, ast.AnnAssign) and isinstance(before.target, ast.Name)
                and isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)):
            docs[before.target.id] = inspect.cleandoc(node.value.value)
    return docs
