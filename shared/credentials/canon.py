"""Fast JSON-LD to canonical N-Quads (RDFC-1.0) for the credential shapes we issue.

Naive JSON-LD processing re-resolves the contexts and runs the general expansion,
flattening and canonicalization algorithms for every credential: several ms each. Our
credentials always name the same few contexts and are trees with few blank nodes, so:

* contexts are compiled once into term tables (`_Context`), and every context derived from
  them (type-scoped, property-scoped, embedded) is memoised, so JSON-LD context processing
  runs once per process, not once per credential;
* the document is walked once, emitting quads directly (no expanded form, no node map);
* blank nodes are labelled by RDFC-1.0 itself: first-degree hashes, and the n-degree hashes
  where those are shared (a stacked credential repeats its components' achievements and
  issuers' addresses, identical blank nodes included), up to a bound on permutations.

Anything outside the subset handled here raises `_NotSure` and `canonicalize` falls back
to the reference (pyld) path, so the result is always the reference's bytes. A key that
maps to no IRI raises `UndefinedTermError` instead: JSON-LD would silently drop it,
leaving a claim outside the signature; the reference path refuses it too (safe mode).
"""

from __future__ import annotations

import hashlib
import itertools
import re
from dataclasses import dataclass
from typing import Any

from shared.credentials.loader import UnknownContext, load_context
from shared.credentials.reference import UndefinedTermError, canonicalize_reference

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


Quad = tuple[str, str, str, str]

# Permutations tried by the n-degree hashing before the reference path takes over; the
# shapes we issue need a handful, a crafted graph could need factorially many.
_MAX_PERMUTATIONS = 4096


def _canonical_nquads(quads: list[Quad]) -> str:
    """RDFC-1.0 over pre-serialized terms: IRIs start with "<", literals with '"', blank
    nodes "_:"."""
    lines: list[str] = []
    with_blanks: list[Quad] = []
    mentions: dict[str, list[Quad]] = {}
    for quad in dict.fromkeys(quads):  # an RDF dataset is a set
        subject, _, obj, graph = quad
        blanks = {term for term in (subject, obj, graph) if term[:1] == "_"}
        if not blanks:
            lines.append(_serialize(quad))
            continue
        with_blanks.append(quad)
        for blank in blanks:
            mentions.setdefault(blank, []).append(quad)
    labels = _Labelling(mentions).canonical_labels()
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


class _Issuer:
    """An RDFC-1.0 identifier issuer: labels in the order they were first asked for."""

    def __init__(self, prefix: str, issued: dict[str, str] | None = None) -> None:
        self.prefix = prefix
        self.issued: dict[str, str] = dict(issued or {})

    def issue(self, blank: str) -> str:
        label = self.issued.get(blank)
        if label is None:
            label = self.issued[blank] = f"{self.prefix}{len(self.issued)}"
        return label

    def copy(self) -> _Issuer:
        return _Issuer(self.prefix, self.issued)


class _Labelling:
    """Issues the canonical labels (RDFC-1.0, section 4.4): first-degree hashes, and the
    n-degree hashes for blank nodes whose first-degree hashes are shared."""

    def __init__(self, mentions: dict[str, list[Quad]]) -> None:
        self._mentions = mentions
        self._first = {blank: self._first_degree_hash(blank) for blank in mentions}
        self._canonical = _Issuer("_:c14n")
        self._permutations = 0

    def canonical_labels(self) -> dict[str, str]:
        by_hash: dict[str, list[str]] = {}
        for blank, digest in self._first.items():
            by_hash.setdefault(digest, []).append(blank)
        shared: list[list[str]] = []
        for digest in sorted(by_hash):
            blanks = by_hash[digest]
            if len(blanks) == 1:
                self._canonical.issue(blanks[0])
            else:
                shared.append(blanks)
        for blanks in shared:
            paths: list[tuple[str, _Issuer]] = []
            for blank in blanks:
                if blank in self._canonical.issued:
                    continue
                temporary = _Issuer("_:b")
                temporary.issue(blank)
                paths.append(self._n_degree_hash(blank, temporary))
            for _, issuer in sorted(paths, key=lambda path: path[0]):
                for blank in issuer.issued:
                    self._canonical.issue(blank)
        return self._canonical.issued

    def _first_degree_hash(self, blank: str) -> str:
        hashed = sorted(
            _serialize(
                (
                    _first_degree(subject, blank),
                    predicate,
                    _first_degree(obj, blank),
                    _first_degree(graph, blank),
                )
            )
            for subject, predicate, obj, graph in self._mentions[blank]
        )
        return hashlib.sha256("".join(hashed).encode()).hexdigest()

    def _related_hash(self, related: str, predicate: str, position: str, issuer: _Issuer) -> str:
        label = (
            self._canonical.issued.get(related)
            or issuer.issued.get(related)
            or self._first[related]
        )
        text = position + (predicate if position != "g" else "") + label
        return hashlib.sha256(text.encode()).hexdigest()

    def _n_degree_hash(self, blank: str, issuer: _Issuer) -> tuple[str, _Issuer]:
        related_by_hash: dict[str, list[str]] = {}
        for subject, predicate, obj, graph in self._mentions[blank]:
            for term, position in ((subject, "s"), (obj, "o"), (graph, "g")):
                if term[:1] == "_" and term != blank:
                    digest = self._related_hash(term, predicate, position, issuer)
                    related_by_hash.setdefault(digest, []).append(term)
        data = ""
        for digest in sorted(related_by_hash):
            data += digest
            chosen_path = ""
            chosen_issuer: _Issuer | None = None
            for permutation in itertools.permutations(related_by_hash[digest]):
                self._permutations += 1
                if self._permutations > _MAX_PERMUTATIONS:
                    raise _NotSure("too many blank node permutations")
                candidate = issuer.copy()
                path = ""
                recurse: list[str] = []
                for related in permutation:
                    if related in self._canonical.issued:
                        path += self._canonical.issued[related]
                    else:
                        if related not in candidate.issued:
                            recurse.append(related)
                        path += candidate.issue(related)
                    if _longer(path, chosen_path):
                        break
                else:
                    for related in recurse:
                        result, candidate = self._n_degree_hash(related, candidate)
                        path += candidate.issue(related) + f"<{result}>"
                        if _longer(path, chosen_path):
                            break
                    else:
                        if not chosen_path or path < chosen_path:
                            chosen_path, chosen_issuer = path, candidate
            data += chosen_path
            if chosen_issuer is not None:
                issuer = chosen_issuer
        return hashlib.sha256(data.encode()).hexdigest(), issuer


def _longer(path: str, chosen: str) -> bool:
    """Whether `path` can no longer beat the chosen path (RDFC-1.0 skips it)."""
    return bool(chosen) and len(path) >= len(chosen) and path > chosen


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
