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

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError


class StrictModel(BaseModel):
    """Unknown keys are errors; instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def describe_errors(error: ValidationError, model: type[BaseModel]) -> list[str]:
    """One line per problem: the dotted key, then what is wrong with it."""
    return [_describe(err, model) for err in error.errors()]


def _describe(err: Any, model: type[BaseModel]) -> str:
    location = ".".join(str(part) for part in err["loc"])
    if err["type"] == "extra_forbidden":
        for part in err["loc"][:-1]:
            field = model.model_fields.get(str(part))
            annotation = field.annotation if field is not None else None
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                model = annotation
        allowed = ", ".join(sorted(model.model_fields))
        return f"{location}: unknown key (allowed: {allowed})"
    return f"{location}: {err['msg']} (got {err.get('input')!r})"
