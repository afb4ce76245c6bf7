"""`make bench`: simulated learners through the whole alliance on its own local stack.

`python -m bench --help` lists the parameters; the figures go to the terminal and to
`bench-results/` (JSON, Markdown, PNG charts).
"""
