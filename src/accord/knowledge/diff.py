"""Readable differences between two versions of an article: changed lines, with the changed
words inside them marked, so a rep sees in seconds what Marketing changed."""

from __future__ import annotations

import difflib
from dataclasses import dataclass


@dataclass(frozen=True)
class DiffLine:
    # "same", "added", "removed"
    op: str
    # (text, changed) fragments, so templates can highlight changed words and still escape all.
    parts: tuple[tuple[str, bool], ...]
    old_number: int | None = None
    new_number: int | None = None


def _words(line: str) -> list[str]:
    import re

    return re.findall(r"\s+|[^\s]+", line)


def _word_parts(old: str, new: str) -> tuple[tuple, tuple]:
    a, b = _words(old), _words(new)
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    old_parts, new_parts = [], []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            old_parts.append(("".join(a[i1:i2]), False))
            new_parts.append(("".join(b[j1:j2]), False))
        else:
            if i2 > i1:
                old_parts.append(("".join(a[i1:i2]), True))
            if j2 > j1:
                new_parts.append(("".join(b[j1:j2]), True))
    return tuple(old_parts), tuple(new_parts)


def version_diff(old: str, new: str, *, context: int = 2) -> list[list[DiffLine]]:
    """Hunks of changed lines with a little context; within a replaced line, the changed words."""
    old_lines, new_lines = old.splitlines(), new.splitlines()
    matcher = difflib.SequenceMatcher(a=old_lines, b=new_lines, autojunk=False)
    hunks = []
    for group in matcher.get_grouped_opcodes(context):
        hunk: list[DiffLine] = []
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                hunk += [DiffLine("same", ((old_lines[i], False),), i + 1, j + 1) for i, j in zip(range(i1, i2), range(j1, j2))]
                continue
            removed, added = old_lines[i1:i2], new_lines[j1:j2]
            if tag == "replace" and len(removed) == len(added):
                for offset, (before, after) in enumerate(zip(removed, added)):
                    old_parts, new_parts = _word_parts(before, after)
                    hunk.append(DiffLine("removed", old_parts, i1 + offset + 1, None))
                    hunk.append(DiffLine("added", new_parts, None, j1 + offset + 1))
                continue
            hunk += [DiffLine("removed", ((line, True),), i1 + n + 1, None) for n, line in enumerate(removed)]
            hunk += [DiffLine("added", ((line, True),), None, j1 + n + 1) for n, line in enumerate(added)]
        hunks.append(hunk)
    return hunks


def diff_summary(old: str, new: str, *, max_lines: int = 3) -> str:
    """A few lines for a notification: how much changed and the first added lines."""
    added, removed = [], 0
    for line in difflib.ndiff(old.splitlines(), new.splitlines()):
        if line.startswith("+ "):
            added.append(line[2:].strip())
        elif line.startswith("- "):
            removed += 1
    shown = [line for line in added if line][:max_lines]
    text = f"{len(added)} line(s) added or changed, {removed} removed."
    if shown:
        text += "\n" + "\n".join(f"+ {line[:160]}" for line in shown)
    return text
