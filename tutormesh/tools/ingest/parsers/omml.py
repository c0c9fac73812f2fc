"""Office Math (OMML, in PPTX and DOCX) as linear text: fractions, scripts and roots kept readable."""

from __future__ import annotations

from lxml import etree

M_NS = "http://schemas.openxmlformats.org/officeDocument/2006/math"
_M = "{" + M_NS + "}"


def math_elements(root: etree._Element) -> list[etree._Element]:
    """Return the outermost <m:oMath> elements under root, in document order."""
    return [el for el in root.iter(_M + "oMath") if not _has_math_ancestor(el)]


def linear(el: etree._Element) -> str:
    """Return an OMML element as linear text: ``(a)/(b)``, ``x^2``, ``R_1``, ``sqrt(x)``."""
    tag = etree.QName(el).localname if isinstance(el.tag, str) else ""
    kids = [k for k in el if isinstance(k.tag, str) and not etree.QName(k).localname.endswith("Pr")]
    if tag == "t":
        return el.text or ""
    if tag == "f":
        return f"({_part(el, 'num')})/({_part(el, 'den')})"
    if tag == "sSup":
        return f"{_part(el, 'e')}^{_wrap(_part(el, 'sup'))}"
    if tag == "sSub":
        return f"{_part(el, 'e')}_{_wrap(_part(el, 'sub'))}"
    if tag == "sSubSup":
        return f"{_part(el, 'e')}_{_wrap(_part(el, 'sub'))}^{_wrap(_part(el, 'sup'))}"
    if tag == "rad":
        degree = _part(el, "deg")
        return f"root({degree}, {_part(el, 'e')})" if degree else f"sqrt({_part(el, 'e')})"
    if tag == "d":
        return "(" + ", ".join(linear(k) for k in kids) + ")"
    return "".join(linear(k) for k in kids)


def _part(el: etree._Element, name: str) -> str:
    child = el.find(_M + name)
    return "" if child is None else linear(child)


def _wrap(text: str) -> str:
    return text if len(text) <= 1 or text.isalnum() else f"({text})"


def _has_math_ancestor(el: etree._Element) -> bool:
    parent = el.getparent()
    while parent is not None:
        if parent.tag == _M + "oMath":
            return True
        parent = parent.getparent()
    return False
