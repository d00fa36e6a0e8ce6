"""Great Expectations Data Docs that work offline, say what a warning is, and keep no child's values.

GX 1.24 writes Data Docs pages that load Bootstrap, jQuery, Popper, bootstrap-table,
bootstrap-datepicker, Font Awesome and Vega from eight public CDNs, and its logo from S3: on a
council network with no internet the pages are blank. The same files are npm packages:
``expectations/data_docs_assets/package.json`` (with its package-lock.json) names them,
``make install`` installs them (``npm ci``) into ``expectations/data_docs_assets/node_modules``,
and after each build ``make_offline`` copies the ones the pages use into the site
(``static/vendor/``) and points every page at them. Nothing is fetched from the network.

Two more things the pages got wrong:

* A suite whose only failures are *warnings* (published, flagged) showed as "Failed", like a
  night that was held back. ``mark_warnings`` shows it as "Passed with warnings".
* GX keeps up to five unexpected values per failed check in the stored validation results
  (``gx/uncommitted/validations``) and shows them in Data Docs: a child's id, a date of birth.
  ``withhold_values`` removes them before the results are stored, keeping the row numbers in
  the delivered file (raw) and code-list values (a code is not a child's data), which is what
  the dq schema keeps too (expectations/validate.py).
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path
from typing import Any, Iterable

from warehouse.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

ASSETS = PROJECT_ROOT / "expectations" / "data_docs_assets" / "node_modules"
VENDOR = Path("static") / "vendor"  # inside the site
# Each URL the GX 1.24 templates load, and the same file in its npm package. (The templates pair
# Bootstrap 4.3.1 with Popper 1.12.9, which Bootstrap's own package refuses: 1.16.1, the last 1.x,
# is served; and one stylesheet is named at bootstrap-table 1.19.0, the rest at 1.19.1: 1.19.1.)
CDN_FILES = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap/dist/js/bootstrap.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table/dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker/dist/css/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker/dist/js/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "@forevolve/bootstrap-dark/dist/css/bootstrap-prefers-dark.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "@fortawesome/fontawesome-free/css/all.min.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js/dist/umd/popper.min.js",
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/build/vega-embed.min.js",
}
# Folders a served file refers to by a relative path (Font Awesome's stylesheet: ../webfonts/).
CDN_FOLDERS = ("@fortawesome/fontawesome-free/webfonts",)
GX_IMAGES = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+)(\?[^\"')\s]*)?")
# Subresource integrity and CORS mode were for the CDN copies; a page opened from the file system
# has no origin, and Chromium refuses a crossorigin script from file://.
CDN_ATTRIBUTES = re.compile(r'\s+(integrity="[^"]*"|crossorigin="[^"]*")')


class DataDocsAssetsMissing(RuntimeError):
    pass


def make_offline(site: Path, pages: Iterable[Path]) -> None:
    """Serve the CDN files from ``site/static/vendor`` and point ``pages`` (HTML files of the site) at them."""
    site = Path(site)
    _copy_assets(site)
    for page in pages:
        text = page.read_text(encoding="utf-8")
        changed = offline_html(text, page, site)
        if changed != text:
            page.write_text(changed, encoding="utf-8")


def offline_html(text: str, page: Path, site: Path) -> str:
    """The page with every CDN and S3 address replaced by the site's own copy (a relative path)."""
    up = Path(os.path.relpath(site, page.parent))
    for url, file in CDN_FILES.items():
        text = text.replace(f'"{url}"', f'"{(up / VENDOR / file).as_posix()}"')
    text = CDN_ATTRIBUTES.sub("", text)

    def image(match: re.Match) -> str:
        local = Path("static") / "images" / match.group(1)
        # An image GX does not ship (the call-to-action footer's logo): nothing, rather than a request.
        return (up / local).as_posix() if (site / local).exists() else "data:,"

    return GX_IMAGES.sub(image, text)


def _copy_assets(site: Path) -> None:
    if not ASSETS.is_dir():
        raise DataDocsAssetsMissing(
            f"The Data Docs' styles and scripts are not installed ({ASSETS} is missing): run `make install` "
            "(it runs `npm ci` in expectations/data_docs_assets). Without them the pages are blank offline.")
    vendor = site / VENDOR
    for file in CDN_FILES.values():
        source, target = ASSETS / file, vendor / file
        if not target.exists() or target.stat().st_size != source.stat().st_size:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
    for folder in CDN_FOLDERS:
        shutil.copytree(ASSETS / folder, vendor / folder, dirs_exist_ok=True)


# --- what the pages say --------------------------------------------------------------------------

FAILED_STATUS = '<i class="fas fa-times text-danger" aria-hidden="true"></i> Failed'
WARNING_STATUS = ('<i class="fas fa-exclamation-triangle text-warning" aria-hidden="true"></i> '
                  'Passed with warnings (no critical expectation failed: published, flagged)')
FAILED_ICON = '<i class="fas fa-times text-danger ge-failed-icon" ></i>'
WARNING_ICON = '<i class="fas fa-exclamation-triangle text-warning" title="Passed with warnings" ></i>'


def only_warnings_failed(validation_result: Any) -> bool:
    """True when some expectation failed and every failed one has severity warning."""
    failed = [r for r in validation_result.results if not r.success]
    return bool(failed) and all(_severity(r.expectation_config) == "warning" for r in failed)


def mark_warnings(site: Path, warning_pages: Iterable[Path]) -> None:
    """Show the validation pages of suites that failed only warnings, and their rows in the index,
    as "passed with warnings" rather than "Failed"."""
    relative = []
    for page in warning_pages:
        if page.exists():
            page.write_text(page.read_text(encoding="utf-8").replace(FAILED_STATUS, WARNING_STATUS), encoding="utf-8")
            relative.append(page.relative_to(site).as_posix())
    index = site / "index.html"
    if not relative or not index.exists():
        return
    text = index.read_text(encoding="utf-8")
    rows = text.split("{'validation_success': ")
    for i, row in enumerate(rows[1:], start=1):
        if any(path in row for path in relative):
            rows[i] = row.replace(FAILED_ICON, WARNING_ICON, 1).replace(
                "'_validation_success_text': 'Failed'", "'_validation_success_text': 'Passed with warnings'", 1)
    index.write_text("{'validation_success': ".join(rows), encoding="utf-8")


# --- no child's values in the stored results -----------------------------------------------------

VALUE_KEYS = ("partial_unexpected_list", "partial_unexpected_counts", "unexpected_list")
INDEX_KEYS = ("partial_unexpected_index_list", "unexpected_index_list")
ROW_NUMBER = "_row_number"
CODE_LIST_CHECKS = ("expect_column_values_to_be_in_set",)  # values are codes, not a child's data


def withhold_values(validation_result: Any) -> Any:
    """Take out of a suite's result every unexpected value that could identify a child (in place).

    Kept: the counts, the row numbers in the delivered file (``_row_number``), and the values of
    code-list checks."""
    for result in validation_result.results:
        details = result.result
        if not details or result.expectation_config.type in CODE_LIST_CHECKS:
            continue
        for key in VALUE_KEYS:
            if key in details:
                details[key] = []
        for key in INDEX_KEYS:
            if isinstance(details.get(key), list):
                details[key] = [{ROW_NUMBER: row[ROW_NUMBER]} for row in details[key]
                                if isinstance(row, dict) and ROW_NUMBER in row]
    return validation_result


def _severity(config: Any) -> str:
    return str(getattr(config.severity, "value", config.severity) or "critical")
