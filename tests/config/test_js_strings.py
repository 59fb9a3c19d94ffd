"""Every UI string in the journey editor (static/js/journey-editor/) is marked for translation.

Each module of the editor is checked: every file in its folder, which must be exactly the
modules that its entry point (main.js, the one the page loads) imports, directly or not.

A small lexer (regular expressions for the tokens, a stack for the brackets) finds each string
and template literal, the call it is an argument of and the object key or assignment it is
the value of. A literal with English words in it is reported when it lands in a UI sink:

- an argument of confirm/alert/prompt, announce, setStatus, showFieldError's message, the
  children of h()/svg(), labelled()'s and moveButton()'s label, an error's message;
- setAttribute("aria-label" | "title" | "placeholder" | "alt" | ..., literal);
- the value of a `text:`, `title:`, `label:`, `placeholder:`, `"aria-label":`, `describe:` key;
- an assignment to `.textContent`, `.innerText`, `.title`, `.placeholder`, `.ariaLabel`, ...,
  or to a variable named for UI text (`question`, `message`, `describe`, ...).

Ternaries, `||` fallbacks, `+` concatenations and a template's `${...}` parts inside such a
slot count as the slot, so `text: ok ? gettext("Saved") : "Failed"` is reported; operands of
`===`/`!==` are values, not messages. Literals inside gettext(), ngettext(), pgettext() and
npgettext() are marked; interpolate()'s format must be one of those. Text that reaches a sink
through a function's return value or another variable is beyond this check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EDITOR = ROOT / "static" / "js" / "journey-editor"
ENTRY = EDITOR / "main.js"
MODULES = sorted(EDITOR.rglob("*.js"))
TEMPLATE = ROOT / "templates" / "journeys" / "journey_detail.html"
# import … from "./x.js"; export … from "./x.js"; import "./x.js"; import("./x.js")
IMPORT = re.compile(r"""(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']""")
CATALOG = ("gettext", "ngettext", "pgettext", "interpolate")

MARKERS = {"gettext", "ngettext", "pgettext", "npgettext", "gettext_noop"}
ANY = range(0, 99)
# Function name -> the argument positions that are shown to the user.
CALL_SINKS: dict[str, range] = {
    "confirm": ANY,
    "alert": ANY,
    "prompt": ANY,
    "announce": ANY,
    "setStatus": range(0, 1),
    "showFieldError": range(1, 2),
    "h": range(2, 99),  # h(tag, props, ...children)
    "svg": range(2, 99),
    "labelled": range(1, 2),
    "moveButton": range(2, 3),
    "Error": range(0, 1),
    "ApiError": range(2, 3),
    "super": range(0, 1),
}
UI_ATTRIBUTES = {
    "aria-label",
    "aria-description",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
    "title",
    "placeholder",
    "alt",
    "label",
}
# Object keys whose values are shown: h()'s props, and `describe` (a queued change's description,
# listed under "Not saved:" after a conflict).
PROPERTY_SINKS = UI_ATTRIBUTES | {"text", "describe"}
# Element properties and local variables (`const question = ...; confirm(question)`) that hold
# text for the user.
ASSIGNMENT_SINKS = {"textContent", "innerText", "title", "placeholder", "ariaLabel", "alt", "label"}
VARIABLE_SINKS = {"describe", "question", "message", "problem", "label", "text", "title"}
COMPARISONS = {"===", "!==", "==", "!="}
NOT_CALLS = {"if", "for", "while", "switch", "catch", "function", "return", "typeof", "await"}
# Where a `/` starts a regular expression rather than a division.
REGEX_AFTER = set("(,=:[!&|?{};+-*%<>~^") | {"return", "typeof", "=>", None}

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*')
  | (?P<ident>[A-Za-z_$][\w$]*)
  | (?P<number>\d[\w.]*)
  | (?P<punct>=>|\.\.\.|[=!]==?|\?\?=?|\?\.|&&|\|\||[<>+\-*/%&|^]=?|[=!?:.,;()\[\]{}~`])
  | (?P<other>.)
    """,
    re.S | re.X,
)
REGEX_LITERAL = re.compile(r"/(?:\\.|\[(?:\\.|[^\]\\\n])*\]|[^/\\\n\[])+/[a-z]*")
WORDS = re.compile(r"[A-Za-z]{2,}")


@dataclass
class Frame:
    opener: str  # "(", "[", "{" or "${"
    callee: str | None = None  # for "(": the function called, if it is a call
    template: Frame | None = None  # for "${": the slot of the template literal it is part of
    arg: int = 0
    first_arg: str | None = None  # a literal first argument (setAttribute's name)
    seg: list[str] = field(default_factory=list)  # this level's tokens since the last , or ;
    latest: Literal | None = None  # the last literal read at this level


@dataclass
class Literal:
    text: str  # a string's value; a template's text outside its ${...} parts
    line: int
    frame: Frame  # a copy of its innermost bracket as it was at the literal
    compared: bool = False  # an operand of ===, !==, == or != (a value, not a message)


def _literals(source: str) -> list[Literal]:
    """Each literal, with its innermost bracket and the tokens of its slot before it."""
    found: list[Literal] = []
    stack = [Frame("{")]
    previous: str | None = None  # the last significant token

    def line(at: int) -> int:
        return source.count("\n", 0, at) + 1

    def literal(text: str, at: int) -> None:
        frame = stack[-1]
        snapshot = Frame(
            frame.opener, frame.callee, frame.template, frame.arg, frame.first_arg, list(frame.seg)
        )
        found.append(Literal(text, line(at), snapshot))
        if frame.opener == "(" and frame.arg == 0 and not frame.seg:
            frame.first_arg = text
        if frame.seg and frame.seg[-1] in COMPARISONS:
            found[-1].compared = True
        frame.seg.append(f"'{text}'")
        frame.latest = found[-1]

    def template(at: int) -> int:
        """Read a template literal from its opening backtick; return where it ends."""
        nonlocal previous
        frame = stack[-1]
        slot = Frame(frame.opener, frame.callee, frame.template, frame.arg, frame.first_arg)
        slot.seg = list(frame.seg)
        parts, j = [], at + 1
        while j < len(source):
            char = source[j]
            if char == "\\":
                parts.append(source[j : j + 2])
                j += 2
            elif char == "`":
                literal("".join(parts), at)
                return j + 1
            elif source.startswith("${", j):
                parts.append(" ")
                stack.append(Frame("${", template=slot))
                previous = "{"
                j = scan(j + 2, inside_template=True)
            else:
                parts.append(char)
                j += 1
        raise AssertionError(f"unterminated template literal at line {line(at)}")

    def scan(j: int, inside_template: bool = False) -> int:
        nonlocal previous
        while j < len(source):
            if source[j] == "/" and source[j + 1 : j + 2] not in "/*" and previous in REGEX_AFTER:
                match = REGEX_LITERAL.match(source, j)
                if match:
                    stack[-1].seg.append("/regex/")
                    previous, j = "/regex/", match.end()
                    continue
            match = TOKEN.match(source, j)
            assert match, f"cannot read line {line(j)}"
            kind, value, start, j = match.lastgroup, match.group(), match.start(), match.end()
            frame = stack[-1]
            if kind in {"space", "comment"}:
                continue
            if kind == "string":
                literal(value[1:-1], start)
            elif value == "`":
                j = template(start)
                previous = "`"
                continue
            elif value in {"(", "[", "{"}:
                callee = previous if value == "(" and previous not in NOT_CALLS else None
                if callee is not None and not re.fullmatch(r"[A-Za-z_$][\w$]*", callee):
                    callee = None
                stack.append(Frame(value, callee=callee))
            elif value in {")", "]", "}"}:
                if inside_template and value == "}" and frame.opener == "${":
                    stack.pop()
                    return j
                assert len(stack) > 1, f"unbalanced {value!r} at line {line(start)}"
                stack.pop()
                stack[-1].seg.append(frame.opener + value)
            elif value in {",", ";"}:
                frame.seg = []
                if value == ",":
                    frame.arg += 1
            else:
                if value in COMPARISONS and frame.seg and frame.seg[-1].startswith("'"):
                    assert frame.latest is not None
                    frame.latest.compared = True
                frame.seg.append(value)
            previous = value
        return j

    scan(0)
    return found


def _in_sink(frame: Frame) -> bool:
    if frame.opener == "${" and frame.template is not None:
        # `${ok ? "" : " (used)"}`: part of the template's text, in the template's slot
        return _in_sink(frame.template)
    seg = frame.seg
    if frame.opener == "(" and frame.arg in CALL_SINKS.get(frame.callee or "", ()):
        return True
    if frame.opener == "(" and frame.callee == "setAttribute" and frame.arg == 1:
        return frame.first_arg in UI_ATTRIBUTES
    if len(seg) >= 2 and seg[1] == ":" and seg[0].strip("'") in PROPERTY_SINKS:
        return frame.opener == "{"
    if any(
        seg[k] == "." and seg[k + 1] in ASSIGNMENT_SINKS and seg[k + 2] == "="
        for k in range(len(seg) - 2)
    ):
        return True
    return any(
        seg[k] in VARIABLE_SINKS and seg[k + 1] == "=" and (k == 0 or seg[k - 1] != ".")
        for k in range(len(seg) - 1)
    )


def unmarked(source: str) -> list[str]:
    """The English literals in UI sinks that are not marked for translation, with lines."""
    problems = []
    for lit in _literals(source):
        if not WORDS.search(lit.text) or lit.compared:
            continue
        if lit.frame.opener == "(" and lit.frame.callee in MARKERS:
            continue
        if _in_sink(lit.frame):
            problems.append(f"line {lit.line}: {lit.text!r}")
    return problems


def _imported(module: Path) -> list[Path]:
    """The modules that `module` imports, as files."""
    specifiers = IMPORT.findall(module.read_text())
    for specifier in specifiers:
        assert specifier.startswith("./") or specifier.startswith("../"), (
            f"{module.name}: {specifier!r} is not a relative path (no bundler resolves it)"
        )
    return [(module.parent / specifier).resolve() for specifier in specifiers]


def test_every_module_of_the_editor_is_checked() -> None:
    """The modules the page loads (main.js and what it imports) are the files checked here."""
    assert "{% static 'js/journey-editor/main.js' %}" in TEMPLATE.read_text()
    loaded: set[Path] = set()
    waiting = [ENTRY.resolve()]
    while waiting:
        module = waiting.pop()
        if module in loaded:
            continue
        assert module.is_file(), f"{module} is imported but missing"
        loaded.add(module)
        waiting.extend(_imported(module))
    checked = {module.resolve() for module in MODULES}
    assert loaded - checked == set(), "imported from outside static/js/journey-editor/"
    assert checked - loaded == set(), "in static/js/journey-editor/ but never imported"


def test_editor_modules_import_each_other_without_cycles() -> None:
    """Imports point one way, as the README's list of the modules shows them."""
    graph = {module.resolve(): _imported(module) for module in MODULES}
    done: set[Path] = set()

    def visit(module: Path, path: list[Path]) -> None:
        cycle = [*path[path.index(module) :], module] if module in path else []
        assert not cycle, "import cycle: " + " -> ".join(m.name for m in cycle)
        if module in done:
            return
        for imported in graph.get(module, []):
            visit(imported, [*path, module])
        done.add(module)

    for module in graph:
        visit(module, [])
    assert done == set(graph)


@pytest.mark.parametrize("module", MODULES, ids=lambda module: module.name)
def test_journey_editor_marks_every_ui_string_for_translation(module: Path) -> None:
    problems = unmarked(module.read_text())
    assert not problems, (
        f"Wrap these UI strings in {module.relative_to(ROOT)} in gettext() (with interpolate() "
        "for values, ngettext() for plurals):\n  " + "\n  ".join(problems)
    )


def test_journey_editor_works_without_the_catalog() -> None:
    """The editor falls back to English when /jsi18n/ did not load."""
    source = (EDITOR / "i18n.js").read_text()
    for name in CATALOG:
        assert re.search(rf"^export const {name} =\s*window\.{name} \?\?", source, re.M), name


@pytest.mark.parametrize(
    "module", [m for m in MODULES if m.name != "i18n.js"], ids=lambda module: module.name
)
def test_modules_take_the_catalog_from_i18n(module: Path) -> None:
    """Only i18n.js reads the catalog from `window`; the others import its fallbacks."""
    source = module.read_text()
    imports = re.search(r"^import \{([^}]*)\} from \"\./i18n\.js\";", source, re.M)
    imported = set(re.findall(r"\w+", imports.group(1))) if imports else set()
    for name in CATALOG:
        assert not re.search(rf"\bwindow\.{name}\b", source), f"{module.name}: window.{name}"
        if re.search(rf"(?<![\w.]){name}\(", source):
            assert name in imported, f"{module.name} calls {name}() not imported from i18n.js"


@pytest.mark.parametrize(
    "snippet",
    [
        'button.textContent = "Delete";',
        "el.title = 'Drag to move';",
        'node.textContent = ok ? gettext("Saved") : "Failed";',
        'el.setAttribute("aria-label", "Journey map");',
        "el.setAttribute('title', `Move ${name}`);",
        "if (!window.confirm(`Delete ${quote(name)}? This cannot be undone.`)) return;",
        'announce("Already in the first stage.");',
        'setStatus(`Not saved: ${error.message}`, "error");',
        'showFieldError(key, "Give the stage a name.");',
        'h("button", { type: "submit" }, "Add stage");',
        'h("button", {}, open ? "Close" : gettext("Edit"));',
        'h("p", {}, h("strong", { text: gettext("Oops") }), " Your change was not saved.");',
        'h("span", { class: "label", text: "Goal: " });',
        'h("input", { placeholder: "New touchpoint…", "aria-label": name });',
        'h("li", { text: canEdit\n  ? gettext("No touchpoints yet.")\n  : "Nothing here." });',
        'svg("title", {}, `${t.name}: emotion ${signed(t.emotion)}`);',
        'labelled("x", "Channel", select);',
        'throw new ApiError(0, null, "Could not reach the server.");',
        'const EMOTIONS = [{ value: 2, label: "Very positive" }];',
        "enqueue({ describe: `Delete the stage ${quote(stage.name)}`, run });",
        'const question = count ? gettext("Delete?") : "Delete it?";',
        'h("option", {}, `${code} — ${label}${taken ? " (used)" : ""}`);',
    ],
)
def test_checker_catches_unmarked_ui_strings(snippet: str) -> None:
    assert len(unmarked(snippet)) == 1, snippet


@pytest.mark.parametrize(
    "snippet",
    [
        'button.textContent = gettext("Delete");',
        'el.setAttribute("aria-label", interpolate(gettext("Move “%(name)s”"), { name }, true));',
        'confirm(ngettext("Delete %(count)s item?", "Delete %(count)s items?", n));',
        'h("span", { class: "moment-code custom", "aria-hidden": "true" }, "★ ");',
        'h("button", { "data-action": "reload", role: "status" }, gettext("Reload"));',
        'h("span", { text: `${gettext("Goal:")} ` });',
        'el.setAttribute("aria-describedby", "stage-move-hint");',
        'setStatus(gettext("Saving…"), "saving");',
        'announce(direction === "prev" ? gettext("First.") : gettext("Last."));',
        'const question = gettext("Delete?"); if (el.title === "Drag me") run();',
        'element.dataset.state = "saving status";',
        'const re = /"[A-Z]ecause" "/g; el.textContent = text.replace(re, "");',
        'api("POST", `${apiRoot}touchpoints/${id}/move/`, { stage: "First stage" });',
        "// el.textContent = 'Only a comment';",
    ],
)
def test_checker_accepts_marked_and_non_ui_strings(snippet: str) -> None:
    assert unmarked(snippet) == [], snippet
