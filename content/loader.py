"""Load and validate a content folder; every problem is reported as `PATH:LINE: message`.

Layout of a content folder:
  faq/<id>.md       one FAQ topic: YAML front matter between `---` lines, then the Markdown answer
  papers.yaml       list of papers (see `schema.Paper`)
  prompts.yaml      list of daily study prompts (see `schema.Prompt`)
  retired.yaml      optional list of prompts taken out of prompts.yaml and what now sets their task (see
                    `schema.RetiredPrompt`), so what members stored under an old id keeps working
  tracks.yaml       optional list of ordered study tracks (see `schema.Track`)
  synonyms.yaml     optional mapping of a word members type to the words it means, for the FAQ matcher
  offtopic.yaml     optional list of questions that are not career questions, so the matcher answers them with none
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from rapidfuzz import fuzz, process

from content import limits
from content.schema import (
    PAPER_COMMAND_WORDS,
    Content,
    FaqEntry,
    FaqFront,
    Paper,
    Prompt,
    RetiredPrompt,
    Track,
    TrackStep,
    paper_name_key,
)
from content.search import content_words
from content.yaml_lines import LineDict, LineList, YamlProblem, line_of, load_yaml, shift_lines

M = TypeVar("M", bound=BaseModel)

# Two study prompts whose content words overlap this much (rapidfuzz token_set_ratio over their sorted stems, 0-100)
# set the same task: the daily rotation serves prompts.yaml and the papers' prompts alike, so a member would get it
# twice. Set between the repeats this check was written for (78-92) and distinct prompts on one topic (below 77).
NEAR_DUPLICATE_PROMPT = 78


class ContentError(Exception):
    """The content folder is invalid. `problems` holds one `PATH:LINE: message` line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def packaged_content_dir() -> Path:
    return Path(__file__).resolve().parent


class _Problems:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.lines: list[str] = []

    def add(self, path: Path, line: int, message: str) -> None:
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        self.lines.append(f"{shown}:{max(line, 1)}: {message}")


def _read_text(path: Path, problems: _Problems) -> str | None:
    """The file as text, or None after reporting the line of its first byte that is not UTF-8."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(path, line, f"not UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None


def _read_yaml(path: Path, problems: _Problems) -> tuple[bool, Any]:
    """(True, the parsed file, None when empty), or (False, None) after reporting why it could not be read."""
    text = _read_text(path, problems)
    if text is None:
        return False, None
    try:
        return True, load_yaml(text)
    except YamlProblem as exc:
        problems.add(path, exc.line, exc.message)
        return False, None


def _describe(error: dict[str, Any]) -> str:
    loc = ".".join(str(p) for p in error["loc"] if not isinstance(p, int)) or "entry"
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"unknown field '{loc}'"
    if kind == "missing":
        return f"missing field '{loc}'"
    return f"field '{loc}': {error['msg']}"


def _validate(model: type[M], raw: Any, path: Path, base_line: int, problems: _Problems, what: str) -> M | None:
    if not isinstance(raw, dict):
        problems.add(path, base_line, f"{what} must be a mapping of field: value")
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            problems.add(path, line_of(raw, tuple(error["loc"]), base_line), f"{what}: {_describe(error)}")
        return None


def _load_faq(path: Path, problems: _Problems) -> tuple[FaqEntry, LineDict] | None:
    text = _read_text(path, problems)
    if text is None:
        return None
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        problems.add(path, 1, "must start with a '---' line, then YAML front matter, then '---' and the answer")
        return None
    end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
    if end is None:
        problems.add(path, 1, "front matter is not closed by a '---' line")
        return None
    try:
        raw = load_yaml("\n".join(lines[1:end]), first_line=2)
    except YamlProblem as exc:
        problems.add(path, exc.line, exc.message)
        return None
    shift_lines(raw, 1)
    front = _validate(FaqFront, raw, path, 2, problems, "front matter")
    body = "\n".join(lines[end + 1 :]).strip()
    body_line = end + 2
    ok = front is not None
    if not body:
        problems.add(path, body_line, "the answer is empty: write it in Markdown below the front matter")
        ok = False
    elif len(body) > limits.FAQ_BODY:
        problems.add(
            path, body_line, f"the answer is {len(body)} characters; at most {limits.FAQ_BODY} fit every platform"
        )
        ok = False
    else:
        offset = body_line
        for para in body.split("\n\n"):
            if len(para) > limits.PARAGRAPH:
                problems.add(
                    path, offset, f"paragraph of {len(para)} characters; split it (at most {limits.PARAGRAPH})"
                )
                ok = False
            offset += para.count("\n") + 2
    if front is not None and front.id != path.stem:
        problems.add(path, raw.key_lines.get("id", 2), f"id '{front.id}' must match the file name '{path.stem}.md'")
        ok = False
    if not ok or front is None:
        return None
    entry = FaqEntry(
        id=front.id,
        title=front.title,
        group=front.group,
        aliases=tuple(front.aliases),
        questions=tuple(front.questions),
        see_also=tuple(front.see_also),
        sources=tuple(front.sources),
        body=body,
        path=str(path),
    )
    return entry, raw


def _load_list(
    path: Path | None, model: type[M], what: str, problems: _Problems
) -> tuple[list[tuple[M, LineDict]], set[str] | None]:
    """The valid items with their raw mappings, and the ids of all items, valid or not (None: unreadable file).

    References are checked against all ids, so one broken entry is reported once, not again at every reference.
    """
    if path is None:
        return [], None
    ok, raw = _read_yaml(path, problems)
    if not ok:
        return [], None
    if raw is None:
        raw = LineList()
    if not isinstance(raw, list):
        problems.add(path, 1, f"must be a YAML list of {what}s (each item starting with '- id: ...')")
        return [], None
    all_ids = {str(item["id"]) for item in raw if isinstance(item, dict) and "id" in item}
    loaded = []
    for index, item in enumerate(raw):
        line = raw.item_lines[index] if isinstance(raw, LineList) else 1
        ident = item.get("id") if isinstance(item, dict) else None
        label = f"{what} '{ident}'" if isinstance(ident, str) else f"{what} #{index + 1}"
        value = _validate(model, item, path, line, problems, label)
        if value is not None:
            loaded.append((value, item))
    return loaded, all_ids


def _check_unique(items: Iterable[tuple[str, Path, int]], problems: _Problems, what: str) -> None:
    seen: dict[str, tuple[Path, int]] = {}
    for key, path, line in items:
        if key in seen:
            first_path, first_line = seen[key]
            problems.add(path, line, f"duplicate {what} '{key}' (first at {first_path.name}:{first_line})")
        else:
            seen[key] = (path, line)


def _check_refs(refs: Iterable[tuple[str, Path, int]], known: set[str] | None, problems: _Problems, what: str) -> None:
    """Report references to unknown ids; None means the referenced file could not be read (already reported)."""
    if known is None:
        return
    for ref, path, line in refs:
        if ref not in known:
            problems.add(path, line, f"unknown {what} '{ref}'")


def _check_near_duplicate_prompts(tasks: list[tuple[str, str, Path, int]], problems: _Problems) -> None:
    """Report each study task (label, text, path, line) that sets nearly the same task as an earlier one."""
    keys = [" ".join(sorted(content_words(text))) for _, text, _, _ in tasks]
    for later in range(1, len(tasks)):
        hits = process.extract(
            keys[later], keys[:later], scorer=fuzz.token_set_ratio, score_cutoff=NEAR_DUPLICATE_PROMPT, limit=1
        )
        if hits:
            _, score, earlier = hits[0]
            label, _, path, line = tasks[later]
            first_label, _, first_path, first_line = tasks[earlier]
            problems.add(
                path,
                line,
                f"{label} sets nearly the same task as {first_label} ({first_path.name}:{first_line}, similarity"
                f" {score:.0f}/100): merge them or make one a different task",
            )


def _load_synonyms(path: Path, problems: _Problems) -> dict[str, tuple[str, ...]]:
    ok, raw = _read_yaml(path, problems)
    if not ok or raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.add(path, 1, "must be a mapping of word: [words it means]")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for key, value in raw.items():
        words = [value] if isinstance(value, str) else value
        if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
            problems.add(path, raw.key_lines.get(key, 1), f"'{key}' must map to a word or a list of words")
            continue
        result[str(key).lower()] = tuple(w.lower() for w in words)
    return result


def _load_off_topic(path: Path, problems: _Problems) -> tuple[str, ...]:
    ok, raw = _read_yaml(path, problems)
    if not ok or raw is None:
        return ()
    if not isinstance(raw, list):
        problems.add(path, 1, "must be a YAML list of questions (each line starting with '- ')")
        return ()
    lines = raw.item_lines if isinstance(raw, LineList) else [1] * len(raw)
    result = []
    for item, line in zip(raw, lines, strict=True):
        if not isinstance(item, str) or not item.strip() or len(item) > limits.QUESTION:
            problems.add(path, line, f"each item must be a question of 1 to {limits.QUESTION} characters")
        else:
            result.append(item.strip())
    return tuple(result)


def _ref_lines(raw: LineDict, key: str, values: Iterable[str]) -> list[tuple[str, int]]:
    """Each value of the list field `key` with its own line."""
    node = raw.get(key)
    lines = node.item_lines if isinstance(node, LineList) else []
    base = raw.key_lines.get(key, raw.line)
    return [(v, lines[i] if i < len(lines) else base) for i, v in enumerate(values)]


def _merge_by_id(layers: list[list[tuple[M, LineDict, Path]]]) -> list[tuple[M, LineDict, Path]]:
    """Items of every layer by id: a later layer's item replaces an earlier one in place, a new id is appended."""
    merged: dict[str, tuple[M, LineDict, Path]] = {}
    for layer in layers:
        for item in layer:
            merged[item[0].id] = item  # type: ignore[attr-defined]
    return list(merged.values())


Row = tuple[M, LineDict, Path]


def _settle_retired(
    prompts: list[Row[Prompt]], retired: list[Row[RetiredPrompt]], roots: list[Path], problems: _Problems
) -> tuple[list[Row[Prompt]], list[Row[RetiredPrompt]]]:
    """Live and retired prompts share one namespace, and folders merge over each other by id as everywhere else: in
    one folder an id is live or retired, never both; a later folder's prompt brings an id back to life (a community
    prompt that happens to reuse a retired packaged id), and a later folder's record retires an earlier one's prompt.
    """
    layer = {root: index for index, root in enumerate(roots)}
    live = {p.id: (raw, path) for p, raw, path in prompts}
    kept: list[Row[RetiredPrompt]] = []
    taken_out: set[str] = set()
    for record, raw, path in retired:
        if record.id not in live:
            kept.append((record, raw, path))
            continue
        prompt_raw, prompt_path = live[record.id]
        if layer[path.parent] == layer[prompt_path.parent]:
            problems.add(
                path,
                raw.line,
                f"retired prompt '{record.id}' is still in {prompt_path.name} (line {prompt_raw.line}): a prompt is "
                "either live or retired, so remove it there or drop this record",
            )
        elif layer[path.parent] > layer[prompt_path.parent]:
            taken_out.add(record.id)
            kept.append((record, raw, path))
    return [row for row in prompts if row[0].id not in taken_out], kept


def _check_replacements(
    retired: list[Row[RetiredPrompt]],
    papers: list[Row[Paper]],
    paper_ids: set[str] | None,
    prompt_ids: set[str] | None,
    problems: _Problems,
) -> None:
    """Each retired prompt's replacement must be there: a live prompt, or a paper and one of its prompts."""
    by_id = {p.id: p for p, _, _ in papers}
    retired_ids = {r.id for r, _, _ in retired}
    for record, raw, path in retired:
        if record.prompt is not None:
            line = raw.key_lines.get("prompt", raw.line)
            if record.prompt in retired_ids:
                why = f"'{record.id}' is replaced by '{record.prompt}', which is retired too"
                problems.add(path, line, f"{why}: name what sets the task now")
            elif prompt_ids is not None and record.prompt not in prompt_ids:
                problems.add(path, line, f"unknown prompt '{record.prompt}' replacing retired prompt '{record.id}'")
        if record.paper is not None and record.paper_prompt is not None:
            paper = by_id.get(record.paper)
            if paper is None and paper_ids is not None and record.paper not in paper_ids:
                problems.add(
                    path,
                    raw.key_lines.get("paper", raw.line),
                    f"unknown paper '{record.paper}' replacing retired prompt '{record.id}'",
                )
            elif paper is not None and record.paper_prompt > len(paper.prompts):
                problems.add(
                    path,
                    raw.key_lines.get("paper_prompt", raw.line),
                    f"paper '{paper.id}' has {len(paper.prompts)} prompt(s), so there is no prompt "
                    f"{record.paper_prompt} to replace retired prompt '{record.id}'",
                )


def _current_step(step: TrackStep, retired: dict[str, RetiredPrompt]) -> TrackStep:
    """The step with each retired prompt it names swapped for what now sets that task (left out when nothing does),
    so a track written before a prompt was retired (a community folder's) keeps working."""
    if not any(ref in retired for ref in step.prompts):
        return step
    prompts, papers = [], list(step.papers)
    for ref in step.prompts:
        record = retired.get(ref)
        if record is None or record.prompt is not None:
            prompts.append(ref if record is None else record.prompt)
        elif record.paper is not None:
            papers.append(record.paper)
    return step.model_copy(update={"prompts": list(dict.fromkeys(prompts)), "papers": list(dict.fromkeys(papers))})


def _faq_files(roots: list[Path], problems: _Problems) -> dict[str, Path]:
    """Every topic file by id (its file name); a later folder's file replaces an earlier one's."""
    files: dict[str, Path] = {}
    for index, root in enumerate(roots):
        faq_dir = root / "faq"
        if not faq_dir.is_dir():
            if index == 0:  # the base content needs topics; a community folder may add only papers
                problems.add(faq_dir, 1, "missing folder: put one <id>.md file per FAQ topic here")
            continue
        files.update((path.stem, path) for path in sorted(faq_dir.glob("*.md")))
    return files


def _collect(roots: list[Path], problems: _Problems) -> Content:
    """Load the base folder (`roots[0]`) with every community folder after it merged over it, in order."""
    files = _faq_files(roots, problems)
    faqs: list[tuple[FaqEntry, LineDict]] = []
    for path in files.values():
        loaded = _load_faq(path, problems)
        if loaded:
            faqs.append(loaded)

    def layers(name: str, model: type[M], what: str, required: bool):
        """Each folder's items of one list file (checked for duplicate ids within that file), and all ids."""
        found: list[list[tuple[M, LineDict, Path]]] = []
        ids: set[str] | None = set()
        for index, root in enumerate(roots):
            path = root / name
            if not path.is_file():
                if required and index == 0:
                    problems.add(path, 1, f"missing file {name}")
                    ids = None
                continue
            rows, file_ids = _load_list(path, model, what, problems)
            _check_unique(((item.id, path, raw.line) for item, raw in rows), problems, f"{what} id")  # type: ignore[attr-defined]
            found.append([(item, raw, path) for item, raw in rows])
            ids = None if ids is None or file_ids is None else ids | file_ids
        return _merge_by_id(found), ids

    papers, paper_ids = layers("papers.yaml", Paper, "paper", True)
    prompts, prompt_ids = layers("prompts.yaml", Prompt, "prompt", True)
    retired_rows, _ = layers("retired.yaml", RetiredPrompt, "retired prompt", False)
    prompts, retired_rows = _settle_retired(prompts, retired_rows, roots, problems)
    _check_replacements(retired_rows, papers, paper_ids, prompt_ids, problems)
    retired = {r.id: r for r, _, _ in retired_rows}
    tracks, _ = layers("tracks.yaml", Track, "track", False)
    synonyms: dict[str, tuple[str, ...]] = {}
    off_topic: list[str] = []
    for root in roots:  # a community's synonyms extend the words a key means; its off-topic examples add
        if (root / "synonyms.yaml").is_file():
            for key, words in _load_synonyms(root / "synonyms.yaml", problems).items():
                synonyms[key] = tuple(dict.fromkeys((*synonyms.get(key, ()), *words)))
        if (root / "offtopic.yaml").is_file():
            off_topic += _load_off_topic(root / "offtopic.yaml", problems)

    # Ids and aliases share one namespace: `/re-faq WORD` must mean exactly one topic.
    names: list[tuple[str, Path, int]] = []
    for entry, raw in faqs:
        names.append((entry.id, Path(entry.path), raw.key_lines.get("id", 2)))
        names += [(a, Path(entry.path), line) for a, line in _ref_lines(raw, "aliases", entry.aliases)]
    _check_unique(names, problems, "FAQ id or alias")
    # Every topic file counts as known, valid or not: a broken file is reported once, not at each reference.
    faq_ids = set(files)
    for entry, raw in faqs:
        refs = _ref_lines(raw, "see_also", entry.see_also)
        _check_refs(((r, Path(entry.path), n) for r, n in refs), faq_ids, problems, "see_also topic")
        if entry.id in entry.see_also:
            problems.add(Path(entry.path), raw.key_lines.get("see_also", 2), "see_also lists the topic itself")

    # `/re-paper NAME` must mean one paper: over the merged papers, ids and aliases share one namespace (compared as
    # `/re-paper` compares them), apart from the words `/re-paper` itself takes.
    paper_names = [(paper_name_key(p.id), path, raw.line) for p, raw, path in papers]
    for paper, raw, path in papers:
        for alias, line in _ref_lines(raw, "aliases", paper.aliases):
            key = paper_name_key(alias)
            if key in PAPER_COMMAND_WORDS:
                problems.add(
                    path, line, f"alias '{alias}' is a word /re-paper already takes (an area, 'today' or 'next')"
                )
            elif key != paper_name_key(paper.id):
                paper_names.append((key, path, line))
    _check_unique(paper_names, problems, "paper id or alias")

    # Over the merged set: a community prompt that repeats a packaged one is as much a duplicate as two packaged ones.
    tasks = [(f"prompt '{p.id}'", p.text, path, raw.line) for p, raw, path in prompts]
    for paper, raw, path in papers:
        lines = _ref_lines(raw, "prompts", paper.prompts)
        tasks += [(f"paper '{paper.id}' prompt {n}", text, path, line) for n, (text, line) in enumerate(lines, 1)]
    _check_near_duplicate_prompts(tasks, problems)  # type: ignore[arg-type]

    # A track may still name a retired prompt (one written before it was retired): it stands for its replacement.
    prompt_refs = None if prompt_ids is None else prompt_ids | set(retired)
    current_tracks = []
    for track, raw, tracks_path in tracks:
        steps_node = raw.get("steps")
        steps = []
        for index, step in enumerate(track.steps):
            step_raw = steps_node[index] if isinstance(steps_node, LineList) else raw
            for field_name, known, what in (("faq", faq_ids, "FAQ topic"), ("papers", paper_ids, "paper"),
                                            ("prompts", prompt_refs, "prompt")):  # fmt: skip
                refs = _ref_lines(step_raw, field_name, getattr(step, field_name))
                _check_refs(((r, tracks_path, n) for r, n in refs), known, problems, f"{what} in track '{track.id}'")
            steps.append(_current_step(step, retired))
            if not steps[-1].papers and not steps[-1].prompts:
                problems.add(
                    tracks_path, step_raw.line, f"track '{track.id}' step {index + 1} needs a paper or a prompt"
                )
        current_tracks.append(track.model_copy(update={"steps": steps}))

    return Content(
        faqs={entry.id: entry for entry, _ in faqs},
        papers=tuple(p for p, _, _ in papers),
        prompts=tuple(p for p, _, _ in prompts),
        tracks=tuple(current_tracks),
        synonyms=synonyms,
        off_topic=tuple(dict.fromkeys(off_topic)),
        directory=str(roots[0]),
        extra=tuple(str(r) for r in roots[1:]),
        retired=retired,
    )


Folder = str | os.PathLike[str]


def check_content(directory: Folder | None = None, extra: Folder | None = None) -> tuple[Content, list[str]]:
    """Load a content folder, with the community folder `extra` merged over it (RE_BOT_CONTENT_EXTRA), returning what
    loaded and every problem found (an empty list when valid), each naming the file it is in, in whichever folder."""
    root = Path(directory) if directory else packaged_content_dir()
    problems = _Problems(root.resolve())
    roots = [root, *([Path(extra)] if extra else [])]
    missing = [r for r in roots if not r.is_dir()]
    for folder in missing:
        problems.add(folder, 1, "content folder not found")
    if missing:
        return Content(faqs={}, papers=(), prompts=()), problems.lines
    content = _collect([r.resolve() for r in roots], problems)
    if not problems.lines:
        if not content.faqs:
            problems.add(root / "faq", 1, "no FAQ topics found")
        if not content.papers:
            problems.add(root / "papers.yaml", 1, "no papers found")
        if not content.prompts:
            problems.add(root / "prompts.yaml", 1, "no prompts found")
    return content, problems.lines


def load_content(directory: Folder | None = None, extra: Folder | None = None) -> Content:
    """Load a valid content folder (with `extra` merged over it) or raise ContentError listing every problem."""
    content, problems = check_content(directory, extra)
    if problems:
        raise ContentError(problems)
    return content
