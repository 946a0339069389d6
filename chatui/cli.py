"""The `chatui` command: ingest documents, ask questions from the terminal.

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
    ingest.add_argument("paths", nargs="+", help=".md, .mdx, .markdown or .txt files, folders, globs")
    ingest.add_argument("--collection", help="knowledge base name (default: CHATUI_COLLECTION)")
    ingest.add_argument("--reset", action="store_true", help="empty the knowledge base first")

    ask = commands.add_parser("ask", help="answer a question from the docs, streaming")
    ask.add_argument("question")
    ask.add_argument("--provider", help="offline, openai or anthropic (default: CHATUI_PROVIDER)")
    ask.add_argument("--model", help="model name (default: CHATUI_MODEL)")
    ask.add_argument("--json", action="store_true", help="print every event as a JSON line")

    args = parser.parse_args(argv)
    try:
        if args.command == "ingest":
            return _ingest(args.paths, collection=args.collection, reset=args.reset)
        return asyncio.run(_ask(args.question, args.provider, args.model, as_json=args.json))
    except ChatUIError as exc:
        print(f"chatui: {exc.message}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("\n[stopped]", file=sys.stderr)
        return EXIT_INTERRUPTED


def _ingest(paths: list[str], *, collection: str | None, reset: bool) -> int:
    from chatui.retrieval import ChromaStore, ingest_paths

    overrides = {"collection": collection} if collection else {}
    settings = load_settings(**overrides)
    # --reset also opens a collection built with another embedder, so that it can be rebuilt.
    store = ChromaStore.open(settings.chroma_dir, settings.collection, reset=reset)
    report = ingest_paths(paths, store, max_chars=settings.chunk_chars)
    print(
        f"Indexed {report.files_indexed} file(s) ({report.chunks_added} chunks), "
        f"{report.files_unchanged} unchanged, in {report.duration_s:.1f} s. "
        f"The knowledge base {settings.collection!r} now holds {store.count():,} chunks."
    )
    for path, reason in report.skipped:
        print(f"  skipped {path}: {reason}", file=sys.stderr)
    if report.files_seen == 0:
        print("chatui: no .md, .mdx, .markdown or .txt file matched those paths.", file=sys.stderr)
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


if __name__ == "__main__":
    sys.exit(main())
