"""An inbound e-mail (a coach's reply to the weekly reminder), read from its raw RFC 5322 bytes into a
frozen :class:`Mail`: who sent it, the message ids it answers, whether a machine sent it (RFC 3834), its
body as text, and the coach's own lines of it (:attr:`Mail.reply`), without the quoted reminder, quote
headers and signatures.

Pure: no database, no clock. :func:`parse` never raises, whatever arrives (broken MIME, lying charsets,
invalid UTF-8, NUL bytes, huge headers): mail comes from anyone, and a refusal is the service's to say.
Quotes and signatures are found by mail-parser-reply (French and English), after a pass of our own for
what it misses: quote headers wrapped over lines or typed with a no-break space, Outlook's header blocks,
bottom-posted replies, and "- " bullets it would take for a signature.
"""

from __future__ import annotations

import codecs
import email.header
import email.parser
import email.policy
import email.utils
import hashlib
import re
import unicodedata
import uuid
from dataclasses import dataclass
from email.message import Message
from typing import Any

MAX_TEXT = 100 * 1024  # bytes of text (UTF-8) above which a reply is refused (the service checks it)
MAX_HEADER = 16 * 1024  # a header value longer than this is read plainly (the policy's parser is slow on it)
MAX_LINE = 998  # RFC 5322's line length: a longer subject or display name is cut there
_LONG_LINE = 300  # lines longer than this are hidden from the reply parser (its regexes are quadratic per line)
_MAX_PARTS = 1000  # MIME parts looked at, at most

_AUTO_SUBMITTED_NO = "no"
_PRECEDENCE = frozenset({"bulk", "junk", "list"})
_NO_REPLY = ("noreply", "donotreply", "nepasrepondre")
_DAEMONS = frozenset({"mailer-daemon", "postmaster"})
_ADDRESS_HEADERS = ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To")
_MSGID = re.compile(r"<([^<>]*)>")
_CONTROLS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Mail:
    """An inbound message, as much as the service needs to route, refuse or log it."""

    message_id: str | None  # the Message-ID header as given, e.g. "<abc@host>"; None when absent/empty
    digest: str  # SHA-256 hex of the Message-ID stripped of whitespace and <>; of the raw bytes when absent
    sender: str  # the From address (addr-spec only, as written; "" when none or unparseable)
    sender_name: str  # its display name (decoded RFC 2047), "" when none
    subject: str  # decoded, one line
    in_reply_to: tuple[str, ...]  # message ids in In-Reply-To ("<...>" each)
    references: tuple[str, ...]  # message ids in References, in order
    addresses: tuple[str, ...]  # addr-specs of To, Cc, Delivered-To, X-Original-To, Envelope-To, in that order
    auto: str | None  # None for a human reply; else why it is automatic
    text: str  # the body as text: the text/plain part, else the HTML part converted; LF line ends
    reply: str  # `text` without quoted text, the quoted reminder, quote headers and signatures
    attachments: tuple[str, ...]  # file names of the parts that are not the body (or their content type)
    size: int  # len(raw)
    text_size: int  # len(text.encode()) before stripping


def parse(raw: bytes) -> Mail:
    """Read a raw message; never raises (what cannot be read is empty), so any mail can be answered
    or ignored. ``reply`` is "" when the text is over :data:`MAX_TEXT` (the service refuses it)."""
    raw = bytes(raw)
    try:
        msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    except Exception:  # the parser is lenient; this is only a last resort
        msg = email.message_from_bytes(b"", policy=email.policy.default)
    message_id = _one_line(_header(msg, "Message-ID")) or None
    ident = _SPACES.sub("", message_id or "").replace("<", "").replace(">", "")
    if not ident:
        message_id = None
    digest = hashlib.sha256(ident.encode("utf-8", "replace") if ident else raw).hexdigest()
    sender, sender_name, from_local = _from(msg)
    try:
        text, attachments = _body(msg)
    except Exception:  # a MIME tree too deep or too broken to walk
        text, attachments = "", ()
    text_size = len(text.encode("utf-8"))
    return Mail(
        message_id=message_id, digest=digest, sender=sender, sender_name=sender_name,
        subject=_one_line(_header(msg, "Subject"))[:MAX_LINE],
        in_reply_to=_ids(_header(msg, "In-Reply-To")), references=_ids(_header(msg, "References")),
        addresses=_addresses(msg), auto=_auto(msg, from_local), text=text,
        reply=reply_of(text) if text_size <= MAX_TEXT else "", attachments=attachments, size=len(raw),
        text_size=text_size)


# --- headers ---------------------------------------------------------------------------------------

def _clean(value: str) -> str:
    """A str without the surrogates the parser keeps for undecodable bytes (read as UTF-8 instead, or
    U+FFFD), nor NUL (which PostgreSQL refuses)."""
    if any("\udc80" <= c <= "\udcff" for c in value):
        value = value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    value = value.encode("utf-8", "replace").decode("utf-8")  # lone surrogates of other origins
    return value.replace("\x00", "")


def _one_line(value: str) -> str:
    return _SPACES.sub(" ", _CONTROLS.sub(" ", value)).strip()


def _raw_values(msg: Message, name: str) -> list[str]:
    lname = name.lower()
    try:
        return [str(v) for k, v in msg.raw_items() if str(k).lower() == lname]
    except Exception:
        return []


def _plain(raw: str) -> str:
    """A raw header value decoded the old way (RFC 2047 words, unknown charsets replaced)."""
    try:
        parts = email.header.decode_header(raw)
    except Exception:
        return _clean(raw)
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(_decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return _clean("".join(out))


def _header(msg: Message, name: str) -> str:
    """A header's first value, decoded; "" when absent. The default policy's parser raises on some
    malformed values and is slow on huge ones: those are decoded plainly."""
    raws = _raw_values(msg, name)
    if not raws:
        return ""
    if len(raws[0]) <= MAX_HEADER:
        try:
            value = msg[name]
            if value is not None:
                return _clean(str(value))
        except Exception:
            pass
    return _plain(raws[0])


def _ids(value: str) -> tuple[str, ...]:
    """The message ids of In-Reply-To or References ("<...>" each, whitespace folded out); bare ids
    with an "@" when no bracketed one is there."""
    found = [_SPACES.sub("", m) for m in _MSGID.findall(value)]
    if not found:
        found = [w.strip("<>") for w in value.split() if "@" in w]
    return tuple(f"<{m}>" for m in found if m)


def _address_pairs(msg: Message, name: str) -> list[tuple[str, str]]:
    """(display name, addr-spec) of every value of a header; raw values decoded leniently."""
    pairs: list[tuple[str, str]] = []
    for raw in _raw_values(msg, name):
        if len(raw) > MAX_HEADER:
            raw = raw[:MAX_HEADER]
        try:
            found = email.utils.getaddresses([_clean(raw)])
        except Exception:
            continue
        for display, addr in found:
            pairs.append((display, addr))
    return pairs


def _addr(value: str) -> str:
    addr = _clean(value).strip()
    if not addr or "@" not in addr or _SPACES.search(addr) or _CONTROLS.search(addr) or len(addr) > 320:
        return ""
    return addr


def _from(msg: Message) -> tuple[str, str, str]:
    """(addr-spec, display name, local part as found even when the address is unusable)."""
    name = addr = ""
    raws = _raw_values(msg, "From")
    if raws and len(raws[0]) <= MAX_HEADER:
        try:
            header: Any = msg["From"]
            found = header.addresses if header is not None else ()
            if found:
                addr = _clean(found[0].addr_spec or "")
                name = _clean(found[0].display_name or "")
            several = len(found) > 1
        except Exception:
            several = False
    else:
        several = False
    if not addr:
        pairs = _address_pairs(msg, "From")
        if pairs:
            name, addr = _plain(pairs[0][0]), pairs[0][1]
            several = several or len(pairs) > 1
    if not addr and raws:  # "From: MAILER-DAEMON" and the like: no @, but still a local part
        addr = _one_line(_plain(raws[0])).strip("<>")
    local = addr.rsplit("@", 1)[0] if "@" in addr else addr
    if several or len(raws) > 1:  # two authors, or two From headers: no one sender to hold to the key
        return "", _one_line(name)[:MAX_LINE], local
    return _addr(addr), _one_line(name)[:MAX_LINE], local


def _addresses(msg: Message) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for name in _ADDRESS_HEADERS:
        for _display, addr in _address_pairs(msg, name):
            addr = _addr(addr)
            if addr:
                seen.setdefault(addr, None)
    return tuple(seen)


def _fold(text: str) -> str:
    """Lowercase, without accents: for comparing what people type."""
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def _auto(msg: Message, from_local: str) -> str | None:
    """Why a message is automatic (RFC 3834 and common practice), or None for a human's."""
    def value(name: str) -> str:
        return _one_line(_plain(_raw_values(msg, name)[0])).lower() if _raw_values(msg, name) else ""

    try:
        content_type = msg.get_content_type()
    except Exception:
        content_type = ""
    if content_type == "multipart/report" or _SPACES.sub("", value("Return-Path")) == "<>":
        return "bounce"
    local = _fold(from_local).strip().strip('"')
    if local in _DAEMONS:
        return "mailer_daemon"
    if _raw_values(msg, "Auto-Submitted") and re.sub(r"\([^)]*\)", "", value("Auto-Submitted")).split(";")[0].strip() != _AUTO_SUBMITTED_NO:
        return "auto_submitted"
    if _raw_values(msg, "X-Autoreply") or _raw_values(msg, "X-Autorespond"):
        return "autoreply"
    if value("Precedence") in _PRECEDENCE:
        return "precedence"
    if _raw_values(msg, "List-Id"):
        return "list"
    squeezed = re.sub(r"[^a-z0-9]", "", local.split("+")[0])
    if any(word in squeezed for word in _NO_REPLY):
        return "no_reply"
    return None


# --- body ------------------------------------------------------------------------------------------

def _codec(charset: str | None) -> str | None:
    """A text codec's name for a declared charset, or None when Python knows none (or only a bytes
    codec such as "base64", which would not give text)."""
    if not charset:
        return None
    try:
        info = codecs.lookup(charset.strip().strip('"'))
    except (LookupError, ValueError, TypeError):
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def _decode_bytes(data: bytes, charset: str | None) -> str:
    """Bytes as text: the declared charset when they read in it, else UTF-8 (the usual lie is
    "us-ascii" over UTF-8), else the declared one (or UTF-8) with U+FFFD for what does not read."""
    declared = _codec(charset)
    for name in (declared, "utf-8"):
        if name:
            try:
                return data.decode(name)
            except Exception:
                pass
    try:
        return data.decode(declared or "utf-8", "replace")
    except Exception:
        return data.decode("utf-8", "replace")


def _leaves(msg: Message) -> list[Message]:
    """The leaf parts in order (a message/rfc822 part is one leaf: a forwarded message is an
    attachment), iteratively and at most :data:`_MAX_PARTS`."""
    leaves: list[Message] = []
    stack = [msg]
    while stack and len(leaves) < _MAX_PARTS:
        part = stack.pop()
        payload = part.get_payload() if part.is_multipart() else None
        if isinstance(payload, list) and part.get_content_maintype() == "multipart":
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))
        else:
            leaves.append(part)
    return leaves


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:
        name = None
    return _one_line(_clean(str(name)))[:255] if name else ""


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    return bool(_filename(part)) or disposition == "attachment"


def _content(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes):
        payload = part.get_payload()
        data = _clean(payload).encode("utf-8") if isinstance(payload, str) else b""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return _decode_bytes(data, charset)


def _body(msg: Message) -> tuple[str, tuple[str, ...]]:
    """(the body as text, the attachments' names): the first text/plain part that is not an attachment,
    else the first such text/html part, converted."""
    leaves = _leaves(msg)
    plain = html = None
    for part in leaves:
        if _is_attachment(part):
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and plain is None:
            plain = part
        elif kind == "text/html" and html is None:
            html = part
    body = plain if plain is not None else html
    attachments = []
    for part in leaves:
        kind = part.get_content_type()
        if part is body or (kind in ("text/plain", "text/html") and not _is_attachment(part)):
            continue
        attachments.append(_filename(part) or kind)
    if body is None:
        return "", tuple(attachments)
    content = _clean(_content(body))
    if body is html:
        text = html_text(content)
    else:
        text = _lines(content)
        try:
            params = {k.lower(): str(v).lower() for k, v in body.get_params() or () if isinstance(k, str)}
        except Exception:
            params = {}
        if params.get("format") == "flowed":
            text = unflow(text, delsp=params.get("delsp") == "yes")
    return text, tuple(attachments)


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def unflow(text: str, *, delsp: bool = False) -> str:
    """format=flowed text (RFC 3676, Thunderbird's) as its paragraphs: a line ending with a space goes on
    with the next one of the same quote depth; space-stuffing is removed; "-- " stays a line."""
    out: list[tuple[int, str]] = []  # (quote depth, text)
    joining = False
    for line in text.split("\n"):
        depth = len(line) - len(line.lstrip(">"))
        body = line[depth:]
        if body.startswith(" "):
            body = body[1:]
        soft = body.endswith(" ") and body != "-- "
        if soft and delsp:
            body = body[:-1]
        if joining and out and out[-1][0] == depth:
            out[-1] = (depth, out[-1][1] + body)
        else:
            out.append((depth, body))
        joining = soft
    return "\n".join("> " * depth + body for depth, body in out)


# --- HTML --------------------------------------------------------------------------------------------

_BLOCKS = frozenset({"address", "article", "aside", "div", "dl", "dt", "dd", "fieldset", "figure", "footer",
                     "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol",
                     "p", "pre", "section", "table", "tr", "ul", "center"})
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "table", "ul", "ol", "pre"})
_QUOTES = ("blockquote", "div.gmail_quote", ".gmail_attr", ".gmail_quote", ".moz-cite-prefix",
           ".gmail_signature", ".moz-signature", "#Signature")
_AND_AFTER = ("#divRplyFwdMsg", "#appendonsend")  # Outlook: the quoted message follows these


def html_text(html: str) -> str:
    """An HTML body as text, without its quoted blocks (Gmail, Outlook, Apple Mail, Thunderbird) nor
    scripts and styles: paragraphs become blank lines, <div> and <br> line breaks, list items "- "."""
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    soup = BeautifulSoup(html, "html.parser")
    for tag in soup.find_all(["script", "style", "head", "title", "template"]):
        tag.decompose()
    for selector in _AND_AFTER:
        found = soup.select_one(selector)
        if found is not None:
            node: Any = found
            while node is not None and node is not soup:
                for sibling in list(node.next_siblings):
                    sibling.extract()
                node = node.parent
            found.decompose()
    for selector in _QUOTES:
        for tag in soup.select(selector):
            tag.decompose()

    out: list[str] = []
    state = {"start": True, "newlines": 2}  # at a line's start; newlines ending the output (2: none yet)

    def text_(value: str) -> None:
        if state["start"]:
            value = value.lstrip()
        if value:
            out.append(value)
            state.update(start=False, newlines=0)

    def newline() -> None:
        out.append("\n")
        state.update(start=True, newlines=state["newlines"] + 1)

    def block(blank: bool) -> None:
        """A block's edge: a new line (a blank one around a paragraph), unless already there."""
        if not state["start"]:
            newline()
        if blank and state["newlines"] < 2:
            newline()

    stack: list[Any] = [(soup, False, False)]
    while stack:  # iterative: a hostile nesting must not reach the recursion limit
        item, in_pre, closing = stack.pop()
        if isinstance(item, (Comment, Doctype, ProcessingInstruction)):
            continue
        if isinstance(item, NavigableString):
            text_(str(item) if in_pre else re.sub(r"[ \t\r\n\f]+", " ", str(item)))
            continue
        if not isinstance(item, Tag):
            continue
        name = item.name
        blank = name in _PARAGRAPHS and "MsoNormal" not in (item.get("class") or ())  # Outlook's: a line
        if closing:
            block(blank)
            continue
        if name == "br":
            newline()
            continue
        if name in _BLOCKS:
            block(blank)
            if name == "li":
                text_("- ")
            stack.append((item, in_pre, True))
        stack.extend((c, in_pre or name == "pre", False) for c in reversed(list(item.children)))
    lines = [line.strip(" \t") for line in "".join(out).split("\n")]
    return _squeeze("\n".join(lines)).strip("\n")


def _squeeze(text: str) -> str:
    """At most one blank line in a row."""
    return re.sub(r"\n(?:[ \t\u00a0]*\n)+", "\n\n", text)


# --- quotes and signatures --------------------------------------------------------------------------

_NBSP = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2007": " "})
_WROTE = re.compile(
    r"(?:>\s*)*(?:Le\s.{0,300}?\sa\s+[ée]crit|On\s.{0,300}?\swrote|El\s.{0,300}?\sescribi[óo])\s*:\s*", re.I)
_WROTE_START = re.compile(r"(?:>\s*)*(?:Le|On|El)\s", re.I)
_FROM = re.compile(r"(?:>\s*)*[*]*\s*(?:De|From|Exp[ée]diteur)\s*[*]*\s*:", re.I)
_SENT = re.compile(r"(?:>\s*)*[*]*\s*(?:Envoy[ée]|Sent|Date)\s*[*]*\s*:", re.I)
_TOPIC = re.compile(r"(?:>\s*)*[*]*\s*(?:Objet|Subject)\s*[*]*\s*:", re.I)
_SEPARATOR = re.compile(
    r"(?:>\s*)*-{2,}\s*(?:Original Message|Message d'origine|Forwarded message|Message transf[ée]r[ée])\s*-{2,}",
    re.I)
_RULE = re.compile(r"[_\-=*~]{5,}")
# Signatures the reply parser misses: a phone's or Outlook's line, and French closings it does not know.
# A whole line only, and never the first one: "Bien à vous de voir" stays.
_SIGNED = re.compile(
    r"(?:--|(?:Envoy[ée] (?:de|depuis) (?:mon|ma) .{1,40}|Sent from my .{1,40}|(?:T[ée]l[ée]charger|Obtenir) "
    r"Outlook pour .{1,30}|Get Outlook for .{1,30})"
    r"|(?:(?:Bien|Tr[èe]s|Tr[èe]s bien) cordialement|Bien [àa] (?:vous|toi)|Bien amicalement|Amicalement"
    r"|(?:Sinc[èe]res|Meilleures) salutations|Belle (?:journ[ée]e|soir[ée]e)|Bonne (?:soir[ée]e|semaine)"
    r"|Best regards|Kind regards|Regards|Cheers)[\s,.!]*)", re.I)


def _quote_header(lines: list[str], i: int) -> int:
    """How many lines from ``i`` make a quote header (0: none): "Le … a écrit :" or "On … wrote:",
    wrapped over up to three lines; Outlook's "De : / Envoyé : / À : / Objet :" (or English) block;
    an "Original Message" separator."""
    line = lines[i].translate(_NBSP).strip()
    if not line or len(line) > 1000:
        return 0
    if _SEPARATOR.fullmatch(line):
        return 1
    if _WROTE_START.match(line):
        joined = line
        for n in range(3):
            if n:
                if i + n >= len(lines) or not lines[i + n].strip() or len(lines[i + n]) > 1000:
                    break
                joined += " " + lines[i + n].translate(_NBSP).strip().lstrip(">").strip()
            if re.search(r"\d", joined) and _WROTE.fullmatch(joined):
                return n + 1
    if _FROM.match(line):
        following = [lines[j].translate(_NBSP).strip() for j in range(i + 1, min(i + 8, len(lines)))]
        sent = next((j for j, x in enumerate(following) if _SENT.match(x)), None)
        topic = next((j for j, x in enumerate(following) if _TOPIC.match(x)), None)
        if sent is not None and topic is not None:
            return max(sent, topic) + 2
    return 0


def _cut(text: str) -> str:
    """The text before the first quote header (when the reply is above the quote), or, when nothing is
    above it (a reply below the quote), the rest without that header."""
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        n = _quote_header(lines, i)
        if n:
            if any(x.strip() and not x.strip().startswith(">") for x in lines[:i]):
                return "\n".join(lines[:i])
            lines = lines[i + n:]
            i = 0
            continue
        i += 1
    return "\n".join(lines)


def _drop_rule(text: str) -> str:
    lines = text.rstrip().split("\n")
    while lines and _RULE.fullmatch(lines[-1].strip()):
        lines.pop()
    return "\n".join(lines)


def reply_of(text: str) -> str:
    """A body's own lines: without quote headers and the quoted text after them, signatures ("-- ",
    "Cordialement", "Sent from my iPhone"…), nor lines quoted with ">"."""
    from mailparser_reply.parser import EmailMessage

    text = _squeeze("\n".join(line.strip() for line in _lines(text).split("\n")))
    text = _drop_rule(_cut(text))
    # Long lines are hidden from the reply parser: its regexes take a time quadratic in a line's length,
    # and no quote header nor signature is that long.
    hidden: dict[str, str] = {}
    salt = uuid.uuid4().hex

    def hide(line: str) -> str:
        if len(line) <= _LONG_LINE:
            return line
        token = f"preincub{salt}x{len(hidden)}"
        hidden[token] = line
        return token

    shown = "\n".join(hide(line) for line in text.split("\n"))
    try:
        parsed = EmailMessage(text=shown, languages=["fr", "en"], keep_hyphen_lists=True).read()
        body = parsed.replies[0].body if parsed.replies else shown
    except Exception:  # the parser is a regex heap; never let it lose a reply
        body = shown
    for token, line in hidden.items():
        body = body.replace(token, line)
    kept = [line for line in body.split("\n") if not line.lstrip().startswith(">")]
    for i, line in enumerate(kept):
        if i and any(x.strip() for x in kept[:i]) and _SIGNED.fullmatch(line.strip().translate(_NBSP)):
            kept = kept[:i]
            break
    return _squeeze(_drop_rule("\n".join(kept))).strip()
