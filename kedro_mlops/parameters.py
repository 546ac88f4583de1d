"""The parameters of a run, checked as strictly as ``mlops.yml`` before it starts.

A node says what it reads from the parameter files with a ``TypedDict`` as the
type hint of its ``params:`` argument; constraints go in ``Annotated`` with
pydantic's ``Field``::

    class IngestParams(TypedDict):
        test_size: Annotated[float, Field(gt=0, lt=1)]
        reference_sample_size: Annotated[int, Field(gt=0)]

    def split_data(data: pd.DataFrame, params: IngestParams) -> ...

Before the first node runs (and before kedro-mlflow opens a run), the plugin
checks every such parameter of the pipeline: an unknown key, a missing one, a
wrong type (strictly: ``"0.2"`` is not a number) or a value outside its
constraints stops the run with :class:`ParametersError`, which names the key,
the file it comes from and what the value must be. The node still gets the
plain dict, so kedro-mlflow logs it key by key (``ingest.test_size``).

A validator that needs another parameter (a column that must be in the
schema) finds every parameter of the run in its validation context,
``info.context["parameters"]``.

Kedro itself checks parameters hinted with a pydantic model or a dataclass,
and hands the node that object instead of the dict; kedro-mlops leaves those
to Kedro.

Example:
    >>> from typing import Annotated, TypedDict
    >>> from pydantic import Field
    >>> from kedro.pipeline import Node, Pipeline
    >>> Ingest = TypedDict("Ingest", {"test_size": Annotated[float, Field(gt=0, lt=1)]})
    >>> def split(data, params: Ingest): ...
    >>> pipeline = Pipeline([Node(split, ["raw", "params:ingest"], "parts")])
    >>> check_parameters(pipeline, {"ingest": {"test_size": 1.5}})
    Traceback (most recent call last):
    ...
    kedro_mlops.parameters.ParametersError: Invalid parameter in the parameter files: ingest.test_size: Input should be less than 1 (got 1.5)
"""

from __future__ import annotations

import functools
import inspect
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin, get_type_hints

from pydantic import ConfigDict, ValidationError, create_model

from kedro_mlops.strict import StrictModel, describe_errors

PARAMS_PREFIX = "params:"
#: What a problem's source is called when no file holds the key.
UNKNOWN_SOURCE = "the parameter files"
RUNTIME_SOURCE = "--params"

logger = logging.getLogger(__name__)

#: ``(dotted key) -> where it was set``: a file, ``--params``, or UNKNOWN_SOURCE.
Sources = Callable[[str], str]


class ParametersError(ValueError):
    """A parameter does not match the type hint of a node that reads it."""


class StrictParameters(StrictModel):
    """Unknown keys are errors, and so are values of another type."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


def declared_parameters(pipeline: Any) -> dict[str, list[type]]:
    """``{parameter key: [TypedDict, ...]}``: what the pipeline's nodes declare."""
    declared: dict[str, list[type]] = {}
    for node in pipeline.nodes:
        for dataset, hint in _input_hints(node.func, node.inputs):
            if dataset.startswith(PARAMS_PREFIX) and _is_typeddict(hint):
                hints = declared.setdefault(dataset.removeprefix(PARAMS_PREFIX), [])
                if hint not in hints:
                    hints.append(hint)
    return declared


def check_parameters(
    pipeline: Any, parameters: Mapping[str, Any], sources: Sources | None = None
) -> None:
    """Check the parameters that ``pipeline``'s nodes declare with a TypedDict.

    Args:
        pipeline: the pipeline about to run.
        parameters: every parameter (Kedro's ``parameters`` dataset).
        sources: where each key was set (:func:`parameter_sources`).

    Raises:
        ParametersError: listing each problem with its key and file.
    """
    problems: list[tuple[str, str]] = []
    for key, typed_dicts in sorted(declared_parameters(pipeline).items()):
        value = _lookup(parameters, key, default=_MISSING)
        if value is _MISSING:
            continue  # Kedro names the node input that is not there
        for typed_dict in typed_dicts:
            try:
                model = strict_model(typed_dict)
            except Exception as exc:  # a hint that does not resolve, or no type
                logger.warning(
                    "Cannot check params:%s against %r: %s", key, typed_dict, exc
                )
                continue
            try:
                model.model_validate(value, context={"parameters": parameters})
            except ValidationError as exc:
                for error, line in zip(
                    exc.errors(), describe_errors(exc, model, at=key), strict=True
                ):
                    dotted = ".".join([key, *(str(p) for p in error["loc"])])
                    problems.append(((sources or _unknown)(dotted), line))
    problems = list(dict.fromkeys(problems))  # two nodes, one hint: said once
    if len(problems) == 1:
        ((source, line),) = problems
        raise ParametersError(f"Invalid parameter in {source}: {line}")
    if problems:
        listing = "\n".join(f"  - {source}: {line}" for source, line in problems)
        raise ParametersError(f"Invalid parameters:\n{listing}")


def check_run_parameters(pipeline: Any, catalog: Any, config_loader: Any) -> None:
    """:func:`check_parameters` on the run's catalog, naming the files of
    ``config_loader`` (``None``: no file is named)."""
    dataset = catalog.get("parameters")
    if dataset is None:
        return
    sources = parameter_sources(config_loader) if config_loader is not None else None
    check_parameters(pipeline, dataset.load(), sources)


@functools.cache
def strict_model(typed_dict: type) -> type[StrictParameters]:
    """The strict pydantic model of a TypedDict (nested ones included)."""
    from typing_extensions import NotRequired, Required

    fields: dict[str, Any] = {}
    for name, declared in get_type_hints(typed_dict, include_extras=True).items():
        hint = declared
        if get_origin(hint) in (Required, NotRequired):
            hint = get_args(hint)[0]
        required = name in typed_dict.__required_keys__  # type: ignore[attr-defined]
        fields[name] = (_strict(hint), ... if required else None)
    return create_model(
        typed_dict.__name__,
        __base__=StrictParameters,
        __doc__=typed_dict.__doc__,
        __module__=typed_dict.__module__,
        **fields,
    )


def parameter_sources(config_loader: Any) -> Sources:
    """Where a parameter's value comes from, as Kedro's config loader merges
    them: ``--params`` over the run environment's files over ``base``'s.

    Looks at the loader's ``parameters`` patterns in a ``conf`` folder (not in
    an archive); a key that no file holds is told by its closest parent's.
    """
    runtime = dict(getattr(config_loader, "runtime_params", None) or {})
    files = functools.cache(lambda: _parameter_files(config_loader))  # on demand

    def source(dotted: str) -> str:
        parts = dotted.split(".")
        if _lookup(runtime, dotted, default=_MISSING) is not _MISSING:
            return RUNTIME_SOURCE
        for length in range(len(parts), 0, -1):
            prefix = ".".join(parts[:length])
            for name, content in reversed(files()):  # the environment's win
                if _lookup(content, prefix, default=_MISSING) is not _MISSING:
                    return name
        return UNKNOWN_SOURCE

    return source


_MISSING = object()


def _unknown(dotted: str) -> str:
    return UNKNOWN_SOURCE


def _lookup(mapping: Mapping[str, Any], dotted: str, default: Any = None) -> Any:
    """``mapping["a"]["b"]`` for ``"a.b"``, or a key that holds the dot itself."""
    if dotted in mapping:
        return mapping[dotted]
    head, dot, rest = dotted.partition(".")
    if dot and isinstance(mapping.get(head), Mapping):
        return _lookup(mapping[head], rest, default)
    return default


def _input_hints(func: Callable[..., Any], inputs: list[str]) -> list[tuple[str, Any]]:
    """``(dataset, type hint)`` of each node input, bound as Kedro binds them."""
    try:
        names = list(inspect.signature(func).parameters)
        hints = get_type_hints(func, include_extras=True)
    except Exception:  # a partial, a builtin, a hint that does not resolve
        return []
    return [
        (dataset, hints.get(name)) for dataset, name in zip(inputs, names, strict=False)
    ]


def _is_typeddict(hint: Any) -> bool:
    from typing_extensions import is_typeddict

    return hint is not None and is_typeddict(hint)


def _strict(hint: Any) -> Any:
    """``hint`` with every TypedDict in it replaced by its strict model."""
    if _is_typeddict(hint):
        return strict_model(hint)
    origin, arguments = get_origin(hint), get_args(hint)
    if origin is None or origin is Literal or not arguments:
        return hint
    if origin is Annotated:
        annotated = (_strict(arguments[0]), *arguments[1:])
        return Annotated[annotated]
    converted = tuple(_strict(argument) for argument in arguments)
    if converted == arguments:
        return hint
    if origin in (Union, UnionType):
        return Union[converted]  # noqa: UP007 - built from a tuple
    return origin[converted]


def _parameter_files(config_loader: Any) -> list[tuple[str, dict[str, Any]]]:
    """``(path, content)`` of each parameter file, base's first."""
    import yaml

    conf = getattr(config_loader, "conf_source", None)
    if conf is None or not Path(conf).is_dir():
        return []
    conf = Path(conf)
    base = getattr(config_loader, "base_env", None)
    run = getattr(config_loader, "env", None) or getattr(
        config_loader, "default_run_env", None
    )
    patterns = getattr(config_loader, "config_patterns", {}).get("parameters", [])
    files = []
    for env in dict.fromkeys(e for e in (base, run) if e):
        found: set[Path] = set()
        for pattern in patterns:
            for path in (conf / env).glob(pattern):
                found |= set(path.rglob("*")) if path.is_dir() else {path}
        for path in sorted(found):
            if path.suffix in (".yml", ".yaml", ".json") and path.is_file():
                try:
                    content = yaml.safe_load(path.read_text(encoding="utf-8"))
                except (OSError, yaml.YAMLError):
                    continue  # Kedro's loader says what is wrong with it
                if isinstance(content, dict):
                    files.append((_shown(path, conf), content))
    return files


def _shown(path: Path, conf: Path) -> str:
    """``conf/base/parameters.yml``: from the conf folder's parent (the project)."""
    try:
        return path.relative_to(conf.parent).as_posix()
    except ValueError:
        return path.as_posix()
