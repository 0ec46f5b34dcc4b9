"""The API's JSON reader: DRF's, with nesting bounded so no body can exhaust the stack (a 400, not a 500)."""

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from governance.limits import MAX_JSON_DEPTH


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.") from None
        if _depth_over(data, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        return data


def _depth_over(data, limit: int) -> bool:
    """Whether lists and objects nest deeper than `limit` (iterative, so the check itself never recurses)."""
    pending = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
