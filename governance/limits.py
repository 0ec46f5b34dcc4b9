"""The API's size limits, written once: the views enforce them and settings size Django's body reader to them.

Plain constants with no Django import, so governance/settings.py can read them too.
"""

MAX_BATCH = 10_000
# A check body of 10,000 entries in any spelling; an inventory body of 10,000 entries with commits.
MAX_BODY_BYTES = 4 * 1024 * 1024
INVENTORY_MAX_BODY_BYTES = 16 * 1024 * 1024
LARGEST_BODY_BYTES = max(MAX_BODY_BYTES, INVENTORY_MAX_BODY_BYTES)
# JSON nested deeper than this is refused as unreadable (400): no entry of any endpoint needs more than 3 levels,
# and a bound keeps every answer that echoes an entry within the JSON encoders' own nesting limits.
MAX_JSON_DEPTH = 32
