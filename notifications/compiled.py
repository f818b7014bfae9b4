"""Reminders rendered from compiled message *shapes*: the same bytes as :func:`notifications.render.render`,
jinja running once per shape instead of once per message.

A tick renders ~10,000 weekly reminders that all differ (team, coach, week, signed link) but share a
handful of shapes: what makes a message's structure differ. A shape (:func:`_shape`) is the kind, the
language, which values are given, and for each value its class: None or a boolean as such, a number
by the plural form it picks (and whether it is 0 or 1), a list by its length, a text by whether it has
whitespace at an edge or starts with a link's scheme; the footer by kind, role, mutability and which of
its parts are given. The first message of a shape renders the template with *probe* values: a unique
token per value (a number counts as itself, prints as its token; the environment's own filters, ``sh``
and ``day``, turn a token into the token of a value of their own, computed again for each message).
The output is cut at the tokens into three ``%`` formats (subject, text, HTML); each further message
of the shape fills them: its values raw in the subject and text, escaped in the HTML (~20 µs a message
against ~200 µs through jinja). Shapes are kept per process, as the templates and the catalog are.

Why the bytes are the same (else the shape, or the message, takes jinja's way, :func:`render`):

- the kind's template only prints values, tests their presence or truth, counts with them (plural),
  joins lists and gives values to the environment's own filters (:func:`_followable`: no comparison,
  arithmetic, method call or other filter), so a value acts on the output only through the shape;
- the probe renders twice, the second time with longer tokens holding a "&": each token must come out
  whole, as is in the subject and text and escaped exactly once in the HTML, between the same fixed text;
- what the text goes through after jinja (render.paragraphs: paragraphs, links, indented commands,
  strips) sees the same structure: a value has no newline and is not only whitespace (else it is not
  compiled), a token keeps a value's edge whitespace and link scheme, so a strip that would cut into
  a value cuts the token (not whole: refused), and neither a value starting with whitespace nor a slot
  after a fixed start of a link's scheme may begin a line (:func:`_line_starts_safe`); a value that is
  itself a start of a scheme ("h", "http") is not compiled;
- French elision ("de"/"d'" before a value): each value the probe finds deciding one (its token flipped
  between a vowel and a consonant changes the output) has its class (:func:`~notifications.i18n.elides_before`)
  in the key of the shape's variants.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from typing import Any

from markupsafe import escape

from notifications import i18n
from notifications.render import Footer, environment, new_environment, render, render_in

Rendered = tuple[str, str, str]  # subject, plain text, HTML

_OPEN, _CLOSE, _LONG = "\ue000", "\ue001", "\ue002&\ue002"  # private-use characters: no catalog or template has them
_MARKS = re.compile("[\ue000-\ue002]")
_CORE = re.compile("\ue000(\\d+)")
_LINKS = ("https://", "http://")
_LEADING, _TRAILING, _LINK = 1, 2, 4  # a text's class: whitespace at its start, at its end; a link's scheme first
_FOOTER = ("programme", "team", "url", "email")  # the footer's values (its kind, role and mutability: the shape)
_NONE, _FALSE, _TRUE = "none", "false", "true"  # a shape's classes for None and booleans (never equal to a class int)
_MAX_SHAPES = 2048  # per language; more (unlikely: a shape per list length) and the cache starts again


class _Unprovable(Exception):
    """The probe cannot show that substituting values gives jinja's bytes: the shape takes jinja's way."""


_PLAIN = re.compile(r"[^\sh](?:[^\n]*\S)?")  # most texts: no newline, no whitespace at an edge, not an "h" first


def _text_class(v: str) -> int | None:
    """A text's class (the _LEADING, _TRAILING, _LINK bits), or None when it is not compiled: empty, only
    whitespace, a newline in it (it would make lines or paragraphs), or the start of a link's scheme."""
    if _PLAIN.fullmatch(v) is not None:
        return 0
    if not v or "\n" in v or v.isspace():
        return None
    c = (_LEADING if v[0].isspace() else 0) | (_TRAILING if v[-1].isspace() else 0)
    if v.startswith(_LINKS):
        return c | _LINK
    if len(v) < 8 and ("https://".startswith(v) or "http://".startswith(v)):
        return None
    return c


def _plural(lang: str) -> Callable[[int], int] | None:
    return getattr(i18n.translations(lang), "plural", None)


def _class(v: Any, plural: Callable[[int], int] | None) -> Any:
    """``v``'s part of a shape, or None when a message holding it is not compiled (see the module)."""
    t = type(v)
    if t is str:
        return _text_class(v)
    if v is None:
        return _NONE
    if t is bool:
        return _TRUE if v else _FALSE
    if t is int:  # gettext picks a form by plural(n), or by n == 1 for a sentence missing from the catalog
        return ("n", v == 0, v == 1, plural(v) if plural is not None else None)
    if t is list:
        classes = tuple(_class(x, plural) for x in v)
        return None if None in classes else ("L", *classes)
    if t is dict:
        classes = tuple((k, _class(x, plural)) for k, x in v.items())
        return None if any(c is None for _, c in classes) else ("D", *classes)
    return None


# Texts joined by NUL, each plain (class 0: no newline, no whitespace at an edge, not an "h" first), each
# followed by NUL: one C call classes a message's ~10 texts (a NUL inside a value only splits it into plain
# pieces, and a value made of plain pieces is plain; else the check fails and each is classed on its own).
_ALL_PLAIN = re.compile(r"(?:[^\s\x00h](?:[^\n\x00]*[^\s\x00])?\x00)*")


def _shape(kind: str, lang: str, context: dict, footer: Footer | None) -> tuple | None:
    """What makes a message's output structure differ (see the module); None: not compiled."""
    plural = _plural(lang)
    key: list[Any] = [kind]
    add = key.append
    texts = []
    for k, v in context.items():
        add(k)
        if type(v) is str:
            texts.append(v)
            add(0)  # checked below, all at once
            continue
        c = _class(v, plural)
        if c is None:
            return None
        add(c)
    if footer is not None:
        key += (footer.kind, footer.role, footer.mutable)
        for name in _FOOTER:
            v = getattr(footer, name)
            if type(v) is str:
                texts.append(v)
                add(0)
                continue
            c = _class(v, plural)
            if c is None:
                return None
            add(c)
    if texts and _ALL_PLAIN.fullmatch("\x00".join(texts) + "\x00") is None:
        return _shape_of_texts(key, context, footer)
    return tuple(key)


def _shape_of_texts(key: list, context: dict, footer: Footer | None) -> tuple | None:
    """``key`` with each text's own class in place of the 0 :func:`_shape` put for it."""
    values = [*context.values(), *(() if footer is None else (getattr(footer, n) for n in _FOOTER))]
    places = [2 * i + 2 for i in range(len(context))]
    if footer is not None:
        places += [2 * len(context) + 4 + i for i in range(len(_FOOTER))]
    for place, v in zip(places, values):
        if type(v) is str:
            c = _text_class(v)
            if c is None:
                return None
            key[place] = c
    return tuple(key)


# ---- the template: what a value may go through -----------------------------------------------------

def _followable(env: Any, kind: str) -> frozenset[str] | None:
    """The names whose attributes the kind's template reads (dicts of values), or None when the template
    does with a value something the compiler cannot follow: compare, compute, call a method, a filter other
    than ``join`` and the environment's own, a loop, a macro, an include."""
    from jinja2 import nodes
    from jinja2.defaults import DEFAULT_FILTERS

    custom = set(env.filters) - set(DEFAULT_FILTERS)
    read: set[str] = set()

    def plain(args: list, kwargs: list, dyn: Any, dyn_kw: Any) -> bool:
        return not kwargs and dyn is None and dyn_kw is None and all(isinstance(a, nodes.Const) for a in args)

    def ok(n: Any) -> bool:
        if isinstance(n, (nodes.TemplateData, nodes.Const, nodes.Name)):
            return True
        if isinstance(n, nodes.Template):
            return all(map(ok, n.body))
        if isinstance(n, nodes.Output):
            return all(map(ok, n.nodes))
        if isinstance(n, nodes.If):
            return ok(n.test) and all(map(ok, [*n.body, *n.elif_, *n.else_]))
        if isinstance(n, nodes.Assign):
            return ok(n.target) and ok(n.node)
        if isinstance(n, nodes.Tuple):
            return all(map(ok, n.items))
        if isinstance(n, nodes.CondExpr):
            return ok(n.test) and ok(n.expr1) and (n.expr2 is None or ok(n.expr2))
        if isinstance(n, (nodes.And, nodes.Or)):
            return ok(n.left) and ok(n.right)
        if isinstance(n, nodes.Not):
            return ok(n.node)
        if isinstance(n, (nodes.MarkSafe, nodes.MarkSafeIfAutoescape)):
            return ok(n.expr)
        if isinstance(n, nodes.Test):  # presence: part of the shape
            return (n.name in ("defined", "undefined") and isinstance(n.node, (nodes.Name, nodes.Getattr))
                    and plain(n.args, n.kwargs, n.dyn_args, n.dyn_kwargs) and not n.args and ok(n.node))
        if isinstance(n, nodes.Getattr):
            if isinstance(n.node, nodes.Name):
                read.add(n.node.name)
                return True
            return False
        if isinstance(n, nodes.Filter):
            if n.node is None or not plain(n.args, n.kwargs, n.dyn_args, n.dyn_kwargs):
                return False
            return (n.name == "join" or (n.name in custom and not n.args)) and ok(n.node)
        if isinstance(n, nodes.Call):  # the catalog's: a fixed sentence, its values as keywords
            if not isinstance(n.node, nodes.Name) or n.dyn_args is not None or n.dyn_kwargs is not None:
                return False
            fixed = {"gettext": 1, "_": 1, "ngettext": 2}.get(n.node.name)
            if fixed is None or len(n.args) < fixed or len(n.args) > (3 if fixed == 2 else 1):
                return False
            return (all(isinstance(a, nodes.Const) for a in n.args[:fixed]) and all(map(ok, n.args[fixed:]))
                    and all(isinstance(k, nodes.Keyword) and ok(k.value) for k in n.kwargs))
        return False

    source = env.loader.get_source(env, f"{kind}.txt")[0]
    return frozenset(read) if ok(env.parse(source)) else None


# ---- the probe ---------------------------------------------------------------------------------------

class _Count(int):
    """A number in a probe: it counts (plural) as the message's own, and prints as its token."""

    token: str
    slot: int

    def __str__(self) -> str:
        return self.token

    __repr__ = __str__

    def __format__(self, spec: str) -> str:
        if spec:
            raise _Unprovable(f"a number formatted with {spec!r}")
        return self.token


# Where a value comes from: ("ctx", key, sub...) in the context, ("footer", name), ("filter", name, slot).
Where = tuple


class _Probe:
    """One message's values as tokens (a slot each), the renders with them and their cutting at the tokens."""

    def __init__(self, kind: str, lang: str, context: dict, footer: Footer | None) -> None:
        self.kind, self.lang, self.context, self.footer = kind, lang, context, footer
        self.slots: list[Where] = []
        self.real: list[Any] = []  # the message's own value of each slot
        self.classes: list[int | None] = []  # a text's class; None: a number
        self.elides: list[bool] = []
        self.derived: dict[tuple[str, int], int] = {}  # (filter, slot) -> its slot
        self.flipped: int | None = None
        self.long = False
        self.by_token: dict[str, int] = {}
        self.filters = environment(lang).filters

    def _slot(self, where: Where, value: Any) -> int:
        if where in self.slots:
            return self.slots.index(where)
        self.slots.append(where)
        self.real.append(value)
        if type(value) is str:
            c = _text_class(value)
            if c is None:
                raise _Unprovable(f"{where}: a value the compiler does not substitute")
            self.classes.append(c)
            self.elides.append(not c & (_LEADING | _LINK) and i18n.elides_before(value))
        else:
            self.classes.append(None)
            self.elides.append(False)
        return len(self.slots) - 1

    def token(self, i: int) -> str:
        c = self.classes[i] or 0
        head = "https://" if c & _LINK else ("e" if self.elides[i] != (self.flipped == i) else "z")
        return ("".join((" " if c & _LEADING else "", head, _OPEN, str(i), _LONG if self.long else "", _CLOSE,
                         " " if c & _TRAILING else "")))

    def _value(self, where: Where, v: Any) -> Any:
        """The probe's version of a value: a token (a number: a _Count), lists and dicts of them."""
        t = type(v)
        if t is str:
            i = self._slot(where, v)
            tok = self.token(i)
            self.by_token[tok] = i
            return tok
        if t is int:
            i = self._slot(where, v)
            n = _Count(v)
            n.token, n.slot = self.token(i), i
            return n
        if t is list:
            return [self._value((*where, k), x) for k, x in enumerate(v)]
        if t is dict:
            return {k: self._value((*where, k), x) for k, x in v.items()}
        return v  # None, a boolean: part of the shape

    def derive(self, name: str, value: Any) -> str:
        """A filter of the message environment given a probe value: the token of its result."""
        i = value.slot if isinstance(value, _Count) else self.by_token.get(value) if isinstance(value, str) else None
        if i is None:
            if _MARKS.search(str(value)):
                raise _Unprovable(f"the filter {name} given a value made of a token")
            return self.filters[name](value)  # fixed text of the shape
        j = self.derived.get((name, i))
        if j is None:
            real = self.filters[name](self.real[i])
            if type(real) is not str:
                raise _Unprovable(f"the filter {name} gives a {type(real).__name__}")
            j = self.derived[(name, i)] = self._slot(("filter", name, i), real)
        tok = self.token(j)
        self.by_token[tok] = j
        return tok

    def run(self, long: bool = False, flipped: int | None = None) -> tuple:
        """Render with tokens; each output cut into (fixed texts, slots)."""
        self.long, self.flipped, self.by_token = long, flipped, {}
        ctx = {k: self._value(("ctx", k), v) for k, v in self.context.items()}
        footer = self.footer
        if footer is not None:
            footer = Footer(footer.kind, footer.role, mutable=footer.mutable,
                            **{n: self._value(("footer", n), getattr(footer, n)) for n in _FOOTER})
        global _probing
        _probing = self
        try:
            subject, text, html = render_in(_probe_environment(self.lang), self.kind, self.lang, ctx, footer)
        finally:
            _probing = None
        tokens = [self.token(i) for i in range(len(self.slots))]
        escaped = [str(escape(t)) for t in tokens]
        return _cut(subject, tokens), _cut(text, tokens), _cut(html, escaped)


_probing: _Probe | None = None  # the probe rendering now (under _LOCK)


def _cut(out: str, tokens: list[str]) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """``out`` as the fixed texts between whole tokens and the slots of those tokens."""
    texts, slots, pos = [], [], 0
    for m in _CORE.finditer(out):
        i = int(m.group(1))
        if m.start() < pos:
            continue  # the digits inside a token already cut
        if i >= len(tokens):
            raise _Unprovable("a token of no slot")
        tok = tokens[i]
        start = m.start() - tok.index(_OPEN)
        if start < pos or not out.startswith(tok, start):
            raise _Unprovable(f"slot {i} not whole in the output")
        texts.append(out[pos:start])
        slots.append(i)
        pos = start + len(tok)
    texts.append(out[pos:])
    if any(_MARKS.search(t) for t in texts):
        raise _Unprovable("a token cut or transformed")
    return tuple(texts), tuple(slots)


def _line_starts_safe(cut: tuple, classes: list[int | None]) -> None:
    """A value starting with whitespace never begins a line, nor does a slot follow a fixed start of a link's
    scheme at a line's start (render.paragraphs reads a paragraph's first characters: "    ", "https://")."""
    texts, slots = cut
    for k, i in enumerate(slots):
        before = texts[k]
        at_line_start = "\n" in before or k == 0
        if not at_line_start:
            continue
        head = before.rsplit("\n", 1)[-1]
        if (classes[i] or 0) & _LEADING and not head.strip():
            raise _Unprovable(f"slot {i}, which starts with whitespace, begins a line")
        if head and len(head) < 8 and ("https://".startswith(head) or "http://".startswith(head)):
            raise _Unprovable(f"slot {i} follows {head!r} at a line's start")


_PROBE_ENVS: dict[str, Any] = {}


def _probe_environment(lang: str) -> Any:
    """The message environment with the probe's filters in place of its own (:meth:`_Probe.derive`)."""
    env = _PROBE_ENVS.get(lang)
    if env is None:
        from jinja2.defaults import DEFAULT_FILTERS

        env = new_environment(lang)
        for name in set(environment(lang).filters) - set(DEFAULT_FILTERS):
            env.filters[name] = (lambda name: lambda value: _probing.derive(name, value))(name)
        _PROBE_ENVS[lang] = env
    return env


# ---- shapes ------------------------------------------------------------------------------------------

def _getter(keys: list, attributes: bool = False) -> Callable[[Any], tuple]:
    """itemgetter (attrgetter) that always gives a tuple."""
    if not keys:
        return lambda _: ()
    if len(keys) == 1:
        return (lambda o, k=keys[0]: (getattr(o, k),)) if attributes else (lambda o, k=keys[0]: (o[k],))
    return attrgetter(*keys) if attributes else itemgetter(*keys)


class _Format:
    """One output of a shape: its fixed texts as a ``%`` format, filled from the values in slot order."""

    __slots__ = ("text", "pick")

    def __init__(self, cut: tuple) -> None:
        texts, slots = cut
        self.text = "%s".join(t.replace("%", "%%") for t in texts)
        self.pick = _getter(list(slots))

    def __call__(self, values: list[str]) -> str:
        return self.text % self.pick(values)


@dataclass
class _Shape:
    """A compiled shape: where each slot's value comes from, and its formats per elision variant."""

    slots: list[Where]
    numbers: tuple[int, ...]  # the slots holding a number (printed with str)
    derived: list[tuple[str, int, int]]  # the filter, the slot it is given, the class its value must have
    sensitive: tuple[int, ...]  # the slots whose elision class decides the output
    filters: dict[str, Any]
    variants: dict[tuple[bool, ...], tuple[_Format, _Format, _Format] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        top = [w[1] for w in self.slots if w[0] == "ctx" and len(w) == 2]
        names = [w[1] for w in self.slots if w[0] == "footer"]
        base = [w for w in self.slots if w[0] != "filter"]
        # The common case in C (itemgetter, attrgetter): values at the context's top level, then the footer's.
        self.fast = base == [("ctx", k) for k in top] + [("footer", n) for n in names]
        self.pick, self.pick_footer = _getter(top), _getter(names, attributes=True)
        self.base = len(base)

    def values(self, context: dict, footer: Footer | None) -> list[Any] | None:
        """The message's value of each slot as text (None: a filter gave a value of another class)."""
        if self.fast:
            vals = [*self.pick(context), *(self.pick_footer(footer) if footer is not None else ())]
        else:
            vals = []
            for where in self.slots[:self.base]:
                if where[0] == "ctx":
                    v = context[where[1]]
                    for sub in where[2:]:
                        v = v[sub]
                else:
                    v = getattr(footer, where[1])
                vals.append(v)
        for name, of, cls in self.derived:
            v = self.filters[name](vals[of])
            if type(v) is not str or _text_class(v) != cls:
                return None
            vals.append(v)
        for i in self.numbers:
            vals[i] = str(vals[i])
        return vals


_LOCK = threading.Lock()
_SHAPES: dict[str, tuple[Any, dict[tuple, _Shape | None]]] = {}  # lang -> (its environment, shape -> compiled)


def _shapes(lang: str) -> dict[tuple, _Shape | None]:
    env = environment(lang)
    found = _SHAPES.get(lang)
    if found is None or found[0] is not env or len(found[1]) > _MAX_SHAPES:
        found = _SHAPES[lang] = (env, {})
    return found[1]


def _formats(probe: _Probe) -> tuple[tuple, tuple[_Format, _Format, _Format]]:
    """Render the probe twice (short and long tokens): the same cuts, line starts safe; the format strings."""
    short = probe.run()
    if probe.run(long=True) != short:
        raise _Unprovable("the long tokens do not cut as the short ones")
    _line_starts_safe(short[1], probe.classes)
    _line_starts_safe(short[0], probe.classes)
    return short, (_Format(short[0]), _Format(short[1]), _Format(short[2]))


def _compile(kind: str, lang: str, context: dict, footer: Footer | None) -> _Shape | None:
    """The shape of this message compiled, or None when it cannot be (see the module)."""
    env = environment(lang)
    try:
        read = _followable(env, kind)
        if read is None or any(n in context and type(context[n]) is not dict for n in read):
            return None
        probe = _Probe(kind, lang, context, footer)
        short, formats = _formats(probe)
        flippable = [i for i, c in enumerate(probe.classes) if c is not None and not c & (_LEADING | _LINK)]
        sensitive = tuple(i for i in flippable if probe.run(flipped=i) != short)
    except Exception:  # _Unprovable, or what jinja's own render of the message raises too (a missing value)
        return None
    numbers = tuple(i for i, c in enumerate(probe.classes) if c is None)
    derived = [(name, i, probe.classes[j]) for (name, i), j in sorted(probe.derived.items(), key=lambda kv: kv[1])]
    base = [w for w in probe.slots if w[0] != "filter"]
    if probe.slots[:len(base)] != base:  # derived slots come after the values they are made of (values are first)
        return None
    shape = _Shape(probe.slots, numbers, derived, sensitive, env.filters)
    shape.variants[tuple(probe.elides[i] for i in sensitive)] = formats
    return shape


def _variant(shape: _Shape, kind: str, lang: str, context: dict,
             footer: Footer | None) -> tuple[_Format, _Format, _Format] | None:
    """The format strings of another elision variant of ``shape`` (this message's)."""
    probe = _Probe(kind, lang, context, footer)
    try:
        _, formats = _formats(probe)
    except Exception:  # as in _compile
        return None
    return formats if probe.slots == shape.slots else None


def fill(kind: str, lang: str, context: dict, footer: Footer | None = None) -> Rendered | None:
    """The message from its compiled shape (see the module), compiling the shape on its first message; None
    when the compiler does not take it (a value it does not substitute, a template it cannot follow)."""
    lang = lang if lang in i18n.LANGS else i18n.DEFAULT_LANG
    key = _shape(kind, lang, context, footer)
    if key is None:
        return None
    shapes = _shapes(lang)
    shape = shapes.get(key, False)
    if shape is False:
        with _LOCK:
            shape = shapes.get(key, False)
            if shape is False:
                shape = shapes[key] = _compile(kind, lang, context, footer)
    if shape is None:
        return None
    try:
        vals = shape.values(context, footer)
    except Exception:  # a filter refusing its value (a date that is not one): jinja's render says so
        return None
    if vals is None:
        return None
    variant = tuple(i18n.elides_before(vals[i]) for i in shape.sensitive) if shape.sensitive else ()
    formats = shape.variants.get(variant, False)
    if formats is False:
        with _LOCK:
            formats = shape.variants.get(variant, False)
            if formats is False:
                formats = shape.variants[variant] = _variant(shape, kind, lang, context, footer)
    if formats is None:
        return None
    subject, text, html = formats
    escaped = str(escape("\x00".join(vals))).split("\x00")  # one call; a NUL in a value: one by one
    if len(escaped) != len(vals):
        escaped = [str(escape(v)) for v in vals]
    return subject(vals), text(vals), html(escaped)


def render_compiled(kind: str, lang: str, context: dict, footer: Footer | None = None) -> Rendered:
    """:func:`notifications.render.render`, byte for byte: from the message's compiled shape (:func:`fill`),
    or jinja's way for a message the compiler does not take."""
    return fill(kind, lang, context, footer) or render(kind, lang, context, footer)
