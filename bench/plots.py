"""The plots of RESULTS.md, drawn with matplotlib (Agg backend) from results.json.

matplotlib is not a chatui dependency: `draw()` runs this file as a script with the Python of
bench/.venv-peers/plots (created from PyPI on first use, next to the peers' virtualenvs), so
chatui's own virtualenv gets nothing it does not declare. As a script this file imports only
the standard library and matplotlib. Plots: first-token latency distributions, lag vs token rate,
bytes vs answer length, lag along the answer, and SSE concurrency.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

MATPLOTLIB = "matplotlib==3.11.2"
PLOTS = (
    ("first_token.png", "Time to first token: distributions"),
    ("lag_vs_rate.png", "Last-token lag vs token rate"),
    ("wire_bytes.png", "Bytes received vs answer length"),
    ("lag_along_answer.png", "Lag along the answer"),
    ("concurrency.png", "SSE concurrency"),
)
COLORS = {"chatui": "#4f46e5", "chatui SSE API": "#111827", "Streamlit": "#ef4444", "Gradio": "#f59e0b",
          "Chainlit": "#10b981", "answer text": "#9ca3af"}


def _python() -> Path:
    venv = Path(__file__).resolve().parent / ".venv-peers" / "plots"
    python = venv / "bin" / "python"
    stamp = venv / f".installed-{MATPLOTLIB}"
    if not stamp.exists():
        base = getattr(sys, "_base_executable", sys.executable)
        subprocess.run([base, "-m", "venv", "--clear", str(venv)], check=True, capture_output=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", MATPLOTLIB], check=True, capture_output=True)
        stamp.touch()
    return python


def draw(out: Path, log: Callable[[str], None] = print) -> list[tuple[str, str]]:
    """Draw every plot into `out` (reading out/results.json); the (file, title) pairs drawn."""
    try:
        python = _python()
        subprocess.run([str(python), __file__, str(out / "results.json"), str(out)], check=True,
                       capture_output=True, text=True, timeout=300)
    except subprocess.CalledProcessError as exc:
        log(f"plots not drawn: {exc}: {(exc.stderr or '')[-2000:]}")
        return []
    except (OSError, subprocess.SubprocessError) as exc:
        log(f"plots not drawn: {exc}")
        return []
    return [(name, title) for name, title in PLOTS if (out / name).exists()]


# -- the script (runs under bench/.venv-peers/plots) ------------------------------------------------


def _median(values: list[float]) -> float:
    values = sorted(v for v in values if v is not None)
    if not values:
        return float("nan")
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def _q(values: list[float], q: float) -> float:
    values = sorted(v for v in values if v is not None)
    if not values:
        return float("nan")
    rank = (len(values) - 1) * q
    low = int(rank)
    high = min(low + 1, len(values) - 1)
    return values[low] + (values[high] - values[low]) * (rank - low)


def _main(results: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    data = json.loads(results.read_text())
    runs, sse = data["browser_runs"], data["sse_runs"]
    frameworks = [f for f in ("chatui", "Streamlit", "Gradio", "Chainlit") if any(r["framework"] == f for r in runs)]

    def save(fig, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)

    # 1. first-token latency: empirical CDFs
    fig, ax = plt.subplots(figsize=(7, 4))
    series = {"chatui SSE API": [s["first_token_ms"] for s in sse if s["purpose"] == "first-token"]}
    series |= {f: [r["first_token_ms"] for r in runs if r["framework"] == f and r["purpose"] == "first-token"]
               for f in frameworks}
    for name, values in series.items():
        values = sorted(v for v in values if v is not None)
        if values:
            ax.step(values, [(i + 1) / len(values) for i in range(len(values))], where="post", label=name,
                    color=COLORS.get(name))
    ax.set_xscale("log")
    ax.set_xlabel("upstream sends the first token → it is in the DOM (ms, log)")
    ax.set_ylabel("fraction of answers")
    ax.axvline(1000 / 60, color="#d1d5db", linestyle="--", linewidth=1)
    ax.legend()
    ax.set_title("Time to first token")
    save(fig, "first_token.png")

    # 2. last-token lag vs rate
    fig, ax = plt.subplots(figsize=(7, 4))
    rates = sorted({r["rate"] for r in runs if r["purpose"] == "lag"})
    for name in frameworks:
        med, low, high = [], [], []
        for rate in rates:
            values = [r["last_token_ms"] for r in runs if r["framework"] == name and r["purpose"] == "lag" and r["rate"] == rate]
            m = _median(values)
            med.append(m)
            low.append(m - _q(values, 0.0))
            high.append(_q(values, 1.0) - m)
        ax.errorbar(rates, med, yerr=[low, high], marker="o", capsize=3, label=name, color=COLORS.get(name))
    floor = [(s["rate"], s["last_token_ms"]) for s in sse if s["purpose"] == "lag"]
    if floor:
        ax.plot(*zip(*sorted(floor)), marker="s", linestyle=":", label="chatui SSE API", color=COLORS["chatui SSE API"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.axhline(100, color="#d1d5db", linestyle="--", linewidth=1)
    ax.set_xlabel("token rate (tok/s, log)")
    ax.set_ylabel("last token: upstream → DOM (ms, log)")
    ax.set_title("Lag at the end of the answer (median, bars: min–max)")
    ax.legend()
    save(fig, "lag_vs_rate.png")

    # 3. bytes vs answer length
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in frameworks:
        done = [r for r in runs if r["framework"] == name and r["rate"] == 1000 and r["purpose"] != "first-token"
                and r["completed"]]  # an unfinished answer did not receive all its bytes
        sizes = sorted({r["tokens"] for r in done})
        got = [_median([r["received_bytes"] for r in done if r["tokens"] == n]) for n in sizes]
        ax.plot(sizes, got, marker="o", label=f"{name} page", color=COLORS.get(name))
    wire = sorted((s["tokens"], s["body_bytes"], s["answer_bytes"]) for s in sse if s["purpose"] == "wire")
    if wire:
        ax.plot([w[0] for w in wire], [w[1] for w in wire], marker="s", linestyle=":", label="chatui SSE API",
                color=COLORS["chatui SSE API"])
        ax.plot([w[0] for w in wire], [w[2] for w in wire], linestyle="--", label="answer text", color=COLORS["answer text"])
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("answer length (tokens, log), streamed at 1,000 tok/s")
    ax.set_ylabel("bytes received (log)")
    ax.set_title("Wire cost per answer (answers that finished)")
    ax.legend()
    save(fig, "wire_bytes.png")

    # 4. lag along the answer, at the highest rate (first run of each framework)
    top = max(rates, default=None)
    fig, ax = plt.subplots(figsize=(7, 4))
    for name in frameworks:
        run = next((r for r in runs if r["framework"] == name and r["purpose"] == "lag" and r["rate"] == top), None)
        if run:
            lags = run["marker_lags_ms"]
            step = run["tokens"] / max(1, len(lags) - 1)
            ax.plot([i * step for i in range(len(lags))], lags, marker=".", label=name, color=COLORS.get(name))
    ax.set_yscale("log")
    ax.set_xlabel(f"token index ({top:g} tok/s)" if top else "token index")
    ax.set_ylabel("upstream → DOM (ms, log)")
    ax.set_title("Lag along one answer")
    ax.legend()
    save(fig, "lag_along_answer.png")

    # 5. SSE concurrency
    steps = data.get("sse_steps") or []
    if steps:
        fig, ax = plt.subplots(figsize=(7, 4))
        xs = [s["streams"] for s in steps]
        ax.plot(xs, [s["added_delay_ms"]["p99"] for s in steps], marker="o", label="added delay p99 (ms)",
                color=COLORS["chatui"])
        ax.plot(xs, [s["delay_ms"]["median"] for s in steps], marker=".", label="delay p50 (ms)", color="#6b7280")
        relay = data.get("relay_steps") or []
        if relay:
            ax.plot([s["streams"] for s in relay], [s["added_delay_ms"]["p99"] for s in relay], marker="o",
                    linestyle="--", label="bare relay: added delay p99 (ms)", color="#9ca3af")
        ax.axhline(50, color="#d1d5db", linestyle="--", linewidth=1)
        ax.set_yscale("log")
        ax.set_xlabel("concurrent SSE streams at 50 tok/s")
        ax.set_ylabel("ms (log)")
        twin = ax.twinx()
        twin.plot(xs, [s["server_util"] for s in steps], marker="s", linestyle=":", color="#ef4444", label="server cores")
        twin.set_ylabel("server CPU (cores)")
        ax.legend(loc="upper left")
        twin.legend(loc="lower right")
        ax.set_title("One app process under concurrent SSE streams")
        save(fig, "concurrency.png")


if __name__ == "__main__":
    _main(Path(sys.argv[1]), Path(sys.argv[2]))
