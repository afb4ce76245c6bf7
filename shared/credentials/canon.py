"""Fast JSON-LD to canonical N-Quads (RDFC-1.0) for the credential shapes we issue.

Naive JSON-LD processing re-resolves the contexts and runs the general expansion,
flattening and canonicalization algorithms for every credential: several ms each. Our
credentials always name the same few contexts and are trees with few blank nodes, so:

* contexts are compiled once into term tables (`_Context`), and every context derived from
  them (type-scoped, property-scoped, embedded) is memoised, so JSON-LD context processing
  runs once per process, not once per credential;
* the document is walked once, emitting quads directly (no expanded form, no node map);
* RDFC-1.0 labelling uses the first-degree hash of each blank node. When every blank node
  has a distinct hash this *is* the full algorithm's answer; otherwise the n-degree hashing
  would be needed and we defer to the reference path.

Anything outside the subset handled here raises `_NotSure` and `canonicalize` falls back
to the reference (pyld) path, so the result is always the reference's bytes. A key that
maps to no IRI raises `UndefinedTermError` instead: JSON-LD would silently drop it,
leaving a claim outside the signature (and safe-mode verifiers reject such documents).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from shared.credentials.loader import UnknownContext, load_context
from shared.credentials.reference import CanonicalizationError, canonicalize_reference

RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
XSD_BOOLEAN = XSD + "boolean"
XSD_INTEGER = XSD + "integer"
XSD_DOUBLE = XSD + "double"

_KEYWORDS = frozenset(
    [
        "@base",
        "@container",
        "@context",
        "@direction",
        "@graph",
        "@id",
        "@import",
        "@included",
        "@index",
        "@json",
        "@language",
        "@list",
        "@nest",
        "@none",
        "@prefix",
        "@propagate",
        "@protected",
        "@reverse",
        "@set",
        "@type",
        "@value",
        "@version",
        "@vocab",
    ]
)
# Characters that make an IRI unsafe to emit verbatim (RDF IRIREF excludes them).
_BAD_IRI = re.compile(r'[\x00-\x20<>"{}|^`\\\x7f]')
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
# Control characters other than tab, LF and CR: implementations disagree on them.
_ODD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LANG = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_GEN_DELIMS = frozenset(":/?#[]@")


class UndefinedTermError(CanonicalizationError):
    """A key maps to no IRI in the active context, so JSON-LD would drop it."""


class _NotSure(Exception):
    """The document uses something the fast path does not handle; use the reference."""


@dataclass(frozen=True, slots=True)
class _Term:
    iri: str  # absolute IRI, or a keyword for aliases such as `id` -> `@id`
    type: str | None  # @id, @vocab, @json, @none or a datatype IRI
    container: frozenset[str]
    context: Any  # the raw scoped context, or None
    protected: bool
    prefix: bool

    def same_as(self, other: _Term) -> bool:
        return (
            self.iri == other.iri
            and self.type == other.type
            and self.container == other.container
            and self.context == other.context
            and self.prefix == other.prefix
        )


class _Context:
    """An active context: compiled term table, @vocab and the pre-type-scope context."""

    __slots__ = ("_derived", "_keys", "_types", "previous", "terms", "vocab")

    def __init__(
        self, terms: dict[str, _Term], vocab: str | None, previous: _Context | None
    ) -> None:
        self.terms = terms
        self.vocab = vocab
        self.previous = previous
        self._derived: dict[tuple[Any, ...], _Context] = {}
        # Per-context memos of key -> (IRI or keyword, N-Quads IRI) and type -> N-Quads IRI.
        self._keys: dict[str, tuple[str, str]] = {}
        self._types: dict[str, str] = {}

    def key(self, key: str) -> tuple[str, str]:
        """The expansion of property `key` and its N-Quads form (empty for keywords)."""
        found = self._keys.get(key)
        if found is None:
            iri = _expand_key(self, key)
            found = (iri, "" if iri.startswith("@") else _iri(iri))
            self._keys[key] = found
        return found

    def type_iri(self, name: str) -> str:
        found = self._types.get(name)
        if found is None:
            found = _iri(self.expand_iri(name, vocab=True))
            self._types[name] = found
        return found

    def apply(self, local: Any, *, propagate: bool = True, override: bool = False) -> _Context:
        """The context after processing `local`, memoised per (context, flags)."""
        key = (_context_key(local), propagate, override)
        derived = self._derived.get(key)
        if derived is None:
            derived = self._process(local, propagate, override)
            self._derived[key] = derived
        return derived

    def _process(self, local: Any, propagate: bool, override: bool) -> _Context:
        previous = self.previous
        if not propagate and previous is None:
            previous = self
        result = _Context(dict(self.terms), self.vocab, previous)
        for item in local if isinstance(local, list) else [local]:
            if isinstance(item, str):
                try:
                    document = load_context(item)
                except UnknownContext as exc:
                    raise _NotSure(str(exc)) from exc
                inner = document.get("@context")
                if not isinstance(inner, dict):
                    raise _NotSure(f"context {item} is not a single object")
                result._define_all(inner, override)
            elif isinstance(item, dict):
                result._define_all(item, override)
            else:  # null resets the context; never used by our contexts
                raise _NotSure("null or non-object context")
        return result

    def _define_all(self, local: dict[str, Any], override: bool) -> None:
        for key in local:
            if key == "@version" and local[key] == 1.1:
                continue
            if key == "@vocab":
                self.vocab = self._expand_vocab_target(local[key])
            elif key == "@protected":
                continue
            elif key.startswith("@"):
                raise _NotSure(f"context keyword {key}")
        default_protected = local.get("@protected") is True
        defined: dict[str, bool] = {}
        for term in local:
            if not term.startswith("@"):
                self._define(local, term, defined, default_protected, override)

    def _expand_vocab_target(self, value: Any) -> str:
        if not isinstance(value, str) or not _SCHEME.match(value):
            raise _NotSure("relative or blank @vocab")
        return value

    def _define(
        self,
        local: dict[str, Any],
        term: str,
        defined: dict[str, bool],
        default_protected: bool,
        override: bool,
    ) -> None:
        """JSON-LD 1.1 Create Term Definition, for the features our contexts use."""
        if defined.get(term):
            return
        if term in defined:
            raise _NotSure(f"cyclic term definition {term}")
        defined[term] = False
        value = local[term]
        simple = isinstance(value, str)
        if simple:
            value = {"@id": value}
        if not isinstance(value, dict) or set(value) - {
            "@id",
            "@type",
            "@container",
            "@context",
            "@protected",
        }:
            raise _NotSure(f"unsupported definition of {term}")
        iri_value = value.get("@id")
        if isinstance(iri_value, str):
            if iri_value in _KEYWORDS:
                iri = iri_value
            else:
                iri = self._expand_in_definition(local, iri_value, defined, default_protected)
        elif iri_value is None and "@id" not in value:
            if ":" in term:
                iri = self._expand_in_definition(local, term, defined, default_protected)
            elif self.vocab is not None:
                iri = self.vocab + term
            else:
                raise _NotSure(f"term {term} has no IRI")
        else:
            raise _NotSure(f"null or invalid @id for {term}")
        if iri not in _KEYWORDS and not _SCHEME.match(iri):
            raise _NotSure(f"term {term} maps to relative IRI {iri}")
        type_value = value.get("@type")
        if type_value is not None:
            if not isinstance(type_value, str):
                raise _NotSure(f"invalid @type for {term}")
            if type_value not in ("@id", "@vocab", "@json", "@none"):
                type_value = self._expand_in_definition(
                    local, type_value, defined, default_protected
                )
        container_value = value.get("@container")
        if container_value is None:
            container: frozenset[str] = frozenset()
        elif isinstance(container_value, str):
            container = frozenset([container_value])
        elif isinstance(container_value, list):
            container = frozenset(container_value)
        else:
            raise _NotSure(f"invalid @container for {term}")
        protected = value.get("@protected", default_protected) is True
        definition = _Term(
            iri=iri,
            type=type_value,
            container=container,
            context=value.get("@context"),
            protected=protected,
            prefix=simple and (iri[-1:] in _GEN_DELIMS),
        )
        existing = self.terms.get(term)
        if existing is not None and existing.protected and not override:
            if not existing.same_as(definition):
                raise _NotSure(f"redefinition of protected term {term}")
            definition = existing
        self.terms[term] = definition
        defined[term] = True

    def _expand_in_definition(
        self, local: dict[str, Any], value: str, defined: dict[str, bool], protected: bool
    ) -> str:
        # Terms of the context being processed may be used before they are defined.
        if value in local and value not in defined:
            self._define(local, value, defined, protected, False)
        elif ":" in value:
            prefix = value.split(":", 1)[0]
            if prefix in local and prefix not in defined:
                self._define(local, prefix, defined, protected, False)
        return self.expand_iri(value, vocab=True)

    def expand_iri(self, value: str, *, vocab: bool) -> str:
        """IRI expansion; raises `_NotSure` where the reference would resolve a relative IRI."""
        if vocab:
            term = self.terms.get(value)
            if term is not None:
                return term.iri
        if ":" in value:
            prefix, suffix = value.split(":", 1)
            if prefix == "_":
                raise _NotSure("blank node identifier in document")
            if not suffix.startswith("//"):
                term = self.terms.get(prefix)
                if term is not None and term.prefix:
                    return term.iri + suffix
            if not _SCHEME.match(value):
                raise _NotSure(f"not an absolute IRI: {value}")
            return value
        if vocab and self.vocab is not None:
            return self.vocab + value
        raise _NotSure(f"relative IRI {value!r}")


def _context_key(local: Any) -> Any:
    if isinstance(local, str):
        return local
    if isinstance(local, list) and all(isinstance(item, str) for item in local):
        return tuple(local)
    # Otherwise a scoped context from a cached context document (documents may only name
    # contexts by URL), so its identity is stable for the life of the process.
    return ("id", id(local))


_EMPTY = _Context({}, None, None)


def _iri(value: str) -> str:
    if _BAD_IRI.search(value):
        raise _NotSure(f"IRI needs escaping: {value!r}")
    return f"<{value}>"


def _escape(value: str) -> str:
    # Same escapes as the reference serializer (pyld): backslash, tab, LF, CR, quote.
    if _ODD_CHARS.search(value):
        raise _NotSure("control characters in a literal")
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value:
        value = value.replace("\t", "\\t")
    if "\n" in value:
        value = value.replace("\n", "\\n")
    if "\r" in value:
        value = value.replace("\r", "\\r")
    if '"' in value:
        value = value.replace('"', '\\"')
    return value


def _literal(text: str, datatype: str | None) -> str:
    if datatype is None or datatype == XSD_STRING:
        return f'"{_escape(text)}"'
    return f'"{_escape(text)}"^^{_iri(datatype)}'


def canonical_double(value: float) -> str:
    """The canonical xsd:double lexical form (as JSON-LD's toRdf gives it)."""
    mantissa, exponent = f"{value:.15E}".split("E")
    mantissa = mantissa.rstrip("0")
    if mantissa.endswith("."):
        mantissa += "0"
    return f"{mantissa}E{int(exponent)}"


class _Emitter:
    """Walks a compact JSON-LD document and collects its quads."""

    __slots__ = ("_blank", "bool_slots", "int01_slots", "quads")

    def __init__(self) -> None:
        self.quads: list[tuple[str, str, str, str]] = []
        self._blank = 0
        # (subject, predicate, graph) holding booleans / the integers 0 or 1: the reference
        # merges duplicates with Python ==, where True == 1, so a slot holding both is left
        # to it.
        self.bool_slots: set[tuple[str, str, str]] = set()
        self.int01_slots: set[tuple[str, str, str]] = set()

    def new_blank(self) -> str:
        self._blank += 1
        return f"_:b{self._blank}"

    def node(
        self,
        element: dict[str, Any],
        ctx: _Context,
        scoped: Any,
        graph: str,
    ) -> str:
        """Emit the quads of a node object; return its subject term."""
        # Type-scoped contexts do not reach nested nodes (JSON-LD 1.1 expansion step 7).
        if ctx.previous is not None and not (
            len(element) == 1 and ctx.expand_iri(next(iter(element)), vocab=True) == "@id"
        ):
            ctx = ctx.previous
        if scoped is not None:
            ctx = ctx.apply(scoped, override=True)
        if "@context" in element:
            local = element["@context"]
            # Only contexts named by URL: memoising on inline objects from documents would
            # key the cache on short-lived objects (and grow it per document).
            if not isinstance(local, str) and not (
                isinstance(local, list) and all(isinstance(item, str) for item in local)
            ):
                raise _NotSure("inline context in the document")
            ctx = ctx.apply(local)
        type_ctx = ctx
        types: list[str] = []
        for key in sorted(element):
            # Keys are only fully expanded after the type-scoped contexts apply.
            term = ctx.terms.get(key)
            if key == "@type" or (term is not None and term.iri == "@type"):
                value = element[key]
                values = value if isinstance(value, list) else [value]
                if not all(isinstance(v, str) for v in values):
                    raise _NotSure("non-string @type")
                types.extend(values)
        for type_name in sorted(set(types)):
            type_term = type_ctx.terms.get(type_name)
            if type_term is not None and type_term.context is not None:
                ctx = ctx.apply(type_term.context, propagate=False)
        subject: str | None = None
        properties: list[tuple[str, str, Any]] = []  # key, predicate, value
        for key, value in element.items():
            if key == "@context":
                continue
            iri, predicate = ctx.key(key)
            if iri == "@id":
                if not isinstance(value, str):
                    raise _NotSure("non-string @id")
                subject = _iri(ctx.expand_iri(value, vocab=False))
            elif iri == "@type":
                continue
            elif iri.startswith("@"):
                raise _NotSure(f"keyword {iri} in a node object")
            else:
                properties.append((key, predicate, value))
        if subject is None:
            if not types and not properties:
                raise _NotSure("empty node object")
            subject = self.new_blank()
        quads = self.quads
        for type_name in types:
            quads.append((subject, RDF_TYPE, type_ctx.type_iri(type_name), graph))
        for key, predicate, value in properties:
            for item in value if isinstance(value, list) else [value]:
                if item is None:
                    continue
                if item is True or item is False:
                    self.bool_slots.add((subject, predicate, graph))
                elif item == 0 or item == 1:
                    self.int01_slots.add((subject, predicate, graph))
                quads.append((subject, predicate, self.value(item, key, ctx, graph), graph))
        return subject

    def value(self, item: Any, key: str, ctx: _Context, graph: str) -> str:
        """The object term of one value of property `key`, emitting nested nodes."""
        term = ctx.terms.get(key)
        container = term.container if term is not None else frozenset()
        if container and not container <= {"@set", "@graph"}:
            raise _NotSure(f"container {sorted(container)}")
        scoped = term.context if term is not None else None
        if isinstance(item, dict):
            if "@value" in item or "@list" in item or "@set" in item or "@graph" in item:
                return self.value_object(item)
            if term is not None and term.type == "@json":
                raise _NotSure("@json value")
            if "@graph" in container:
                graph_name = self.new_blank()
                self.node(item, ctx, scoped, graph_name)
                return graph_name
            return self.node(item, ctx, scoped, graph)
        if isinstance(item, list):
            raise _NotSure("nested array")
        if scoped is not None:
            # Value expansion uses the property's definition in its own scoped context.
            ctx = ctx.apply(scoped, override=True)
            term = ctx.terms.get(key)
        coerce = term.type if term is not None else None
        if coerce == "@json":
            raise _NotSure("@json value")
        if isinstance(item, str):
            if coerce == "@id":
                return _iri(ctx.expand_iri(item, vocab=False))
            if coerce == "@vocab":
                return _iri(ctx.expand_iri(item, vocab=True))
            return _literal(item, None if coerce == "@none" else coerce)
        datatype = None if coerce in ("@id", "@vocab", "@none") else coerce
        if isinstance(item, bool):
            return _literal("true" if item else "false", datatype or XSD_BOOLEAN)
        if isinstance(item, int):
            if abs(item) >= 10**21:
                raise _NotSure("huge integer")
            return _literal(str(item), datatype or XSD_INTEGER)
        if isinstance(item, float):
            if item != item or item in (float("inf"), float("-inf")):
                raise _NotSure("non-finite number")
            if item.is_integer():
                raise _NotSure("integral float")  # int/float renderings differ by library
            return _literal(canonical_double(item), datatype or XSD_DOUBLE)
        raise _NotSure(f"unsupported value {type(item).__name__}")

    def value_object(self, item: dict[str, Any]) -> str:
        if set(item) - {"@value", "@language"} or "@value" not in item:
            raise _NotSure("value object with more than @value/@language")
        text = item["@value"]
        language = item.get("@language")
        if not isinstance(text, str):
            raise _NotSure("non-string value object")
        if language is None:
            return _literal(text, None)
        if not isinstance(language, str) or not _LANG.match(language):
            raise _NotSure("unusual language tag")
        # The reference lower-cases language tags, as jsonld.js does.
        return f'"{_escape(text)}"@{language.lower()}'


def _expand_key(ctx: _Context, key: str) -> str:
    term = ctx.terms.get(key)
    if term is not None:
        return term.iri
    if key in _KEYWORDS:
        return key
    if ":" in key or ctx.vocab is not None:
        return ctx.expand_iri(key, vocab=True)
    raise UndefinedTermError(
        f"property {key!r} is not defined by the document's contexts and would be dropped "
        "from the signed data"
    )


def _serialize(quad: tuple[str, str, str, str]) -> str:
    subject, predicate, obj, graph = quad
    if graph:
        return f"{subject} {predicate} {obj} {graph} .\n"
    return f"{subject} {predicate} {obj} .\n"


def _canonical_nquads(quads: list[tuple[str, str, str, str]]) -> str:
    """RDFC-1.0 for datasets whose blank nodes all have distinct first-degree hashes."""
    # Terms are pre-serialized: IRIs start with "<", literals with '"', blank nodes "_:".
    lines: list[str] = []
    with_blanks: list[tuple[str, str, str, str]] = []
    mentions: dict[str, list[tuple[str, str, str, str]]] = {}
    for quad in dict.fromkeys(quads):  # an RDF dataset is a set
        subject, _, obj, graph = quad
        blanks = {term for term in (subject, obj, graph) if term[:1] == "_"}
        if not blanks:
            lines.append(_serialize(quad))
            continue
        with_blanks.append(quad)
        for blank in blanks:
            mentions.setdefault(blank, []).append(quad)
    by_hash: dict[str, str] = {}
    for blank, blank_quads in mentions.items():
        hashed = sorted(
            _serialize(
                (
                    _first_degree(subject, blank),
                    predicate,
                    _first_degree(obj, blank),
                    _first_degree(graph, blank),
                )
            )
            for subject, predicate, obj, graph in blank_quads
        )
        digest = hashlib.sha256("".join(hashed).encode()).hexdigest()
        if digest in by_hash:
            raise _NotSure("blank nodes share a first-degree hash")
        by_hash[digest] = blank
    labels = {by_hash[digest]: f"_:c14n{n}" for n, digest in enumerate(sorted(by_hash))}
    for subject, predicate, obj, graph in with_blanks:
        lines.append(
            _serialize(
                (
                    labels.get(subject, subject),
                    predicate,
                    labels.get(obj, obj),
                    labels.get(graph, graph),
                )
            )
        )
    lines.sort()
    return "".join(lines)


def _first_degree(term: str, reference: str) -> str:
    if term[:1] != "_":
        return term
    return "_:a" if term == reference else "_:z"


def canonicalize_fast(document: dict[str, Any]) -> str:
    """Canonical N-Quads by the fast path; `FastPathUnsupported` if it is not sure."""
    emitter = _Emitter()
    try:
        if not isinstance(document, dict) or "@context" not in document:
            raise _NotSure("document without @context")
        emitter.node(document, _EMPTY, None, "")
        if emitter.bool_slots & emitter.int01_slots:
            raise _NotSure("booleans next to 0/1 integers")
        return _canonical_nquads(emitter.quads)
    except _NotSure as exc:
        raise FastPathUnsupported(str(exc)) from exc


class FastPathUnsupported(Exception):
    """The fast path cannot vouch for this document (the reference path can)."""


def canonicalize(document: dict[str, Any]) -> str:
    """Canonical N-Quads (RDFC-1.0): the fast path, or the reference when it is not sure."""
    try:
        return canonicalize_fast(document)
    except FastPathUnsupported:
        return canonicalize_reference(document)
