#!/usr/bin/env bash
# Idempotent bootstrap of everything the project needs on a machine without Docker:
# Debian packages (only those missing), the Python venv, the Kafka broker's classpath and
# the trace backend (Jaeger, built from the Go module proxy).
# A second run does no network work: every step is guarded by a check or a stamp file.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

CACHE="$ROOT/.cache"
STAMPS="$CACHE/stamps"
VENV="$ROOT/.venv"
LOCK_FILE="$ROOT/requirements.lock"
KAFKA_POM="$ROOT/infra/kafka/pom.xml"
KAFKA_LIB="$CACHE/kafka/lib"
M2_REPO="$CACHE/m2"
JAEGER_MODULE="$ROOT/infra/jaeger"
JAEGER_BIN="$CACHE/jaeger/jaeger"
PYTHON="${PYTHON:-python3}"

# One set-up at a time per clone: `make run`, `make test` and `make bench` started together
# (two terminals) each run it; the later ones wait, then find everything up to date.
mkdir -p "$CACHE"
exec 8>"$CACHE/setup.lock"
if ! flock -n 8; then
    printf '==> setup: another set-up of this clone is running; waiting for it\n'
    flock 8
fi

say() { printf '==> %s\n' "$*"; }
die() { printf 'setup: ERROR: %s\n' "$*" >&2; exit 1; }

digest() { sha256sum "$1" | cut -d' ' -f1; }

stamp_matches() { # stamp_matches NAME DIGEST
    [[ -f "$STAMPS/$1" && "$(cat "$STAMPS/$1")" == "$2" ]]
}

write_stamp() { # write_stamp NAME DIGEST
    mkdir -p "$STAMPS"
    printf '%s\n' "$2" >"$STAMPS/$1"
}

# --- Debian packages --------------------------------------------------------------------
# Each entry: "package|check command"; the check runs first so apt is skipped when possible.
missing_packages() {
    local entry pkg check
    for entry in \
        "postgresql|compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null" \
        "kcat|command -v kcat >/dev/null" \
        "docker-compose|command -v docker-compose >/dev/null" \
        "openjdk-17-jre-headless|command -v java >/dev/null" \
        "maven|command -v mvn >/dev/null" \
        "golang-go|command -v go >/dev/null" \
        "chromium|command -v chromium >/dev/null" \
        "gcc|command -v gcc >/dev/null" \
        "python3-dev|$PYTHON -c 'import sysconfig, os, sys; sys.exit(not os.path.isfile(sysconfig.get_paths()[\"include\"] + \"/Python.h\"))'" \
        "python3-venv|$PYTHON -c 'import ensurepip' >/dev/null 2>&1"; do
        pkg="${entry%%|*}"
        check="${entry#*|}"
        if ! eval "$check"; then
            printf '%s\n' "$pkg"
        fi
    done
}

install_packages() {
    local -a missing
    mapfile -t missing < <(missing_packages)
    if ((${#missing[@]} == 0)); then
        say "Debian packages: all present"
        return
    fi
    if [[ "$(id -u)" != 0 ]]; then
        die "missing Debian packages: ${missing[*]}
  install them as root:  sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    fi
    say "Debian packages: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
}

# --- Python venv ------------------------------------------------------------------------
setup_venv() {
    local want
    want="$(digest "$LOCK_FILE")"
    # A venv copied from elsewhere or built by another Python has a broken interpreter link.
    if [[ -d "$VENV" ]] && ! "$VENV/bin/python" -c 'import sys' >/dev/null 2>&1; then
        say "venv: $VENV is broken, recreating it"
        rm -rf "$VENV"
        rm -f "$STAMPS/venv"
    fi
    if [[ -x "$VENV/bin/python" ]] && stamp_matches venv "$want"; then
        say "venv: up to date with requirements.lock"
        return
    fi
    if [[ ! -x "$VENV/bin/python" ]]; then
        say "venv: creating $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    say "venv: installing requirements.lock"
    "$VENV/bin/pip" install --disable-pip-version-check --no-input -q -r "$LOCK_FILE"
    write_stamp venv "$want"
}

# --- Kafka classpath --------------------------------------------------------------------
setup_kafka() {
    local want tmp
    want="$(digest "$KAFKA_POM")"
    if compgen -G "$KAFKA_LIB/kafka_*.jar" >/dev/null && stamp_matches kafka "$want"; then
        say "kafka: classpath up to date in ${KAFKA_LIB#"$ROOT"/}"
        return
    fi
    say "kafka: resolving broker from ${KAFKA_POM#"$ROOT"/} into ${KAFKA_LIB#"$ROOT"/}"
    mkdir -p "$CACHE/kafka"
    # Resolve into a scratch folder, then swap it in, so an interrupted run leaves no
    # half-filled classpath behind that the stamp would later vouch for.
    tmp="$(mktemp -d "$CACHE/kafka/lib.XXXXXX")"
    # Maven's output goes to a log (Debian's Maven 3.8 litters a quiet run with colour codes).
    if ! mvn -B -Dstyle.color=never -f "$KAFKA_POM" -Dmaven.repo.local="$M2_REPO" \
        dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$tmp" \
        </dev/null >"$CACHE/kafka/mvn.log" 2>&1; then
        rm -rf "$tmp"
        tail -n 40 "$CACHE/kafka/mvn.log" >&2
        die "Maven could not resolve Kafka (full log: ${CACHE#"$ROOT"/}/kafka/mvn.log)"
    fi
    rm -rf "$KAFKA_LIB"
    mv "$tmp" "$KAFKA_LIB"
    write_stamp kafka "$want"
}

# --- Jaeger (trace backend) -------------------------------------------------------------
setup_jaeger() {
    local want started
    want="$(cat "$JAEGER_MODULE/go.mod" "$JAEGER_MODULE/go.sum" | sha256sum | cut -d' ' -f1)"
    if [[ -x "$JAEGER_BIN" ]] && stamp_matches jaeger "$want"; then
        say "jaeger: up to date in ${JAEGER_BIN#"$ROOT"/}"
        return
    fi
    say "jaeger: building from the Go module proxy into ${JAEGER_BIN#"$ROOT"/} (first time: minutes)"
    mkdir -p "$CACHE/jaeger"
    started=$SECONDS
    # Modules are cached under .cache/go, so a rebuild is offline. The committed go.sum pins
    # every module's hash and go checks each download against it; the checksum database is
    # not reachable through the module proxy here, hence GOSUMDB=off.
    if ! (cd "$JAEGER_MODULE" && GOPATH="$CACHE/go" GOMODCACHE="$CACHE/go/mod" \
        GOFLAGS="-mod=readonly -modcacherw" GOSUMDB=off \
        go build -trimpath -o "$JAEGER_BIN.$$" github.com/jaegertracing/jaeger/cmd/jaeger) \
        >"$CACHE/jaeger/build.log" 2>&1; then
        tail -n 40 "$CACHE/jaeger/build.log" >&2
        die "could not build Jaeger (full log: ${CACHE#"$ROOT"/}/jaeger/build.log)"
    fi
    mv "$JAEGER_BIN.$$" "$JAEGER_BIN"
    write_stamp jaeger "$want"
    say "jaeger: built in $((SECONDS - started)) s"
}

install_packages
setup_venv
setup_kafka
setup_jaeger
# The credential canonicalizer, compiled with mypyc when its source changed (infra/compiled.py).
"$VENV/bin/python" -m infra.compiled | sed 's/^/==> /'
# docker-compose.yml's broker credentials and certificates, made here, never committed (the
# local profiles make their own at their broker's first start).
"$VENV/bin/python" -m infra.local compose-secrets >/dev/null
say "setup: done"
