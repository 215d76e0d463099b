"""Generate a TensorBoard event file for benchmarking the event-file reader.

A real writer produces it: ``torch.utils.tensorboard.SummaryWriter.add_scalar`` (the default,
``simple_value`` form; ``--style tensor`` uses ``new_style=True``, the tensor form TF2 and
tensorboard's own writers use), tensorboardX with ``--writer tensorboardx``, or TensorFlow's
``tf.summary.scalar`` with ``--writer tf`` (the tensor form; needs tensorflow, which sets the
wall times itself). The default
is 20,000 steps x 50 tags = 1,000,000 scalars in one file (about 50 MB), with veRL-style tag
names and realistic curves. Values are deterministic for a given ``--seed`` (wall times too:
they are passed explicitly); only the file name carries the writer's clock, host and pid.

    python benchmarks/make_tfevents.py                 # -> benchmarks/data/tb_20000x50/
    python benchmarks/make_tfevents.py --steps 2000 --tags 10 --style tensor
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

import numpy as np

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
FAMILIES = ("actor", "critic", "response_length", "timing_s", "perf", "rollout")
CORE = ("actor/pg_loss", "actor/grad_norm", "actor/entropy", "actor/ppo_kl", "critic/score/mean")
START_TIME = 1_760_000_000.0


def default_dir(steps: int, tags: int, style: str, writer: str) -> Path:
    """Canonical location of a generated run folder; ``data/`` is git-ignored."""
    extra = "" if (style, writer) == ("simple", "torch") else f"_{writer}_{style}"
    return DATA_DIR / f"tb_{steps}x{tags}{extra}"


def tag_names(tags: int) -> list[str]:
    names = list(CORE[:tags])
    i = 0
    while len(names) < tags:
        names.append(f"{FAMILIES[i % len(FAMILIES)]}/metric_{i:03d}")
        i += 1
    return names


def curves(steps: int, tags: int, seed: int) -> np.ndarray:
    """(steps, tags) float64 values: decays, drifts and lognormal noise, rare spikes."""
    rng = np.random.default_rng(seed)
    t = np.arange(steps, dtype=np.float64)[:, None]
    scale = rng.uniform(0.1, 100.0, size=tags)
    decay = rng.uniform(steps / 10, steps, size=tags)
    values = scale * (0.2 + np.exp(-t / decay)) * np.exp(rng.normal(0, 0.05, (steps, tags)))
    spikes = rng.random((steps, tags)) < 1e-4
    values[spikes] *= 10.0
    return values


def generate(out: Path, steps: int, tags: int, seed: int, style: str, writer: str) -> Path:
    """Write one event file into `out` (emptied first) and return its path."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    names = tag_names(tags)
    values = curves(steps, tags, seed)
    if writer == "tf":
        _write_tf(out, names, values)
        (file,) = [p for p in out.iterdir() if "tfevents" in p.name]
        return file
    if writer == "torch":
        from torch.utils.tensorboard import SummaryWriter
    else:
        from tensorboardX import SummaryWriter  # type: ignore[no-redef]
    kwargs = {"new_style": True} if style == "tensor" else {}
    if style == "tensor" and writer == "tensorboardx":
        raise SystemExit("tensorboardX writes simple_value only; use --writer torch")
    tb = SummaryWriter(log_dir=str(out), max_queue=1000, flush_secs=3600)
    started = time.perf_counter()
    for step in range(steps):
        row = values[step].tolist()
        wall = START_TIME + step * 0.5
        for name, value in zip(names, row, strict=True):
            tb.add_scalar(name, value, global_step=step, walltime=wall, **kwargs)
        if step and step % 2000 == 0:
            rate = step * tags / (time.perf_counter() - started)
            print(f"  {step}/{steps} steps ({rate:,.0f} scalars/s)", file=sys.stderr)
    tb.close()
    (file,) = [p for p in out.iterdir() if "tfevents" in p.name]
    return file


def _write_tf(out: Path, names: list[str], values: np.ndarray) -> None:
    """tf.summary.scalar for every value (TF2 eager): the tensor form, plugin metadata on
    each tag's first value, wall times from TensorFlow's clock."""
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(out), max_queue=1000, flush_millis=3_600_000)

    @tf.function
    def write_step(step: tf.Tensor, row: tf.Tensor) -> None:  # one graph call per step
        for i, name in enumerate(names):
            tf.summary.scalar(name, row[i], step=step)

    started = time.perf_counter()
    with writer.as_default():
        for step in range(len(values)):
            write_step(tf.constant(step, tf.int64), tf.constant(values[step], tf.float32))
            if step and step % 2000 == 0:
                rate = step * len(names) / (time.perf_counter() - started)
                print(f"  {step}/{len(values)} steps ({rate:,.0f} scalars/s)", file=sys.stderr)
    writer.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--tags", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--style", choices=("simple", "tensor"), default="simple")
    parser.add_argument("--writer", choices=("torch", "tensorboardx", "tf"), default="torch")
    parser.add_argument("--out", type=Path, help="run folder (default: data/tb_<steps>x<tags>)")
    args = parser.parse_args(argv)
    out = args.out or default_dir(args.steps, args.tags, args.style, args.writer)
    started = time.perf_counter()
    file = generate(out, args.steps, args.tags, args.seed, args.style, args.writer)
    size = file.stat().st_size / 1e6
    took = time.perf_counter() - started
    print(f"wrote {file} ({size:.1f} MB, {args.steps * args.tags:,} scalars) in {took:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
