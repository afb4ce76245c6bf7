"""`python -m contracts.tooling {export|publish|check}`: see the package's docstring."""

from __future__ import annotations

import sys

from contracts.tooling.files import check, export, publish
from shared.events.spec import CONTRACTS_DIR


def main(argv: list[str]) -> int:
    commands = ("export", "publish", "check")
    if len(argv) != 1 or argv[0] not in commands:
        print(f"usage: python -m contracts.tooling {{{'|'.join(commands)}}}", file=sys.stderr)
        return 2
    if argv[0] == "export":
        for path in export():
            print(f"wrote {path.relative_to(CONTRACTS_DIR.parent)}")
    elif argv[0] == "publish":
        for name in publish():
            print(f"published {name}")
    else:
        problems = check()
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
