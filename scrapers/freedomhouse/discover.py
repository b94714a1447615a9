"""FH's Freedom in the World data page -> the workbook links on it (names are unreliable; the sheets decide)."""

from __future__ import annotations

import re
from urllib.parse import unquote, urljoin

from bs4 import BeautifulSoup


def workbook_links(html: bytes | str, page_url: str) -> list[str]:
    soup = BeautifulSoup(html, "html.parser")
    links = []
    for a in soup.find_all("a", href=True):
        href = str(a["href"]).strip()
        if re.search(r"\.xlsx?$", unquote(href).strip(), re.I):
            url = urljoin(page_url, href)
            if url not in links:
                links.append(url)
    return links
