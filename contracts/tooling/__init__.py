"""Generates and checks the contract files beside it; no running service imports this.

    python -m contracts.tooling export   # (re)write schemas/*.schema.json and asyncapi.yaml
    python -m contracts.tooling publish  # record digests of schema files not yet published
    python -m contracts.tooling check    # exit 1 if files drifted from the models or changed

The schema files, not the Python models, are the authority at run time: `shared.contracts`
validates an incoming payload against the file, so a partner's producer and ours are judged
alike.
"""
