"""The command line's commands, one module per group; ``app.py`` assembles them.

They sit above every other package because most of them join several
concerns: a load writes the deaths store (ingest), checks the extract's
reviewers against the managed mapping (footprints) and is audited
(operational); adding a user checks their CDOPs against the mapping. Each
command parses, calls into the packages and reports; it holds no rule.
"""
