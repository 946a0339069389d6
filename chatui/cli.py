"""The `chatui` command: ingest documents, ask questions from the terminal, evaluate retrieval.

`chatui ask` is one more consumer of `pipeline.answer()`: it prints tokens as they arrive, then the
sources and the stats. Errors print their fix-it message and exit non-zero; Ctrl-C stops the
answer (closing the upstream stream) and exits 130.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TextIO

from chatui.config import load_settings
from chatui.errors import ChatUIError

EXIT_ERROR = 1
EXIT_INTERRUPTED = 130


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="chatui", description="Chat with your team's docs.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="add files, folders or globs to the knowledge base")
    ingest.add_argument(
        "paths", nargs="+", help="files, folders or globs: .md .mdx .markdown .txt .rst .html .pdf"
    )
    ingest.add_argument("--collection", help="knowledge base name (default: CHATUI_COLLECTION)")
    ingest.add_argument("--reset", action="store_true", help="empty the knowledge base first")
    ingest.add_argument(
        "--prune", action="store_true", help="remove files deleted from disk (only under PATHS)"
    )
    ingest.add_argument(
        "--wait",
        type=float,
        default=300.0,
        metavar="SECONDS",
        help="wait this long for another ingest into the same data dir (default 300; -1: forever)",
    )
    ingest.add_argument("--chunk-chars", type=int, help="chunk size (default: CHATUI_CHUNK_CHARS)")
    ingest.add_argument(
        "--chunk-overlap", type=int, help="characters shared by neighbours (CHATUI_CHUNK_OVERLAP)"
    )

    ask = commands.add_parser("ask", help="answer a question from the docs, streaming")
    ask.add_argument("question")
    ask.add_argument("--provider", help="offline, openai or anthropic (default: CHATUI_PROVIDER)")
    ask.add_argument("--model", help="model name (default: CHATUI_MODEL)")
    ask.add_argument("--json", action="store_true", help="print every event as a JSON line")

    evaluate = commands.add_parser("eval", help="measure retrieval: recall@k and MRR of a question set")
    evaluate.add_argument("questions", help='JSON list of {"q": "...", "sources": ["path.md", ...]}')
    evaluate.add_argument("--collection", help="knowledge base name (default: CHATUI_COLLECTION)")
    evaluate.add_argument("--k", type=int, default=5, help="passages that count as found (default 5)")
    evaluate.add_argument("--json", action="store_true", help="print the report as JSON")
    evaluate.add_argument(
        "--fail-under", type=float, metavar="RECALL", help="exit 1 if recall@k is below this"
    )

    export = commands.add_parser("export", help="print a stored conversation as Markdown or JSON")
    export.add_argument("conversation_id", metavar="CONVERSATION_ID")
    export.add_argument("--format", choices=("md", "json"), default="md", help="default: md")
    export.add_argument("--user", help="whose conversation (default: the local user, 'local')")

    bench = commands.add_parser("bench", help="run the benchmarks in bench/ (from a source checkout)")
    bench.add_argument("--quick", action="store_true", help="smaller sizes (also: BENCH_QUICK=1)")
    bench.add_argument("--report-only", action="store_true", help="redraw bench/results from results.json")

    args = parser.parse_args(argv)
    try:
        if args.command == "bench":
            from chatui.bench import run_bench

            return run_bench(quick=args.quick, report_only=args.report_only)
        if args.command == "ingest":
            return _ingest(args)
        if args.command == "export":
            return asyncio.run(_export(args))
        if args.command == "eval":
            return asyncio.run(_eval(args))
        return asyncio.run(_ask(args.question, args.provider, args.model, as_json=args.json))
    except ChatUIError as exc:
        print(f"chatui: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\n[stopped]", file=sys.stderr)
        return EXIT_INTERRUPTED


def _ingest(args: argparse.Namespace) -> int:
    """Ingest under the data dir's lock, with progress on stderr, then print the report.

    Progress is a live bar (files done/total, chunks, chunks/s, ETA) when stderr is a terminal,
    and a plain line every few seconds (and at the end) when it is a pipe or a log file. Bad files
    are listed at the end with their reasons; they never stop the run.
    """
    import time

    from chatui.errors import ConfigError
    from chatui.retrieval import ChromaStore, IngestProgress, ingest_lock, ingest_paths

    given = {"collection": args.collection, "chunk_chars": args.chunk_chars}
    given["chunk_overlap"] = args.chunk_overlap
    settings = load_settings(**{k: v for k, v in given.items() if v is not None})
    if settings.chunk_overlap > settings.chunk_chars // 2:
        raise ConfigError(
            f"CHATUI_CHUNK_OVERLAP ({settings.chunk_overlap}) must be at most half of "
            f"CHATUI_CHUNK_CHARS ({settings.chunk_chars}); lower the overlap or raise the size."
        )
    seen = {"chunks": 0, "started": time.monotonic(), "printed": time.monotonic()}

    def measure(p: IngestProgress) -> str:
        seen["chunks"] += p.chunks
        elapsed = max(time.monotonic() - seen["started"], 1e-6)
        eta = elapsed / p.done * (p.total - p.done)
        rate = seen["chunks"] / elapsed
        return f"{seen['chunks']:,} chunks, {rate:,.0f} chunks/s, ETA {eta:.0f} s"

    def print_line(p: IngestProgress) -> None:
        numbers = measure(p)
        if p.done == p.total or time.monotonic() - seen["printed"] >= 2.0:
            seen["printed"] = time.monotonic()
            print(f"ingest: {p.done}/{p.total} files, {numbers}", file=sys.stderr, flush=True)

    def say_waiting() -> None:
        limit = "as long as it takes" if args.wait < 0 else f"up to {args.wait:g} s"
        print(
            f"chatui: another ingest is writing to {settings.data_dir}; waiting {limit}...",
            file=sys.stderr,
            flush=True,
        )

    options = {"max_chars": settings.chunk_chars, "overlap": settings.chunk_overlap}
    # --reset also opens a collection built with another embedder, so that it can be rebuilt.
    with (
        ingest_lock(settings.data_dir, timeout_s=args.wait, on_wait=say_waiting),
        ChromaStore.from_settings(settings, reset=args.reset) as store,
    ):
        seen["started"] = seen["printed"] = time.monotonic()  # not counting the wait for the lock
        if sys.stderr.isatty():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
            )

            bar = Progress(
                TextColumn("Indexing"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("files, {task.fields[numbers]}"),
                console=Console(stderr=True),
                transient=True,  # the report below says it all once done
            )
            task = bar.add_task("ingest", total=None, numbers="scanning")

            def draw(p: IngestProgress) -> None:
                bar.update(task, total=p.total, completed=p.done, numbers=measure(p))

            with bar:
                report = ingest_paths(
                    args.paths, store, prune=args.prune, on_progress=draw, **options
                )
        else:
            report = ingest_paths(
                args.paths, store, prune=args.prune, on_progress=print_line, **options
            )
        total = store.count()
    rate = report.chunks_added / report.duration_s if report.duration_s else 0.0
    removed = f", {len(report.pruned)} removed" if args.prune else ""
    print(
        f"Indexed {report.files_indexed} file(s) ({report.chunks_added} chunks), "
        f"{report.files_unchanged} unchanged, {len(report.skipped)} skipped{removed}, "
        f"in {report.duration_s:.1f} s ({rate:,.0f} chunks/s). "
        f"The knowledge base {settings.collection!r} now holds {total:,} chunks."
    )
    for source in report.pruned:
        print(f"  removed {source}: deleted from disk")
    for path, reason in report.skipped:
        print(f"  skipped {path}: {reason}", file=sys.stderr)
    if report.files_seen == 0 and not report.pruned:
        print(
            "chatui: no .md, .mdx, .markdown, .txt, .rst, .html, .htm or .pdf file matched "
            "those paths.",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return 0


async def _ask(
    question: str, provider: str | None, model: str | None, *, as_json: bool, out: TextIO = sys.stdout
) -> int:
    from chatui.chat_request import check_question
    from chatui.pipeline import AnswerOptions, answer

    settings = load_settings()
    check_question(question, (), settings)
    citations: list[str] = []
    usage = ""
    failed = False
    async for event in answer(question, (), AnswerOptions(provider, model), settings=settings):
        if as_json:
            print(json.dumps({"kind": event.kind, **json.loads(event.payload())}), file=out)
            failed = failed or event.kind == "error"
            continue
        match event.kind:
            case "status":
                print(f"· {event.detail}", file=sys.stderr)
            case "citation":
                citations.append(f"[{event.marker}] {event.source} — {event.title}")
            case "token":
                out.write(event.text)
                out.flush()
            case "error":
                failed = True
                print(f"\nchatui: {event.message}", file=sys.stderr)
            case "usage":
                estimate = " (estimated)" if event.estimated else ""
                usage = f"{event.input_tokens} in / {event.output_tokens} out{estimate}"
            case "done":
                out.write("\n")
                if citations:
                    print("\nSources:\n  " + "\n  ".join(citations), file=out)
                stats = event.stats
                ttft = f"{stats.ttft_ms:.0f} ms" if stats.ttft_ms is not None else "n/a"
                tokens = usage or f"{stats.output_tokens} out"
                print(
                    f"\n{tokens} tokens · {stats.tokens_per_s:.1f} tok/s · first token {ttft} · "
                    f"{stats.duration_ms / 1000:.1f} s · {event.finish_reason}",
                    file=sys.stderr,
                )
    return EXIT_ERROR if failed else 0


async def _eval(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """`chatui eval`: run a question set through search() as the chat does; print the report."""
    from pathlib import Path

    from chatui.evaluation import (
        evaluate,
        format_report,
        load_questions,
        unknown_sources,
    )
    from chatui.retrieval import ChromaStore

    settings = load_settings(**({"collection": args.collection} if args.collection else {}))
    questions = load_questions(Path(args.questions))
    with ChromaStore.from_settings(settings) as store:
        if store.count() == 0:
            print(
                f"chatui: the knowledge base {settings.collection!r} in {settings.chroma_dir} is "
                "empty; ingest the docs first: chatui ingest PATH",
                file=sys.stderr,
            )
            return EXIT_ERROR
        unknown = unknown_sources(questions, store.source_hashes())
        report = await evaluate(questions, store, k=args.k, min_score=settings.min_score)
    if unknown:
        print(
            f"chatui: {len(unknown)} expected source(s) are not in the knowledge base, e.g. "
            f"{unknown[0]!r}; question-set paths must be relative to the folder you ingested from.",
            file=sys.stderr,
        )
    if args.json:
        print(report.to_json(), file=out)
    else:
        title = f"{args.questions} against {settings.collection!r}"
        print(format_report(report, title), file=out)
    failed = args.fail_under is not None and report.recall < args.fail_under
    return EXIT_ERROR if failed else 0


async def _export(args: argparse.Namespace, out: TextIO = sys.stdout) -> int:
    """`chatui export`: one conversation's active path, from CHATUI_DATABASE_URL or the data dir."""
    from chatui.conversations import LOCAL_USER, ConversationStore

    async with ConversationStore.from_settings(load_settings()) as store:
        user = args.user if args.user is not None else LOCAL_USER
        if args.format == "json":
            text = await store.export_json(user, args.conversation_id)
        else:
            text = await store.export_markdown(user, args.conversation_id)
    out.write(text if text.endswith("\n") else text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
