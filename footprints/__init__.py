"""The managed trust-to-CDOP mapping as dated history: changes, checks, previews, the CSV format,
proposing and committing a change. No Flask, no Dash.
"""
