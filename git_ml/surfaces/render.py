"""Rich tables for ``git ml predict`` and ``git ml eval`` (text output only: JSON never imports rich)."""

from __future__ import annotations

from typing import Any

from git_ml.records import AggregatedPrediction

_BEST = {"files": "files/bm25+knn+content", "tests": "tests/cochange+naming", "docs": "docs/cochange",
         "couple": "couple/rose"}


def render_prediction(answer: AggregatedPrediction, console: Any) -> None:
    """The voted items with their confidence and the experts that voted for each."""
    from rich.markup import escape
    from rich.table import Table

    if not answer.items:
        console.print(f"[dim]intent {answer.intent}: no prediction (experts asked: "
                      f"{', '.join(answer.contributing_experts) or 'none answered'})[/dim]")
        return
    table = Table(title=f"intent: {answer.intent}", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("item", overflow="fold")
    table.add_column("confidence", justify="right")
    table.add_column("experts", style="dim", overflow="fold")
    for n, item in enumerate(answer.items, 1):
        table.add_row(str(n), escape(_where(item.item, item.detail)), f"{item.confidence:.2f}",
                      ", ".join(short_expert(e) for e in item.experts))
    console.print(table)
    console.print(f"[dim]experts: {', '.join(short_expert(e) for e in answer.contributing_experts)} · disagreement "
                  f"{answer.disagreement_score:.2f} · confidence {answer.confidence:.2f}[/dim]")


def short_expert(expert_id: str) -> str:
    """``file_expert`` -> ``file``; ``episode_<session uuid>`` -> ``episode 1a2b3c4d`` (whole
    ids are in the JSON output)."""
    if expert_id.startswith("episode_"):
        return f"episode {expert_id.removeprefix('episode_')[:8]}"
    return expert_id.removesuffix("_expert")


def _where(item: str, detail: dict) -> str:
    """The item, with the most precise place a voter gave for it (an error's ``path:start-end``
    and function, a refactor's impact types)."""
    details = [detail] if "location" in detail or "impacts" in detail else [d for d in detail.values()
                                                                           if isinstance(d, dict)]
    for d in details:
        if d.get("location"):
            fn = f"  ({d['function']})" if d.get("function") else ""
            return f"{d['location']}{fn}"
        if d.get("impacts"):
            return f"{item}  [{', '.join(d['impacts'])}]"
    return item


def render_eval(result: Any, console: Any) -> None:
    """Each expert next to the anchors on the same held-out items."""
    from rich.table import Table

    console.print(f"temporal replay: learn {result.train_commits} commits, answer {result.test_commits} "
                  f"(cut at {result.cut[:12]}, split {result.split})")
    # Numbers never shrink to an ellipsis (a narrow terminal, a pipe's 80 columns): method names
    # fold instead, and the task column already says which task an anchor belongs to.
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("task", no_wrap=True)
    table.add_column("method", overflow="fold", min_width=12)
    for col in ("n", "MRR", "Acc@1", "Acc@5", "R@10", "MAP", "ECE"):
        table.add_column(col, justify="right", no_wrap=True, min_width=max(len(col), 5))
    for task in ("files", "tests", "docs", "couple"):
        anchors = {k: v for k, v in result.anchors.items() if k.startswith(task + "/")}
        for name, v in sorted(anchors.items()):
            style = "bold" if name == _BEST[task] else "dim"
            short = name.removeprefix(task + "/")
            table.add_row(task, f"[{style}]{short}[/{style}]", str(int(v.get("n", 0))), f"{v['mrr']:.3f}",
                          f"{v['acc@1']:.3f}", f"{v['acc@5']:.3f}", f"{v['rec@10']:.3f}", f"{v['map']:.3f}", "")
        for r in result.results:
            if r.task != task:
                continue
            m = r.metrics
            table.add_row(task, f"[green]{r.expert} expert[/green]", str(m.test_examples), f"{m.mrr:.3f}",
                          f"{m.acc_at_k.get(1, 0):.3f}", f"{m.acc_at_k.get(5, 0):.3f}",
                          f"{m.recall_at_k.get(10, 0):.3f}", f"{m.map:.3f}", f"{m.calibration_error:.3f}")
    console.print(table)
    paired = [r for r in result.results if r.versus_best_anchor is not None]
    if paired:
        # The same items, one by one: the interval says whether a gap is more than noise.
        diff = Table(show_edge=False, pad_edge=False, title="expert - best anchor, item by item",
                     title_justify="left")
        diff.add_column("task", no_wrap=True)
        diff.add_column("expert - anchor", overflow="fold", min_width=12)
        for col in ("MRR", "95% interval", "items +/-"):
            diff.add_column(col, justify="right", no_wrap=True)
        for r in paired:
            v = r.versus_best_anchor
            style = "green" if v.low > 0 else "red" if v.high < 0 else "dim"
            diff.add_row(r.task, f"{r.expert} - {v.anchor.split('/', 1)[-1]}",
                         f"[{style}]{v.mean:+.3f}[/{style}]", f"[{style}][{v.low:+.3f}, {v.high:+.3f}][/{style}]",
                         f"{v.better}/{v.worse}")
        console.print(diff)
    for t, why in result.skipped.items():
        console.print(f"[dim]{t} expert: {why}[/dim]")
