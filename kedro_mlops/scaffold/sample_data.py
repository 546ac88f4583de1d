"""The starter's sample data, put back where a fresh clone has no DVC remote.

``python -m kedro_mlops.scaffold.sample_data`` (in a generated project) puts
the starter's raw data back into ``data/01_raw``, checked against the
project's ``.dvc`` records: a fresh clone without a DVC remote, such as the
project's CI job, gets exactly the data the records name.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from kedro_mlops.scaffold.starters import template_root

USAGE = "kedro_mlops.scaffold.sample_data"

RAW = Path("data") / "01_raw"


def restore_sample_data(project: Path) -> list[Path]:
    """Copy the starter's raw CSVs whose md5 matches the project's ``.dvc`` record.

    Raises:
        RuntimeError: a record names data that is not the starter's (edited or
            replaced since generation): pull it from your DVC remote instead.
    """
    from kedro_mlops.versioning.records import file_md5, parse_record

    shipped = next((template_root() / "mlops").glob("*repo_name*")) / RAW
    restored = []
    for record in sorted((Path(project) / RAW).glob("*.dvc")):
        name = record.name[: -len(".dvc")]
        parsed = parse_record(record.read_text())
        source = shipped / name
        if parsed is None or not source.is_file() or parsed[0] != file_md5(source):
            raise RuntimeError(
                f"{record} does not name the starter's {name}: get the data from "
                "your DVC remote (`dvc remote add -d ...`, then `dvc pull`)."
            )
        target = Path(project) / RAW / name
        if not target.exists():
            shutil.copyfile(source, target)
            restored.append(target)
    return restored


def main(argv: list[str]) -> int:
    """The command line: ``restore-sample-data`` (the only command), in the project."""
    if argv != ["restore-sample-data"]:
        sys.exit(f"usage: python -m {USAGE} restore-sample-data")
    try:
        done = restore_sample_data(Path.cwd())
    except RuntimeError as exc:
        sys.exit(f"kedro-mlops: {exc}")
    print(f"kedro-mlops: restored {len(done)} raw data file(s) into {RAW}")  # noqa: T201 - a command-line entry point
    return 0


if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    main(sys.argv[1:])
