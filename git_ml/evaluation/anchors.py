"""The bench anchors, re-implemented on CommitRecords: the same held-out items and the same
definitions as the team's ``bench/baselines.py`` (``scripts/bench_replay.py`` checks that the
numbers agree), so ``git ml eval`` can show them next to the experts without that script.

Tasks (ground truth from the held-out commits themselves):
  files : commit message       -> files it modified (that existed before)
  tests : non-test source files -> test files modified in the same commit
  docs  : code files            -> doc files modified in the same commit
  couple: first modified file   -> the other modified files (ROSE-style)
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from git_ml.records import CommitRecord

STOP = set("the a an of to in for and or on with is are be this that it from by as at fix fixes fixed add adds added use "
           "update updates updated remove removed make makes when not no into".split())

Item = tuple[str, Any, list[str]]  # (short hash, input, gold)


def toks(text: str) -> list[str]:
    text = re.sub(r"([a-z])([A-Z])", r"\1 \2", text)
    return [t for t in re.findall(r"[a-z0-9]+", text.lower()) if len(t) > 1 and t not in STOP]


def is_test(p: str) -> bool:
    n = p.rsplit("/", 1)[-1]
    return p.endswith(".py") and ("test" in p.split("/")[0] or n.startswith("test_") or n.endswith("_test.py")
                                  or "/tests/" in p)


def is_doc(p: str) -> bool:
    return p.endswith((".rst", ".md", ".txt")) and not is_test(p) and "requirements" not in p


def is_code(p: str) -> bool:
    return p.endswith(".py") and not is_test(p) and not p.startswith(("docs/", "examples/"))


def bot(c: CommitRecord) -> bool:
    return "[bot]" in c.author or c.author.lower() in ("dependabot", "pre-commit-ci")


def alive_after(train: Sequence[CommitRecord]) -> set[str]:
    alive: set[str] = set()
    for c in train:
        for f in c.files:
            if f.status == "D":
                alive.discard(f.path)
            else:
                if f.old_path:
                    alive.discard(f.old_path)
                alive.add(f.path)
    return alive


def _modified(c: CommitRecord, alive: set[str]) -> list[str]:
    mod = [f.path if f.status != "R" else (f.old_path or f.path) for f in c.files if f.status in "MR"]
    return [p for p in mod if p in alive]


def tasks(train: Sequence[CommitRecord], test: Sequence[CommitRecord]) -> dict[str, list[Item]]:
    """The held-out items: ``{task: [(id, input, gold)]}`` (files: message; others: file lists)."""
    alive = alive_after(train)
    out: dict[str, list[Item]] = {"files": [], "tests": [], "docs": [], "couple": []}
    for c in test:
        if bot(c):
            continue
        mod = _modified(c, alive)
        h = c.hash[:12]
        if 1 <= len(mod) <= 20 and len(toks(c.message)) >= 2:
            out["files"].append((h, c.message, mod))
        src = [p for p in mod if is_code(p)]
        tst = [p for p in mod if is_test(p)]
        if src and tst:
            out["tests"].append((h, src, tst))
        docs = [p for p in mod if is_doc(p)]
        if docs and src:
            out["docs"].append((h, src, docs))
        if len(mod) >= 2:
            out["couple"].append((h, [mod[0]], mod[1:]))
    return out


class BM25:
    def __init__(self, docs: list[Counter], k1: float = 1.2, b: float = 0.75):
        self.N = len(docs)
        self.avg = sum(sum(d.values()) for d in docs) / max(1, self.N)
        df: Counter = Counter()
        for d in docs:
            df.update(d.keys())
        self.idf = {t: math.log(1 + (self.N - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        self.post: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, d in enumerate(docs):
            length = sum(d.values())
            for t, f in d.items():
                self.post[t].append((i, f * (k1 + 1) / (f + k1 * (1 - b + b * length / self.avg))))

    def score(self, q: list[str]) -> dict[int, float]:
        s: dict[int, float] = defaultdict(float)
        # The bench sums in set order, which follows the hash seed (its MRR moves by up to 0.004
        # between runs); the query's own order gives the same sums every run.
        for t in dict.fromkeys(q):
            for i, w in self.post.get(t, ()):
                s[i] += self.idf[t] * w
        return s


def metrics(rank: Sequence[str], truth: Sequence[str]) -> dict[str, float]:
    """The bench's per-item metrics (acc@k = a gold file in the top k)."""
    gold = set(truth)
    hits = [i for i, p in enumerate(rank[:100]) if p in gold]
    rr = 1 / (hits[0] + 1) if hits else 0.0
    ap = sum((k + 1) / (i + 1) for k, i in enumerate(hits)) / len(gold)
    return {"acc@1": float(bool(hits and hits[0] < 1)), "acc@5": float(bool(hits and hits[0] < 5)),
            "rec@10": len([i for i in hits if i < 10]) / len(gold), "mrr": rr, "map": ap}


def _path_doc(p: str) -> list[str]:
    return toks(p.replace("/", " ").replace(".", " "))


class Anchors:
    """The anchors' models, learned from ``train`` (and contents read through ``read``)."""

    def __init__(self, train: Sequence[CommitRecord], read: Callable[[str], str | None] | None = None):
        self.alive: set[str] = set()
        self.freq: Counter = Counter()
        fmsgs: dict[str, list[str]] = defaultdict(list)
        self.co: dict[str, Counter] = defaultdict(Counter)
        for c in train:
            for f in c.files:
                if f.status == "D":
                    self.alive.discard(f.path)
                else:
                    if f.old_path:
                        self.alive.discard(f.old_path)
                    self.alive.add(f.path)
            paths = [f.path for f in c.files if f.status != "D"]
            if len(paths) <= 30:
                for p in paths:
                    self.freq[p] += 1
                    fmsgs[p].append(c.message)
                    for q in paths:
                        if q != p:
                            self.co[p][q] += 1
        self.files = sorted(self.alive)
        self.pop = sorted(self.files, key=lambda p: -self.freq[p])
        self._base = {p: 1e-6 * (len(self.pop) - i) for i, p in enumerate(self.pop)}
        content: dict[str, str] = {}
        if read is not None:
            for p in self.files:
                text = read(p)
                if text is not None:
                    content[p] = text
        self.content_bm = (BM25([Counter(_path_doc(p) + toks(content.get(p, ""))) for p in self.files])
                           if content else None)
        self.fbm = BM25([Counter(_path_doc(p) * 3 + [t for m in fmsgs[p] for t in toks(m)]) for p in self.files])
        self.pbm = BM25([Counter(_path_doc(p)) for p in self.files])
        self.tc = [c for c in train if 0 < len(c.files) <= 30 and not bot(c)]
        self.cbm = BM25([Counter(toks(c.message)) for c in self.tc])

    def rank_from(self, scores: dict[str, float], restrict: Callable[[str], bool] | None = None,
                  tie: list[str] | None = None) -> list[str]:
        tie = self.pop if tie is None else tie
        base = self._base if tie is self.pop else {p: 1e-6 * (len(tie) - i) for i, p in enumerate(tie)}
        items = [(s + base.get(p, 0), p) for p, s in scores.items()
                 if p in self.alive and (restrict is None or restrict(p))]
        ranked = [p for _, p in sorted(items, reverse=True)]
        seen = set(ranked)
        return ranked + [p for p in tie if p not in seen and (restrict is None or restrict(p))]

    # -- one ranking per anchor ------------------------------------------------------------

    def task_files(self, message: str) -> dict[str, list[str]]:
        q = toks(message)
        out = {"files/pop": self.pop}
        s = self.fbm.score(q)
        out["files/bm25-hist"] = self.rank_from({self.files[i]: v for i, v in s.items()})
        s2 = self.pbm.score(q)
        out["files/bm25-path"] = self.rank_from({self.files[i]: v for i, v in s2.items()})
        ks = sorted(self.cbm.score(q).items(), key=lambda x: -x[1])[:20]
        vote: dict[str, float] = defaultdict(float)
        for i, v in ks:
            for f in self.tc[i].files:
                vote[f.path] += v / len(self.tc[i].files)
        out["files/knn-commits"] = self.rank_from(vote)
        mx = max(s.values()) if s else 1
        mv = max(vote.values()) if vote else 1
        comb: dict[str, float] = defaultdict(float)
        for i, v in s.items():
            comb[self.files[i]] += v / mx
        for p, v in vote.items():
            comb[p] += v / mv
        out["files/bm25+knn"] = self.rank_from(comb)
        if self.content_bm:
            s3 = self.content_bm.score(q)
            out["files/bm25-content"] = self.rank_from({self.files[i]: v for i, v in s3.items()})
            m3 = max(s3.values()) if s3 else 1
            for i, v in s3.items():
                comb[self.files[i]] += v / m3
            out["files/bm25+knn+content"] = self.rank_from(comb)
        return out

    def task_tests(self, src: list[str]) -> dict[str, list[str]]:
        tpop = [p for p in self.pop if is_test(p)]
        name: dict[str, float] = {}
        for p in src:
            stem = p.rsplit("/", 1)[-1][:-3]
            for t in self.files:
                if is_test(t) and stem in t.rsplit("/", 1)[-1]:
                    name[t] = 1.0
        cc: dict[str, float] = defaultdict(float)
        for p in src:
            for qf, n in self.co[p].items():
                cc[qf] += n / max(1, self.freq[p])
        out = {"tests/pop": tpop, "tests/naming": self.rank_from(name, is_test, tpop),
               "tests/cochange": self.rank_from(cc, is_test, tpop)}
        for t in name:
            cc[t] += 1.0
        out["tests/cochange+naming"] = self.rank_from(cc, is_test, tpop)
        return out

    def task_docs(self, code: list[str]) -> dict[str, list[str]]:
        dpop = [p for p in self.pop if is_doc(p)]
        cc: dict[str, float] = defaultdict(float)
        for p in code:
            for qf, n in self.co[p].items():
                cc[qf] += n / max(1, self.freq[p])
        return {"docs/pop": dpop, "docs/cochange": self.rank_from(cc, is_doc, dpop)}

    def task_couple(self, first: str) -> dict[str, list[str]]:
        cc = {qf: n / max(1, self.freq[first]) for qf, n in self.co[first].items()}
        return {"couple/rose": self.rank_from(cc, lambda p: p != first),
                "couple/pop": [p for p in self.pop if p != first]}


def score_anchors(train: Sequence[CommitRecord], items: dict[str, list[Item]],
                  read: Callable[[str], str | None] | None = None,
                  item_rr: dict[str, list[float]] | None = None) -> dict[str, dict[str, float]]:
    """Mean bench metrics of every anchor on ``items`` (as baselines.py prints them, with ``n``);
    each item's reciprocal rank per anchor goes to ``item_rr`` when given."""
    model = Anchors(train, read)
    rows: dict[str, list[dict[str, float]]] = defaultdict(list)
    for task, its in items.items():
        for _, inp, gold in its:
            ranks = getattr(model, "task_" + task)(inp if task != "couple" else inp[0])
            for name, rank in ranks.items():
                rows[name].append(metrics(rank, gold))
    out = {}
    for name, rs in rows.items():
        if item_rr is not None:
            item_rr[name] = [r["mrr"] for r in rs]
        out[name] = {k: round(sum(r[k] for r in rs) / len(rs), 3) for k in rs[0]}
        out[name]["n"] = len(rs)
    return out
