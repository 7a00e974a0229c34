"""One report structure, two renderings: Markdown and a self-contained HTML page.

Sections are built once as a list of blocks (headings, paragraphs, notes, tables, images,
code); ``to_markdown`` and ``to_html`` render the same list, so the two reports never drift.
The HTML page inlines its CSS and embeds images as base64 data URIs: no external resources,
no JavaScript, readable offline and safe to mail as one file.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class Heading:
    """A section heading; level 1 is the page title."""

    text: str
    level: int = 2


@dataclass(frozen=True)
class Paragraph:
    """Plain text (no markup); rendered escaped."""

    text: str


@dataclass(frozen=True)
class Note:
    """A one-line remark in place of missing data, or a warning such as a run error."""

    text: str
    warning: bool = False


@dataclass(frozen=True)
class Table:
    """A table of preformatted cells; units belong in the column headers."""

    columns: Sequence[str]
    rows: Sequence[Sequence[str]]
    caption: str = ""


@dataclass(frozen=True)
class Image:
    """A picture stored in the run folder; ``src`` is relative to the folder, with '/'."""

    src: str
    alt: str


@dataclass(frozen=True)
class Code:
    """A verbatim block (the resolved scenario); collapsible in HTML."""

    text: str
    summary: str
    lang: str = ""


Block = Heading | Paragraph | Note | Table | Image | Code


@dataclass
class Document:
    """An ordered list of blocks with the page title."""

    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> None:
        """Append blocks in order."""
        self.blocks.extend(blocks)


def slug(text: str) -> str:
    """A GitHub-style anchor for a heading: lowercase, punctuation dropped, spaces to '-'."""
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return re.sub(r"\s", "-", text)


_NUMERIC = re.compile(r"^[-+]?\$?[\d,]*\.?\d+(?:e[-+]?\d+)?%?$", re.IGNORECASE)


def _numeric_columns(table: Table) -> list[bool]:
    """True for columns whose non-empty cells are all numbers, so they align right."""
    flags = []
    for index in range(len(table.columns)):
        cells = [str(row[index]) for row in table.rows if index < len(row)]
        cells = [cell for cell in cells if cell not in ("", "–")]
        flags.append(bool(cells) and all(_NUMERIC.match(cell) for cell in cells))
    return flags


_MD_SPECIAL = re.compile(r"[\\`]|\](?=[(\[:])|\*(?=\S)|(?<![A-Za-z0-9])_(?=\S)")
"""Characters that could start markup: backslash, code, the ``](`` of a link, and ``*``/``_``
that could open emphasis (a trailing ``*`` marker, ``[-1, +5]`` or ``api_v2`` cannot)."""


def _md_inline(text: object) -> str:
    """Plain text made inert inside a Markdown line: no HTML (``<``, ``>``, ``&`` become
    entities), no links, code spans or emphasis from user strings such as a service named
    ``<script>``."""
    out = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), str(text))
    return out.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _md_text(text: object) -> str:
    """Plain text made inert as a Markdown block: inline escapes, and no line may start a
    heading, quote or list."""
    return re.sub(r"^(\s*)([#>+-])", r"\1\\\2", _md_inline(text), flags=re.MULTILINE)


def _md_cell(text: object) -> str:
    return _md_inline(text).replace("|", "\\|").replace("\n", " ")


def _md_table(table: Table) -> list[str]:
    numeric = _numeric_columns(table)
    lines = []
    if table.caption:
        lines += [f"*{_md_cell(table.caption)}*", ""]
    lines.append("| " + " | ".join(_md_cell(c) for c in table.columns) + " |")
    lines.append("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    for row in table.rows:
        lines.append("| " + " | ".join(_md_cell(c) for c in row) + " |")
    return lines


def to_markdown(doc: Document) -> str:
    """Render the document as GitHub-flavoured Markdown."""
    out: list[str] = [f"# {_md_text(doc.title)}", ""]
    for block in doc.blocks:
        if isinstance(block, Heading):
            out += ["#" * max(1, min(block.level, 6)) + " " + _md_cell(block.text), ""]
        elif isinstance(block, Paragraph):
            out += [_md_text(block.text), ""]
        elif isinstance(block, Note):
            text = _md_cell(block.text)
            out += [f"> **Warning:** {text}" if block.warning else f"*{text}*", ""]
        elif isinstance(block, Table):
            out += _md_table(block) + [""]
        elif isinstance(block, Image):
            out += [f"![{_md_cell(block.alt)}]({quote(block.src, safe='/')})", ""]
        elif isinstance(block, Code):
            longest = max((len(m) for m in re.findall(r"`+", block.text)), default=0)
            fence = "`" * max(3, longest + 1)
            out += [f"**{_md_cell(block.summary)}**", "", fence + block.lang, block.text.rstrip("\n"),
                    fence, ""]
    return "\n".join(out).rstrip("\n") + "\n"


_CSS = """
body{font:15px/1.5 -apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1f2328;
 max-width:1100px;margin:2em auto;padding:0 1.5em;background:#fff}
h1{font-size:1.8em;border-bottom:2px solid #d0d7de;padding-bottom:.3em}
h2{font-size:1.35em;border-bottom:1px solid #d0d7de;padding-bottom:.2em;margin-top:2em}
h3{font-size:1.1em;margin-top:1.5em}
table{border-collapse:collapse;margin:.8em 0 1.2em;font-size:14px}
th,td{border:1px solid #d0d7de;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
tr:nth-child(even) td{background:#fbfcfd}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
caption{caption-side:top;text-align:left;font-style:italic;color:#57606a;padding-bottom:.3em}
img{max-width:100%;height:auto;border:1px solid #eaeef2;margin:.5em 0 1em}
.note{color:#57606a;font-style:italic}
.warning{background:#fff8c5;border:1px solid #d4a72c;padding:.6em 1em;border-radius:6px}
details{margin:1em 0;border:1px solid #d0d7de;border-radius:6px;padding:.5em 1em}
summary{cursor:pointer;font-weight:600}
pre{background:#f6f8fa;padding:1em;overflow:auto;font-size:13px;line-height:1.4}
nav ul{columns:2;padding-left:1.2em}
""".strip()


def _html_table(table: Table) -> str:
    numeric = _numeric_columns(table)
    esc = html.escape
    head = "".join(
        f'<th class="num">{esc(str(c))}</th>' if n else f"<th>{esc(str(c))}</th>"
        for c, n in zip(table.columns, numeric, strict=False)
    )
    body = []
    for row in table.rows:
        cells = "".join(
            f'<td class="num">{esc(str(c))}</td>' if n else f"<td>{esc(str(c))}</td>"
            for c, n in zip(row, numeric, strict=False)
        )
        body.append(f"<tr>{cells}</tr>")
    caption = f"<caption>{esc(table.caption)}</caption>" if table.caption else ""
    return (f"<table>{caption}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def _data_uri(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def to_html(doc: Document, base_dir: Path) -> str:
    """Render the document as one self-contained HTML page; images are read from base_dir."""
    esc = html.escape
    sections = [b for b in doc.blocks if isinstance(b, Heading) and b.level == 2]
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{esc(doc.title)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>",
           f"<h1>{esc(doc.title)}</h1>"]
    if len(sections) > 2:
        links = "".join(f'<li><a href="#{slug(h.text)}">{esc(h.text)}</a></li>' for h in sections)
        out.append(f"<nav><ul>{links}</ul></nav>")
    for block in doc.blocks:
        if isinstance(block, Heading):
            level = max(1, min(block.level, 6))
            out.append(f'<h{level} id="{slug(block.text)}">{esc(block.text)}</h{level}>')
        elif isinstance(block, Paragraph):
            out.append(f"<p>{esc(block.text)}</p>")
        elif isinstance(block, Note):
            css = "warning" if block.warning else "note"
            prefix = "<strong>Warning:</strong> " if block.warning else ""
            out.append(f'<p class="{css}">{prefix}{esc(block.text)}</p>')
        elif isinstance(block, Table):
            out.append(_html_table(block))
        elif isinstance(block, Image):
            path = base_dir / block.src
            if path.is_file():
                out.append(f'<img src="{_data_uri(path)}" alt="{esc(block.alt)}">')
            else:
                out.append(f'<p class="note">Plot {esc(block.src)} is missing.</p>')
        elif isinstance(block, Code):
            out.append(f"<details><summary>{esc(block.summary)}</summary>"
                       f"<pre><code>{esc(block.text)}</code></pre></details>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"
