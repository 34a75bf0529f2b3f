"""The scheduled e-mail digest: what is new in a user's footprint, as counts, by mail.

- ``counts``: a user's digest counts, from the What's new page's own scoped queries
- ``message``: the message (plain text and HTML), counts only
- ``mailer``: the mail server (smtplib), refusing TLS off to anything but this machine
- ``links``: the signed, expiring address-verification links, and the public addresses mail points to
- ``run``: ``python app.py digest send``: who is due, claim, count, send, move the mark, audit

No Flask, no Dash: the web app's settings page and the command line both call in here.
"""
