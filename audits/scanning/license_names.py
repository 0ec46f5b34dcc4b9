"""License names as projects write them (free text, R, CPAN and Cabal short names, license URLs), read as SPDX.

One explicit table per naming scheme, no guessing: a name that is not in a table and not an SPDX expression becomes
`LicenseRef-<name>` and is reported as unknown, for a person to look at. The package manifest readers
(audits/scanning/manifests.py) use these for every free-text license field.
"""

import re

from audits.scanning.spdx import spdx_parse, spdx_reference

# An SPDX expression ("" for none) and the names in it that the SPDX list does not know.
type Reading = tuple[str, tuple[str, ...]]


# Common names for licenses that have an SPDX id, as projects write them in free-text fields (Maven <name>,
# setup.cfg, legacy npm `type`, gemspecs). Matched on the whole field, lowercase, whitespace collapsed, "licence"
# spelled "license". Only names that say one license and one version: "BSD", "GPL", "LGPL", "Apache Software
# License" stay unknown. "Public Domain" has no SPDX id; scancode's id keeps it in the Public Domain category.
_ALIASES_BY_ID = {
    "MIT": "mit license|the mit license|mit/x11|mit x11|expat|expat license|mit-license",
    "Apache-2.0": (
        "apache 2|apache 2.0|apache-2|apache2|apache v2|apache 2.0 license|apache-2.0 license|apache license 2|"
        "apache license 2.0|apache license v2|apache license v2.0|apache license version 2.0|"
        "apache license, version 2.0|apache license, version 2|the apache license, version 2.0|"
        "apache software license 2.0|apache software license, version 2.0|the apache software license, version 2.0|"
        "the apache software license, version 2|apache license (2.0)|asl 2.0|asl2|apache public license 2.0"
    ),
    "BSD-2-Clause": (
        "bsd 2-clause|bsd-2|bsd 2-clause license|2-clause bsd|2-clause bsd license|simplified bsd|"
        'simplified bsd license|freebsd license|bsd 2-clause "simplified" license'
    ),
    "BSD-3-Clause": (
        "bsd 3-clause|bsd-3|bsd 3-clause license|3-clause bsd|3-clause bsd license|new bsd|new bsd license|"
        'modified bsd|modified bsd license|revised bsd license|bsd 3-clause "new" or "revised" license|'
        "the bsd 3-clause license"
    ),
    "ISC": "isc license|isc license (iscl)",
    "GPL-2.0-only": (
        "gpl-2|gpl2|gplv2|gpl v2|gpl 2|gpl 2.0|gnu gpl v2|gnu gplv2|gnu general public license v2|"
        "gnu general public license v2 (gplv2)|gnu general public license, version 2|"
        "gnu general public license version 2"
    ),
    "GPL-2.0-or-later": (
        "gpl-2+|gpl2+|gplv2+|gpl v2+|gplv2 or later|gnu gpl v2 or later|"
        "gnu general public license v2 or later (gplv2+)|gnu general public license v2 or later"
    ),
    "GPL-3.0-only": (
        "gpl-3|gpl3|gplv3|gpl v3|gpl 3|gpl 3.0|gnu gpl v3|gnu gplv3|gnu general public license v3|"
        "gnu general public license v3 (gplv3)|gnu general public license, version 3|"
        "gnu general public license version 3"
    ),
    "GPL-3.0-or-later": (
        "gpl-3+|gpl3+|gplv3+|gpl v3+|gplv3 or later|gnu gpl v3 or later|"
        "gnu general public license v3 or later (gplv3+)|gnu general public license v3 or later"
    ),
    "LGPL-2.1-only": (
        "lgpl-2.1|lgpl2.1|lgplv2.1|lgpl v2.1|lgpl 2.1|gnu lgpl v2.1|gnu lesser general public license v2.1|"
        "gnu lesser general public license, version 2.1"
    ),
    "LGPL-2.1-or-later": "lgpl-2.1+|lgpl2.1+|lgplv2.1+|lgpl v2.1+|lgplv2.1 or later",
    "LGPL-3.0-only": (
        "lgpl-3|lgpl3|lgplv3|lgpl v3|lgpl 3|lgpl 3.0|gnu lgpl v3|gnu lesser general public license v3|"
        "gnu lesser general public license v3 (lgplv3)"
    ),
    "LGPL-3.0-or-later": (
        "lgpl-3+|lgpl3+|lgplv3+|lgpl v3+|lgplv3 or later|gnu lesser general public license v3 or later (lgplv3+)"
    ),
    "AGPL-3.0-only": "agpl-3|agpl3|agplv3|agpl v3|gnu agpl v3|gnu affero general public license v3",
    "AGPL-3.0-or-later": "agpl-3+|agplv3+|gnu affero general public license v3 or later (agplv3+)",
    "MPL-2.0": (
        "mpl 2.0|mpl2|mpl-2|mpl v2|mpl v2.0|mozilla public license 2.0|mozilla public license, version 2.0|"
        "mozilla public license version 2.0|mozilla public license 2.0 (mpl 2.0)"
    ),
    "EPL-1.0": (
        "epl 1.0|epl-1|eclipse public license 1.0|eclipse public license - v 1.0|eclipse public license, version 1.0|"
        "eclipse public license v1.0"
    ),
    "EPL-2.0": (
        "epl 2.0|epl-2|eclipse public license 2.0|eclipse public license - v 2.0|eclipse public license, version 2.0|"
        "eclipse public license v2.0"
    ),
    "Unlicense": "the unlicense|unlicense license",  # never "UNLICENSED": npm's word for proprietary
    "CC0-1.0": "cc0|cc0 1.0|cc0 1.0 universal|creative commons zero v1.0 universal",
    "Zlib": "zlib license|zlib/libpng|zlib/libpng license",
    "BSL-1.0": "boost|boost software license|boost software license 1.0|boost software license - version 1.0",
    "PSF-2.0": "psf|psfl|psf license|python software foundation license",
    "Artistic-2.0": "artistic 2.0|artistic license 2.0|artistic-2",
    "AFL-2.1": "aflv2.1|afl 2.1|academic free license 2.1|academic free license, version 2.1",
    "LicenseRef-scancode-public-domain": "public domain|publicdomain|public-domain",
    # "The same terms as Perl itself": Perl 5 is offered under either license (perlartistic).
    "Artistic-1.0-Perl OR GPL-1.0-or-later": "perl|perl 5|perl_5|perl license|same as perl",
}
_ALIASES = {name: spdx_id for spdx_id, names in _ALIASES_BY_ID.items() for name in names.split("|")}

# License URLs that name one license exactly (Maven <url>, legacy npm `url`), used when the name is not enough
# ("BSD" with opensource.org/licenses/BSD-3-Clause). opensource.org and spdx.org URLs that end in an SPDX id are
# read without a table.
_LICENSE_URLS = {
    "apache.org/licenses/license-2.0": "Apache-2.0",
    "opensource.org/licenses/mit-license": "MIT",
    "eclipse.org/legal/epl-v10": "EPL-1.0",
    "eclipse.org/legal/epl-2.0": "EPL-2.0",
    "eclipse.org/legal/epl-v20": "EPL-2.0",
    "mozilla.org/mpl/2.0": "MPL-2.0",
    "creativecommons.org/publicdomain/zero/1.0": "CC0-1.0",
}
_ID_URL = re.compile(r"^(?:opensource\.org/licenses|spdx\.org/licenses)/([A-Za-z0-9.+\-]+)$")
_MAX_NAME = 80  # a longer "name" is a pasted text: its reference keeps the start only


def _alias_key(text: str) -> str:
    return " ".join(text.lower().replace("licence", "license").split()).rstrip(".")


def license_from_name(text: str) -> Reading:
    """One license as a manifest names it: an SPDX expression, else an alias, else LicenseRef-<name>."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "", ()
    # A whole license text pasted into the field: its title line names it ("MIT License\n\nCopyright …").
    name = " ".join(lines[0].split())[:_MAX_NAME]
    parsed = spdx_parse(name)
    if parsed.expression and not parsed.unknown:
        return parsed.expression, ()
    if alias := _ALIASES.get(_alias_key(name)):
        return spdx_parse(alias).expression, ()
    if parsed.expression:
        return parsed.expression, parsed.unknown
    return spdx_reference(name), (name,)


def license_from_url(url: str) -> str:
    """The SPDX id a license URL names exactly, or ""."""
    key = re.sub(r"^[a-z]+://(www\.)?", "", url.strip().lower()).split("#")[0].split("?")[0].rstrip("/")
    key = re.sub(r"\.(txt|html?|php)$", "", key)
    if key in _LICENSE_URLS:
        return _LICENSE_URLS[key]
    if match := _ID_URL.match(key):
        parsed = spdx_parse(match.group(1))
        if parsed.expression and not parsed.unknown:
            return parsed.expression
    return ""


def license_from_name_and_url(name: str, url: str) -> Reading:
    """A license given as a name and a URL (Maven, legacy npm): the name decides unless only the URL is exact."""
    expression, unknown = license_from_name(name)
    if (unknown or not expression) and (from_url := license_from_url(url)):
        return from_url, ()
    if not expression and url.strip():
        return license_from_name(url)
    return expression, unknown


def licenses_combined(readings: list[Reading], operator: str) -> Reading:
    """Several licenses of one list as one expression, joined by the format's operator (OR or AND)."""
    expressions = list(dict.fromkeys(expression for expression, _ in readings if expression))
    unknown = tuple(sorted({name for _, names in readings for name in names}))
    if len(expressions) <= 1:
        return (expressions[0] if expressions else ""), unknown
    joined = f" {operator} ".join(f"({expression})" if " " in expression else expression for expression in expressions)
    return spdx_parse(joined).expression or joined, unknown


# R's license database (share/licenses/license.db) short names, spaces removed.
R_LICENSES = {
    "gpl-2": "GPL-2.0-only",
    "gpl-3": "GPL-3.0-only",
    "gpl(>=2)": "GPL-2.0-or-later",
    "gpl(>=2.0)": "GPL-2.0-or-later",
    "gpl(>=3)": "GPL-3.0-or-later",
    "gpl(>=3.0)": "GPL-3.0-or-later",
    "lgpl-2": "LGPL-2.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3": "LGPL-3.0-only",
    "lgpl(>=2)": "LGPL-2.0-or-later",
    "lgpl(>=2.1)": "LGPL-2.1-or-later",
    "lgpl(>=3)": "LGPL-3.0-or-later",
    "agpl-3": "AGPL-3.0-only",
    "agpl(>=3)": "AGPL-3.0-or-later",
    "artistic-2.0": "Artistic-2.0",
    "bsd_2_clause": "BSD-2-Clause",
    "bsd_3_clause": "BSD-3-Clause",
    "mit": "MIT",
    "apachelicense2.0": "Apache-2.0",
    "apachelicense(==2.0)": "Apache-2.0",
    "apachelicense(>=2)": "Apache-2.0",
    "cc0": "CC0-1.0",
    "ccby4.0": "CC-BY-4.0",
    "ccby-sa4.0": "CC-BY-SA-4.0",
    "mpl-2.0": "MPL-2.0",
}
# Templates whose `+ file LICENSE` only fills in the year and copyright holder: the file adds no terms.
R_TEMPLATES = {"MIT", "BSD-2-Clause", "BSD-3-Clause"}


# CPAN::Meta::Spec license strings (version 2, and version 1's that name one license); the spec defines `bsd` as
# the three-clause and `freebsd` as the two-clause license.
CPAN_LICENSES = {
    "perl_5": "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "perl": "Artistic-1.0-Perl OR GPL-1.0-or-later",
    "apache_1_1": "Apache-1.1",
    "apache_2_0": "Apache-2.0",
    "artistic_1": "Artistic-1.0",
    "artistic_2": "Artistic-2.0",
    "artistic": "Artistic-1.0",
    "bsd": "BSD-3-Clause",
    "freebsd": "BSD-2-Clause",
    "gfdl_1_2": "GFDL-1.2-only",
    "gfdl_1_3": "GFDL-1.3-only",
    "gpl_1": "GPL-1.0-only",
    "gpl_2": "GPL-2.0-only",
    "gpl_3": "GPL-3.0-only",
    "lgpl_2_1": "LGPL-2.1-only",
    "lgpl_3_0": "LGPL-3.0-only",
    "mit": "MIT",
    "mozilla_1_0": "MPL-1.0",
    "mozilla_1_1": "MPL-1.1",
    "openssl": "OpenSSL",
    "qpl_1_0": "QPL-1.0",
    "sun": "SISSL",
    "zlib": "Zlib",
}


# Cabal's names from before it took SPDX expressions (cabal-version < 2.2).
CABAL_LICENSES = {
    "bsd2": "BSD-2-Clause",
    "bsd3": "BSD-3-Clause",
    "bsd4": "BSD-4-Clause",
    "gpl-2": "GPL-2.0-only",
    "gpl-3": "GPL-3.0-only",
    "lgpl-2.1": "LGPL-2.1-only",
    "lgpl-3": "LGPL-3.0-only",
    "agpl-3": "AGPL-3.0-only",
    "mit": "MIT",
    "isc": "ISC",
    "mpl-2.0": "MPL-2.0",
    "apache-2.0": "Apache-2.0",
    "publicdomain": "LicenseRef-scancode-public-domain",
}
