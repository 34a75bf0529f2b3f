"""The panel pack: a report page's tables (or every report page's) in one Excel workbook.

``spec`` says what a page's table is (each view module lists its own as ``PACK``), ``tables``
counts them with the CSV downloads' own functions and suppression, ``workbook`` writes them with
xlsxwriter, and ``route`` serves ``GET /download/pack.xlsx``.
"""
