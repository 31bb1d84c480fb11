"""Reading rendered console pages in tests: a tiny DOM over the standard library's parser."""

from __future__ import annotations

from dataclasses import dataclass, field
from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


@dataclass
class Element:
    """One element: tag, attributes, children and text."""

    tag: str
    attrs: dict[str, str]
    parent: Element | None = None
    children: list[Element | str] = field(default_factory=list)

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        """All the text inside, whitespace collapsed."""
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text())
        return " ".join(" ".join(parts).split())

    def iter(self):  # type: ignore[no-untyped-def]
        """This element and every element below it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None,
                 **attrs: str) -> list[Element]:
        return [
            e for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.classes)
            and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.iter() if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs},
                          parent=self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: (v if v is not None else "") for k, v in attrs},
                          parent=self.current)
        self.current.children.append(element)

    def handle_endtag(self, tag: str) -> None:
        node: Element | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Element:
    """The page as a tree of Elements."""
    builder = _Builder()
    builder.feed(html)
    builder.close()
    return builder.root


def errors_beside(html: str, field_id: str) -> list[str]:
    """The error messages drawn in the same form group as the input with this id."""
    page = parse(html)
    element = page.by_id(field_id)
    group = element.parent
    # Radio and checkbox groups put each input in its own div: climb to the fieldset.
    while group is not None and not (
        group.tag == "fieldset" or "mb-3" in group.classes or "form-check" in group.classes
    ):
        group = group.parent
    if group is not None and "form-check-inline" in group.classes:
        while group is not None and group.tag != "fieldset":
            group = group.parent
    assert group is not None, f"no form group around {field_id!r}"
    return [e.text() for e in group.find_all(cls="invalid-feedback")]


def all_errors(html: str) -> list[str]:
    """Every field error on the page."""
    return [e.text() for e in parse(html).find_all(cls="invalid-feedback")]


def value_of(html: str, field_id: str) -> str:
    """What an input or textarea holds as rendered."""
    element = parse(html).by_id(field_id)
    if element.tag == "textarea":
        text = "".join(c for c in element.children if isinstance(c, str))
        # WTForms writes a line break after <textarea>, which browsers drop.
        return text.removeprefix("\r\n") if text.startswith("\r\n") else text.removeprefix("\n")
    if element.tag == "select":
        chosen = [o for o in element.find_all("option") if "selected" in o.attrs]
        return chosen[0].attrs.get("value", "") if chosen else ""
    return element.attrs.get("value", "")


def is_checked(html: str, field_id: str) -> bool:
    return "checked" in parse(html).by_id(field_id).attrs
