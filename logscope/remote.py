"""Checking a sweep on a Ray cluster (`logscope check SWEEP --executor ray[://ADDRESS]`).

veRL, OpenRLHF and Trinity-RFT users already run Ray, and their logs sit on the cluster's
shared storage. The driver discovers the runs, sends one task per batch of runs, and each
task reads its runs where it runs and returns their reports; reports stream back as tasks
finish and land in discovery order, so the table, JSON and exit code are those of a local
check. A task that fails is retried once; if it fails again, its runs are reported as
errors (exit 2) and the other batches still count. Ray is the `logscope[ray]` extra and is
imported only here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from logscope.errors import InputError

if TYPE_CHECKING:
    from logscope.ingest import Progress
    from logscope.ingest.discover import RunFiles
    from logscope.outcome import RunReport
    from logscope.rules.spec import Pack

Target = tuple["RunFiles", Path]
Group = list[Target]  # runs that may be one training process (logscope.samerun), read together
CheckGroup = Callable[[Group, list["Pack"], dict[str, tuple[str, ...]], Any], list["RunReport"]]


def ray_address(executor: str) -> str | None:
    """`ray` joins the cluster `ray start` or RAY_ADDRESS points at (or starts a local
    one); `ray://HOST:PORT` names a cluster's client address."""
    if executor == "ray":
        return None
    if executor.startswith("ray://"):
        return executor
    raise InputError(f"--executor {executor}: expected 'local', 'ray' or 'ray://HOST:PORT'")


def batches(count: int, workers: int, size: int | None = None) -> list[range]:
    """Contiguous batches: about four per worker, so a slow batch does not hold the end."""
    if count == 0:
        return []
    step = size or max(1, -(-count // max(1, 4 * workers)))
    return [range(i, min(i + step, count)) for i in range(0, count, step)]


def _check_batch(
    groups: Sequence[Group],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: Any,
    check_group: CheckGroup,
) -> list[list[RunReport]]:
    return [check_group(group, packs, shared, options) for group in groups]


def check_on_ray(
    groups: list[Group],
    packs: list[Pack],
    shared: dict[str, tuple[str, ...]],
    options: Any,
    check_group: CheckGroup,
    *,
    executor: str = "ray",
    progress: Progress | None = None,
    batch_size: int | None = None,
) -> tuple[list[list[RunReport] | None], list[str]]:
    """Each group's reports in `groups` order (None where its batch failed twice) and one
    error per run of a failed batch."""
    ray = _import_ray()
    address = ray_address(executor)
    if not ray.is_initialized():
        try:
            ray.init(address=address, log_to_driver=False, include_dashboard=False)
        except Exception as exc:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise InputError(f"--executor {executor}: cannot reach a Ray cluster ({exc})") from exc
    workers = int(ray.cluster_resources().get("CPU", 1))
    task = ray.remote(num_cpus=1, max_retries=1, retry_exceptions=True)(_check_batch)
    shared_packs = ray.put(packs)
    pending = {}
    for chunk in batches(len(groups), workers, batch_size):
        ref = task.remote([groups[i] for i in chunk], shared_packs, shared, options, check_group)
        pending[ref] = chunk
    reports: list[list[RunReport] | None] = [None] * len(groups)
    errors: list[str] = []
    done = 0
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        chunk = pending.pop(ready[0])
        try:
            for index, found in zip(chunk, ray.get(ready[0]), strict=True):
                reports[index] = found
        except Exception as exc:  # the task failed on its retry too
            reason = _reason(exc)
            errors += [
                f"{target[0].root}: the Ray task checking it failed ({reason})"
                for i in chunk
                for target in groups[i]
            ]
        done += len(chunk)
        if progress:
            progress(f"{done}/{len(groups)} runs", done, len(groups))
    return reports, errors


def _reason(exc: BaseException) -> str:
    """The task's own exception, not Ray's wrapper around it."""
    cause = getattr(exc, "cause", None) or exc.__cause__ or exc
    return f"{type(cause).__name__}: {cause}".splitlines()[0]


def _import_ray() -> Any:
    try:
        import ray
    except ImportError as exc:
        raise InputError(
            "--executor ray needs Ray on this machine: pip install 'logscope[ray]'"
        ) from exc
    return ray
