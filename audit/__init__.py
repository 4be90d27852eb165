"""The oversight report for auditors and staff representatives (French HTML, from the records store).

The figures are computed in :mod:`records.oversight`; this package only presents them:
:func:`audit.report.oversight_html` (``jalon oversight --since DATE --out FILE.html``).
"""

from audit.report import oversight_html, write_oversight_report

__all__ = ["oversight_html", "write_oversight_report"]
