"""The text a person sees in a profile written in HTML (Mastodon's ``note`` and fields).

Parsed with the standard library's HTML parser, keeping only character data: a code in
a comment, an attribute or a script is not something the account shows, so it proves
nothing.
"""

from html.parser import HTMLParser

HIDDEN = {"script", "style", "template"}


class _Text(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in HIDDEN:
            self.hidden += 1
        elif tag in ("br", "p"):
            self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag in HIDDEN and self.hidden:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible_text(html: str) -> str:
    """The visible text of an HTML fragment."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)
