#!/usr/bin/env python3
"""Reads agent-facing outputs with the real parsers, for tests/it/llms.rs.

  check_llms.py parse LLMS_TXT [PUBLIC_DIR BASE_URL]
      Parse an llms.txt with llms_txt.parse_llms_file (the llms-txt package from PyPI) and print
      JSON: title, summary, info, sections {name: [{title, url, desc}]}, with Markdown escapes
      decoded in titles and notes. With PUBLIC_DIR and BASE_URL, every link under BASE_URL must
      resolve to a file in PUBLIC_DIR; missing ones are listed in "missing".
  check_llms.py alternates PUBLIC_DIR BASE_PATH
      Every <link rel="alternate" type="text/markdown" href=...> in PUBLIC_DIR/**/*.html must
      point at a file in PUBLIC_DIR; prints {"checked": n, "pages": n, "missing": [...]}.
"""
import html
import json
import pathlib
import re
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

try:
    import llms_txt
except ImportError as e:  # a missing component is a failure, never a silent pass
    sys.exit(f"missing Python package: {e.name}; run `bash scripts/test` (pip install -r tests/requirements.txt)")

_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])|&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")


def md_unescape(text):
    """CommonMark backslash escapes and character references, decoded in one pass."""
    if text is None:
        return None

    def repl(m):
        if m.group(1) is not None:
            return m.group(1)
        return html.unescape(m.group(0))

    return _ESCAPE.sub(repl, text)


def resolve(public, base_url, url):
    """The file in public/ a URL under base_url points at, or None for other sites."""
    if not url.startswith(base_url.rstrip("/") + "/"):
        return None
    path = unquote(urlsplit(url[len(base_url.rstrip("/")):]).path)
    rel = path.lstrip("/")
    if rel == "" or rel.endswith("/"):
        rel += "index.html"
    return public / rel


def cmd_parse(args):
    text = pathlib.Path(args[0]).read_text(encoding="utf-8")
    parsed = llms_txt.parse_llms_file(text)
    out = {
        "title": md_unescape(parsed.title),
        "summary": md_unescape(parsed.summary),
        "info": parsed.info,
        "sections": {
            md_unescape(name): [
                {"title": md_unescape(l["title"]), "url": l["url"], "desc": md_unescape(l["desc"])}
                for l in links
            ]
            for name, links in parsed.sections.items()
        },
        "section_order": [md_unescape(n) for n in parsed.sections.keys()],
    }
    if len(args) >= 3:
        public, base_url = pathlib.Path(args[1]), args[2]
        missing, checked = [], 0
        for links in parsed.sections.values():
            for l in links:
                f = resolve(public, base_url, l["url"])
                if f is None:
                    continue
                checked += 1
                if not f.is_file():
                    missing.append(l["url"])
        out["missing"] = missing
        out["checked"] = checked
    json.dump(out, sys.stdout, indent=1, ensure_ascii=False)


class _Alternates(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "link" and (a.get("rel") or "").lower() == "alternate" and a.get("type") == "text/markdown":
            self.hrefs.append(a.get("href") or "")


def cmd_alternates(args):
    public, base_path = pathlib.Path(args[0]), args[1].rstrip("/")
    missing, checked, pages = [], 0, 0
    for page in sorted(public.rglob("*.html")):
        pages += 1
        p = _Alternates()
        p.feed(page.read_text(encoding="utf-8"))
        for href in p.hrefs:
            checked += 1
            path = unquote(urlsplit(href).path)
            if not path.startswith(base_path + "/"):
                missing.append(f"{page.relative_to(public)}: {href} (outside {base_path or '/'})")
                continue
            if not (public / path[len(base_path) + 1:]).is_file():
                missing.append(f"{page.relative_to(public)}: {href}")
    print(json.dumps({"checked": checked, "pages": pages, "missing": missing}))


if __name__ == "__main__":
    cmds = {"parse": cmd_parse, "alternates": cmd_alternates}
    if len(sys.argv) < 3 or sys.argv[1] not in cmds:
        sys.exit(__doc__)
    cmds[sys.argv[1]](sys.argv[2:])
