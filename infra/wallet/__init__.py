"""Independent wallets, for `make demo` and `tests/wallet`: clients from the npm registry,
pinned by `package-lock.json`, each taking an offered credential for an Ed25519 `did:key`
holder: Animo's OpenID4VCI 1.0 client (`@openid4vc/openid4vci`, `redeem.mjs`), Sphereon's
draft-15 client (`@sphereon/oid4vci-client`, `redeem-sphereon.mjs`), and a VC API exchange
as DCC's Learner Credential Wallet runs it, on its libraries (`lcw-exchange.mjs`).

    node infra/wallet/redeem.mjs OFFER_LINK TX_CODE [--holder-seed HEX32]
    node infra/wallet/redeem-sphereon.mjs OFFER_LINK TX_CODE [--holder-seed HEX32]
    node infra/wallet/lcw-exchange.mjs INTERACTION_URL [--holder-seed HEX32] [--vc-version 1|2]
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
INSTALL_TIMEOUT_S = 300
NODE_TIMEOUT_S = 60
ANIMO = "redeem.mjs"
SPHEREON = "redeem-sphereon.mjs"
LCW = "lcw-exchange.mjs"
# A package of each client: `npm ci` installs them all, and runs again when one is missing.
_INSTALLED = ("@openid4vc/openid4vci", "@sphereon/oid4vci-client", "@digitalcredentials/vc")


class WalletError(Exception):
    """The wallet client cannot be installed or run; the message says why."""


def command(client: str = ANIMO) -> list[str]:
    """The command that runs the wallet `client` (`ANIMO`, `SPHEREON` or `LCW`), the pinned
    packages installed (`npm ci` from the registry) when missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise WalletError("node and npm are needed for the wallet client (Node.js >= 20)")
    if not all((HERE / "node_modules" / package).is_dir() for package in _INSTALLED):
        install = [npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund"]
        try:
            done = subprocess.run(
                install, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise WalletError(f"`npm ci --prefix {HERE}` took over {INSTALL_TIMEOUT_S} s") from exc
        if done.returncode != 0:
            raise WalletError(
                f"`npm ci --prefix {HERE}` failed ({done.returncode}): {done.stderr[-2000:]}"
            )
    return [node, str(HERE / client)]


def redeem(
    wallet: list[str], link: str, tx_code: str, holder_seed: bytes | None = None
) -> dict[str, Any]:
    """What an OpenID4VCI wallet printed: `{"holder": DID, "credential": ...}` once it took
    the credential, else `{"error": ..., "detail": ...}` as the issuer refused it. Without a
    seed the holder is a fresh key."""
    return _run([*wallet, link, tx_code, *_seed(holder_seed)])


def exchange(
    wallet: list[str], interaction_url: str, holder_seed: bytes | None = None, vc_version: int = 2
) -> dict[str, Any]:
    """What the Learner Credential Wallet's exchange client (`LCW`) printed, as `redeem`
    says, for the offer behind `interaction_url`; its presentation's base context is VC
    `vc_version` (1.1 for wallets on older libraries, 2.0)."""
    return _run([*wallet, interaction_url, *_seed(holder_seed), "--vc-version", str(vc_version)])


def _seed(holder_seed: bytes | None) -> list[str]:
    return ["--holder-seed", holder_seed.hex()] if holder_seed is not None else []


def _run(arguments: list[str]) -> dict[str, Any]:
    try:
        run = subprocess.run(
            arguments, capture_output=True, text=True, timeout=NODE_TIMEOUT_S, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise WalletError(f"the wallet did not finish in {NODE_TIMEOUT_S} s") from exc
    script = Path(arguments[1]).name
    # Exit 1 is a refusal the wallet reports; anything else is the wallet itself failing.
    if run.returncode not in (0, 1):
        raise WalletError(f"{script} crashed ({run.returncode}): {run.stderr[-2000:]}")
    try:
        result: dict[str, Any] = json.loads(run.stdout)
    except json.JSONDecodeError as exc:
        raise WalletError(f"{script} printed no JSON: {run.stdout[:2000]}") from exc
    if (run.returncode == 0) != ("credential" in result):
        raise WalletError(f"{script} exited {run.returncode} printing {run.stdout[:2000]}")
    return result
