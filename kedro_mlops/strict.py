"""The one pydantic base of every kedro-mlops settings model.

Strict: an unknown key is an error (a typo never passes silently), and a
loaded setting cannot be changed by accident (frozen). ``mlops.yml``'s models
(:mod:`kedro_mlops.config`), the drift settings and the table schema of
``parameters.yml`` all derive from it, and :func:`describe_errors` turns a
pydantic ``ValidationError`` into lines that name the key and the allowed ones.

Example:
    >>> class Section(StrictModel):
    ...     enabled: bool = True
    >>> from pydantic import ValidationError
    >>> try:
    ...     Section.model_validate({"enabeld": False})
    ... except ValidationError as exc:
    ...     describe_errors(exc, Section)
    ['enabeld: unknown key (allowed: enabled)']
"""

from __future__ import annotations

from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Unknown keys are errors; instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def describe_errors(
    error: ValidationError, model: type[BaseModel], at: str = ""
) -> list[str]:
    """One line per problem: the dotted key, then what is wrong with it.

    ``at`` is the key of the validated mapping in its file, put before each key
    (``ingest`` gives ``ingest.test_size``).
    """
    return [_describe(err, model, at) for err in error.errors()]


def _describe(err: Any, model: type[BaseModel], at: str = "") -> str:
    location = ".".join(str(part) for part in ([at] if at else []) + list(err["loc"]))
    if err["type"] == "extra_forbidden":
        allowed = ", ".join(sorted(_model_at(model, err["loc"][:-1]).model_fields))
        return f"{location}: unknown key (allowed: {allowed})"
    if err["type"] == "missing":  # the input is the whole mapping: say no more
        return f"{location}: Field required"
    if err["type"] == "value_error":  # raised by a validator of ours: its own words
        message = str(err["ctx"]["error"])
        found = err.get("input")
        if not isinstance(found, dict):  # a whole section says nothing more
            message += f" (got {found!r})"
        return f"{location}: {message}" if location else message
    return f"{location}: {err['msg']} (got {err.get('input')!r})"


def _model_at(model: type[BaseModel], path: tuple[Any, ...]) -> type[BaseModel]:
    """The model whose keys the mapping at ``path`` holds: through nested
    models, and through the values of their dict and list fields."""
    found = model
    annotation: Any = model
    for part in path:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            annotation = _unwrap(field.annotation) if field is not None else None
        else:  # a dict's key or a list's index: on to its values
            arguments = get_args(annotation)
            annotation = _unwrap(arguments[-1]) if arguments else None
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found = annotation
    return found


def _unwrap(annotation: Any) -> Any:
    """``X`` from ``Annotated[X, ...]`` and from ``X | None``."""
    if get_origin(annotation) is Annotated:
        annotation = get_args(annotation)[0]
    if get_origin(annotation) in (Union, UnionType):
        others = [a for a in get_args(annotation) if a is not type(None)]
        if len(others) == 1:
            return _unwrap(others[0])
    return annotation
