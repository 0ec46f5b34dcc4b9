"""RFC 9651 (Structured Field Values) Dictionary parsing: the syntax of an AI-preferences statement
(draft-ietf-aipref-vocab, "Exemplary Serialization Format"). Only what a Content-Usage value needs:
parse, or fail with a message; values come back as (type, value) pairs."""

import string

LCALPHA = string.ascii_lowercase
KEY_CHARS = LCALPHA + string.digits + "_-.*"
TCHAR = "!#$%&'*+-.^_`|~" + string.digits + string.ascii_letters
TOKEN_CHARS = TCHAR + ":/"
BASE64_CHARS = string.ascii_letters + string.digits + "+/="


class FieldSyntaxError(ValueError):
    """The text is not a structured-field Dictionary; the message says where."""


def dictionary_parse(text: str) -> dict[str, tuple[str, object]]:
    """Parse a Dictionary (RFC 9651 section 4.2.2); a repeated key keeps its last value."""
    if not text.isascii():
        raise FieldSyntaxError("only ASCII characters are allowed")
    source = text.strip(" \t")
    members: dict[str, tuple[str, object]] = {}
    position = 0
    while position < len(source):
        key, position = _key(source, position)
        if position < len(source) and source[position] == "=":
            value, position = _item_or_inner_list(source, position + 1)
        else:
            value = ("boolean", True)
            _, position = _parameters(source, position)
        members.pop(key, None)
        members[key] = value
        position = _skip(source, position, " \t")
        if position >= len(source):
            return members
        if source[position] != ",":
            raise FieldSyntaxError(f"expected ',' at character {position + 1}")
        position = _skip(source, position + 1, " \t")
        if position >= len(source):
            raise FieldSyntaxError("a trailing ',' ends the dictionary")
    return members


def _skip(source: str, position: int, characters: str) -> int:
    while position < len(source) and source[position] in characters:
        position += 1
    return position


def _key(source: str, position: int) -> tuple[str, int]:
    if position >= len(source) or source[position] not in LCALPHA + "*":
        raise FieldSyntaxError(f"a key must start with a lowercase letter or '*' at character {position + 1}")
    end = position + 1
    while end < len(source) and source[end] in KEY_CHARS:
        end += 1
    return source[position:end], end


def _item_or_inner_list(source: str, position: int) -> tuple[tuple[str, object], int]:
    if position < len(source) and source[position] == "(":
        position += 1
        items = []
        while True:
            position = _skip(source, position, " ")
            if position < len(source) and source[position] == ")":
                _, position = _parameters(source, position + 1)
                return ("inner-list", tuple(items)), position
            item, position = _bare_item(source, position)
            _, position = _parameters(source, position)
            items.append(item)
            if position >= len(source) or source[position] not in " )":
                raise FieldSyntaxError(f"an inner list is not closed at character {position + 1}")
    item, position = _bare_item(source, position)
    _, position = _parameters(source, position)
    return item, position


def _parameters(source: str, position: int) -> tuple[dict[str, object], int]:
    parameters: dict[str, object] = {}
    while position < len(source) and source[position] == ";":
        position = _skip(source, position + 1, " ")
        key, position = _key(source, position)
        value: object = ("boolean", True)
        if position < len(source) and source[position] == "=":
            value, position = _bare_item(source, position + 1)
        parameters[key] = value
    return parameters, position


def _bare_item(source: str, position: int) -> tuple[tuple[str, object], int]:
    if position >= len(source):
        raise FieldSyntaxError("a value is missing at the end")
    first = source[position]
    if first == "-" or first.isdigit():
        return _number(source, position)
    if first == '"':
        return _string(source, position)
    if first in string.ascii_letters + "*":
        end = position + 1
        while end < len(source) and source[end] in TOKEN_CHARS:
            end += 1
        return ("token", source[position:end]), end
    if first == ":":
        end = source.find(":", position + 1)
        if end < 0 or any(character not in BASE64_CHARS for character in source[position + 1 : end]):
            raise FieldSyntaxError(f"a byte sequence is not closed or not base64 at character {position + 1}")
        return ("bytes", source[position + 1 : end]), end + 1
    if first == "?":
        if source[position + 1 : position + 2] in ("0", "1"):
            return ("boolean", source[position + 1] == "1"), position + 2
        raise FieldSyntaxError(f"a boolean must be ?0 or ?1 at character {position + 1}")
    if first == "@":
        (_, seconds), end = _number(source, position + 1)
        if not isinstance(seconds, int):
            raise FieldSyntaxError(f"a date must be an integer at character {position + 1}")
        return ("date", seconds), end
    if first == "%" and source[position + 1 : position + 2] == '"':
        return _display_string(source, position + 2)
    raise FieldSyntaxError(f"unexpected character {first!r} at character {position + 1}")


def _number(source: str, position: int) -> tuple[tuple[str, object], int]:
    end = position + 1 if source[position] == "-" else position
    digits_start = end
    while end < len(source) and (source[end].isdigit() or source[end] == "."):
        end += 1
    number = source[digits_start:end]
    whole, dot, fraction = number.partition(".")
    if not whole or not whole.isdigit() or (dot and (not fraction.isdigit() or len(fraction) > 3 or len(whole) > 12)):
        raise FieldSyntaxError(f"not a number at character {position + 1}")
    if not dot and len(whole) > 15:
        raise FieldSyntaxError(f"an integer has more than 15 digits at character {position + 1}")
    sign = -1 if source[position] == "-" else 1
    if dot:
        return ("decimal", sign * float(number)), end
    return ("integer", sign * int(whole)), end


def _string(source: str, position: int) -> tuple[tuple[str, object], int]:
    characters = []
    index = position + 1
    while index < len(source):
        character = source[index]
        if character == "\\":
            if source[index + 1 : index + 2] not in ('"', "\\"):
                raise FieldSyntaxError(f"a string has a bad escape at character {index + 1}")
            characters.append(source[index + 1])
            index += 2
        elif character == '"':
            return ("string", "".join(characters)), index + 1
        elif not " " <= character <= "~":
            raise FieldSyntaxError(f"a string has a control character at character {index + 1}")
        else:
            characters.append(character)
            index += 1
    raise FieldSyntaxError(f"a string is not closed (opened at character {position + 1})")


def _display_string(source: str, position: int) -> tuple[tuple[str, object], int]:
    end = source.find('"', position)
    if end < 0:
        raise FieldSyntaxError(f"a display string is not closed at character {position}")
    return ("display-string", source[position:end]), end + 1
