"""The alliance's event contracts (the files here) and, in `contracts.tooling`, the Python
that generates and checks them. The running services only read the schema files."""
