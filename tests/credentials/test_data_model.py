"""What the data model calls invalid is refused, each by the rule it breaks, before signing;
what it allows (VC 1.1, language values, typed evidence and terms of use) passes."""

from __future__ import annotations

import base64
import copy
import hashlib
from collections.abc import Callable
from typing import Any

import pytest

from shared.credentials import (
    MicroCredentialData,
    UndefinedTermError,
    build_microcredential,
    canonicalize,
)
from shared.credentials.data_model import InvalidCredential, check_credential
from shared.credentials.loader import CONTEXTS_DIR, DATA_INTEGRITY_V2, VC_V1, VC_V2
from shared.registry import b58encode

EXAMPLES_V2 = "https://www.w3.org/ns/credentials/examples/v2"


def plain_v2() -> dict[str, Any]:
    return {
        "@context": [VC_V2, EXAMPLES_V2],
        "id": "urn:uuid:0b5e3c9e-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "name": "Example claim"},
    }


def plain_v1() -> dict[str, Any]:
    return {
        "@context": [VC_V1, DATA_INTEGRITY_V2],
        "id": "urn:uuid:0b5e3c9e-0000-4000-8000-000000000002",
        "type": ["VerifiableCredential"],
        "issuer": "did:key:z6MktKwz7Ge1Yxzr4JHavN33wiwa8y81QdcMRLXQsrH9T53b",
        "issuanceDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:learner"},
    }


def _set(key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(credential: dict[str, Any]) -> None:
        credential[key] = value

    return change


def _drop(key: str) -> Callable[[dict[str, Any]], None]:
    return lambda credential: credential.pop(key)


INVALID_V2: dict[str, tuple[Callable[[dict[str, Any]], None], str]] = {
    "no subject": (_drop("credentialSubject"), "credential-subject"),
    "empty subject": (_set("credentialSubject", {}), "credential-subject"),
    "validFrom not a date": (_set("validFrom", "not-a-date"), "validity-period"),
    "validFrom without zone": (_set("validFrom", "2026-01-01T00:00:00"), "validity-period"),
    "validFrom impossible": (_set("validFrom", "2026-02-30T00:00:00Z"), "validity-period"),
    "validUntil before validFrom": (_set("validUntil", "2025-12-31T23:59:59Z"), "validity-period"),
    "1.1 context second": (_set("@context", [VC_V2, VC_V1]), "contexts"),
    "unknown context": (_set("@context", [VC_V2, "https://example.org/ctx"]), "contexts"),
    "context not first": (_set("@context", [EXAMPLES_V2, VC_V2]), "contexts"),
    "no VerifiableCredential type": (_set("type", ["ExampleCredential"]), "types"),
    "id not a URL": (_set("id", "not a url"), "identifiers"),
    "no issuer": (_drop("issuer"), "issuer"),
    "issuer without id": (_set("issuer", {"name": "Nobody"}), "issuer"),
    "language map as name": (
        _set("name", {"en": "Title", "fr": "Titre"}),
        "names-and-descriptions",
    ),
    "bad language tag": (
        _set("description", [{"@value": "x", "@language": "not a tag"}]),
        "names-and-descriptions",
    ),
    "untyped status": (_set("credentialStatus", {"id": "https://x.example/1"}), "status"),
    "untyped evidence": (_set("evidence", [{"id": "https://x.example/e"}]), "evidence"),
    "untyped terms of use": (_set("termsOfUse", {"id": "https://x.example/t"}), "terms-of-use"),
    "schema without id": (_set("credentialSchema", {"type": "JsonSchema"}), "data-schemas"),
    "untyped refresh service": (
        _set("refreshService", {"id": "https://x.example/r"}),
        "refreshing",
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_V2))
def test_an_invalid_vc_2_0_credential_is_refused_by_its_rule(case: str) -> None:
    change, rule = INVALID_V2[case]
    credential = plain_v2()
    change(credential)
    with pytest.raises(InvalidCredential) as refused:
        check_credential(credential)
    assert refused.value.rule == rule
    assert refused.value.url.startswith("https://www.w3.org/TR/vc-data-model-2.0/#")


def test_what_vc_2_0_allows_passes() -> None:
    credential = plain_v2()
    del credential["validFrom"]  # optional in VC 2.0
    credential["name"] = [
        {"@value": "Open science", "@language": "en"},
        {"@value": "Ciencia abierta", "@language": "es", "@direction": "ltr"},
    ]
    credential["description"] = "Sharing research openly."
    credential["evidence"] = [{"id": "https://x.example/e/1", "type": ["Evidence"]}]
    credential["termsOfUse"] = {"type": "TrustFrameworkPolicy"}
    credential["credentialStatus"] = {
        "id": "https://x.example/status/1#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "7",
        "statusListCredential": "https://x.example/status/1",
    }
    assert check_credential(credential) == "2.0"
    canonicalize(credential)  # every term defined


V2_BYTES = (CONTEXTS_DIR / "credentials-v2.jsonld").read_bytes()
V2_SRI = "sha384-" + base64.b64encode(hashlib.sha384(V2_BYTES).digest()).decode()
V2_SHA256 = bytes([0x12, 32]) + hashlib.sha256(V2_BYTES).digest()  # a multihash
V2_MULTIBASE = "u" + base64.urlsafe_b64encode(V2_SHA256).decode().rstrip("=")
OTHER_SRI = "sha384-" + base64.b64encode(hashlib.sha384(b"another document").digest()).decode()


def test_the_vc_2_0_context_is_held_as_its_url_serves_it() -> None:
    # The digest of https://www.w3.org/ns/credentials/v2 since the 2025 Recommendation; a
    # digest a credential states of that URL is checked against these bytes.
    assert hashlib.sha256(V2_BYTES).hexdigest() == (
        "59955ced6697d61e03f2b2556febe5308ab16842846f5b586d7f1f7adec92734"
    )


def test_related_resources_with_their_digests_pass() -> None:
    credential = plain_v2()
    credential["relatedResource"] = [
        {"id": VC_V2, "digestSRI": V2_SRI, "digestMultibase": V2_MULTIBASE},
        # Not held here, so not retrieved: its digest can only be checked for its form.
        {"id": "https://x.example/photo.png", "mediaType": "image/png", "digestSRI": OTHER_SRI},
    ]
    assert check_credential(credential) == "2.0"
    canonicalize(credential)  # relatedResource, digestSRI, mediaType are VC 2.0 terms
    credential["relatedResource"] = {"id": VC_V2, "digestMultibase": "z" + b58encode(V2_SHA256)}
    assert check_credential(credential) == "2.0"


RELATED_INVALID: dict[str, tuple[Any, str]] = {
    "a list of strings": ([VC_V2], "one or more objects"),
    "no id": ([{"digestSRI": V2_SRI}], "has an id"),
    "the same id twice": (
        [{"id": VC_V2, "digestSRI": V2_SRI}, {"id": VC_V2, "digestMultibase": V2_MULTIBASE}],
        "listed twice",
    ),
    # The form of every entry is checked before any digest is compared.
    "the same id twice, the first digest wrong": (
        [{"id": VC_V2, "digestSRI": OTHER_SRI}, {"id": VC_V2, "digestSRI": OTHER_SRI}],
        "listed twice",
    ),
    "no digest": ([{"id": VC_V2}], "no digestSRI or digestMultibase"),
    "SRI in base64url": (
        [{"id": VC_V2, "digestSRI": V2_SRI.replace("+", "-").replace("/", "_") + "-_"}],
        "digestSRI",
    ),
    "SRI of an unknown algorithm": ([{"id": VC_V2, "digestSRI": "md5-AAAA"}], "digestSRI"),
    "multibase without a multihash header": (
        [{"id": VC_V2, "digestMultibase": "u" + V2_MULTIBASE[3:]}],
        "digestMultibase",
    ),
    "SRI not matching the held context": (
        [{"id": VC_V2, "digestSRI": OTHER_SRI}],
        "sha384 digest does not match",
    ),
    # The W3C data-model suite's fixture: a digest of the context's 2024-07 revision.
    "SRI of a revision the URL no longer serves": (
        [
            {
                "id": VC_V2,
                "digestSRI": "sha384-"
                "NSOcNpmdIVUxIJGvGUoe22FjTWrXiaXlsZ8q6912LdnR3KraQO2n75Ica4wK4Qeg",
            }
        ],
        "sha384 digest does not match",
    ),
    "multihash not matching the held context": (
        [{"id": VC_V2, "digestMultibase": "z" + b58encode(V2_SHA256[:-1] + b"\0")}],
        "sha256 digest does not match",
    ),
}


@pytest.mark.parametrize("case", sorted(RELATED_INVALID))
def test_a_related_resource_without_its_integrity_is_refused(case: str) -> None:
    value, reason = RELATED_INVALID[case]
    credential = plain_v2()
    credential["relatedResource"] = value
    with pytest.raises(InvalidCredential) as refused:
        check_credential(credential)
    assert refused.value.rule == "integrity-of-related-resources"
    assert reason in refused.value.message


def test_vc_1_1_has_its_own_rules() -> None:
    assert check_credential(plain_v1()) == "1.1"
    canonicalize(plain_v1())
    for change, rule in [
        (_drop("issuanceDate"), "issuance-date"),
        (_set("issuanceDate", "yesterday"), "issuance-date"),
        (_set("expirationDate", "2025-01-01T00:00:00Z"), "expiration"),
        (_set("credentialStatus", {"type": "StatusList2021Entry"}), "status"),  # needs an id
    ]:
        credential = plain_v1()
        change(credential)
        with pytest.raises(InvalidCredential) as refused:
            check_credential(credential)
        assert refused.value.rule == rule
        assert "vc-data-model-1.1" in refused.value.url


@pytest.mark.parametrize(
    ("change", "term"),
    [
        (_set("type", ["VerifiableCredential", "NoContextDefinesThis"]), "NoContextDefinesThis"),
        (_set("undefinedClaim", 1), "undefinedClaim"),
        (_set("issuanceDate", "2026-01-01T00:00:00Z"), "issuanceDate"),  # a 1.1 term in 2.0
        (_set("credentialSubject", {"id": "relative/id"}), "relative/id"),
    ],
)
def test_json_ld_safe_mode_refuses_what_expansion_would_drop(
    change: Callable[[dict[str, Any]], None], term: str
) -> None:
    credential = plain_v2()
    credential["@context"] = [VC_V2]  # no @vocab of the examples context to catch terms
    change(credential)
    with pytest.raises(UndefinedTermError, match=term):
        canonicalize(credential)


def test_open_badges_follow_1edtech_schema(data: MicroCredentialData) -> None:
    badge = build_microcredential(data)
    assert check_credential(badge) == "2.0"
    for path, value in [
        (("credentialSubject", "achievement", "criteria"), None),
        (("credentialSubject", "achievement", "name"), None),
        (("validFrom",), None),
        (("credentialSubject", "achievement", "type"), ["Badge"]),
    ]:
        broken = copy.deepcopy(badge)
        node = broken
        for key in path[:-1]:
            node = node[key]
        if value is None:
            del node[path[-1]]
        else:
            node[path[-1]] = value
        with pytest.raises(InvalidCredential) as refused:
            check_credential(broken)
        assert refused.value.rule == "open-badges-schema", path
        assert refused.value.url.startswith("https://purl.imsglobal.org/spec/ob/v3p0/schema/")
