"""audits/policy.py: license policies evaluated on SPDX expressions as boolean formulas."""

import json
import os
import subprocess
import sys

import pytest

from audits import scancode
from audits.policy import (
    DEFAULT_POLICY,
    Policy,
    expression_class,
    expression_combine,
    expression_symbols,
    is_unknown_spdx,
    policy_allows,
)

PERMISSIVE = frozenset({"mit", "apache-2.0", "bsd-3-clause"})


def allows(expression: str, allowed=PERMISSIVE) -> bool | None:
    """Under a policy of an explicit list alone (no category)."""
    return policy_allows(expression, Policy(name="listed", allowed=frozenset(allowed), no_license="include"))


def by_category(expression: str, categories=("Permissive", "Public Domain"), allowed=(), denied=()) -> bool | None:
    policy = Policy(
        name="categories",
        allowed=frozenset(allowed),
        no_license="include",
        categories=frozenset(categories),
        denied=frozenset(denied),
    )
    return policy_allows(expression, policy)


def test_a_single_license_passes_when_listed_whatever_its_case():
    assert allows("MIT") is True
    assert allows("mit") is True
    assert allows("GPL-3.0-only") is False


def test_or_passes_when_any_branch_is_allowed():
    assert allows("MIT OR GPL-3.0-only") is True
    assert allows("GPL-3.0-only OR Apache-2.0") is True
    assert allows("GPL-3.0-only OR AGPL-3.0-only") is False


def test_and_needs_every_part_allowed():
    assert allows("MIT AND Apache-2.0") is True
    assert allows("MIT AND GPL-3.0-only") is False


def test_nested_expressions_follow_the_parentheses():
    assert allows("(MIT OR GPL-3.0-only) AND BSD-3-Clause") is True
    assert allows("(MIT AND GPL-3.0-only) OR (Apache-2.0 AND BSD-3-Clause)") is True
    assert allows("(MIT OR GPL-3.0-only) AND LGPL-2.1-only") is False


def test_with_exception_passes_when_its_license_is_allowed_or_the_unit_is_listed():
    expression = "GPL-2.0-only WITH Classpath-exception-2.0"
    assert allows(expression) is False
    assert allows(expression, {"classpath-exception-2.0"}) is False
    assert allows(expression, {"gpl-2.0-only with classpath-exception-2.0"}) is True
    # An exception only adds permissions: what allows the license allows it with the exception.
    assert allows(expression, {"gpl-2.0-only"}) is True
    assert allows("Apache-2.0 WITH LLVM-exception") is True
    assert allows(f"MIT OR {expression}") is True
    assert allows(f"MIT AND {expression}") is False


def test_unknown_license_references_leave_the_answer_open():
    for key in ["unknown", "unknown-license-reference", "free-unknown", "unknown-spdx"]:
        assert is_unknown_spdx(f"LicenseRef-scancode-{key}")
        assert allows(f"LicenseRef-scancode-{key}") is None
    # A scancode-only license that is known (here: proprietary) is simply not allowed.
    assert not is_unknown_spdx("LicenseRef-scancode-proprietary-license")
    assert allows("LicenseRef-scancode-proprietary-license") is False


def test_an_unknown_part_decides_only_when_the_rest_does_not():
    unknown = "LicenseRef-scancode-unknown-license-reference"
    assert allows(f"MIT OR {unknown}") is True  # the allowed branch is enough
    assert allows(f"GPL-3.0-only AND {unknown}") is False  # refused whatever the unknown is
    assert allows(f"MIT AND {unknown}") is None
    assert allows(f"GPL-3.0-only OR {unknown}") is None


def test_an_empty_or_unparsable_expression_is_not_decided():
    assert allows("") is None
    assert allows("MIT AND AND") is None


def test_the_default_policy_allows_every_permissive_and_public_domain_license_and_no_license():
    assert DEFAULT_POLICY.name == "default"
    assert DEFAULT_POLICY.no_license == "include"
    assert DEFAULT_POLICY.categories == {"Permissive", "Public Domain"}
    # curl's, jq's (CC-BY-3.0 docs, ICU, dtoa) and tmux's vendored sudo license: permissive by scancode's categories.
    allowed = ["MIT", "Apache-2.0", "BSD-3-Clause", "ISC", "Unlicense", "MIT OR Apache-2.0", "curl", "MIT-CMU"]
    allowed += ["ICU", "CC-BY-3.0", "dtoa", "LicenseRef-scancode-sudo", "CC0-1.0", "Zlib", "0BSD"]
    for expression in allowed:
        assert policy_allows(expression, DEFAULT_POLICY) is True, expression
    refused = ["GPL-3.0-only", "LGPL-2.1-only", "AGPL-3.0-only", "CC-BY-NC-4.0", "MPL-2.0", "BUSL-1.1", "SSPL-1.0"]
    for expression in refused:
        assert policy_allows(expression, DEFAULT_POLICY) is False, expression


def test_a_category_policy_takes_the_best_branch_of_an_or_and_the_worst_part_of_an_and():
    assert by_category("curl OR GPL-2.0-only") is True
    assert by_category("curl AND GPL-2.0-only") is False
    assert by_category("BUSL-1.1 OR SSPL-1.0 OR AGPL-3.0-only") is False
    assert by_category("GPL-2.0-only WITH Classpath-exception-2.0 AND MIT") is False
    assert by_category("LGPL-2.1-only", categories=("Permissive", "Copyleft Limited")) is True


def test_the_deny_list_wins_over_a_category_and_the_allow_list_adds_to_it():
    assert by_category("MIT", denied={"mit"}) is False
    assert by_category("MIT OR curl", denied={"mit"}) is True
    assert by_category("GPL-2.0-only", allowed={"gpl-2.0-only"}) is True
    assert by_category(
        "GPL-2.0-only WITH Classpath-exception-2.0", allowed={"gpl-2.0-only with classpath-exception-2.0"}
    )
    assert (
        by_category("GPL-2.0-only WITH Classpath-exception-2.0", denied={"gpl-2.0-only with classpath-exception-2.0"})
        is False
    )


def test_an_id_scancode_does_not_know_goes_to_review_under_categories_and_is_refused_by_a_list():
    assert by_category("LicenseRef-my-company-license") is None
    assert by_category("MIT AND LicenseRef-my-company-license") is None
    assert by_category("MIT OR LicenseRef-my-company-license") is True
    assert allows("LicenseRef-my-company-license") is False


@pytest.mark.django_db
def test_a_dataset_policy_lowercases_its_licenses():
    from governance.models import Dataset

    dataset = Dataset.objects.create(
        slug="weak-copyleft",
        name="Weak copyleft",
        allowed_licenses=[" MIT", "LGPL-2.1-only"],
        allowed_categories=[],
        no_license="exclude",
    )
    policy = Policy.from_dataset(dataset)
    assert policy.allowed == {"mit", "lgpl-2.1-only"} and policy.no_license == "exclude"
    assert policy_allows("LGPL-2.1-only", policy) is True


def test_expression_combine_keeps_an_or_that_covers_the_others():
    # LICENSE-MIT, LICENSE-APACHE and a Cargo.toml saying `MIT OR Apache-2.0`.
    assert expression_combine(["apache-2.0", "mit", "mit OR apache-2.0"]) == "mit OR apache-2.0"
    assert expression_combine(["mit OR apache-2.0", "mit"]) == "mit OR apache-2.0"


def test_expression_combine_ands_what_no_or_covers():
    assert expression_combine(["mit", "apache-2.0"]) == "mit AND apache-2.0"
    # An OR that leaves one license out does not stand for it.
    assert expression_combine(["mit OR apache-2.0", "gpl-3.0"]) == "(mit OR apache-2.0) AND gpl-3.0"


def test_expression_combine_drops_empties_and_duplicates():
    assert expression_combine([]) == ""
    assert expression_combine(["", "mit", "mit"]) == "mit"
    assert expression_combine(["mit AND bsd-new", "bsd-new AND mit"]) in {"mit AND bsd-new", "bsd-new AND mit"}


def test_expression_symbols_names_the_licenses():
    assert expression_symbols("MIT OR (Apache-2.0 AND BSD-3-Clause)") == {"mit", "apache-2.0", "bsd-3-clause"}
    assert expression_symbols("") == set()


CLASSES = {"mit": "permissive", "gpl-3.0": "copyleft", "lgpl-2.1": "copyleft", "cc-by-nc-4.0": "proprietary"}


def fake_class(key: str) -> str:
    return CLASSES.get(key, "unknown")


def test_expression_class_takes_the_best_branch_of_an_or_and_the_worst_part_of_an_and():
    assert expression_class("mit", fake_class) == "permissive"
    assert expression_class("mit OR gpl-3.0", fake_class) == "permissive"
    assert expression_class("mit AND gpl-3.0", fake_class) == "copyleft"
    assert expression_class("mit AND cc-by-nc-4.0", fake_class) == "proprietary"
    assert expression_class("gpl-3.0 OR cc-by-nc-4.0", fake_class) == "copyleft"
    assert expression_class("mit AND something-else", fake_class) == "unknown"
    assert expression_class("(mit OR gpl-3.0) AND lgpl-2.1", fake_class) == "copyleft"


def test_an_exception_found_apart_from_its_license_refuses_nothing():
    # pcre2's LICENCE reads as `LicenseRef-scancode-pcre AND BSD-3-Clause AND PCRE2-exception`.
    assert policy_allows("LicenseRef-scancode-pcre AND BSD-3-Clause AND PCRE2-exception", DEFAULT_POLICY) is True
    assert policy_allows("GPL-3.0-only AND PCRE2-exception", DEFAULT_POLICY) is False


def test_an_unknown_part_does_not_hide_what_the_known_parts_already_decide():
    # As a policy's three-valued logic: a refused part makes an AND refused, an allowed branch an OR allowed.
    assert expression_class("gpl-3.0 AND something-else", fake_class) == "copyleft"
    assert expression_class("mit OR something-else", fake_class) == "permissive"
    assert expression_class("gpl-3.0 OR something-else", fake_class) == "unknown"


def test_compound_licenses_of_real_projects_are_classified_by_the_boolean_rule():
    # libgit2: GPL-2.0 with a linking exception, vendored permissive code and a pointer to COPYING.
    libgit2 = "gpl-2.0 WITH linking-exception-2.0-plus AND mit AND zlib AND unknown-license-reference"
    assert expression_class(libgit2, scancode.license_class) == "copyleft"
    # Redis 8: RSALv2 or SSPLv1 or AGPLv3, at the user's choice.
    assert expression_class("rsalv2 OR mongodb-sspl-1.0 OR agpl-3.0", scancode.license_class) == "copyleft"
    # Redis 7.4: RSALv2 or SSPLv1: source-available either way.
    assert expression_class("rsalv2 OR mongodb-sspl-1.0", scancode.license_class) == "proprietary"


def test_expression_class_of_a_with_exception_is_the_class_of_its_license():
    assert expression_class("gpl-3.0 WITH gcc-exception-3.1", fake_class) == "copyleft"


def test_expression_class_of_nothing_is_unknown():
    assert expression_class("", fake_class) == "unknown"


def test_scancode_categories_map_to_policy_classes():
    assert scancode.license_class("mit") == "permissive"
    assert scancode.license_class("bsd-new") == "permissive"
    assert scancode.license_class("public-domain") == "permissive"
    assert scancode.license_class("gpl-3.0") == "copyleft"
    assert scancode.license_class("lgpl-2.1") == "copyleft"  # weak copyleft counts as copyleft
    assert scancode.license_class("cc-by-nc-4.0") == "proprietary"  # non-commercial
    assert scancode.license_class("commercial-license") == "proprietary"
    assert scancode.license_class("unknown-license-reference") == "unknown"
    assert scancode.license_class("no-such-license-key") == "unknown"
    assert expression_class("mit OR gpl-3.0", scancode.license_class) == "permissive"


def test_the_shipped_category_table_is_the_installed_scancodes_license_database():
    current = {
        "scancode_toolkit": scancode.scancode_release(),
        "categories": scancode.license_categories_from_database(),
    }
    if os.environ.get("REGENERATE_TEST_DATA") == "1":
        scancode.CATEGORY_TABLE.write_text(json.dumps(current, indent=0, sort_keys=True) + "\n")
    assert json.loads(scancode.CATEGORY_TABLE.read_text()) == current


def test_a_category_policy_decides_without_loading_scancode():
    code = (
        "import django, sys; django.setup()\n"
        "from audits.policy import DEFAULT_POLICY, policy_allows\n"
        "print(policy_allows('curl OR GPL-2.0-only', DEFAULT_POLICY), policy_allows('BUSL-1.1', DEFAULT_POLICY),"
        " 'licensedcode' in sys.modules)\n"
    )
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "governance.settings", "DJANGO_DEBUG": "1"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, check=True)
    assert done.stdout.split() == ["True", "False", "False"]


@pytest.mark.django_db
def test_a_category_that_scancode_does_not_use_is_refused_with_the_choices():
    from django.core.exceptions import ValidationError

    from governance.models import Dataset

    dataset = Dataset(slug="typo", name="Typo", allowed_categories=["Permissive", "Permisive"])
    with pytest.raises(ValidationError) as refused:
        dataset.full_clean()
    message = str(refused.value.message_dict["allowed_categories"])
    assert "'Permisive'" in message and "Public Domain" in message
    dataset.allowed_categories = "Permissive"
    with pytest.raises(ValidationError, match="a list of license categories"):
        dataset.full_clean()
